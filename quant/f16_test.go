package quant

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHalfConversionsRoundTripEveryValue(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := HalfToFloat(h)
		if math.IsNaN(float64(f)) {
			require.True(t, h&0x7c00 == 0x7c00 && h&0x3ff != 0, "0x%04x", h)
			continue
		}
		require.Equal(t, h, FloatToHalf(f), "0x%04x → %v", h, f)
	}
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {70000, 0x7c00}, {1e9, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {5.960464477539063e-08, 0x0001}, {6e-8, 0x0001},
		{2e-8, 0x0000}, {2.9e-08, 0x0000}, {3.0e-08, 0x0001},
		{1.0004, 0x3c00},              // rounds to 1
		{1 + 1.0/2048, 0x3c00},        // tie, rounds to even
		{1 + 3.0/2048, 0x3c02},        // tie, rounds to even (up)
		{1 + 1.0/2048 + 1e-7, 0x3c01}, // just above the tie
		{6.097555e-05, 0x03ff},        // largest subnormal
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, FloatToHalf(tc.in), "%g", tc.in)
	}
	assert.True(t, math.IsNaN(float64(HalfToFloat(FloatToHalf(float32(math.NaN()))))))
}
