package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
)

type simpleGolden struct {
	LogitScale float32 `json:"logit_scale"`
	Texts      []struct {
		IDs       []int32   `json:"ids"`
		Embedding []float32 `json:"embedding"`
	} `json:"texts"`
	Images []struct {
		Features  []float32 `json:"features"`
		Embedding []float32 `json:"embedding"`
	} `json:"images"`
	Words []struct {
		Text      string    `json:"text"`
		IDs       []int32   `json:"ids"`
		Embedding []float32 `json:"embedding"`
	} `json:"words"`
	Logits [][]float32 `json:"logits"`
}

// TestSimpleCLIPAgainstSeedCode compares the runtime with the lecture's own
// PyTorch classes (tools/reference/simpleclip_ref.py), from both checkpoint
// formats, in f32 and q8.
func TestSimpleCLIPAgainstSeedCode(t *testing.T) {
	dir := filepath.Join(testdata, "simpleclip")
	b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	require.NoError(t, err)
	var g simpleGolden
	require.NoError(t, json.Unmarshal(b, &g))
	vocab, err := os.ReadFile(filepath.Join(dir, "vocab.txt"))
	require.NoError(t, err)
	for _, src := range []string{"simpleclip.pt", "simpleclip.safetensors"} {
		for _, c := range []struct {
			q   string
			min float64
		}{{"f32", 0.99999}, {"f16", 0.9999}, {"q8", 0.99}} {
			t.Run(src+"/"+c.q, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "s.clip")
				_, err := convert.Convert(filepath.Join(dir, src), out, convert.Options{Quant: c.q, Vocab: vocab, UnknownToken: 1})
				require.NoError(t, err)
				m := openTest(t, out, Options{})
				assert.InDelta(t, g.LogitScale, m.LogitScale(), 1e-5*float64(g.LogitScale))
				var ids [][]int32
				for _, tx := range g.Texts {
					ids = append(ids, tx.IDs)
				}
				txt, err := m.EmbedTokens(ids)
				require.NoError(t, err)
				worst := 1.0
				for i, tx := range g.Texts {
					cs := cosine(tx.Embedding, txt[i])
					worst = min(worst, cs)
					assert.Greater(t, cs, c.min, "text %d (length %d)", i, len(tx.IDs))
				}
				var feats [][]float32
				for _, im := range g.Images {
					feats = append(feats, im.Features)
				}
				img, err := m.EmbedFeatures(feats)
				require.NoError(t, err)
				for i, im := range g.Images {
					cs := cosine(im.Embedding, img[i])
					worst = min(worst, cs)
					assert.Greater(t, cs, c.min, "image %d", i)
				}
				for _, w := range g.Words {
					tok, err := m.Tokenize(w.Text)
					require.NoError(t, err)
					assert.Equal(t, w.IDs, tok, w.Text)
					e, err := m.EmbedTexts([]string{w.Text})
					require.NoError(t, err)
					assert.Greater(t, cosine(w.Embedding, e[0]), c.min, w.Text)
				}
				if c.q == "f32" {
					for i := range g.Logits {
						got := m.Logits(txt[i], img[:3])
						assert.InDeltaSlice(t, toF64(g.Logits[i]), toF64(got), 1e-3, "logits row %d", i)
					}
				}
				t.Logf("%s %s: worst cosine to the lecture's code %.9f", src, c.q, worst)
			})
		}
	}
}

func TestSimpleCLIPBadInput(t *testing.T) {
	dir := filepath.Join(testdata, "simpleclip")
	out := filepath.Join(t.TempDir(), "s.clip")
	_, err := convert.Convert(filepath.Join(dir, "simpleclip.pt"), out, convert.Options{})
	require.NoError(t, err)
	m := openTest(t, out, Options{})
	_, err = m.EmbedTokens([][]int32{{1, 2, 1000}})
	assert.ErrorContains(t, err, "token id 1000 outside the vocabulary [0,1000)")
	_, err = m.EmbedFeatures([][]float32{make([]float32, 63)})
	assert.ErrorContains(t, err, "63 features, the model takes 64")
	_, err = m.Tokenize("a cat")
	assert.ErrorContains(t, err, "no tokenizer")
	_, err = m.EmbedPixels([][]float32{make([]float32, 3)})
	assert.ErrorContains(t, err, "3 features, the model takes 64")
}
