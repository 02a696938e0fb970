package server

import (
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"net/http"
	"os"
	"path/filepath"
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
