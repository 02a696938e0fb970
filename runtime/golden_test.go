package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/npy"
)

// golden is what tools/reference/models_ref.py recorded from PyTorch.
type golden struct {
	Name       string  `json:"name"`
	Source     string  `json:"source"`
	Activation string  `json:"activation"`
	Pipeline   string  `json:"pipeline"`
	LogitScale float32 `json:"logit_scale"`
	Texts      []struct {
		Text      string    `json:"text"`
		IDs       []int32   `json:"ids"`
		Embedding []float32 `json:"embedding"`
	} `json:"texts"`
	Images []struct {
		File      string    `json:"file"`
		Pixels    string    `json:"pixels"`
		Embedding []float32 `json:"embedding"`
	} `json:"images"`
}

const testdata = "../testdata"

func loadGolden(t *testing.T, name string) *golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, "golden", name+".json"))
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(b, &g))
	return &g
}

func readNpy(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	v, _, err := npy.ReadFloat32(f)
	require.NoError(t, err)
	return v
}

// goldenModels are the fixture models: both layouts, both activations.
var goldenModels = []string{"openai-qgelu", "openclip-gelu", "hf-gelu", "hf-qgelu"}

// convertGolden converts a fixture checkpoint with the given type.
func convertGolden(t *testing.T, g *golden, q string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), g.Name+"-"+q+".clip")
	opt := convert.Options{Quant: q}
	if strings.HasPrefix(g.Name, "openclip") {
		opt.Activation = "gelu"
	}
	_, err := convert.Convert(filepath.Join(testdata, g.Source), out, opt)
	require.NoError(t, err)
	return out
}

// TestGoldenAgainstPyTorch is the fp32 pipeline's acceptance test: embeddings
// of texts (from ids and from strings) and images (from tensors and from
// files) against PyTorch, for every fixture model and weight type.
func TestGoldenAgainstPyTorch(t *testing.T) {
	skipUnderRace(t)
	for _, name := range goldenModels {
		g := loadGolden(t, name)
		for _, c := range []struct {
			q       string
			min     float64 // cosine to PyTorch
			minFile float64 // from image files (PNG; JPEG decoders differ)
		}{{"f32", 0.99999, 0.99999}, {"f16", 0.9999, 0.9999}, {"q8", 0.99, 0.99}} {
			t.Run(name+"/"+c.q, func(t *testing.T) {
				m := openTest(t, convertGolden(t, g, c.q), Options{})
				assert.InDelta(t, g.LogitScale, m.LogitScale(), 1e-4*float64(g.LogitScale))
				worst := 1.0
				var ids [][]int32
				var texts []string
				for _, tx := range g.Texts {
					ids = append(ids, tx.IDs)
					texts = append(texts, tx.Text)
					tok, err := m.Tokenize(tx.Text)
					require.NoError(t, err)
					assert.Equal(t, tx.IDs, tok, "tokens of %q", tx.Text)
				}
				fromIDs, err := m.EmbedTokens(ids)
				require.NoError(t, err)
				fromText, err := m.EmbedTexts(texts)
				require.NoError(t, err)
				for i, tx := range g.Texts {
					cs := cosine(tx.Embedding, fromIDs[i])
					worst = min(worst, cs)
					assert.Greater(t, cs, c.min, "text %q", tx.Text)
					assert.Equal(t, fromIDs[i], fromText[i])
				}
				for _, im := range g.Images {
					pix := readNpy(t, filepath.Join(testdata, "golden", im.Pixels))
					got, err := m.EmbedPixels([][]float32{pix})
					require.NoError(t, err)
					cs := cosine(im.Embedding, got[0])
					worst = min(worst, cs)
					assert.Greater(t, cs, c.min, "pixels %s", im.Pixels)
					if im.File == "" {
						continue
					}
					fromFile, err := m.EmbedImageFiles([]string{filepath.Join(testdata, "images", im.File)})
					require.NoError(t, err)
					cf := cosine(im.Embedding, fromFile[0])
					want := c.minFile
					if strings.HasSuffix(im.File, ".jpg") {
						want = min(want, 0.999)
					}
					assert.Greater(t, cf, want, "image file %s", im.File)
				}
				t.Logf("%s %s: worst cosine to PyTorch %.9f", name, c.q, worst)
			})
		}
	}
}
