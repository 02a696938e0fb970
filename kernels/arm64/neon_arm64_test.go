package arm64

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels/generic"
)

// These tests add to the shared ones in package kernels (which compare
// every registered kernel with generic within the interface's tolerances)
// what holds only here: bit-identical results where the arm64 kernels
// promise them, no allocation, and bounds checks before any assembly runs.

type impl interface {
	Name() string
	QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int)
	MatMul(dst []float32, ldd int, a []float32, lda int, b []float32, ldb int, bias []float32, m, n, k int)
	MatMulF16(dst []float32, ldd int, a []float32, lda int, b []uint16, ldb int, bias []float32, m, n, k int)
	Quantize(dst []int8, scales []float32, x []float32, block int)
	Dot(a, b []float32) float32
	Add(dst, x []float32)
	Scale(x []float32, s float32)
	F16ToF32(dst []float32, src []uint16)
	LayerNorm(dst, x, gamma, beta []float32, eps float32)
	Softmax(x []float32)
	QuickGELU(x []float32)
	GELU(x []float32)
}

// runnable returns the kernels of this package the CPU can execute.
func runnable() []impl {
	ks := []impl{NEON{}}
	if cpuid.CPU.Supports(cpuid.ASIMDDP) {
		ks = append(ks, NEONDot{})
	}
	return ks
}

var ref generic.Kernels

func randI8(r *rand.Rand, n int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(r.IntN(255) - 127)
	}
	return s
}

func randF32(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64()) * scale
	}
	return s
}

func requireBits(t *testing.T, want, got []float32, what string) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s: [%d] = %v (%#08x), generic %v (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// The float epilogue follows generic operation for operation, so even
// blocked scales (where the interface allows 1e-6 of slack) come out
// bit-identical.
func TestQMatMulBlockedBitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, k := range runnable() {
		for _, c := range []struct{ m, n, k, block int }{
			{5, 9, 64, 32}, {4, 4, 96, 16}, {3, 7, 60, 20}, {7, 5, 40, 8}, {2, 3, 24, 3}, {9, 6, 512, 64}, {6, 11, 100, 1},
		} {
			nb := c.k / c.block
			x, w := randI8(r, c.m*c.k), randI8(r, c.n*c.k)
			xs, ws, bias := randF32(r, c.m*nb, 0.01), randF32(r, c.n*nb, 0.01), randF32(r, c.n, 1)
			want, got := make([]float32, c.m*c.n), make([]float32, c.m*c.n)
			ref.QMatMul(want, c.n, x, xs, w, ws, bias, c.m, c.n, c.k, c.block)
			k.QMatMul(got, c.n, x, xs, w, ws, bias, c.m, c.n, c.k, c.block)
			requireBits(t, want, got, fmt.Sprintf("%s %+v", k.Name(), c))
		}
	}
}

// Zero dot products times negative scales give -0, which generic's
// "acc := 0; acc += t" turns into +0; the kernels must do the same, with
// and without a bias (including a -0 bias).
func TestQMatMulSignedZeros(t *testing.T) {
	const m, n, kk = 3, 5, 20
	x := make([]int8, m*kk)
	w := make([]int8, n*kk)
	for i := range w {
		w[i] = int8(i%5 - 2)
	}
	xs := []float32{-1, 2, -3}
	ws := []float32{1, -2, 3, -4, 5}
	negZero := float32(math.Copysign(0, -1))
	for _, k := range runnable() {
		for _, bias := range [][]float32{nil, {negZero, negZero, 0, 1, negZero}} {
			want, got := make([]float32, m*n), make([]float32, m*n)
			ref.QMatMul(want, n, x, xs, w, ws, bias, m, n, kk, kk)
			k.QMatMul(got, n, x, xs, w, ws, bias, m, n, kk, kk)
			requireBits(t, want, got, k.Name())
		}
	}
}

func TestQuantizeSpecialValuesBitExact(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	cases := [][]float32{
		{1, 2, nan, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
		{inf, -1, 0.5, 2, -inf, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0},
		{1e-40, -2e-40, 3e-45, 0, 1e-39, 5e-41, -1e-40, 7e-42},
		{float32(math.Copysign(0, -1)), 0, 0, 0, 0, 0},
		{127, -127, 126.5, -126.5, 0.5, -0.5, 1.5, -1.5, 2.5},
		{1e38, -3e38, 2e38, 1, -1, 0, 3.4e38},
	}
	for _, k := range runnable() {
		for ci, x := range cases {
			for _, block := range []int{len(x), 1} {
				nb := len(x) / block
				wantQ, wantS := make([]int8, len(x)), make([]float32, nb)
				gotQ, gotS := make([]int8, len(x)), make([]float32, nb)
				ref.Quantize(wantQ, wantS, x, block)
				k.Quantize(gotQ, gotS, x, block)
				require.Equal(t, wantQ, gotQ, "%s case %d block %d", k.Name(), ci, block)
				requireBits(t, wantS, gotS, fmt.Sprintf("%s scales case %d block %d", k.Name(), ci, block))
			}
		}
	}
}

func TestAddScaleBitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, k := range runnable() {
		for _, n := range []int{1, 3, 15, 16, 17, 33, 100, 768} {
			x, y := randF32(r, n, 10), randF32(r, n+3, 10)
			want, got := append([]float32(nil), x...), append([]float32(nil), x...)
			ref.Add(want, y)
			k.Add(got, y)
			requireBits(t, want, got, fmt.Sprintf("%s Add n=%d", k.Name(), n))
			ref.Scale(want, -0.3)
			k.Scale(got, -0.3)
			requireBits(t, want, got, fmt.Sprintf("%s Scale n=%d", k.Name(), n))
		}
	}
}

// The kernels must panic on slices too short for the shape, as generic
// does, before the assembly could read or write past them.
func TestShortSlicesPanic(t *testing.T) {
	for _, k := range runnable() {
		x, w := make([]int8, 4*64), make([]int8, 4*64)
		s4 := make([]float32, 4)
		dst := make([]float32, 16)
		require.Panics(t, func() { k.QMatMul(dst, 4, x[:4*64-1], s4, w, s4, nil, 4, 4, 64, 64) }, "short x")
		require.Panics(t, func() { k.QMatMul(dst, 4, x, s4, w[:100], s4, nil, 4, 4, 64, 64) }, "short w")
		require.Panics(t, func() { k.QMatMul(dst, 4, x, s4[:3], w, s4, nil, 4, 4, 64, 64) }, "short xs")
		require.Panics(t, func() { k.QMatMul(dst[:15], 4, x, s4, w, s4, nil, 4, 4, 64, 64) }, "short dst")
		require.Panics(t, func() { k.QMatMul(dst, 4, x, s4, w, s4, s4[:3], 4, 4, 64, 64) }, "short bias")
		a := make([]float32, 4*64)
		require.Panics(t, func() { k.MatMul(dst, 4, a, 64, a[:200], 64, nil, 4, 4, 64) }, "short b")
		require.Panics(t, func() { k.MatMulF16(dst, 4, a[:200], 64, make([]uint16, 4*64), 64, nil, 4, 4, 64) }, "short a")
		require.Panics(t, func() { k.Dot(a, a[:10]) }, "short Dot operand")
		require.Panics(t, func() { k.Add(a, a[:10]) }, "short Add operand")
		require.Panics(t, func() { k.F16ToF32(a[:3], make([]uint16, 4)) }, "short F16ToF32 dst")
		require.Panics(t, func() { k.Quantize(x[:10], s4, a[:16], 16) }, "short Quantize dst")
		require.Panics(t, func() { k.Quantize(x, s4[:0], a[:16], 16) }, "short Quantize scales")
		require.Panics(t, func() { k.LayerNorm(a[:64], a[:64], a[:63:63], a[:64], 1e-5) }, "short gamma")
		require.Panics(t, func() { k.LayerNorm(a[:63:63], a[:64], a[:64], a[:64], 1e-5) }, "short LayerNorm dst")
	}
}

func TestNoAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const m, n, k = 7, 10, 70
	x, w := randI8(r, m*k), randI8(r, n*k)
	xs, ws, bias := randF32(r, m, 1), randF32(r, n, 1), randF32(r, n, 1)
	a, b := randF32(r, m*k, 1), randF32(r, n*k, 1)
	b16 := make([]uint16, n*k)
	dst := make([]float32, m*n)
	q := make([]int8, k)
	for _, kern := range runnable() {
		allocs := testing.AllocsPerRun(10, func() {
			kern.QMatMul(dst, n, x, xs, w, ws, bias, m, n, k, k)
			kern.MatMul(dst, n, a, k, b, k, nil, m, n, k)
			kern.MatMulF16(dst, n, a, k, b16, k, bias, m, n, k)
			kern.Quantize(q, xs[:1], a[:k], k)
			kern.Add(a, b)
			kern.Scale(a, 0.5)
			_ = kern.Dot(a, b)
			kern.F16ToF32(a[:k], b16[:k])
			kern.LayerNorm(a[:k], a[:k], b[:k], b[k:2*k], 1e-5)
			kern.Softmax(a[:k])
			kern.QuickGELU(a[:k])
		})
		require.Zero(t, allocs, kern.Name())
	}
}

// ExampleNEON_QMatMul multiplies a 1×4 int8 row by two weight rows with
// per-row scales: dst[j] = (Σ x·w[j]) · xs · ws[j] + bias[j].
func ExampleNEON_QMatMul() {
	x := []int8{1, 2, 3, 4}
	w := []int8{
		1, 1, 1, 1, // Σ = 10
		-1, 0, 2, 0, // Σ = 5
	}
	dst := make([]float32, 2)
	NEON{}.QMatMul(dst, 2, x, []float32{0.5}, w, []float32{1, 2}, []float32{0, 100}, 1, 2, 4, 4)
	fmt.Println(dst)
	// Output: [5 105]
}

// ulps is the distance in float32 steps between a and b (0 for two NaNs,
// a huge value for NaN against a number).
func ulps(a, b float32) int64 {
	na, nb := math.IsNaN(float64(a)), math.IsNaN(float64(b))
	if na || nb {
		if na && nb {
			return 0
		}
		return math.MaxInt64
	}
	if a == b {
		return 0
	}
	key := func(f float32) int64 { // monotonic integer image of f
		b := int64(math.Float32bits(f))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return d
}

// The element-wise kernels compute in float64 like generic and round once,
// so they stay within 1 ulp of it (on a dense grid and with ±0, ±Inf, NaN,
// subnormal and huge inputs, all were measured at 0 ulp on qemu's
// cortex-a72 and max models).
func TestElementwiseULP(t *testing.T) {
	var grid []float32
	for e := -40.0; e <= 10; e += 0.002 {
		v := float32(math.Pow(2, e))
		grid = append(grid, v, -v)
	}
	for v := float32(-900); v <= 900; v += 0.37 {
		grid = append(grid, v)
	}
	grid = append(grid, 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 7)
	r := rand.New(rand.NewPCG(17, 18))
	for _, k := range runnable() {
		// check allows maxULP; with tiny, values below 1e-7 within 1e-7 of
		// generic pass too (GELU: there generic's 1 + erf(x/√2) has
		// cancelled while the assembly uses erfc, so ulps mean nothing; the
		// kernels' tolerance is 2e-6 relative + 1e-7).
		check := func(what string, want, got []float32, maxULP int64, tiny bool) {
			t.Helper()
			for i := range want {
				if tiny && math.Abs(float64(want[i])) < 1e-7 && math.Abs(float64(got[i]-want[i])) <= 1e-7 {
					continue
				}
				if d := ulps(want[i], got[i]); d > maxULP {
					t.Fatalf("%s %s: [%d] = %v, generic %v (%d ulp)", k.Name(), what, i, got[i], want[i], d)
				}
			}
		}
		for _, op := range []struct {
			name      string
			fast, gen func([]float32)
			maxULP    int64
			tiny      bool
		}{
			{"QuickGELU", k.QuickGELU, ref.QuickGELU, 1, false},
			{"GELU", k.GELU, ref.GELU, 2, true},
		} {
			for _, n := range []int{len(grid), len(grid) - 1, len(grid) - 2, len(grid) - 3} {
				want, got := append([]float32(nil), grid[:n]...), append([]float32(nil), grid[:n]...)
				op.gen(want)
				op.fast(got)
				check(op.name, want, got, op.maxULP, op.tiny)
			}
		}
		for trial := range 200 {
			n := 1 + r.IntN(400)
			x, gamma, beta := randF32(r, n, float32(math.Pow(10, r.Float64()*6-3))), randF32(r, n, 1), randF32(r, n, 1)
			for i := range x {
				x[i] += 3 * x[0] // a mean far from 0
			}
			switch trial % 40 {
			case 1:
				x[r.IntN(n)] = float32(math.Inf(-1))
			case 2:
				x[r.IntN(n)] = float32(math.Inf(1))
			case 3:
				x[r.IntN(n)] = float32(math.NaN())
			}
			want, got := append([]float32(nil), x...), append([]float32(nil), x...)
			ref.Softmax(want)
			k.Softmax(got)
			check(fmt.Sprintf("Softmax n=%d", n), want, got, 1, false)
			want, got = make([]float32, n), append([]float32(nil), x...)
			ref.LayerNorm(want, x, gamma, beta, 1e-5)
			k.LayerNorm(got, got, gamma, beta, 1e-5) // in place, as the towers call it
			check(fmt.Sprintf("LayerNorm n=%d", n), want, got, 1, false)
		}
	}
}
