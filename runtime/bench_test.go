package runtime

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/internal/randclip"
	"github.com/clipinfer/clipinfer/kernels"
)

// vitB32 returns a random-weight ViT-B/32 converted to q8 (or f32), made
// once and kept in the user cache directory: generating and converting
// 600 MB takes a while, and speed does not depend on weight values.
func vitB32(b *testing.B, q string) string {
	b.Helper()
	vitOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		vitDir = filepath.Join(dir, "clipinfer-bench")
		vitErr = os.MkdirAll(vitDir, 0o755)
	})
	if vitErr != nil {
		b.Fatal(vitErr)
	}
	out := filepath.Join(vitDir, "vit-b32-random-"+q+".clip")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	src := filepath.Join(vitDir, "vit-b32-random.safetensors")
	if _, err := os.Stat(src); err != nil {
		if err := randclip.WriteSafetensors(src, randclip.ViTB32, 1); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := convert.Convert(src, out, convert.Options{Quant: q}); err != nil {
		b.Fatal(err)
	}
	return out
}

var (
	vitOnce sync.Once
	vitDir  string
	vitErr  error
)

// BenchmarkOpen is the start-up cost of a ViT-B/32 file in the page cache.
func BenchmarkOpen(b *testing.B) {
	for _, q := range []string{"q8", "f32"} {
		path := vitB32(b, q)
		b.Run("quant="+q, func(b *testing.B) {
			for b.Loop() {
				m, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
		})
	}
}

// BenchmarkOpenFirstText is what a one-shot command pays: open the model,
// embed one 7-token caption, close.
func BenchmarkOpenFirstText(b *testing.B) {
	path := vitB32(b, "q8")
	for b.Loop() {
		m, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.EmbedTexts([]string{"a photo of a cat on the grass"}); err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}

// cpuStart is the process CPU time at the start of a benchmark loop.
type cpuStart float64

func startCPU() cpuStart {
	s, _ := processCPU()
	return cpuStart(s)
}

// report adds cpu-ms/op, the process CPU time per iteration (every thread,
// the garbage collector's included), which a loaded machine inflates far
// less than the wall-clock ns/op.
func (c cpuStart) report(b *testing.B) {
	if s, ok := processCPU(); ok && b.N > 0 {
		b.ReportMetric((s-float64(c))*1e3/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkTowers times ViT-B/32 towers per kernel, threads and batch:
//
//	go test -run '^$' -bench Towers -count 6 ./runtime | tee towers.txt
//	benchstat -col /kernel towers.txt
func BenchmarkTowers(b *testing.B) {
	path := vitB32(b, "q8")
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range kernels.Available() {
		for _, threads := range []int{1, 2} {
			m, err := Open(path, Options{Kernel: k.Name(), Threads: threads})
			if err != nil {
				b.Fatal(err)
			}
			for _, batch := range []int{1, 8} {
				pix := randomPixels(r, batch, 224)
				dst := make([]float32, batch*m.EmbedDim())
				b.Run(fmt.Sprintf("tower=image/kernel=%s/threads=%d/batch=%d", k.Name(), threads, batch), func(b *testing.B) {
					cpu := startCPU()
					for b.Loop() {
						if err := m.EmbedPixelsInto(dst, pix); err != nil {
							b.Fatal(err)
						}
					}
					cpu.report(b)
					b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
				})
			}
			for _, tokens := range []int{7, 75} {
				ids := [][]int32{randomCaption(r, tokens)}
				b.Run(fmt.Sprintf("tower=text/kernel=%s/threads=%d/tokens=%d", k.Name(), threads, tokens), func(b *testing.B) {
					loopTokens(b, m, ids)
				})
			}
			m.Close()
		}
	}
}

// BenchmarkTextBatches times batches of captions on one and two threads:
// equal captions, split between the threads by count, and captions of
// mixed lengths, split by tokens (see Model.splitPlan):
//
//	go test -run '^$' -bench TextBatches -count 4 ./runtime
func BenchmarkTextBatches(b *testing.B) {
	path := vitB32(b, "q8")
	r := rand.New(rand.NewPCG(1, 2))
	for _, lens := range [][]int{{75, 75, 75, 75, 75, 75, 75, 75}, {75, 75, 5, 5}, {75, 5}} {
		ids := make([][]int32, len(lens))
		for j, n := range lens {
			ids[j] = randomCaption(r, n)
		}
		name := strings.Trim(strings.ReplaceAll(fmt.Sprint(lens), " ", "+"), "[]")
		for _, threads := range []int{1, 2} {
			m, err := Open(path, Options{Threads: threads})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("tokens=%s/threads=%d", name, threads), func(b *testing.B) {
				loopTokens(b, m, ids)
			})
			m.Close()
		}
	}
}

// randomCaption is n random BPE tokens between CLIP's start and end
// tokens.
func randomCaption(r *rand.Rand, n int) []int32 {
	ids := make([]int32, n+2)
	ids[0], ids[n+1] = 49406, 49407
	for i := 1; i <= n; i++ {
		ids[i] = int32(r.IntN(49406))
	}
	return ids
}

// loopTokens embeds ids in b's loop and reports the CPU time per pass.
func loopTokens(b *testing.B, m *Model, ids [][]int32) {
	dst := make([]float32, len(ids)*m.EmbedDim())
	cpu := startCPU()
	for b.Loop() {
		if err := m.EmbedTokensInto(dst, ids); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}
