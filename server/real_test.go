package server

import (
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/internal/randclip"
	clip "github.com/clipinfer/clipinfer/runtime"
)

// TestRealModel serves a random tiny CLIP and checks that the API returns
// what the runtime computes directly.
func TestRealModel(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "tiny.safetensors"), filepath.Join(dir, "tiny.clip")
	require.NoError(t, randclip.WriteSafetensors(src, randclip.Tiny, 1))
	_, err := convert.Convert(src, dst, convert.Options{Quant: "q8"})
	require.NoError(t, err)
	m, err := clip.Open(dst, clip.Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	fp, err := m.Fingerprint()
	require.NoError(t, err)

	base := start(t, newServer(t, Config{Model: m, ModelName: "tiny", Fingerprint: fp}))
	png := pngBytes(t, 40, 30, color.RGBA{200, 40, 90, 255})
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{
		"texts":  []string{"a photo of a cat", "a dog"},
		"images": []string{base64.StdEncoding.EncodeToString(png)},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var er floatEmbeddings
	require.NoError(t, json.Unmarshal(body, &er))
	require.Len(t, er.Data, 3)
	assert.Len(t, er.Data[0].Embedding, randclip.Tiny.Embed)
	assert.Equal(t, 7+4, er.Usage.PromptTokens, "SOT, five words, EOT, then SOT, two words, EOT: tokens before the padding")

	want, err := m.EmbedTexts([]string{"a photo of a cat", "a dog"})
	require.NoError(t, err)
	assert.Equal(t, want[0], er.Data[0].Embedding, "JSON carries float32 values exactly")
	assert.Equal(t, want[1], er.Data[1].Embedding)
	img, err := m.DecodeImage(writeTemp(t, dir, "x.png", png))
	require.NoError(t, err)
	wantImg, err := m.EmbedImages([]image.Image{img})
	require.NoError(t, err)
	assert.Equal(t, wantImg[0], er.Data[2].Embedding)
}

func writeTemp(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// TestRealSigLIPClassify serves a tiny random SigLIP and checks that
// /v1/classify reports independent sigmoid probabilities, as the runtime
// scores them.
func TestRealSigLIPClassify(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "siglip.clip")
	_, err := convert.Convert("../testdata/models/siglip-tiny", dst, convert.Options{Quant: "q8"})
	require.NoError(t, err)
	m, err := clip.Open(dst, clip.Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	base := start(t, newServer(t, Config{Model: m, ModelName: "siglip-tiny"}))
	png := pngBytes(t, 40, 30, color.RGBA{200, 40, 90, 255})
	labels := []string{"cat", "dog", "red square"}
	resp, body := postJSON(t, base+"/v1/classify", map[string]any{
		"labels": labels, "templates": []string{"{}"}, "images": []string{base64.StdEncoding.EncodeToString(png)}, "k": 3,
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var cr ClassifyResponse
	require.NoError(t, json.Unmarshal(body, &cr))
	assert.Equal(t, "sigmoid", cr.Scoring)
	require.Len(t, cr.Results, 1)
	require.Len(t, cr.Results[0].Labels, 3)

	le, err := m.EmbedTexts(labels)
	require.NoError(t, err)
	img, err := m.DecodeImage(writeTemp(t, t.TempDir(), "x.png", png))
	require.NoError(t, err)
	ie, err := m.EmbedImages([]image.Image{img})
	require.NoError(t, err)
	want := m.Score(ie[0], le)
	// Usage counts the text's tokens, not SigLIP's padding (its end token).
	resp, body = postJSON(t, base+"/v1/embeddings", map[string]any{"input": []string{"a cat"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var er floatEmbeddings
	require.NoError(t, json.Unmarshal(body, &er))
	ids, err := m.Tokenize("a cat")
	require.NoError(t, err)
	assert.Len(t, ids, 64)
	assert.Less(t, er.Usage.PromptTokens, 64)
	assert.Equal(t, m.TokenCount(ids), er.Usage.PromptTokens)
	for _, l := range cr.Results[0].Labels {
		j := slices.Index(labels, l.Label)
		require.GreaterOrEqual(t, j, 0)
		assert.InDelta(t, want.Probabilities[j], l.Probability, 1e-6, l.Label)
	}
}
