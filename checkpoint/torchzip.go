package checkpoint

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
)

// maxPickleSize bounds data.pkl: real ones are kilobytes to a few megabytes
// (a ViT-L/14 state dict's is 56 KB).
const maxPickleSize = 64 << 20

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
// stored entry (no copy), or through a deflatedEntry for a compressed one,
// which inflates nothing until a tensor is read.
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
	if f.UncompressedSize64 > math.MaxInt64 {
		return section{}, fmt.Errorf("entry %s declares %d bytes", f.Name, f.UncompressedSize64)
	}
	return section{r: &deflatedEntry{f: f}, n: int64(f.UncompressedSize64)}, nil
}

// deflatedEntry reads a compressed zip entry as an io.ReaderAt by inflating
// it as a stream: a read at or after the previous one continues the stream,
// an earlier one starts it again. Nothing is inflated before the first read,
// nothing past the last byte read, and nothing is kept in memory but the
// decompressor. Tensors read their storage front to back (Float32 in
// chunks), so each storage is inflated once, and only as far as the tensors
// viewing it reach: a zip bomb behind a small declared storage costs the
// declared bytes, not the bomb's. Reads past the entry's declared size, and
// entries that inflate to more or less than it, are errors (archive/zip
// checks the size and CRC).
type deflatedEntry struct {
	f   *zip.File
	mu  sync.Mutex
	rc  io.ReadCloser
	pos int64 // bytes of the entry consumed from rc
}

// ReadAt implements io.ReaderAt.
func (e *deflatedEntry) ReadAt(p []byte, off int64) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if off < 0 || uint64(off)+uint64(len(p)) > e.f.UncompressedSize64 {
		return 0, fmt.Errorf("read of %d bytes at %d outside the %d-byte entry %s", len(p), off, e.f.UncompressedSize64, e.f.Name)
	}
	if e.rc == nil || off < e.pos {
		e.close()
		rc, err := e.f.Open()
		if err != nil {
			return 0, fmt.Errorf("entry %s: %w", e.f.Name, err)
		}
		e.rc, e.pos = rc, 0
	}
	if off > e.pos {
		n, err := io.CopyN(io.Discard, e.rc, off-e.pos)
		e.pos += n
		if err != nil {
			e.close()
			return 0, fmt.Errorf("entry %s: %w", e.f.Name, noEOF(err))
		}
	}
	n, err := io.ReadFull(e.rc, p)
	e.pos += int64(n)
	if err != nil {
		e.close()
		return n, fmt.Errorf("entry %s: %w", e.f.Name, noEOF(err))
	}
	if uint64(e.pos) == e.f.UncompressedSize64 {
		e.close() // the whole entry was read: drop the decompressor's buffers
	}
	return n, nil
}

func (e *deflatedEntry) close() {
	if e.rc != nil {
		e.rc.Close()
		e.rc, e.pos = nil, 0
	}
}

// noEOF turns an end of stream inside an entry into io.ErrUnexpectedEOF: the
// entry inflated to fewer bytes than it declares.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
