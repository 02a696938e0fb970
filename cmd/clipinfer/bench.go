package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/kernels"
	clip "github.com/clipinfer/clipinfer/runtime"
)

func init() {
	register("bench", command{
		summary: "Time the towers: JSON lines per tower, kernel, threads, batch and token count (median, min, max ms; items per second).",
		usage:   "-m MODEL [-kernel all|NAME] [-threads-list 1,2] [-batch 1,8] [-tokens 7,75] [-tower both|image|text] [-runs N]",
		run:     runBench,
	})
}

// benchResult is one JSON line of clipinfer bench.
type benchResult struct {
	Tower      string  `json:"tower"`
	Kernel     string  `json:"kernel"`
	Threads    int     `json:"threads"`
	Batch      int     `json:"batch"`
	Tokens     int     `json:"tokens,omitempty"`    // caption tokens between SOT and EOT
	Positions  int     `json:"positions,omitempty"` // rows the text tower runs (tokens + 2)
	Runs       int     `json:"runs"`
	MedianMS   float64 `json:"median_ms"`
	MinMS      float64 `json:"min_ms"`
	MaxMS      float64 `json:"max_ms"`
	ItemsPerS  float64 `json:"items_per_s"`
	ModelBytes int64   `json:"model_bytes"`
	Quant      string  `json:"quant"`
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad list %q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func runBench(e *env, args []string) error {
	fs := flags(e, "bench")
	var mf modelFlags
	mf.add(fs, true, runsTowers)
	threadsF := fs.String("threads-list", "", "thread counts to time, e.g. 1,2 (default: the -threads value)")
	batchF := fs.String("batch", "1", "batch sizes to time, e.g. 1,8")
	tokensF := fs.String("tokens", "7,75", "caption lengths in tokens (CLIP also runs SOT and EOT; SigLIP always runs its whole padded context)")
	tower := fs.String("tower", "both", "towers to time: both, image or text")
	runs := fs.Int("runs", 10, "timed runs per configuration")
	warmup := fs.Int("warmup", 2, "untimed runs first")
	startup := fs.Bool("startup", false, "also time open + first 7-token text embedding (the file should be in the page cache)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "m"); err != nil {
		return err
	}
	if mf.kernel != "all" {
		if err := mf.check(); err != nil {
			return err
		}
	}
	if err := nargs(fs, 0, 0, ""); err != nil {
		return err
	}
	if *runs < 1 {
		return usagef("-runs must be at least 1")
	}
	batches, err := intList(*batchF)
	if err != nil {
		return err
	}
	tokens, err := intList(*tokensF)
	if err != nil {
		return err
	}
	threads := []int{mf.threads}
	if *threadsF != "" {
		if threads, err = intList(*threadsF); err != nil {
			return err
		}
	}
	kernelNames := []string{mf.kernel}
	if mf.kernel == "all" {
		kernelNames = nil
		for _, k := range kernels.Available() {
			kernelNames = append(kernelNames, k.Name())
		}
	}
	enc := json.NewEncoder(e.stdout)
	r := rand.New(rand.NewPCG(1, 2))
	for _, kn := range kernelNames {
		for _, th := range threads {
			opt := mf.options()
			opt.Kernel, opt.Threads = kn, th
			m, err := clip.Open(mf.path, opt)
			if err != nil {
				return err
			}
			meta := m.Metadata()
			base := benchResult{Kernel: m.Kernel(), Threads: m.Threads(), Runs: *runs, ModelBytes: m.Size(), Quant: meta.Quant.Type}
			if (*tower == "both" || *tower == "image") && m.HasVision() {
				for _, b := range batches {
					in := benchImages(r, meta, b)
					res := base
					res.Tower, res.Batch = "image", b
					if err := timeIt(&res, *warmup, func() error { return embedBenchImages(m, in) }); err != nil {
						m.Close()
						return err
					}
					if err := enc.Encode(res); err != nil {
						m.Close()
						return err
					}
				}
			}
			if (*tower == "both" || *tower == "text") && m.HasText() {
				for _, b := range batches {
					for _, n := range tokens {
						ids, err := benchTokens(r, meta, b, n)
						if err != nil {
							m.Close()
							return err
						}
						res := base
						res.Tower, res.Batch, res.Tokens, res.Positions = "text", b, n, len(ids[0])
						if meta.Architecture == format.ArchCLIPViT {
							res.Positions = n + 2
						}
						if err := timeIt(&res, *warmup, func() error { _, err := m.EmbedTokens(ids); return err }); err != nil {
							m.Close()
							return err
						}
						if err := enc.Encode(res); err != nil {
							m.Close()
							return err
						}
					}
				}
			}
			m.Close()
		}
	}
	if *startup {
		return benchStartup(e, &mf, *runs)
	}
	return nil
}

// timeIt runs f warmup times, then res.Runs timed times, and fills the
// statistics.
func timeIt(res *benchResult, warmup int, f func() error) error {
	for i := 0; i < warmup; i++ {
		if err := f(); err != nil {
			return err
		}
	}
	ms := make([]float64, res.Runs)
	for i := range ms {
		t0 := time.Now()
		if err := f(); err != nil {
			return err
		}
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	sort.Float64s(ms)
	res.MinMS, res.MaxMS = ms[0], ms[len(ms)-1]
	res.MedianMS = median(ms)
	res.ItemsPerS = float64(res.Batch) / (res.MedianMS / 1000)
	return nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// benchImages makes random inputs of the image tower's shape: pixel
// tensors for a ViT, feature vectors for SimpleCLIP.
func benchImages(r *rand.Rand, meta format.Metadata, b int) [][]float32 {
	n := 0
	if meta.Vision != nil {
		n = 3 * meta.Vision.ImageSize * meta.Vision.ImageSize
	} else if meta.SimpleCLIP != nil {
		n = meta.SimpleCLIP.ImageInputDim
	}
	out := make([][]float32, b)
	for i := range out {
		out[i] = make([]float32, n)
		for j := range out[i] {
			out[i][j] = float32(r.NormFloat64())
		}
	}
	return out
}

func embedBenchImages(m *clip.Model, in [][]float32) error {
	if m.Metadata().Architecture == format.ArchSimpleCLIP {
		_, err := m.EmbedFeatures(in)
		return err
	}
	_, err := m.EmbedPixels(in)
	return err
}

// benchTokens makes b random captions of n BPE tokens, framed by SOT and
// EOT for CLIP (n ≤ context-2).
func benchTokens(r *rand.Rand, meta format.Metadata, b, n int) ([][]int32, error) {
	out := make([][]int32, b)
	if t := meta.Text; t != nil {
		if n+2 > t.ContextLength {
			return nil, fmt.Errorf("-tokens %d does not fit the context of %d with SOT and EOT", n, t.ContextLength)
		}
		if meta.Architecture == format.ArchSigLIP {
			// SigLIP's text is always padded to the whole context, which
			// the tower runs without a mask: n caption tokens, the end
			// token, then padding.
			for i := range out {
				ids := make([]int32, t.ContextLength)
				for j := 0; j < n; j++ {
					ids[j] = int32(r.IntN(t.VocabSize))
				}
				for j := n; j < len(ids); j++ {
					ids[j] = int32(t.EOSTokenID)
				}
				out[i] = ids
			}
			return out, nil
		}
		for i := range out {
			ids := make([]int32, n+2)
			ids[0] = int32(t.BOSTokenID)
			for j := 1; j <= n; j++ {
				ids[j] = int32(r.IntN(min(t.VocabSize, t.EOSTokenID)))
			}
			ids[n+1] = int32(t.EOSTokenID)
			out[i] = ids
		}
		return out, nil
	}
	for i := range out {
		ids := make([]int32, n)
		for j := range ids {
			ids[j] = int32(r.IntN(meta.SimpleCLIP.VocabSize))
		}
		out[i] = ids
	}
	return out, nil
}

// startupResult is the JSON line of bench -startup.
type startupResult struct {
	Measure    string  `json:"measure"`
	Kernel     string  `json:"kernel"`
	Runs       int     `json:"runs"`
	MedianMS   float64 `json:"median_ms"`
	MinMS      float64 `json:"min_ms"`
	MaxMS      float64 `json:"max_ms"`
	ModelBytes int64   `json:"model_bytes"`
}

// benchStartup times what a one-shot command pays: open the model, embed
// one 7-token caption, close.
func benchStartup(e *env, mf *modelFlags, runs int) error {
	const caption = "a photo of a cat on the grass" // 7 BPE tokens
	ms := make([]float64, runs)
	res := startupResult{Measure: "open+first_text_7_tokens", Runs: runs}
	for i := range ms {
		t0 := time.Now()
		m, err := clip.Open(mf.path, mf.options())
		if err != nil {
			return err
		}
		_, err = m.EmbedTexts([]string{caption})
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
		res.Kernel, res.ModelBytes = m.Kernel(), m.Size()
		m.Close()
		if err != nil {
			return err
		}
	}
	sort.Float64s(ms)
	res.MedianMS, res.MinMS, res.MaxMS = median(ms), ms[0], ms[len(ms)-1]
	return json.NewEncoder(e.stdout).Encode(res)
}
