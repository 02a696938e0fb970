package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clipinfer/clipinfer/kernels"
	"github.com/clipinfer/clipinfer/quant"
)

// randomIndex makes an index of n random normalised d-dimensional vectors
// directly (Add would be slow for a million entries).
func randomIndex(tb testing.TB, n, d int, dtype DType, seed uint64) *Index {
	tb.Helper()
	x, err := New(ModelInfo{Fingerprint: "sha256:test", Dim: d}, dtype)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, d)
	x.entries = make([]Entry, n)
	switch dtype {
	case Int8:
		x.q, x.scales = make([]int8, n*d), make([]float32, n)
	case Float16:
		x.h = make([]uint16, n*d)
	}
	for i := range n {
		randUnit(r, v)
		x.entries[i] = Entry{Path: fmt.Sprintf("/img/%07d.jpg", i), Size: int64(i), ModTime: int64(i)}
		x.byPath[x.entries[i].Path] = i
		switch dtype {
		case Int8:
			x.scales[i] = quantize(x.q[i*d:(i+1)*d], v)
		case Float16:
			for j, f := range v {
				x.h[i*d+j] = quant.FloatToHalf(f)
			}
		}
	}
	return x
}

func randUnit(r *rand.Rand, v []float32) {
	var ss float64
	for j := range v {
		f := r.NormFloat64()
		v[j] = float32(f)
		ss += f * f
	}
	for j := range v {
		v[j] = float32(float64(v[j]) / math.Sqrt(ss))
	}
}

// BenchmarkSearch times top-10 retrieval over 1,000,000 random 512-d
// vectors with two goroutines: one query and a batch of 8, int8 and f16
// storage, on the default kernel and on generic. It reports wall time per
// search (ns/op), the bytes of vectors scanned per second (MB/s), the
// process CPU time per search (cpu-ms/op), which shows the work done even
// when other programs share the CPUs, and the fastest single search
// (min-ms). -short uses 100,000 vectors.
//
//	go test -run - -bench Search -benchtime 20x ./index/
func BenchmarkSearch(b *testing.B) {
	n, d := 1_000_000, 512
	if testing.Short() {
		n = 100_000
	}
	def, err := kernels.Default()
	if err != nil {
		b.Fatal(err)
	}
	ks := []kernels.Kernels{def}
	if def.Name() != "generic" {
		g, _ := kernels.Get("generic")
		ks = append(ks, g)
	}
	for _, dt := range []DType{Int8, Float16} {
		var x *Index // built by the first sub-benchmark that runs
		r := rand.New(rand.NewPCG(7, 7))
		for _, k := range ks {
			for _, nq := range []int{1, 8} {
				qs := make([][]float32, nq)
				for i := range qs {
					qs[i] = make([]float32, d)
					randUnit(r, qs[i])
				}
				name := fmt.Sprintf("n=%d/d=%d/%s/kernel=%s/queries=%d/threads=2", n, d, dt, k.Name(), nq)
				b.Run(name, func(b *testing.B) {
					if x == nil {
						x = randomIndex(b, n, d, dt, 1)
					}
					b.SetBytes(int64(len(x.q) + 2*len(x.h)))
					c0 := cpuTime()
					fastest := time.Duration(math.MaxInt64)
					for b.Loop() {
						t0 := time.Now()
						if _, err := x.SearchBatch(qs, 10, SearchOptions{Kernels: k, Threads: 2}); err != nil {
							b.Fatal(err)
						}
						fastest = min(fastest, time.Since(t0))
					}
					if c := cpuTime() - c0; c > 0 {
						b.ReportMetric(c.Seconds()*1e3/float64(b.N), "cpu-ms/op")
					}
					b.ReportMetric(fastest.Seconds()*1e3, "min-ms")
				})
			}
		}
	}
}
