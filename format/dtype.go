package format

import "fmt"

// DType is the element type of a tensor. The numeric values are the codes
// stored in the file; new types get new codes and never reuse old ones.
type DType uint8

// Tensor element types.
const (
	// F32 is IEEE-754 binary32, one part of n×4 bytes.
	F32 DType = 1
	// F16 is IEEE-754 binary16 stored as raw bits (read as []uint16), one
	// part of n×2 bytes.
	F16 DType = 2
	// Q8 is a [rows, cols] int8 matrix (row-major, one part of rows×cols
	// bytes) with float32 scales [rows, cols/block] in a second part: the
	// value of q[r][c] is q[r][c] × scales[r][c/block]. block == cols means
	// one scale per row.
	Q8 DType = 3
	// U8 is a raw byte blob (tokenizer vocabularies, merges and the like),
	// one part of n bytes.
	U8 DType = 4
)

// String returns the lower-case name used in metadata and messages ("f32",
// "f16", "q8", "u8"), or "dtype(N)" for an unknown code.
func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case F16:
		return "f16"
	case Q8:
		return "q8"
	case U8:
		return "u8"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// valid reports whether this reader knows d.
func (d DType) valid() bool { return d >= F32 && d <= U8 }

// numParts is the number of data parts a tensor of type d has.
func (d DType) numParts() int {
	if d == Q8 {
		return 2
	}
	return 1
}

// ElemSize is the size in bytes of one stored element of the first part
// (for Q8, one int8 weight; its scales are the second part).
func (d DType) ElemSize() int {
	switch d {
	case F32:
		return 4
	case F16:
		return 2
	}
	return 1
}
