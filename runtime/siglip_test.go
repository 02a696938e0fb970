package runtime

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
)

// siglipGolden is what tools/reference/siglip_ref.py recorded from our
// PyTorch transcription of Hugging Face's SiglipModel.
type siglipGolden struct {
	Name       string  `json:"name"`
	LogitScale float32 `json:"logit_scale"`
	LogitBias  float32 `json:"logit_bias"`
	Texts      []struct {
		Text      string    `json:"text"`
		IDs       []int32   `json:"ids"`
		Embedding []float32 `json:"embedding"`
	} `json:"texts"`
	Images []struct {
		File      string    `json:"file"`
		Pixels    []float32 `json:"pixels"`
		Embedding []float32 `json:"embedding"`
	} `json:"images"`
	// Probabilities[i][j] is sigmoid(logit) of image i and text j.
	Probabilities [][]float32 `json:"probabilities"`
}

func loadSigLIPGolden(t *testing.T, name string) *siglipGolden {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, "golden", name+".json.gz"))
	require.NoError(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	require.NoError(t, err)
	var g siglipGolden
	require.NoError(t, json.NewDecoder(z).Decode(&g))
	return &g
}

// TestSigLIPGolden converts tiny random SigLIP (SentencePiece unigram
// tokenizer) and SigLIP 2 (Gemma-style BPE tokenizer) Hugging Face folders
// to every weight type and checks tokens, preprocessed pixels, embeddings
// and sigmoid probabilities against PyTorch.
func TestSigLIPGolden(t *testing.T) {
	for _, name := range []string{"siglip-tiny", "siglip2-tiny"} {
		g := loadSigLIPGolden(t, name)
		for _, c := range []struct {
			q   string
			bar float64 // minimum cosine with PyTorch
		}{{"f32", 0.99999}, {"f16", 0.9999}, {"q8", 0.99}} {
			t.Run(name+"/"+c.q, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), name+".clip")
				_, err := convert.Convert(filepath.Join(testdata, "models", name), out, convert.Options{Quant: c.q})
				require.NoError(t, err)
				m := openTest(t, out, Options{})
				meta := m.Metadata()
				assert.Equal(t, "siglip", meta.Architecture)
				assert.InDelta(t, g.LogitScale, m.LogitScale(), 1e-5*float64(g.LogitScale))
				assert.InDelta(t, g.LogitBias, meta.LogitBias, 1e-6)

				texts := make([]string, len(g.Texts))
				for i, tx := range g.Texts {
					texts[i] = tx.Text
					ids, err := m.Tokenize(tx.Text)
					require.NoError(t, err)
					assert.Equal(t, tx.IDs, ids, "tokens of %q", tx.Text)
					// Padding after the last real token: the end token
					// (SigLIP) or <pad> (Gemma) fills the rest.
					n := m.TokenCount(ids)
					require.Positive(t, n)
					for _, id := range ids[n:] {
						assert.Equal(t, ids[len(ids)-1], id, "padding of %q", tx.Text)
					}
					if len(tx.Text) < 20 {
						assert.Less(t, n, len(ids), "short text %q is padded", tx.Text)
					}
				}
				temb, err := m.EmbedTexts(texts)
				require.NoError(t, err)
				worst := 1.0
				for i, tx := range g.Texts {
					cs := cosine(tx.Embedding, temb[i])
					worst = min(worst, cs)
					assert.GreaterOrEqual(t, cs, c.bar, "text %q", tx.Text)
				}

				paths := make([]string, len(g.Images))
				for i, im := range g.Images {
					paths[i] = filepath.Join(testdata, "images", im.File)
					pix, err := m.ImageInput(paths[i])
					require.NoError(t, err)
					assert.Equal(t, im.Pixels, pix, "pixels of %s (Pillow's, bit for bit)", im.File)
				}
				iemb, err := m.EmbedImageFiles(paths)
				require.NoError(t, err)
				for i, im := range g.Images {
					cs := cosine(im.Embedding, iemb[i])
					worst = min(worst, cs)
					assert.GreaterOrEqual(t, cs, c.bar, "image %s", im.File)
				}
				t.Logf("worst cosine with PyTorch: %.7f", worst)

				for i := range g.Images {
					sc := m.Score(iemb[i], temb)
					assert.Equal(t, ScoreSigmoid, sc.Kind)
					tol := map[string]float64{"f32": 1e-4, "f16": 1e-3, "q8": 0.05}[c.q]
					assert.InDeltaSlice(t, toF64(g.Probabilities[i]), toF64(sc.Probabilities), tol, "image %d", i)
				}
			})
		}
	}
}
