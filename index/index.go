// Package index stores image embeddings for retrieval: one file per
// collection holding int8 vectors with one float32 scale each (or IEEE
// half-precision vectors), the path, size and modification time of every
// image, and the fingerprint of the model that made the vectors.
//
// An Index lives in memory. [Load] and [Decode] read one and check its
// CRC32C checksum and every size in it; [Index.Save] writes one atomically
// (a temporary file in the destination's directory, fsync, rename), so an
// interrupted write never damages an existing index. [Update] brings an
// index up to date with folders of images, embedding only new or changed
// files and dropping deleted ones. [Index.Search] finds the k nearest
// vectors with the int8 matrix kernels of package kernels, spread over
// goroutines. [Index.ExportNPY] and [Index.ExportJSONL] write what FAISS,
// Qdrant and clip-retrieval ingest.
//
// The byte layout is described in docs/RETRIEVAL.md and in file.go.
package index

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/clipinfer/clipinfer/kernels/generic"
	"github.com/clipinfer/clipinfer/quant"
)

// DType is how vectors are stored.
type DType uint32

// Storage types. The numbers are the codes stored in the file.
const (
	// Int8 stores each vector as int8 values with one float32 scale:
	// v ≈ q·scale, q ∈ [-127, 127], scale = max|v|/127.
	Int8 DType = 1
	// Float16 stores each vector as IEEE-754 binary16 values.
	Float16 DType = 2
)

// String returns "int8" or "f16".
func (d DType) String() string {
	switch d {
	case Int8:
		return "int8"
	case Float16:
		return "f16"
	}
	return fmt.Sprintf("dtype(%d)", uint32(d))
}

// ParseDType parses "int8" (or "q8") and "f16" (or "float16").
func ParseDType(s string) (DType, error) {
	switch strings.ToLower(s) {
	case "int8", "q8", "i8":
		return Int8, nil
	case "f16", "float16", "fp16":
		return Float16, nil
	}
	return 0, fmt.Errorf("unknown vector type %q (want int8 or f16)", s)
}

// Entry describes one indexed file.
type Entry struct {
	// Path is the file's absolute, cleaned path.
	Path string `json:"path"`
	// Size is the file size in bytes when it was embedded.
	Size int64 `json:"size"`
	// ModTime is the file's modification time in Unix nanoseconds when it
	// was embedded.
	ModTime int64 `json:"mtime_ns"`
}

// ModelInfo identifies the model whose embeddings an index holds.
type ModelInfo struct {
	// Fingerprint is what [Fingerprint] returns for the model file.
	Fingerprint string `json:"fingerprint"`
	// Name describes the model for people (e.g. its file name); it is not
	// compared.
	Name string `json:"name,omitempty"`
	// Dim is the embedding dimension.
	Dim int `json:"embed_dim"`
}

// ErrModelMismatch is returned when an index is used with a model other
// than the one that made it.
var ErrModelMismatch = errors.New("index was made with a different model")

// maxDim bounds the embedding dimension an index accepts.
const maxDim = 1 << 16

// Index is an in-memory embedding index. Its methods are not safe for
// concurrent use with Add, Remove or Retain; Search, Len, Entry and Vector
// may run concurrently with each other.
type Index struct {
	model   ModelInfo
	dtype   DType
	created string // RFC 3339 times, informational
	updated string
	entries []Entry
	byPath  map[string]int

	q      []int8    // Int8: len(entries)·Dim values
	scales []float32 // Int8: one per entry
	h      []uint16  // Float16: len(entries)·Dim values
}

// New returns an empty index for vectors of model.Dim values made by the
// model, stored as dtype.
func New(model ModelInfo, dtype DType) (*Index, error) {
	if model.Dim <= 0 || model.Dim > maxDim {
		return nil, fmt.Errorf("index: embedding dimension %d outside 1..%d", model.Dim, maxDim)
	}
	if model.Fingerprint == "" {
		return nil, errors.New("index: no model fingerprint")
	}
	if dtype != Int8 && dtype != Float16 {
		return nil, fmt.Errorf("index: unknown vector type %v", dtype)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	return &Index{model: model, dtype: dtype, byPath: map[string]int{}, created: now, updated: now}, nil
}

// Model returns the identity of the model that made the vectors.
func (x *Index) Model() ModelInfo { return x.model }

// Dim returns the vector length.
func (x *Index) Dim() int { return x.model.Dim }

// DType returns how vectors are stored.
func (x *Index) DType() DType { return x.dtype }

// Len returns the number of vectors.
func (x *Index) Len() int { return len(x.entries) }

// Entry returns the i-th entry.
func (x *Index) Entry(i int) Entry { return x.entries[i] }

// Lookup returns the position of path, if indexed.
func (x *Index) Lookup(path string) (int, bool) {
	i, ok := x.byPath[path]
	return i, ok
}

// CheckModel returns an error wrapping ErrModelMismatch unless fingerprint
// is the fingerprint the index was made with.
func (x *Index) CheckModel(fingerprint string) error {
	if fingerprint != x.model.Fingerprint {
		return fmt.Errorf("%w (index: %s, model: %s); rebuild the index with this model or use the one that made it",
			ErrModelMismatch, short(x.model.Fingerprint), short(fingerprint))
	}
	return nil
}

func short(fp string) string {
	if len(fp) > 19 {
		return fp[:19] + "…"
	}
	return fp
}

// Vector writes the i-th vector, dequantised, into dst (which must hold Dim
// values) and returns dst[:Dim]. A nil dst allocates.
func (x *Index) Vector(i int, dst []float32) []float32 {
	d := x.model.Dim
	if dst == nil {
		dst = make([]float32, d)
	}
	dst = dst[:d]
	switch x.dtype {
	case Int8:
		s := x.scales[i]
		for j, v := range x.q[i*d : (i+1)*d] {
			dst[j] = float32(v) * s
		}
	case Float16:
		for j, v := range x.h[i*d : (i+1)*d] {
			dst[j] = quant.HalfToFloat(v)
		}
	}
	return dst
}

// Add appends a vector for e, or replaces the vector of an entry with the
// same path. The vector is stored as given (callers pass normalised
// embeddings); it must have Dim finite values.
func (x *Index) Add(e Entry, v []float32) error {
	d := x.model.Dim
	if len(v) != d {
		return fmt.Errorf("index: vector of %d values, index holds %d", len(v), d)
	}
	if e.Path == "" {
		return errors.New("index: empty path")
	}
	if len(e.Path) > maxPathLen {
		return fmt.Errorf("index: path of %d bytes is longer than %d", len(e.Path), maxPathLen)
	}
	for _, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return fmt.Errorf("index: %s: non-finite value in vector", e.Path)
		}
	}
	i, ok := x.byPath[e.Path]
	if !ok && len(x.entries) >= math.MaxInt32 {
		return errors.New("index: full (2³¹-1 entries)")
	}
	if !ok {
		i = len(x.entries)
		x.entries = append(x.entries, e)
		x.byPath[e.Path] = i
		switch x.dtype {
		case Int8:
			x.q = append(x.q, make([]int8, d)...)
			x.scales = append(x.scales, 0)
		case Float16:
			x.h = append(x.h, make([]uint16, d)...)
		}
	}
	x.entries[i] = e
	switch x.dtype {
	case Int8:
		x.scales[i] = quantize(x.q[i*d:(i+1)*d], v)
	case Float16:
		for j, f := range v {
			x.h[i*d+j] = quant.FloatToHalf(f)
		}
	}
	return nil
}

// Remove deletes the entry of path, if present, and reports whether it was.
func (x *Index) Remove(path string) bool {
	_, ok := x.byPath[path]
	if ok {
		x.Retain(func(e Entry) bool { return e.Path != path })
	}
	return ok
}

// Retain keeps the entries for which keep returns true, in their order, and
// returns how many it removed.
func (x *Index) Retain(keep func(Entry) bool) int {
	d := x.model.Dim
	n := 0
	for i, e := range x.entries {
		if !keep(e) {
			delete(x.byPath, e.Path)
			continue
		}
		if n != i {
			x.entries[n] = e
			x.byPath[e.Path] = n
			switch x.dtype {
			case Int8:
				copy(x.q[n*d:(n+1)*d], x.q[i*d:(i+1)*d])
				x.scales[n] = x.scales[i]
			case Float16:
				copy(x.h[n*d:(n+1)*d], x.h[i*d:(i+1)*d])
			}
		}
		n++
	}
	removed := len(x.entries) - n
	clear(x.entries[n:])
	x.entries = x.entries[:n]
	switch x.dtype {
	case Int8:
		x.q, x.scales = x.q[:n*d], x.scales[:n]
	case Float16:
		x.h = x.h[:n*d]
	}
	return removed
}

// quantize stores v as int8 in q with one scale and returns the scale,
// exactly as kernels.Kernels.Quantize (and package quant) do with one block:
// scale = max|v|/127, q = round-to-even(v·127/max|v|).
func quantize(q []int8, v []float32) float32 {
	var s [1]float32
	generic.Kernels{}.Quantize(q, s[:], v, len(v))
	return s[0]
}

// touch records a modification time in the metadata.
func (x *Index) touch() { x.updated = time.Now().UTC().Format(time.RFC3339) }
