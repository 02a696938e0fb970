package index

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// ExportNPY writes every vector, dequantised to float32, as one NumPy
// .npy array of shape (Len, Dim) in index order (little-endian, C order,
// format version 1.0): what FAISS, Qdrant and clip-retrieval ingest. It
// streams, so memory use does not grow with the index.
func (x *Index) ExportNPY(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(NPYHeader(x.Len(), x.Dim())); err != nil {
		return fmt.Errorf("index: export npy: %w", err)
	}
	v := make([]float32, x.Dim())
	b := make([]byte, 4*x.Dim())
	for i := range x.Len() {
		x.Vector(i, v)
		for j, f := range v {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
		}
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("index: export npy: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("index: export npy: %w", err)
	}
	return nil
}

// NPYHeader returns the header of a NumPy .npy file (format 1.0) holding a
// little-endian float32 array of shape (rows, dim) in C order; the rows
// follow it as rows·dim float32 values.
func NPYHeader(rows, dim int) []byte {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, dim)
	// magic (6) + version (2) + header length (2) + dict + '\n', padded
	// with spaces to a multiple of 64 as NumPy does.
	total := (10 + len(dict) + 1 + 63) / 64 * 64
	hdr := make([]byte, 0, total)
	hdr = append(hdr, "\x93NUMPY\x01\x00"...)
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(total-10))
	hdr = append(hdr, dict...)
	hdr = append(hdr, strings.Repeat(" ", total-10-len(dict)-1)...)
	hdr = append(hdr, '\n')
	return hdr
}

// ExportRecord is one line of ExportJSONL: the row of the .npy array and
// the file it describes.
type ExportRecord struct {
	Row int `json:"row"`
	Entry
}

// ExportJSONL writes one JSON object per vector, in the order of
// ExportNPY's rows: {"row":0,"path":"…","size":…,"mtime_ns":…}.
func (x *Index) ExportJSONL(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i, e := range x.entries {
		if err := enc.Encode(ExportRecord{Row: i, Entry: e}); err != nil {
			return fmt.Errorf("index: export jsonl: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("index: export jsonl: %w", err)
	}
	return nil
}
