package generic

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQMatMulAgainstFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var g Kernels
	for _, c := range []struct{ m, n, k, block int }{{1, 1, 1, 1}, {3, 4, 64, 64}, {3, 4, 64, 32}, {5, 7, 96, 32}} {
		nb := c.k / c.block
		x, w := make([]int8, c.m*c.k), make([]int8, c.n*c.k)
		for i := range x {
			x[i] = int8(r.IntN(255) - 127)
		}
		for i := range w {
			w[i] = int8(r.IntN(255) - 127)
		}
		xs, ws, bias := make([]float32, c.m*nb), make([]float32, c.n*nb), make([]float32, c.n)
		for i := range xs {
			xs[i] = r.Float32()
		}
		for i := range ws {
			ws[i] = r.Float32()
		}
		for i := range bias {
			bias[i] = r.Float32() - 0.5
		}
		dst := make([]float32, c.m*c.n)
		g.QMatMul(dst, c.n, x, xs, w, ws, bias, c.m, c.n, c.k, c.block)
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				want := float64(bias[j])
				for kk := 0; kk < c.k; kk++ {
					b := kk / c.block
					want += float64(x[i*c.k+kk]) * float64(w[j*c.k+kk]) * float64(xs[i*nb+b]) * float64(ws[j*nb+b])
				}
				assert.InDelta(t, want, dst[i*c.n+j], 1e-3*math.Max(1, math.Abs(want)))
			}
		}
	}
}

func TestQuantizeRoundTrip(t *testing.T) {
	var g Kernels
	x := []float32{0.5, -1, 0.25, 2, 0, 0, 0, 0}
	q, s := make([]int8, 8), make([]float32, 2)
	g.Quantize(q, s, x, 4)
	assert.Equal(t, []int8{32, -64, 16, 127, 0, 0, 0, 0}, q) // 0.5·63.5 = 31.75 → 32
	assert.Equal(t, []float32{2.0 / 127, 0}, s)
	// Ties round to even: 127/amax·x = 0.5 exactly → 0; 1.5 → 2.
	g.Quantize(q[:2], s[:1], []float32{127, 0.5}, 2)
	assert.Equal(t, []int8{127, 0}, q[:2])
	g.Quantize(q[:2], s[:1], []float32{127, 1.5}, 2)
	assert.Equal(t, []int8{127, 2}, q[:2])
}

func TestElementwiseKnownValues(t *testing.T) {
	var g Kernels
	x := []float32{-1, 0, 1, 3}
	g.GELU(x)
	assert.InDeltaSlice(t, []float64{-0.15865525, 0, 0.84134475, 2.99595031}, toF64(x), 1e-6)
	x = []float32{-1, 0, 1}
	g.QuickGELU(x)
	assert.InDeltaSlice(t, []float64{-1 / (1 + math.Exp(1.702)), 0, 1 / (1 + math.Exp(-1.702))}, toF64(x), 1e-7)
	x = []float32{1, 2, 3}
	g.Softmax(x)
	assert.InDeltaSlice(t, []float64{0.09003057, 0.24472847, 0.66524096}, toF64(x), 1e-7)
	x = []float32{1, 2, 3, 4}
	g.LayerNorm(x, x, []float32{1, 1, 2, 2}, []float32{0, 0, 0, 1}, 0)
	s := 1 / math.Sqrt(1.25)
	assert.InDeltaSlice(t, []float64{-1.5 * s, -0.5 * s, 1 * s, 3*s + 1}, toF64(x), 1e-6)
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
