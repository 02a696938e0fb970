package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	stdimage "image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/analysis"
	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/internal/randclip"
	"github.com/clipinfer/clipinfer/npy"
	clip "github.com/clipinfer/clipinfer/runtime"
)

// rtModel converts a random tiny CLIP (seed) into dir and returns its path.
func rtModel(t *testing.T, dir string, seed uint64) string {
	t.Helper()
	src := filepath.Join(dir, fmt.Sprintf("tiny%d.safetensors", seed))
	dst := filepath.Join(dir, fmt.Sprintf("tiny%d.clip", seed))
	require.NoError(t, randclip.WriteSafetensors(src, randclip.Tiny, seed))
	_, err := convert.Convert(src, dst, convert.Options{Quant: "q8"})
	require.NoError(t, err)
	require.NoError(t, os.Remove(src))
	return dst
}

// rtImages draws n random images (rectangles on a background; PNG and
// JPEG alternately) under dir/sNNN/ and returns their paths.
func rtImages(t testing.TB, dir string, n int, seed uint64) []string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	var paths []string
	for i := range n {
		w, h := 40+r.IntN(60), 40+r.IntN(60)
		img := stdimage.NewRGBA(stdimage.Rect(0, 0, w, h))
		rgb := func() color.RGBA { return color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255} }
		draw.Draw(img, img.Bounds(), &stdimage.Uniform{rgb()}, stdimage.Point{}, draw.Src)
		for range 1 + r.IntN(3) {
			x0, y0 := r.IntN(w), r.IntN(h)
			draw.Draw(img, stdimage.Rect(x0, y0, x0+5+r.IntN(30), y0+5+r.IntN(30)), &stdimage.Uniform{rgb()}, stdimage.Point{}, draw.Src)
		}
		sub := filepath.Join(dir, fmt.Sprintf("s%03d", i/50))
		require.NoError(t, os.MkdirAll(sub, 0o755))
		var b bytes.Buffer
		p := filepath.Join(sub, fmt.Sprintf("img%05d", i))
		if i%2 == 0 {
			require.NoError(t, png.Encode(&b, img))
			p += ".png"
		} else {
			require.NoError(t, jpeg.Encode(&b, img, nil))
			p += ".jpg"
		}
		require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
		paths = append(paths, p)
	}
	return paths
}

// rtRun runs one command line in-process.
func rtRun(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &env{stdout: &o, stderr: &e, stdin: strings.NewReader("")})
	return code, o.String(), e.String()
}

func jsonLines[T any](t *testing.T, s string) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v T
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v), sc.Text())
		out = append(out, v)
	}
	return out
}

// TestRetrievalCommands runs index, search, index export, classify, eval,
// gap and probe on a tiny random model and generated images, and checks
// each against the library computing the same thing directly.
func TestRetrievalCommands(t *testing.T) {
	dir := t.TempDir()
	model := rtModel(t, dir, 1)
	other := rtModel(t, dir, 2)
	imgDir := filepath.Join(dir, "photos")
	paths := rtImages(t, imgDir, 60, 1)
	require.NoError(t, os.WriteFile(filepath.Join(imgDir, "broken.jpg"), []byte("not a jpeg"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(imgDir, "notes.txt"), []byte("hi"), 0o644))
	idx := filepath.Join(dir, "photos.idx")
	t.Setenv(cacheDirEnv, filepath.Join(dir, "cache"))

	m, err := clip.Open(model, clip.Options{})
	require.NoError(t, err)
	defer m.Close()

	t.Run("index", func(t *testing.T) {
		code, out, errOut := rtRun("index", "-m", model, "-o", idx, imgDir)
		require.Equal(t, exitSomeFailed, code, errOut) // broken.jpg
		assert.Contains(t, errOut, "1 files or folders could not be read or embedded")
		sum := jsonLines[indexSummary](t, out)
		require.Len(t, sum, 1)
		assert.Equal(t, index.Stats{Found: 61, Added: 60, Failed: 1, Ignored: 1, Entries: 60}, sum[0].Stats)
		assert.Contains(t, errOut, "warning: skipped "+filepath.Join(imgDir, "broken.jpg"))

		// Second run: nothing to embed, the broken file is not retried
		// and no rate is reported. Then touch one, delete one.
		code, out, _ = rtRun("index", "-m", model, "-o", idx, imgDir)
		require.Equal(t, 0, code)
		second := jsonLines[indexSummary](t, out)[0]
		assert.Equal(t, index.Stats{Found: 61, Kept: 60, SkippedFailed: 1, Ignored: 1, Entries: 60}, second.Stats)
		assert.Zero(t, second.ImagesPerS)
		assert.NotContains(t, out, "images_per_s")
		require.NoError(t, os.Chtimes(paths[3], time.Now(), time.Now().Add(time.Minute)))
		require.NoError(t, os.Remove(paths[4]))
		code, out, _ = rtRun("index", "-m", model, "-o", idx, imgDir)
		require.Equal(t, 0, code, "a remembered failure is skipped by design")
		s := jsonLines[indexSummary](t, out)[0].Stats
		assert.Equal(t, index.Stats{Found: 60, Kept: 58, Changed: 1, Removed: 1, SkippedFailed: 1, Ignored: 1, Entries: 59}, s)
		assert.Positive(t, jsonLines[indexSummary](t, out)[0].ImagesPerS)

		// -retry-failed tries the broken file again; so does changing it.
		code, out, _ = rtRun("index", "-m", model, "-o", idx, "-retry-failed", imgDir)
		require.Equal(t, exitSomeFailed, code, "it fails again")
		assert.Equal(t, 1, jsonLines[indexSummary](t, out)[0].Failed)
		broken := filepath.Join(imgDir, "broken.jpg")
		require.NoError(t, os.WriteFile(broken, []byte("still not a jpeg"), 0o644))
		code, out, _ = rtRun("index", "-m", model, "-o", idx, imgDir)
		require.Equal(t, exitSomeFailed, code)
		assert.Equal(t, 1, jsonLines[indexSummary](t, out)[0].Failed)
		code, out, _ = rtRun("index", "-m", model, "-o", idx, imgDir)
		require.Equal(t, 0, code)
		assert.Equal(t, 1, jsonLines[indexSummary](t, out)[0].SkippedFailed)

		// The stored vectors are the model's embeddings (int8-rounded).
		x, err := index.Load(idx)
		require.NoError(t, err)
		i, ok := x.Lookup(paths[10])
		require.True(t, ok)
		want, err := m.EmbedImageFiles([]string{paths[10]})
		require.NoError(t, err)
		assert.InDelta(t, 1, cosine(want[0], x.Vector(i, nil)), 1e-4)

		// Another model refuses the index; so does another dtype.
		code, _, errOut = rtRun("index", "-m", other, "-o", idx, imgDir)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "different model")
		code, _, errOut = rtRun("index", "-m", model, "-o", idx, "-dtype", "f16", imgDir)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "stores int8 vectors")
		fresh := filepath.Join(dir, "fresh.idx")
		code, _, errOut = rtRun("index", "-m", model, "-o", fresh, filepath.Join(dir, "missing"))
		assert.Equal(t, 1, code)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one-line error")
		assert.NoFileExists(t, fresh, "a failed run creates no index")
	})

	t.Run("search", func(t *testing.T) {
		code, out, errOut := rtRun("search", "-m", model, "-index", idx, "-k", "3", "-image", paths[10], "a red square")
		require.Equal(t, 0, code, errOut)
		hits := jsonLines[searchHit](t, out)
		require.Len(t, hits, 6)
		assert.Equal(t, searchHit{Query: "a red square", Type: "text", Rank: 1, Score: hits[0].Score, Path: hits[0].Path}, hits[0])
		// The example image finds itself first.
		assert.Equal(t, "image", hits[3].Type)
		assert.Equal(t, paths[10], hits[3].Path)
		assert.InDelta(t, 1, hits[3].Score, 1e-3)
		// Text hits agree with the library.
		x, err := index.Load(idx)
		require.NoError(t, err)
		q, err := m.EmbedTexts([]string{"a red square"})
		require.NoError(t, err)
		want, err := x.Search(q[0], 3, index.SearchOptions{})
		require.NoError(t, err)
		for i := range want {
			assert.Equal(t, want[i].Path, hits[i].Path)
			assert.Equal(t, want[i].Score, hits[i].Score)
		}

		code, out, _ = rtRun("search", "-m", model, "-index", idx, "-k", "2", "-table", "blue")
		require.Equal(t, 0, code)
		assert.Contains(t, out, "text query: \"blue\"")
		assert.Contains(t, out, "rank  score   path")
		assert.Equal(t, 4, strings.Count(out, "\n"))

		code, _, errOut = rtRun("search", "-m", other, "-index", idx, "x")
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "different model")
		code, _, _ = rtRun("search", "-m", model, "-index", idx)
		assert.Equal(t, 2, code, "no query is a usage error")
	})

	t.Run("export", func(t *testing.T) {
		prefix := filepath.Join(dir, "export", "photos")
		require.NoError(t, os.MkdirAll(filepath.Dir(prefix), 0o755))
		code, _, errOut := rtRun("index", "export", "-o", prefix, idx)
		require.Equal(t, 0, code, errOut)
		f, err := os.Open(prefix + ".npy")
		require.NoError(t, err)
		defer f.Close()
		data, shape, err := npy.ReadFloat32(f)
		require.NoError(t, err)
		assert.Equal(t, []int{59, randclip.Tiny.Embed}, shape)
		b, err := os.ReadFile(prefix + ".jsonl")
		require.NoError(t, err)
		recs := jsonLines[index.ExportRecord](t, string(b))
		require.Len(t, recs, 59)
		x, err := index.Load(idx)
		require.NoError(t, err)
		d := x.Dim()
		for i, r := range recs {
			assert.Equal(t, i, r.Row)
			assert.Equal(t, x.Entry(i), r.Entry)
			assert.Equal(t, x.Vector(i, nil), data[i*d:(i+1)*d])
		}
	})

	t.Run("classify", func(t *testing.T) {
		templates := []string{"a photo of a {}.", "a drawing of a {}."}
		args := []string{"classify", "-m", model, "-labels", "cat, dog,red square", "-template", templates[0], "-template", templates[1], "-k", "2", paths[0], paths[1]}
		code, out, errOut := rtRun(args...)
		require.Equal(t, 0, code, errOut)
		got := jsonLines[classified](t, out)
		require.Len(t, got, 2)
		labels := []string{"cat", "dog", "red square"}
		le, err := analysis.LabelEmbeddings(m.EmbedTexts, labels, templates)
		require.NoError(t, err)
		imgs, err := m.EmbedImageFiles(paths[:2])
		require.NoError(t, err)
		for i, c := range got {
			assert.Equal(t, paths[i], c.Image)
			probs := m.ZeroShot(imgs[i], le)
			top := analysis.TopK(probs, 2)
			require.Len(t, c.Labels, 2)
			for r, j := range top {
				assert.Equal(t, labels[j], c.Labels[r].Label)
				assert.InDelta(t, probs[j], c.Labels[r].Probability, 1e-6)
			}
		}
		cached, err := filepath.Glob(filepath.Join(dir, "cache", "*.json"))
		require.NoError(t, err)
		require.Len(t, cached, 1, "label embeddings cached per model")
		code, out2, _ := rtRun(args...)
		require.Equal(t, 0, code)
		assert.Equal(t, out, out2, "cached embeddings give the same answer")

		// A corrupt cache is ignored (with a warning) and rewritten.
		require.NoError(t, os.WriteFile(cached[0], []byte("{oops"), 0o644))
		code, out3, errOut := rtRun(args...)
		require.Equal(t, 0, code)
		assert.Equal(t, out, out3)
		assert.Contains(t, errOut, "ignoring unreadable label cache")

		// Labels from a file; an unreadable image is skipped, exit 1.
		lf := filepath.Join(dir, "labels.txt")
		require.NoError(t, os.WriteFile(lf, []byte("cat\n# comment\ndog\n\nred square\n"), 0o644))
		code, out4, errOut := rtRun("classify", "-m", model, "-labels-file", lf, "-template", templates[0], "-template", templates[1], "-k", "2", paths[0], filepath.Join(imgDir, "broken.jpg"), paths[1])
		assert.Equal(t, 1, code)
		assert.Equal(t, out, out4)
		assert.Contains(t, errOut, "1 of 3 images could not be read")

		code, _, _ = rtRun("classify", "-m", model, "-labels", "a,b", "-labels-file", lf, paths[0])
		assert.Equal(t, 2, code, "-labels and -labels-file together")
		code, _, errOut = rtRun("classify", "-m", model, "-labels", "a,a", paths[0])
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "twice")
	})

	captions := []string{"a red square", "a blue circle", "green", "a photo of a cat", "stripes", "a dark picture"}
	pairsFile := filepath.Join(dir, "pairs.tsv")
	var pb strings.Builder
	pb.WriteString("# image\tcaption\n")
	for i, c := range captions {
		rel, err := filepath.Rel(dir, paths[10+i])
		require.NoError(t, err)
		fmt.Fprintf(&pb, "%s\t%s\n", rel, c) // relative to the pairs file
	}
	require.NoError(t, os.WriteFile(pairsFile, []byte(pb.String()), 0o644))
	text, err := m.EmbedTexts(captions)
	require.NoError(t, err)
	image, err := m.EmbedImageFiles(paths[10:16])
	require.NoError(t, err)

	t.Run("eval", func(t *testing.T) {
		code, out, errOut := rtRun("eval", "-m", model, "-temperature", "0.5", "-k", "1,3", pairsFile)
		require.Equal(t, 0, code, errOut)
		var got evalResult
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		modelT := 1 / float64(m.LogitScale())
		want, err := analysis.Evaluate(text, image, []float64{modelT, 0.5}, []int{1, 3})
		require.NoError(t, err)
		assert.Equal(t, 6, got.Pairs)
		assert.Equal(t, modelT, got.ModelTemperature)
		assert.Equal(t, want.Loss[fmt.Sprint(modelT)], got.LossModel)
		assert.Equal(t, want.Loss["0.5"], got.Loss["0.5"])
		assert.Equal(t, want.RecallTextToImage, got.RecallT2I)
		assert.Equal(t, want.RecallImageToText, got.RecallI2T)
		assert.Equal(t, want.MatchedCosine, got.MatchedCosine)
		assert.Equal(t, want.UnmatchedCosine, got.UnmatchedCosine)
	})

	t.Run("gap", func(t *testing.T) {
		code, out, errOut := rtRun("gap", "-m", model, "-vector", pairsFile)
		require.Equal(t, 0, code, errOut)
		var got gapResult
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		g, err := analysis.ModalityGap(text, image)
		require.NoError(t, err)
		ii, err := analysis.IntraInter(text, image)
		require.NoError(t, err)
		assert.Equal(t, g.Magnitude, got.GapMagnitude)
		assert.Equal(t, g.CentroidAngleDeg, got.CentroidAngleDeg)
		assert.Equal(t, g.Vector, got.GapVector)
		assert.Equal(t, *ii, got.IntraInterStats)
	})

	t.Run("probe", func(t *testing.T) {
		lf := filepath.Join(dir, "probe.tsv")
		var b strings.Builder
		for i, p := range paths[10:50] {
			dom := "source"
			if i >= 24 {
				dom = "target"
			}
			fmt.Fprintf(&b, "%s\tclass%d\t%s\n", p, i%2, dom)
		}
		require.NoError(t, os.WriteFile(lf, []byte(b.String()), 0o644))
		code, out, errOut := rtRun("probe", "-m", model, "-epochs", "50", lf)
		require.Equal(t, 0, code, errOut)
		var got probeResult
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		assert.Equal(t, []string{"class0", "class1"}, got.Classes)
		assert.Equal(t, 24+8, got.TrainRows, "source rows plus half of each class's target rows")
		assert.Equal(t, 8, got.TestRows)
		require.NotNil(t, got.FEDA)
		require.NotNil(t, got.SourceOnly)

		embs, err := m.EmbedImageFiles(paths[10:50])
		require.NoError(t, err)
		y, dom, train := make([]int, 40), make([]int, 40), make([]bool, 40)
		seen := map[int]int{}
		for i := range 40 {
			y[i] = i % 2
			if i >= 24 {
				dom[i] = 1
				train[i] = seen[y[i]] < 4
				seen[y[i]]++
			} else {
				train[i] = true
			}
		}
		want, err := analysis.DomainProbe(embs, y, dom, train, 2, analysis.ProbeOptions{Epochs: 50, L2: 1e-3})
		require.NoError(t, err)
		assert.Equal(t, *want, got.DomainResult)
	})
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
