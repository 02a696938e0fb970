//go:build unix

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/server"
)

// TestServeDecodesAsEmbed posts a JPEG with EXIF orientation 6 to serve
// processes started with the image flags and checks each answers with the
// vector `embed -image` prints for the file with the same flags, bit for
// bit.
func TestServeDecodesAsEmbed(t *testing.T) {
	dir := t.TempDir()
	model := rtModel(t, dir, 1)
	photo := filepath.Join("..", "..", "imageproc", "testdata", "photo", "orient6_300x200.jpg")
	jpg, err := os.ReadFile(photo)
	require.NoError(t, err)
	body, err := json.Marshal(map[string]any{"images": []string{base64.StdEncoding.EncodeToString(jpg)}})
	require.NoError(t, err)

	var seen [][]float32
	for _, flags := range [][]string{nil, {"-exif=false"}, {"-fast-decode"}} {
		code, out, errOut := rtRun(append([]string{"embed", "-m", model, "-image", photo}, flags...)...)
		require.Equal(t, 0, code, errOut)
		cli := jsonLines[embedded](t, out)
		require.Len(t, cli, 1)

		p := startServe(t, append([]string{"-m", model, "-addr", "127.0.0.1:0"}, flags...)...)
		resp, err := http.Get(p.url + "/healthz")
		require.NoError(t, err)
		var h server.Health
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
		resp.Body.Close()
		assert.Equal(t, len(flags) == 0 || flags[0] != "-exif=false", h.Images.EXIFOrientation, "%v", flags)
		assert.Equal(t, len(flags) > 0 && flags[0] == "-fast-decode", h.Images.FastDecode, "%v", flags)

		resp, err = http.Post(p.url+"/v1/embeddings", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		var er struct {
			Data []struct{ Embedding []float32 }
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&er))
		resp.Body.Close()
		require.Len(t, er.Data, 1)
		assert.Equal(t, cli[0].Embedding, er.Data[0].Embedding, "serve %v = embed %v", flags, flags)
		for _, v := range seen {
			assert.NotEqual(t, v, cli[0].Embedding, "each flag changes the vector")
		}
		seen = append(seen, cli[0].Embedding)
	}
}
