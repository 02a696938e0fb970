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

type qmmFunc func(dst *float32, ldd int, x *int8, ldx int, xs *float32, ldxs int, w *int8, ws *float32, bias *float32, m, n, k, block, nb int)

// qmmVariants lists the QMatMul assembly kernels measured and tested
// directly. The other candidates of docs/KERNELS.md (plain and widening
// steps) were measured at commit 4e5c2aa and removed.
var qmmVariants = []struct {
	name string
	f    qmmFunc
}{{"avx2", qmm2x4}}

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

// TestQMMVariantsBitExact checks both 2×4 kernels directly against generic,
// bit for bit, per-row and blocked (the shared test only asks a tolerance
// for blocked scales; these kernels meet the generic order exactly).
func TestQMMVariantsBitExact(t *testing.T) {
	needAVX2(t)
	r := rand.New(rand.NewPCG(11, 12))
	var g generic.Kernels
	for _, v := range qmmVariants {
		for _, c := range []struct{ m, n, k, block int }{
			{2, 4, 32, 32}, {3, 5, 33, 33}, {2, 4, 64, 32}, {5, 9, 96, 48}, {7, 13, 200, 40},
			{50, 24, 768, 768}, {50, 24, 768, 64}, {4, 8, 3072, 3072}, {9, 6, 1000, 1000}, {2, 4, 65, 65},
		} {
			x, w, xs, ws, bias := randQ(r, c.m, c.n, c.k, c.block)
			for _, withBias := range []bool{true, false} {
				b := bias
				var bp *float32
				if withBias {
					bp = &b[0]
				} else {
					b = nil
				}
				ldd := c.n + 3
				want := make([]float32, c.m*ldd)
				got := make([]float32, c.m*ldd)
				g.QMatMul(want, ldd, x, xs, w, ws, b, c.m, c.n, c.k, c.block)
				v.f(&got[0], ldd, &x[0], c.k, &xs[0], c.k/c.block, &w[0], &ws[0], bp, c.m, c.n, c.k, c.block, c.k/c.block)
				for i := range want {
					require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]),
						"%s %+v bias=%v at %d: %v vs generic %v", v.name, c, withBias, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkQMMVariants compares the two candidate step sequences on the
// shapes of kernels.BenchmarkQMatMul (m×n×k).
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
				b.Run(fmt.Sprintf("step=%s/shape=%dx%dx%d/block=%s", v.name, s.m, s.n, s.k, blk), func(b *testing.B) {
					for b.Loop() {
						v.f(&dst[0], s.n, &x[0], s.k, &xs[0], s.k/block, &w[0], &ws[0], &bias[0], s.m, s.n, s.k, block, s.k/block)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			}
		}
	}
}
