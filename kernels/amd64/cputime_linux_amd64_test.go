package amd64

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/clipinfer/clipinfer/internal/cputime"
	"github.com/clipinfer/clipinfer/kernels/generic"
)

// TestQMatMulCPUTime is a measurement, not a check: it runs only when
// CLIPINFER_QMM_SHAPES is set (e.g. "50x3072x768,77x512x2048", m×n×k) and
// logs GOP/s per second of this thread's CPU time, best of 15 repetitions
// with the kernels interleaved. On a shared machine the thread CPU clock is
// far steadier than wall time (other processes take turns on the core
// instead of inflating the time), and the best repetition is the one least
// disturbed by cache and frequency interference.
func TestQMatMulCPUTime(t *testing.T) {
	shapes := os.Getenv("CLIPINFER_QMM_SHAPES")
	if shapes == "" {
		t.Skip("set CLIPINFER_QMM_SHAPES=MxNxK,... to measure")
	}
	needAVX2(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var g generic.Kernels
	kernelsToRun := append([]struct {
		name string
		f    qmmFunc
		ok   func(m, n, k, block int) bool
	}{{"generic", g.QMatMul, func(m, n, k, block int) bool { return true }}}, qmmVariants...)
	r := rand.New(rand.NewPCG(1, 2))
	for _, shape := range strings.Split(shapes, ",") {
		var m, n, k int
		if _, err := fmt.Sscanf(shape, "%dx%dx%d", &m, &n, &k); err != nil {
			t.Fatalf("shape %q: %v", shape, err)
		}
		for _, block := range []int{k, 64} {
			x, w, xs, ws, bias := randQ(r, m, n, k, block)
			dst := make([]float32, m*n)
			best := make([]float64, len(kernelsToRun))
			for rep := 0; rep < 15; rep++ {
				for ki, kk := range kernelsToRun {
					if !kk.ok(m, n, k, block) || kk.name == "generic" && rep >= 3 {
						continue
					}
					iters := max(1, int(5e7/float64(m*n*k)))
					if kk.name == "generic" {
						iters = 1
					}
					c0 := cputime.Thread()
					for it := 0; it < iters; it++ {
						kk.f(dst, n, x, xs, w, ws, bias, m, n, k, block)
					}
					best[ki] = max(best[ki], 2*float64(m*n*k)*float64(iters)/(cputime.Thread()-c0).Seconds()/1e9)
				}
			}
			blk := "row"
			if block != k {
				blk = fmt.Sprint(block)
			}
			line := fmt.Sprintf("shape=%s block=%s", shape, blk)
			for ki, kk := range kernelsToRun {
				if best[ki] > 0 {
					line += fmt.Sprintf("  %s %.1f", kk.name, best[ki])
				}
			}
			t.Log(line + " (GOP/s per CPU-second, best of 15; generic best of 3)")
		}
	}
}
