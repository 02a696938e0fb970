package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/clipinfer/clipinfer/kernels"
)

// The int8 matmul at the shapes the ViT-B/32 image tower (50 tokens) and the
// text tower (77 tokens) run. Sub-benchmark names put the kernel and the
// shape in key=value form so benchstat can compare kernels:
//
//	go test -run '^$' -bench QMatMul -count 10 ./kernels | tee new.txt
//	benchstat -col /kernel new.txt
var benchShapes = []struct{ m, n, k int }{
	{50, 768, 768}, {50, 3072, 768}, {50, 768, 3072}, // m×n×k: x is m×k, w is n×k
	{77, 512, 512}, {77, 2048, 512}, {77, 512, 2048},
}

func BenchmarkQMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range kernels.Available() {
		for _, s := range benchShapes {
			for _, block := range []int{s.k, 64} {
				blk := "row"
				if block != s.k {
					blk = fmt.Sprint(block)
				}
				name := fmt.Sprintf("kernel=%s/shape=%dx%dx%d/block=%s", k.Name(), s.m, s.n, s.k, blk)
				b.Run(name, func(b *testing.B) {
					nb := s.k / block
					x, w := randI8(r, s.m*s.k, "rand"), randI8(r, s.n*s.k, "rand")
					xs, ws := randF32(r, s.m*nb, 0.01), randF32(r, s.n*nb, 0.01)
					bias := randF32(r, s.n, 1)
					dst := make([]float32, s.m*s.n)
					b.ResetTimer()
					for b.Loop() {
						k.QMatMul(dst, s.n, x, xs, w, ws, bias, s.m, s.n, s.k, block)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			}
		}
	}
}

func BenchmarkMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	// Attention scores (50×50×64), attention output (50×64×50) and an f32
	// linear layer (50×768×768).
	for _, k := range kernels.Available() {
		for _, s := range []struct{ m, n, k int }{{50, 50, 64}, {50, 64, 50}, {77, 77, 64}, {50, 768, 768}} {
			b.Run(fmt.Sprintf("kernel=%s/shape=%dx%dx%d", k.Name(), s.m, s.n, s.k), func(b *testing.B) {
				a, w := randF32(r, s.m*s.k, 1), randF32(r, s.n*s.k, 1)
				dst := make([]float32, s.m*s.n)
				for b.Loop() {
					k.MatMul(dst, s.n, a, s.k, w, s.k, nil, s.m, s.n, s.k)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func BenchmarkRowOps(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randF32(r, 768, 1)
	g, bt := randF32(r, 768, 1), randF32(r, 768, 1)
	q, sc := make([]int8, 768), make([]float32, 1)
	for _, k := range kernels.Available() {
		for _, op := range []struct {
			name string
			f    func()
		}{
			{"Quantize768", func() { k.Quantize(q, sc, x, 768) }},
			{"LayerNorm768", func() { k.LayerNorm(g, x, g, bt, 1e-5) }},
			{"GELU768", func() { copy(g, x); k.GELU(g) }},
			{"QuickGELU768", func() { copy(g, x); k.QuickGELU(g) }},
			{"Softmax50", func() { copy(g, x); k.Softmax(g[:50]) }},
		} {
			b.Run(fmt.Sprintf("kernel=%s/op=%s", k.Name(), op.name), func(b *testing.B) {
				for b.Loop() {
					op.f()
				}
			})
		}
	}
}
