package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"net/http"
	"sync"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamModel preprocesses images itself (a pixelModel) and records, each
// time it is handed a decoded image, how many images handed to it before
// are still in memory (weak pointers not yet cleared).
type streamModel struct {
	fakeModel
	mu    sync.Mutex
	seen  []weak.Pointer[image.RGBA]
	alive []int
}

func (m *streamModel) Preprocess(img image.Image) ([]float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, w := range m.seen {
		if w.Value() != nil {
			n++
		}
	}
	m.alive = append(m.alive, n)
	m.seen = append(m.seen, weak.Make(img.(*image.RGBA)))
	r, g, b, _ := img.At(0, 0).RGBA()
	return norm([]float32{float32(r), float32(g), float32(b), 1}), nil
}

func (m *streamModel) EmbedPixelsContext(_ context.Context, pix [][]float32) ([][]float32, error) {
	return pix, nil
}

// TestImagesDecodedOneAtATime: a request with four large images never
// holds two decoded images at once — each is preprocessed and released
// before the next is decoded — and the answers are still in input order.
func TestImagesDecodedOneAtATime(t *testing.T) {
	if raceEnabled {
		t.Skip("one goroutine decoding 16 MP of PNG: a minute under the race detector, nothing to race")
	}
	m := &streamModel{}
	base := start(t, newServer(t, Config{Model: m}))
	colours := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 0, 255}}
	var imgs []string
	for _, c := range colours {
		// 4 MP: 16 MB decoded, a few KB as PNG.
		imgs = append(imgs, base64.StdEncoding.EncodeToString(pngBytes(t, 2000, 2000, c)))
	}
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{"images": imgs})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, []int{0, 0, 0, 0}, m.alive, "decoded images still in memory when the next one was handed over")
	want, err := m.fakeModel.EmbedImages([]image.Image{
		solid(colours[0]), solid(colours[1]), solid(colours[2]), solid(colours[3]),
	})
	require.NoError(t, err)
	var got floatEmbeddings
	require.NoError(t, json.Unmarshal(body, &got))
	for i := range want {
		assert.Equal(t, want[i], got.Data[i].Embedding, "image %d", i)
	}
}

func solid(c color.RGBA) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, c)
	return img
}
