package checkpoint

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxPickleSize bounds data.pkl: real ones are kilobytes to a few megabytes.
const maxPickleSize = 256 << 20

// maxInflatedSize bounds one compressed zip entry once decompressed. torch.save
// stores entries uncompressed (read in place); only archives re-zipped by other
// tools have compressed storages, and those must fit in memory.
const maxInflatedSize = 1 << 30

// Format names reported in StateDict.Format.
const (
	FormatTorchZip    = "torch-zip"
	FormatTorchScript = "torchscript"
	FormatSafetensors = "safetensors"
)

// openTorchZip reads a torch.save (>= 1.6) or torch.jit.save zip archive.
func openTorchZip(r io.ReaderAt, size int64) (*flattened, string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, "", fmt.Errorf("reading zip archive: %w", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	prefix, found := "", false
	for _, f := range zr.File {
		if _, dup := files[f.Name]; !dup {
			files[f.Name] = f
		}
		if !found && strings.HasSuffix(f.Name, "data.pkl") {
			p := strings.TrimSuffix(f.Name, "data.pkl")
			if p == "" || (strings.Count(p, "/") == 1 && strings.HasSuffix(p, "/")) {
				prefix, found = p, true
			}
		}
	}
	if !found {
		return nil, "", errors.New("zip archive has no <name>/data.pkl: not a PyTorch checkpoint")
	}
	format := FormatTorchZip
	var notes []string
	if _, ok := files[prefix+"constants.pkl"]; ok {
		format = FormatTorchScript
	}
	for name := range files {
		if strings.HasPrefix(name, prefix+"code/") {
			format = FormatTorchScript
			break
		}
	}
	if format == FormatTorchScript {
		notes = append(notes, "TorchScript archive: __torch__ objects read as attribute bags; code/ and constants.pkl not read")
	}

	bigEndian := false
	if f, ok := files[prefix+"byteorder"]; ok {
		b, err := readEntry(f, 64)
		if err != nil {
			return nil, "", fmt.Errorf("reading byteorder: %w", err)
		}
		switch strings.TrimSpace(string(b)) {
		case "little":
		case "big":
			bigEndian = true
			notes = append(notes, "storages are big-endian (byteorder \"big\"): converted on read")
		default:
			return nil, "", fmt.Errorf("unknown byteorder %q", b)
		}
	}

	pkl, err := readEntry(files[prefix+"data.pkl"], maxPickleSize)
	if err != nil {
		return nil, "", fmt.Errorf("reading %sdata.pkl: %w", prefix, err)
	}
	env := &torchEnv{
		torchScript: format == FormatTorchScript,
		cache:       map[string]section{},
		storage: func(key string) (section, error) {
			f, ok := files[prefix+"data/"+key]
			if !ok {
				return section{}, fmt.Errorf("archive has no entry %sdata/%s", prefix, key)
			}
			return entrySection(r, size, f)
		},
	}
	root, err := unpickle(pkl, env)
	if err != nil {
		return nil, "", fmt.Errorf("%sdata.pkl: %w", prefix, err)
	}
	flat, err := flatten(root)
	if err != nil {
		return nil, "", err
	}
	if bigEndian {
		for _, t := range flat.tensors {
			t.bigEndian = true
		}
	}
	flat.notes = append(notes, flat.notes...)
	return flat, format, nil
}

// readEntry reads a whole zip entry of at most limit bytes.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry %s is %d bytes, more than the %d allowed", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("entry %s inflates past %d bytes", f.Name, limit)
	}
	return b, nil
}

// entrySection returns where an entry's bytes can be read: in place for a
// stored entry (no copy), or from memory after inflating a compressed one.
func entrySection(r io.ReaderAt, size int64, f *zip.File) (section, error) {
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil {
			return section{}, fmt.Errorf("entry %s: %w", f.Name, err)
		}
		n := f.UncompressedSize64
		if f.CompressedSize64 != n || n > uint64(size) || off < 0 || off > size-int64(n) {
			return section{}, fmt.Errorf("entry %s: %d bytes at %d do not fit in the %d-byte file", f.Name, n, off, size)
		}
		return section{r: r, off: off, n: int64(n)}, nil
	}
	b, err := readEntry(f, maxInflatedSize)
	if err != nil {
		return section{}, err
	}
	return section{r: bytes.NewReader(b), n: int64(len(b))}, nil
}
