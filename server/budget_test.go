package server

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/color"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pngHeader is a PNG that declares w×h pixels and holds none: enough for the
// size check, which must refuse it before any decoding.
func pngHeader(w, h uint32) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	chunk := append([]byte("IHDR"), ihdr...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(ihdr)))
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

func TestRequestPixelBudget(t *testing.T) {
	fm := &fakeModel{started: make(chan struct{}, 100)}
	base := start(t, newServer(t, Config{Model: fm, MaxPixels: 40_000_000, MaxRequestPixels: 100_000_000}))
	var imgs []string
	for range 6 {
		imgs = append(imgs, base64.StdEncoding.EncodeToString(pngHeader(5000, 5000)))
	}
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{"images": imgs})
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Contains(t, errorMessage(t, body), "more than the 100000000 allowed per request")
	resp, body = postJSON(t, base+"/v1/classify", map[string]any{"labels": []string{"a", "b"}, "images": imgs})
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(body))
	assert.Empty(t, fm.started, "no image reached the model")
}

// gatedModel blocks text batches larger than small until gate closes, and
// sleeps perCall in every call; small batches (one caption) pass at once.
type gatedModel struct {
	fakeModel
	small   int
	gate    chan struct{}
	perCall time.Duration
	calls   atomic.Int64
}

func (g *gatedModel) EmbedTexts(texts []string) ([][]float32, error) {
	g.calls.Add(1)
	if len(texts) > g.small {
		if g.gate != nil {
			<-g.gate
		}
		time.Sleep(g.perCall)
	}
	return g.fakeModel.EmbedTexts(texts)
}

func labels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("label %d", i)
	}
	return out
}

func TestWorkBudgetRefusedUpFront(t *testing.T) {
	g := &gatedModel{small: 1000}
	base := start(t, newServer(t, Config{Model: g}))
	img := base64.StdEncoding.EncodeToString(pngBytes(t, 4, 4, color.White))
	templates := make([]string, 100)
	for i := range templates {
		templates[i] = fmt.Sprintf("a photo of a {} number %d", i)
	}
	resp, body := postJSON(t, base+"/v1/classify", map[string]any{"labels": labels(1000), "templates": templates, "images": []string{img}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Contains(t, errorMessage(t, body), "100002 encoder passes")
	assert.Zero(t, g.calls.Load())
}

// TestHeavyRequestsLeaveASlot: with two slots, two heavy classify requests
// cannot both compute; a one-caption embedding is answered while they
// block, and the second heavy one is turned away after the queue timeout.
func TestHeavyRequestsLeaveASlot(t *testing.T) {
	g := &gatedModel{small: 4, gate: make(chan struct{})}
	s := newServer(t, Config{Model: g, MaxConcurrent: 2, HeavyWork: 10, QueueTimeout: 300 * time.Millisecond})
	base := start(t, s)
	img := base64.StdEncoding.EncodeToString(pngBytes(t, 4, 4, color.White))
	heavy := map[string]any{"labels": labels(50), "images": []string{img}}
	codes := make(chan int, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			resp, _ := postJSON(t, base+"/v1/classify", heavy)
			codes <- resp.StatusCode
		})
	}
	require.Eventually(t, func() bool { return len(s.slots) == 1 }, 5*time.Second, time.Millisecond)
	t0 := time.Now()
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a cat"}})
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Less(t, time.Since(t0), 2*time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, <-codes, "the second heavy request waits for the heavy lane, then 503")
	close(g.gate)
	assert.Equal(t, http.StatusOK, <-codes)
	wg.Wait()
}

// TestDeadlineFreesTheSlot: a classify request whose prompts take far longer
// than its deadline gets 503 at the deadline, and its slot frees within a
// second (the prompts are encoded in chunks and the next chunk is not
// started), not when all its prompts would have been encoded.
func TestDeadlineFreesTheSlot(t *testing.T) {
	g := &gatedModel{small: 1, perCall: 50 * time.Millisecond}
	s := newServer(t, Config{Model: g, MaxConcurrent: 1, RequestTimeout: 200 * time.Millisecond})
	base := start(t, s)
	img := base64.StdEncoding.EncodeToString(pngBytes(t, 4, 4, color.White))
	// 1000 labels × 10 templates: 313 chunks of 50 ms, 16 s in all.
	templates := make([]string, 10)
	for i := range templates {
		templates[i] = fmt.Sprintf("{} %d", i)
	}
	t0 := time.Now()
	resp, body := postJSON(t, base+"/v1/classify", map[string]any{"labels": labels(1000), "templates": templates, "images": []string{img}})
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	deadline := time.Since(t0)
	require.Eventually(t, func() bool { return len(s.slots) == 0 }, time.Second, 5*time.Millisecond)
	t.Logf("503 after %v; slot free %v after the request began; %d chunks encoded", deadline, time.Since(t0), g.calls.Load())
	assert.Less(t, g.calls.Load(), int64(40))
	resp, _ = postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a"}})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
