package runtime

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels"
)

// randomTexts returns token sequences of assorted lengths in the CLIP
// layout: SOT, ids, EOT, zero padding to 77.
func randomTexts(r *rand.Rand, n int) [][]int32 {
	out := make([][]int32, n)
	for i := range out {
		l := 1 + r.IntN(75)
		if i == 0 {
			l = 75 // the longest possible text
		}
		ids := make([]int32, 77)
		ids[0] = 49406
		for j := 1; j <= l; j++ {
			ids[j] = int32(r.IntN(49406))
		}
		ids[l+1] = 49407
		out[i] = ids
	}
	return out
}

func randomPixels(r *rand.Rand, n, size int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		p := make([]float32, 3*size*size)
		for j := range p {
			p[j] = float32(r.NormFloat64())
		}
		out[i] = p
	}
	return out
}

// TestTextStopsAtEOT proves the shortcut of docs/DESIGN.md §1.1: running only the tokens
// up to EOT gives the same embedding as running all 77.
func TestTextStopsAtEOT(t *testing.T) {
	for _, q := range []string{"f32", "q8"} {
		t.Run(q, func(t *testing.T) {
			m := openTest(t, tinyModel(t, q), Options{})
			ids := randomTexts(rand.New(rand.NewPCG(1, 2)), 9)
			d := m.EmbedDim()
			cut := make([]float32, len(ids)*d)
			full := make([]float32, len(ids)*d)
			s := m.state()
			require.NoError(t, m.eng.embedTexts(m.fam.(*clipViT).text, s, ids, cut, true))
			require.NoError(t, m.eng.embedTexts(m.fam.(*clipViT).text, s, ids, full, false))
			rows := 0
			for _, sp := range s.spans {
				rows += sp.n
			}
			assert.Equal(t, 77*len(ids), rows, "the reference run must see all 77 tokens")
			for i := range ids {
				c := cosine(cut[i*d:(i+1)*d], full[i*d:(i+1)*d])
				assert.Greater(t, c, 0.9999999, "text %d", i)
			}
			// Cutting only changes how the attention products group
			// their (zero) terms: results agree to float rounding.
			assert.InDeltaSlice(t, toF64(full), toF64(cut), 2e-5)
		})
	}
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestThreadsAndBatchesGiveIdenticalResults: splitting work across
// goroutines or batching inputs never changes a single bit.
func TestThreadsAndBatchesGiveIdenticalResults(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ids := randomTexts(r, 5)
	pix := randomPixels(r, 5, 32)
	var ref []float32
	var refImg []float32
	// Two and three threads split these batches by inputs (with and
	// without smaller passes), four and seven split every pass inside.
	for _, opt := range []Options{{Threads: 1, MaxBatch: 1}, {Threads: 2}, {Threads: 2, MaxBatch: 2}, {Threads: 3, MaxBatch: 2}, {Threads: 4}, {Threads: 7}} {
		m := openTest(t, tinyModel(t, "q8"), opt)
		txt, err := m.EmbedTokens(ids)
		require.NoError(t, err)
		img, err := m.EmbedPixels(pix)
		require.NoError(t, err)
		flatT, flatI := flatten(txt), flatten(img)
		if ref == nil {
			ref, refImg = flatT, flatI
			continue
		}
		assert.Equal(t, ref, flatT, "%+v", opt)
		assert.Equal(t, refImg, flatI, "%+v", opt)
	}
}

// TestSplitPlan: a batch is split by inputs into contiguous shares of
// nearly even cost (an image 1, a text its token count), and not at all
// when no cut comes within a quarter of even.
func TestSplitPlan(t *testing.T) {
	texts := func(lens ...int) inputs {
		ids := make([][]int32, len(lens))
		for i, n := range lens {
			ids[i] = make([]int32, 77) // CLIP pads with zeros
			for k := range n {
				ids[i][k] = 1
			}
		}
		return inputs{ids: ids}
	}
	images := func(n int) inputs { return inputs{pix: make([][]float32, n)} }
	for _, c := range []struct {
		name    string
		threads int
		in      inputs
		want    []int
	}{
		{"one image", 2, images(1), nil},
		{"two images", 2, images(2), []int{0, 1, 2}},
		{"three images: 2 against 1.5", 2, images(3), nil},
		{"five images", 2, images(5), []int{0, 2, 5}},
		{"eight images", 2, images(8), []int{0, 4, 8}},
		{"sixteen images, three threads", 3, images(16), []int{0, 5, 10, 16}},
		{"one thread", 1, images(8), nil},
		{"fewer images than threads", 4, images(3), nil},
		{"equal captions", 2, texts(20, 20, 20, 20), []int{0, 2, 4}},
		{"a long caption beside a short one", 2, texts(77, 5), nil},
		{"shares by tokens, not by count", 2, texts(77, 77, 5, 5), []int{0, 1, 4}},
		{"long captions last", 2, texts(5, 5, 5, 5, 60, 60), []int{0, 5, 6}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := openTest(t, tinyModel(t, "q8"), Options{Threads: c.threads})
			assert.Equal(t, c.want, m.splitPlan(c.in, nil))
		})
	}
}

func flatten(v [][]float32) []float32 {
	var out []float32
	for _, x := range v {
		out = append(out, x...)
	}
	return out
}

// TestQuantisedMatchesF32 compares q8 and f16 files with the f32 file of
// the same random model.
func TestQuantisedMatchesF32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ids := randomTexts(r, 6)
	pix := randomPixels(r, 4, 32)
	ref := openTest(t, tinyModel(t, "f32"), Options{})
	wantT, err := ref.EmbedTokens(ids)
	require.NoError(t, err)
	wantI, err := ref.EmbedPixels(pix)
	require.NoError(t, err)
	for _, c := range []struct {
		q   string
		min float64
	}{{"f16", 0.9999}, {"q8", 0.99}, {"q8b64", 0.99}} {
		m := openTest(t, tinyModel(t, c.q), Options{})
		gotT, err := m.EmbedTokens(ids)
		require.NoError(t, err)
		gotI, err := m.EmbedPixels(pix)
		require.NoError(t, err)
		for i := range wantT {
			assert.Greater(t, cosine(wantT[i], gotT[i]), c.min, "%s text %d", c.q, i)
		}
		for i := range wantI {
			assert.Greater(t, cosine(wantI[i], gotI[i]), c.min, "%s image %d", c.q, i)
		}
	}
}

// TestEveryKernelAgrees runs the towers on every kernel the CPU has.
func TestEveryKernelAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ids := randomTexts(r, 3)
	pix := randomPixels(r, 2, 32)
	for _, q := range []string{"q8", "f32", "f16"} {
		ref := openTest(t, tinyModel(t, q), Options{Kernel: "generic"})
		wantT, err := ref.EmbedTokens(ids)
		require.NoError(t, err)
		wantI, err := ref.EmbedPixels(pix)
		require.NoError(t, err)
		for _, k := range kernels.Available() {
			m := openTest(t, tinyModel(t, q), Options{Kernel: k.Name()})
			gotT, err := m.EmbedTokens(ids)
			require.NoError(t, err)
			gotI, err := m.EmbedPixels(pix)
			require.NoError(t, err)
			for i := range wantT {
				assert.Greater(t, cosine(wantT[i], gotT[i]), 0.99999, "%s %s text %d", q, k.Name(), i)
			}
			for i := range wantI {
				assert.Greater(t, cosine(wantI[i], gotI[i]), 0.99999, "%s %s image %d", q, k.Name(), i)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	m := openTest(t, tinyModel(t, "q8"), Options{Threads: 2})
	r := rand.New(rand.NewPCG(9, 10))
	ids := randomTexts(r, 4)
	pix := randomPixels(r, 2, 32)
	wantT, err := m.EmbedTokens(ids)
	require.NoError(t, err)
	wantI, err := m.EmbedPixels(pix)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				gotT, err := m.EmbedTokens(ids)
				assert.NoError(t, err)
				assert.Equal(t, wantT, gotT)
				gotI, err := m.EmbedPixels(pix)
				assert.NoError(t, err)
				assert.Equal(t, wantI, gotI)
			}
		}()
	}
	wg.Wait()
}

func TestBadInputs(t *testing.T) {
	m := openTest(t, tinyModel(t, "q8"), Options{})
	for _, c := range []struct {
		name string
		ids  [][]int32
		want string
	}{
		{"empty", [][]int32{{}}, "no tokens"},
		{"too long", [][]int32{make([]int32, 78)}, "context is 77"},
		{"negative id", [][]int32{{49406, -1, 49407}}, "outside the vocabulary"},
		{"huge id", [][]int32{{49406, 49408, 49407}}, "outside the vocabulary"},
	} {
		_, err := m.EmbedTokens(c.ids)
		assert.ErrorContains(t, err, c.want, c.name)
	}
	_, err := m.EmbedPixels([][]float32{make([]float32, 10)})
	assert.ErrorContains(t, err, "3×32×32")
	require.NoError(t, m.Close())
	_, err = m.EmbedTokens([][]int32{{1}})
	assert.ErrorIs(t, err, errClosed)
}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop scratch on purpose")
	}
	m := openTest(t, tinyModel(t, "q8"), Options{Threads: 2})
	r := rand.New(rand.NewPCG(11, 12))
	ids := randomTexts(r, 3)
	pix := randomPixels(r, 2, 32)
	dst := make([]float32, 3*m.EmbedDim())
	// A few calls first: two images are split between the threads, and
	// either participant may run either share, so each participant's
	// scratch reaches its size once it has run one.
	for range 5 {
		require.NoError(t, m.EmbedTokensInto(dst, ids))
		require.NoError(t, m.EmbedPixelsInto(dst, pix))
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := m.EmbedTokensInto(dst, ids); err != nil {
			t.Fatal(err)
		}
		if err := m.EmbedPixelsInto(dst, pix); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// TestImageLastBlockPruning: computing only the class token's query, MLP
// and projection in the last block gives the full run's result.
func TestImageLastBlockPruning(t *testing.T) {
	for _, q := range []string{"f32", "q8"} {
		m := openTest(t, tinyModel(t, q), Options{})
		pix := randomPixels(rand.New(rand.NewPCG(13, 14)), 3, 32)
		d := m.EmbedDim()
		pruned, full := make([]float32, 3*d), make([]float32, 3*d)
		s := m.state()
		require.NoError(t, m.eng.embedImages(m.fam.(*clipViT).vision, s, pix, pruned, true))
		require.NoError(t, m.eng.embedImages(m.fam.(*clipViT).vision, s, pix, full, false))
		assert.InDeltaSlice(t, toF64(full), toF64(pruned), 2e-5, q)
	}
}
