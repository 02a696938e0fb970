package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// maxSafetensorsHeader is the header size limit the reference implementation uses.
const maxSafetensorsHeader = 100 << 20

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	name       string
	dtype      DType
	shape      []int64
	begin, end int64 // byte offsets into the data section
}

// stHeader is a parsed and validated safetensors header.
type stHeader struct {
	entries  []stEntry
	metadata map[string]string
}

// parseSafetensorsHeader parses the JSON header of a safetensors file whose data
// section (after the header) is dataSize bytes, and checks every entry: known
// dtype, non-negative shape, offsets inside the data, size = prod(shape)·dtype
// size, no two tensors overlapping.
func parseSafetensorsHeader(hdr []byte, dataSize int64) (*stHeader, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("header is not a JSON object")
	}
	h := &stHeader{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("header JSON: %w", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, fmt.Errorf("header names %q twice", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&h.metadata); err != nil {
				return nil, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var raw struct {
			DType       string  `json:"dtype"`
			Shape       []int64 `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		e, err := checkEntry(name, raw.DType, raw.Shape, raw.DataOffsets, dataSize)
		if err != nil {
			return nil, err
		}
		h.entries = append(h.entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fmt.Errorf("header JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("header has data after the JSON object")
	}
	// No overlaps: sorted by start, each non-empty tensor must end before the
	// next one starts.
	sorted := make([]*stEntry, 0, len(h.entries))
	for i := range h.entries {
		if h.entries[i].end > h.entries[i].begin {
			sorted = append(sorted, &h.entries[i])
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].begin < sorted[j].begin })
	for i := 1; i < len(sorted); i++ {
		if prev, cur := sorted[i-1], sorted[i]; cur.begin < prev.end {
			return nil, fmt.Errorf("tensors %q and %q overlap", prev.name, cur.name)
		}
	}
	return h, nil
}

func checkEntry(name, dtype string, shape, offs []int64, dataSize int64) (stEntry, error) {
	dt, ok := parseSafetensorsDType(dtype)
	if !ok {
		return stEntry{}, fmt.Errorf("tensor %q: unsupported dtype %q", name, dtype)
	}
	if len(offs) != 2 {
		return stEntry{}, fmt.Errorf("tensor %q: data_offsets must be [begin, end]", name)
	}
	begin, end := offs[0], offs[1]
	if begin < 0 || end < begin || end > dataSize {
		return stEntry{}, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d data bytes", name, begin, end, dataSize)
	}
	if shape == nil {
		return stEntry{}, fmt.Errorf("tensor %q: missing shape", name)
	}
	if len(shape) > 64 {
		return stEntry{}, fmt.Errorf("tensor %q: rank %d is too large", name, len(shape))
	}
	numel := int64(1)
	for _, s := range shape {
		if s < 0 {
			return stEntry{}, fmt.Errorf("tensor %q: negative dimension in shape %v", name, shape)
		}
		if s != 0 && numel > dataSize/s {
			return stEntry{}, fmt.Errorf("tensor %q: shape %v is larger than the file", name, shape)
		}
		numel *= s
	}
	if want := numel * int64(dt.Size()); end-begin != want {
		return stEntry{}, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, data_offsets give %d",
			name, shape, dt, want, end-begin)
	}
	return stEntry{name: name, dtype: dt, shape: shape, begin: begin, end: end}, nil
}

// openSafetensors reads the header of a safetensors file of the given size and
// returns lazy tensors over r.
func openSafetensors(r io.ReaderAt, size int64) (*flattened, map[string]string, error) {
	if size < 10 {
		return nil, nil, fmt.Errorf("file of %d bytes is too short for safetensors", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, nil, fmt.Errorf("reading safetensors header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n < 2 || n > maxSafetensorsHeader || n > uint64(size-8) {
		return nil, nil, fmt.Errorf("safetensors header length %d is not plausible for a %d-byte file", n, size)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, nil, fmt.Errorf("reading safetensors header: %w", err)
	}
	dataStart := 8 + int64(n)
	h, err := parseSafetensorsHeader(hdr, size-dataStart)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors header: %w", err)
	}
	flat := &flattened{tensors: make(map[string]*Tensor, len(h.entries)), scalars: map[string]float64{}}
	for _, e := range h.entries {
		data := section{r: r, off: dataStart + e.begin, n: e.end - e.begin}
		t, err := newView(data, e.dtype, (e.end-e.begin)/int64(e.dtype.Size()), 0, e.shape, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", e.name, err)
		}
		t.Name = e.name
		flat.tensors[e.name] = t
	}
	return flat, h.metadata, nil
}
