//go:build linux

package jpeg

import (
	"os"
	"runtime"
	"testing"

	"github.com/clipinfer/clipinfer/internal/cputime"
)

// BenchmarkDecodePhoto decodes the JPEG named by $JPEG_BENCH_FILE (a
// camera-sized photo, e.g. from bench/photos/gen.py) at full size and at
// 1/8, reporting the thread's CPU time per decode beside the wall time.
func BenchmarkDecodePhoto(b *testing.B) {
	path := os.Getenv("JPEG_BENCH_FILE")
	if path == "" {
		b.Skip("JPEG_BENCH_FILE is not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, scale := range []int{1, 8} {
		b.Run(map[int]string{1: "full", 8: "eighth"}[scale], func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var planes []byte
			opt := Options{Scale: scale, Alloc: func(n int) []byte {
				if cap(planes) < n {
					planes = make([]byte, n)
				}
				return planes[:n]
			}}
			b.SetBytes(int64(len(data)))
			cpu0 := cputime.Thread()
			for b.Loop() {
				if _, err := DecodeBytes(data, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cputime.Thread()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
