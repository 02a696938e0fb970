package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/clipinfer/clipinfer/internal/regfile"
)

// StateDict is the set of named tensors (and plain numbers) a checkpoint holds.
// Tensor data stays in the file(s) until read; Close releases them.
type StateDict struct {
	// Tensors maps dotted names ("visual.conv1.weight") to lazy tensors.
	Tensors map[string]*Tensor
	// Scalars holds Python ints and floats found beside the tensors
	// (e.g. "input_resolution", "epoch"), by dotted name.
	Scalars map[string]float64
	// Metadata is the safetensors "__metadata__" map (nil for torch files).
	Metadata map[string]string
	// Source is the path that was opened.
	Source string
	// Format is FormatTorchZip, FormatTorchScript or FormatSafetensors.
	Format string
	// Notes says what was done to get here: unwrapped keys, stripped
	// prefixes, shards read.
	Notes []string

	closers []io.Closer
}

// Names returns the tensor names in sorted order.
func (s *StateDict) Names() []string { return sortedNames(s.Tensors) }

// Close closes the files behind the tensors; their data can no longer be read.
func (s *StateDict) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// legacyMagic starts every pre-1.6 (non-zip) torch.save file: protocol 2 and
// the LONG1 magic number 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// Open reads a checkpoint file: a PyTorch zip (torch.save since 1.6, .pt/.pth/
// .bin), a TorchScript archive (torch.jit.save), a .safetensors file, or a
// sharded set given by its "*.index.json" (weight_map). The format is sniffed
// from the content, not the name. Nothing in the file is executed: pickle
// globals outside a small allow list are refused.
func Open(path string) (*StateDict, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("checkpoint: %s is a directory (use OpenHF for a Hugging Face model directory)", path)
	}
	if strings.HasSuffix(path, ".index.json") {
		return openSharded(path)
	}
	return openFile(path)
}

// openFile opens one checkpoint file (not an index).
func openFile(path string) (*StateDict, error) {
	f, st, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	sd, err := openReader(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	sd.closers = append(sd.closers, f)
	return sd, nil
}

// openReader sniffs and reads a checkpoint held in r (size bytes). It does not
// take ownership of r.
func openReader(r io.ReaderAt, size int64, source string) (*StateDict, error) {
	head := make([]byte, 16)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	sd := &StateDict{Source: source}
	var flat *flattened
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		flat, sd.Format, err = openTorchZip(r, size)
	case bytes.HasPrefix(head, legacyMagic):
		return nil, errors.New("this is the legacy (pre-1.6, non-zip) torch.save format, which is not supported; " +
			"re-save it in the zip format with PyTorch >= 1.6: torch.save(torch.load(path, map_location=\"cpu\"), \"new.pt\") " +
			"(only for a file you trust: loading it runs its pickle)")
	// Before the pickle test: a safetensors header length whose low byte
	// is 0x80 starts the file with a pickle's PROTO opcode.
	case len(head) >= 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) <= uint64(size):
		flat, sd.Metadata, err = openSafetensors(r, size)
		sd.Format = FormatSafetensors
	case len(head) > 0 && head[0] == 0x80:
		return nil, errors.New("this is a bare pickle, not a PyTorch zip checkpoint or safetensors file")
	case isTar(r, size):
		return nil, errors.New("this is the tar-based torch.save format of PyTorch < 0.4, which is not supported; re-save it with a current PyTorch")
	default:
		return nil, errors.New("unrecognised checkpoint format: expected a PyTorch zip (torch.save >= 1.6) or a safetensors file")
	}
	if err != nil {
		return nil, err
	}
	sd.Tensors, sd.Scalars, sd.Notes = flat.tensors, flat.scalars, flat.notes
	return sd, nil
}

func isTar(r io.ReaderAt, size int64) bool {
	if size < 512 {
		return false
	}
	var magic [5]byte
	_, err := r.ReadAt(magic[:], 257)
	return err == nil && string(magic[:]) == "ustar"
}

// shardIndex is the part of a *.index.json file that names the shards.
type shardIndex struct {
	WeightMap map[string]string `json:"weight_map"`
}

// openSharded reads the shards listed in a model.safetensors.index.json (or
// pytorch_model.bin.index.json) and merges them into one StateDict.
func openSharded(indexPath string) (*StateDict, error) {
	raw, err := regfile.ReadFile(indexPath, maxSmallFile)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var idx shardIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", indexPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("checkpoint %s: empty weight_map", indexPath)
	}
	dir := filepath.Dir(indexPath)
	byShard := map[string][]string{}
	for name, shard := range idx.WeightMap {
		if !filepath.IsLocal(shard) || strings.HasSuffix(shard, ".index.json") {
			return nil, fmt.Errorf("checkpoint %s: shard path %q is not a file in the index's directory", indexPath, shard)
		}
		byShard[shard] = append(byShard[shard], name)
	}
	sd := &StateDict{Tensors: map[string]*Tensor{}, Scalars: map[string]float64{}, Source: indexPath}
	for _, shard := range sortedNames(byShard) {
		part, err := openFile(filepath.Join(dir, shard))
		if err != nil {
			sd.Close()
			return nil, err
		}
		sd.closers = append(sd.closers, part.closers...)
		if sd.Format == "" {
			sd.Format = part.Format
		}
		for _, name := range byShard[shard] {
			t, ok := part.Tensors[name]
			if !ok {
				sd.Close()
				return nil, fmt.Errorf("checkpoint %s: weight_map puts %q in %s, which does not have it", indexPath, name, shard)
			}
			sd.Tensors[name] = t
		}
		if extra := len(part.Tensors) - len(byShard[shard]); extra > 0 {
			sd.Notes = append(sd.Notes, fmt.Sprintf("%s: %d tensors not in weight_map ignored", shard, extra))
		}
		for k, v := range part.Scalars {
			sd.Scalars[k] = v
		}
		if part.Metadata != nil && sd.Metadata == nil {
			sd.Metadata = part.Metadata
		}
		for _, n := range part.Notes {
			sd.Notes = append(sd.Notes, shard+": "+n)
		}
	}
	sd.Notes = append([]string{fmt.Sprintf("sharded checkpoint: %d tensors in %d files", len(sd.Tensors), len(byShard))}, sd.Notes...)
	return sd, nil
}
