package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/clipinfer/clipinfer/quant"
)

// DType is the element type of a tensor as stored in a checkpoint.
type DType int

// The element types a checkpoint may hold. Every one converts to float32.
const (
	F32  DType = iota + 1 // IEEE 754 binary32
	F16                   // IEEE 754 binary16
	BF16                  // bfloat16: the top half of a binary32
	F64                   // IEEE 754 binary64
	I64                   // signed 64-bit integer
	I32                   // signed 32-bit integer
	I16                   // signed 16-bit integer
	I8                    // signed 8-bit integer
	U8                    // unsigned 8-bit integer
	Bool                  // one byte, 0 or 1
)

var dtypeNames = [...]string{
	F32: "F32", F16: "F16", BF16: "BF16", F64: "F64", I64: "I64",
	I32: "I32", I16: "I16", I8: "I8", U8: "U8", Bool: "BOOL",
}

var dtypeSizes = [...]int{
	F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, Bool: 1,
}

// String returns the safetensors spelling of the type ("F32", "BF16", "BOOL", ...).
func (d DType) String() string {
	if d.valid() {
		return dtypeNames[d]
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Size returns the size of one element in bytes (0 for an invalid DType).
func (d DType) Size() int {
	if d.valid() {
		return dtypeSizes[d]
	}
	return 0
}

func (d DType) valid() bool { return d >= F32 && d <= Bool }

// parseSafetensorsDType maps a safetensors dtype string to a DType.
func parseSafetensorsDType(s string) (DType, bool) {
	for d := F32; d <= Bool; d++ {
		if dtypeNames[d] == s {
			return d, true
		}
	}
	return 0, false
}

// torchStorageDTypes maps the legacy typed-storage class names that torch.save
// writes as the storage type of a persistent id to their element type.
var torchStorageDTypes = map[string]DType{
	"FloatStorage":    F32,
	"HalfStorage":     F16,
	"BFloat16Storage": BF16,
	"DoubleStorage":   F64,
	"LongStorage":     I64,
	"IntStorage":      I32,
	"ShortStorage":    I16,
	"CharStorage":     I8,
	"ByteStorage":     U8,
	"BoolStorage":     Bool,
}

// torchDTypes maps the torch dtype globals (torch.float32, torch.half, ...) to DTypes.
var torchDTypes = map[string]DType{
	"float32": F32, "float": F32,
	"float16": F16, "half": F16,
	"bfloat16": BF16,
	"float64":  F64, "double": F64,
	"int64": I64, "long": I64,
	"int32": I32, "int": I32,
	"int16": I16, "short": I16,
	"int8":  I8,
	"uint8": U8,
	"bool":  Bool,
}

// halfTable maps every binary16 bit pattern to its float32 value (256 KiB,
// built on first use): a lookup beats the branches of quant.HalfToFloat on
// real weights.
var halfTable = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = quant.HalfToFloat(uint16(i))
	}
	return &t
})

// decodeFloat32 converts len(dst) little-endian elements of type d from src
// into dst. src must hold len(dst)*d.Size() bytes.
func decodeFloat32(dst []float32, src []byte, d DType) {
	bo := binary.LittleEndian
	switch d {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(bo.Uint32(src[4*i:]))
		}
	case F16:
		table := halfTable()
		for i := range dst {
			dst[i] = table[bo.Uint16(src[2*i:])]
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(bo.Uint16(src[2*i:])) << 16)
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(bo.Uint64(src[8*i:])))
		}
	case I64:
		for i := range dst {
			dst[i] = float32(int64(bo.Uint64(src[8*i:])))
		}
	case I32:
		for i := range dst {
			dst[i] = float32(int32(bo.Uint32(src[4*i:])))
		}
	case I16:
		for i := range dst {
			dst[i] = float32(int16(bo.Uint16(src[2*i:])))
		}
	case I8:
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	case U8:
		for i := range dst {
			dst[i] = float32(src[i])
		}
	case Bool:
		for i := range dst {
			if src[i] != 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	}
}

// swapBytes reverses the byte order of every size-byte element of b in place.
func swapBytes(b []byte, size int) {
	if size <= 1 {
		return
	}
	for i := 0; i+size <= len(b); i += size {
		e := b[i : i+size]
		for j, k := 0, size-1; j < k; j, k = j+1, k-1 {
			e[j], e[k] = e[k], e[j]
		}
	}
}
