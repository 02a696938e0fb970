package checkpoint

import (
	"math"
	"testing"

	"github.com/clipinfer/clipinfer/quant"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHalfToFloat32AllPatterns checks every binary16 bit pattern against the
// textbook formula, and the lookup table against it.
func TestHalfToFloat32AllPatterns(t *testing.T) {
	table := halfTable()
	for i := range 1 << 16 {
		h := uint16(i)
		sign := 1.0
		if h>>15 != 0 {
			sign = -1
		}
		exp, mant := int(h>>10)&0x1f, float64(h&0x3ff)
		got := quant.HalfToFloat(h)
		require.Equal(t, math.Float32bits(got), math.Float32bits(table[h]), "table at %#04x", h)
		switch exp {
		case 0x1f:
			if mant == 0 {
				require.True(t, math.IsInf(float64(got), int(sign)), "%#04x", h)
			} else {
				require.True(t, math.IsNaN(float64(got)), "%#04x", h)
				require.Equal(t, uint32(h&0x3ff)<<13, math.Float32bits(got)&0x7fffff, "NaN payload %#04x", h)
			}
		case 0:
			require.Equal(t, sign*mant*math.Pow(2, -24), float64(got), "%#04x", h)
			require.Equal(t, h>>15 != 0, math.Signbit(float64(got)), "%#04x", h)
		default:
			require.Equal(t, sign*(1+mant/1024)*math.Pow(2, float64(exp-15)), float64(got), "%#04x", h)
		}
	}
}

func TestDecodeFloat32AllTypes(t *testing.T) {
	tests := []struct {
		d    DType
		src  []byte
		want []float32
	}{
		{F32, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, []float32{1, -2}},
		{F16, []byte{0x00, 0x3c, 0x00, 0xc0}, []float32{1, -2}},
		{BF16, []byte{0x80, 0x3f, 0x00, 0xc0}, []float32{1, -2}},
		{F64, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, []float32{1}},
		{I64, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []float32{-2}},
		{I32, []byte{0xfe, 0xff, 0xff, 0xff}, []float32{-2}},
		{I16, []byte{0xfe, 0xff}, []float32{-2}},
		{I8, []byte{0xfe}, []float32{-2}},
		{U8, []byte{0xfe}, []float32{254}},
		{Bool, []byte{0, 1, 2}, []float32{0, 1, 1}},
	}
	for _, tc := range tests {
		got := make([]float32, len(tc.want))
		decodeFloat32(got, tc.src, tc.d)
		assert.Equal(t, tc.want, got, tc.d.String())
		assert.Equal(t, len(tc.src)/len(tc.want), tc.d.Size(), tc.d.String())
		d, ok := parseSafetensorsDType(tc.d.String())
		assert.True(t, ok)
		assert.Equal(t, tc.d, d)
	}
	assert.Equal(t, "DType(99)", DType(99).String())
	assert.Equal(t, 0, DType(0).Size())
}

func TestEmptyTensorWithOffsetReads(t *testing.T) {
	tn, err := newView(section{n: 0}, F32, 0, 100, []int64{0, 3}, []int64{3, 1})
	require.NoError(t, err)
	f, err := tn.Float32()
	require.NoError(t, err)
	assert.Empty(t, f)
	raw, err := tn.Raw()
	require.NoError(t, err)
	assert.Empty(t, raw)
}
