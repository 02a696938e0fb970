package amd64

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels/generic"
)

func needAVX2(tb testing.TB) {
	tb.Helper()
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C) {
		tb.Skip("CPU lacks AVX2/FMA/F16C")
	}
}

type qmmFunc func(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int)

// qmm2x4Call runs the sign-trick kernel directly, as AVX2.QMatMul ran it
// for every shape before the widening kernels (m == 1 as two copies of row
// 0), and as it still does for blocked scales and m == 2.
func qmm2x4Call(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	nb := k / block
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	if m == 1 {
		qmm2x4(&dst[0], 0, &x[0], 0, &xs[0], 0, &w[0], &ws[0], bp, 2, n, k, block, nb)
		return
	}
	qmm2x4(&dst[0], ldd, &x[0], k, &xs[0], nb, &w[0], &ws[0], bp, m, n, k, block, nb)
}

// qmm12Call runs the weight-stationary widening kernel directly (per-row
// scales only).
func qmm12Call(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if block != k {
		panic("qmm12 needs block == k")
	}
	qmm12(dst, ldd, x, xs, w, ws, bias, m, n, k)
}

// qmmXSCall runs the activation-stationary widening kernel directly
// (per-row scales only).
func qmmXSCall(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if block != k {
		panic("qmmXS needs block == k")
	}
	qmmXS(dst, ldd, x, xs, w, ws, bias, m, n, k)
}

// hasAVX512VNNI reports whether this machine runs the avx512vnni kernel.
func hasAVX512VNNI() bool {
	ok, _ := AVX512OSState()
	return ok && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512VNNI)
}

// qmmVariants lists the QMatMul kernels measured and tested directly: the
// dispatching AVX2.QMatMul and the three assembly kernels it chooses between,
// with the shapes each accepts.
var qmmVariants = []struct {
	name string
	f    qmmFunc
	ok   func(m, n, k, block int) bool
}{
	{"avx512vnni", AVX512VNNI{}.QMatMul, func(m, n, k, block int) bool { return hasAVX512VNNI() }},
	{"avxvnni", AVXVNNI{}.QMatMul, func(m, n, k, block int) bool { return cpuid.CPU.Supports(cpuid.AVXVNNI) }},
	{"avx2", AVX2{}.QMatMul, func(m, n, k, block int) bool { return true }},
	{"2x4", qmm2x4Call, func(m, n, k, block int) bool { return n >= 4 && block >= 32 }},
	{"1x12", qmm12Call, func(m, n, k, block int) bool { return block == k && k%16 == 0 && n >= 12 }},
	{"xs", qmmXSCall, func(m, n, k, block int) bool { return block == k && k%16 == 0 && n >= 12 }},
}

func randQ(r *rand.Rand, m, n, k, block int) (x, w []int8, xs, ws, bias []float32) {
	nb := k / block
	x, w = make([]int8, m*k), make([]int8, n*k)
	for i := range x {
		x[i] = int8(r.IntN(255) - 127)
	}
	for i := range w {
		w[i] = int8(r.IntN(255) - 127)
	}
	f := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64()) * 0.01
		}
		return s
	}
	return x, w, f(m * nb), f(n * nb), f(n)
}

// TestQMMVariantsBitExact checks each kernel directly against generic, bit
// for bit, per-row and blocked (the shared test only asks a tolerance for
// blocked scales; these kernels meet the generic order exactly), on shapes
// that exercise tile remainders, k-chunks and odd leading dimensions.
func TestQMMVariantsBitExact(t *testing.T) {
	needAVX2(t)
	r := rand.New(rand.NewPCG(11, 12))
	var g generic.Kernels
	cases := []struct{ m, n, k, block int }{
		{2, 4, 32, 32}, {3, 5, 33, 33}, {2, 4, 64, 32}, {5, 9, 96, 48}, {7, 13, 200, 40},
		{50, 24, 768, 768}, {50, 24, 768, 64}, {4, 8, 3072, 3072}, {9, 6, 1000, 1000}, {2, 4, 65, 65},
		{1, 12, 16, 16}, {1, 13, 48, 48}, {1, 5, 64, 64}, {1, 9, 96, 32}, {3, 12, 784, 784}, {4, 25, 1536, 1536}, {5, 30, 1552, 1552},
		{13, 37, 2048, 2048}, {6, 12, 3072, 3072}, {2, 23, 4096, 4096}, {77, 20, 512, 512},
		{14, 12, 32, 32}, {26, 13, 48, 48}, {27, 24, 64, 64}, {40, 15, 80, 80}, {11, 14, 112, 112},
	}
	for _, v := range qmmVariants {
		for _, c := range cases {
			if !v.ok(c.m, c.n, c.k, c.block) {
				continue
			}
			x, w, xs, ws, bias := randQ(r, c.m, c.n, c.k, c.block)
			for _, withBias := range []bool{true, false} {
				b := bias
				if !withBias {
					b = nil
				}
				ldd := c.n + 3
				want := make([]float32, c.m*ldd)
				got := make([]float32, c.m*ldd)
				for i := range got {
					got[i] = -777
				}
				g.QMatMul(want, ldd, x, xs, w, ws, b, c.m, c.n, c.k, c.block)
				v.f(got, ldd, x, xs, w, ws, b, c.m, c.n, c.k, c.block)
				for i := range want {
					if i%ldd >= c.n {
						require.EqualValues(t, -777, got[i], "%s %+v wrote padding at %d", v.name, c, i)
						continue
					}
					require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]),
						"%s %+v bias=%v at %d: %v vs generic %v", v.name, c, withBias, i, got[i], want[i])
				}
			}
		}
	}
}

// TestWideningKernelsShapes runs the two widening kernels and the two
// VPDPBUSD kernels (when the CPU has them) over every panel height and split (m = 1..30, also with k large enough to lower the panel
// height), n with and without a 12-column remainder, k with an odd number of
// 16-value steps and k cut into chunks, against generic bit for bit.
func TestWideningKernelsShapes(t *testing.T) {
	needAVX2(t)
	r := rand.New(rand.NewPCG(13, 14))
	var g generic.Kernels
	for _, v := range qmmVariants {
		if v.name == "avx2" || v.name == "2x4" {
			continue
		}
		if !v.ok(1, 12, 16, 16) {
			t.Logf("%s skipped: this CPU lacks it", v.name)
			continue
		}
		for _, k := range []int{16, 48, 784, 1040, 1568} {
			for m := 1; m <= 30; m++ {
				if k > 784 && m%7 != 1 && m > 3 {
					continue
				}
				for _, n := range []int{12, 25} {
					x, w, xs, ws, bias := randQ(r, m, n, k, k)
					if m%2 == 0 {
						bias = nil
					}
					// A zero row with a negative scale: t = 0·s = -0, which
					// generic's acc := 0 turns into +0.
					clear(x[:k])
					xs[0] = -1
					want := make([]float32, m*n)
					got := make([]float32, m*n)
					g.QMatMul(want, n, x, xs, w, ws, bias, m, n, k, k)
					v.f(got, n, x, xs, w, ws, bias, m, n, k, k)
					for i := range want {
						if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
							t.Fatalf("%s m=%d n=%d k=%d at %d: %v, generic %v", v.name, m, n, k, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// BenchmarkQMMVariants compares the kernels on the shapes of
// kernels.BenchmarkQMatMul (m×n×k).
func BenchmarkQMMVariants(b *testing.B) {
	needAVX2(b)
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ m, n, k int }{{50, 768, 768}, {50, 3072, 768}, {50, 768, 3072}, {77, 512, 512}, {77, 2048, 512}, {77, 512, 2048}} {
		for _, block := range []int{s.k, 64} {
			x, w, xs, ws, bias := randQ(r, s.m, s.n, s.k, block)
			dst := make([]float32, s.m*s.n)
			blk := "row"
			if block != s.k {
				blk = fmt.Sprint(block)
			}
			for _, v := range qmmVariants {
				if !v.ok(s.m, s.n, s.k, block) {
					continue
				}
				b.Run(fmt.Sprintf("kernel=%s/shape=%dx%dx%d/block=%s", v.name, s.m, s.n, s.k, blk), func(b *testing.B) {
					for b.Loop() {
						v.f(dst, s.n, x, xs, w, ws, bias, s.m, s.n, s.k, block)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			}
		}
	}
}
