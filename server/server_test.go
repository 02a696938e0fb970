package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clip "github.com/clipinfer/clipinfer/runtime"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/index"
)

// fakeModel embeds a text by its letter counts and an image by its mean
// colour, so tests can predict results. gate, if set, blocks every call
// until it is closed (or receives).
type fakeModel struct {
	textCalls atomic.Int64
	gate      chan struct{}
	started   chan struct{}
}

const fakeDim = 4

func norm(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(ss))
		}
	}
	return v
}

func (f *fakeModel) wait() {
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
}

func (f *fakeModel) EmbedTexts(texts []string) ([][]float32, error) {
	f.textCalls.Add(1)
	f.wait()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if t == "fail" {
			return nil, errors.New("cannot embed fail")
		}
		v := make([]float32, fakeDim)
		for _, c := range t {
			v[int(c)%fakeDim]++
		}
		out[i] = norm(v)
	}
	return out, nil
}

func (f *fakeModel) EmbedImages(imgs []image.Image) ([][]float32, error) {
	f.wait()
	out := make([][]float32, len(imgs))
	for i, img := range imgs {
		r, g, b, _ := img.At(0, 0).RGBA()
		out[i] = norm([]float32{float32(r), float32(g), float32(b), 1})
	}
	return out, nil
}

func (f *fakeModel) EmbedDim() int { return fakeDim }
func (f *fakeModel) Score(img []float32, labels [][]float32) clip.Scores {
	return clip.SoftmaxScores(clip.Cosines(img, labels), 100)
}

func pngBytes(t testing.TB, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// start serves s on a loopback port and returns its base URL; the server
// shuts down when the test ends.
func start(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String()
}

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Model == nil {
		cfg.Model = &fakeModel{}
	}
	if cfg.ModelName == "" {
		cfg.ModelName = "fake"
	}
	s, err := New(cfg)
	require.NoError(t, err)
	return s
}

func postJSON(t *testing.T, url string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(j)
	}
	resp, err := http.Post(url, "application/json", r)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, out
}

// floatEmbeddings decodes an EmbeddingsResponse with float vectors.
type floatEmbeddings struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage Usage  `json:"usage"`
}

func TestEmbeddings(t *testing.T) {
	base := start(t, newServer(t, Config{Fingerprint: "sha256:fake"}))
	red := base64.StdEncoding.EncodeToString(pngBytes(t, 3, 2, color.RGBA{255, 0, 0, 255}))
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"aaa", "ab"}, "images": []string{red, "data:image/png;base64," + red}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var er floatEmbeddings
	require.NoError(t, json.Unmarshal(body, &er))
	assert.Equal(t, "list", er.Object)
	assert.Equal(t, "fake", er.Model)
	require.Len(t, er.Data, 4)
	assert.Equal(t, "embedding", er.Data[0].Object)
	assert.Equal(t, []float32{0, 1, 0, 0}, er.Data[0].Embedding)
	for i, d := range er.Data {
		assert.Equal(t, i, d.Index, "texts first, then images, indexed in that order")
	}
	assert.Equal(t, er.Data[2].Embedding, er.Data[3].Embedding)
	assert.Equal(t, Usage{}, er.Usage, "the fake model has no tokenizer, so no tokens are counted")

	// OpenAI-style "input".
	for _, in := range []any{"aaa", []string{"aaa"}} {
		resp, body = postJSON(t, base+"/v1/embeddings", map[string]any{"input": in})
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.NoError(t, json.Unmarshal(body, &er))
		assert.Equal(t, []float32{0, 1, 0, 0}, er.Data[0].Embedding)
	}

	// Multipart with texts and image files.
	var mb bytes.Buffer
	mw := multipart.NewWriter(&mb)
	require.NoError(t, mw.WriteField("text", "aaa"))
	fw, err := mw.CreateFormFile("image", "red.png")
	require.NoError(t, err)
	fw.Write(pngBytes(t, 1, 1, color.RGBA{255, 0, 0, 255}))
	require.NoError(t, mw.Close())
	r, err := http.Post(base+"/v1/embeddings", mw.FormDataContentType(), &mb)
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.NoError(t, json.NewDecoder(r.Body).Decode(&er))
	require.Len(t, er.Data, 2)
	assert.Equal(t, norm([]float32{65535, 0, 0, 1}), er.Data[1].Embedding, "the image comes second")
}

func TestErrors(t *testing.T) {
	idx, err := index.New(index.ModelInfo{Fingerprint: "sha256:fake", Dim: fakeDim}, index.Int8)
	require.NoError(t, err)
	base := start(t, newServer(t, Config{Fingerprint: "sha256:fake", Index: idx, MaxBodyBytes: 4096, MaxPixels: 100, MaxBatch: 3, MaxTextBytes: 10, MaxK: 50}))
	img := base64.StdEncoding.EncodeToString(pngBytes(t, 2, 2, color.White))
	big := base64.StdEncoding.EncodeToString(pngBytes(t, 20, 20, color.White))
	tests := []struct {
		name, path string
		body       any
		code       int
		msg        string
	}{
		{"empty body", "/v1/embeddings", "", 400, "empty body"},
		{"not json", "/v1/embeddings", "{", 400, "JSON body"},
		{"unknown field", "/v1/embeddings", `{"txt":["a"]}`, 400, "unknown field"},
		{"two values", "/v1/embeddings", `{"texts":["a"]} {}`, 400, "more than one"},
		{"nothing", "/v1/embeddings", `{}`, 400, "nothing to embed"},
		{"bad input type", "/v1/embeddings", `{"input":3}`, 400, `"input" must be`},
		{"too many", "/v1/embeddings", map[string]any{"texts": []string{"a", "b", "c", "d"}}, 400, "at most 3"},
		{"long text", "/v1/embeddings", map[string]any{"texts": []string{"abcdefghijkl"}}, 400, "at most 10"},
		{"bad base64", "/v1/embeddings", map[string]any{"images": []string{"!!!"}}, 400, "base64"},
		{"not an image", "/v1/embeddings", map[string]any{"images": []string{base64.StdEncoding.EncodeToString([]byte("hello"))}}, 400, "image 0"},
		{"too many pixels", "/v1/embeddings", map[string]any{"images": []string{big}}, 413, "too large"},
		{"body too large", "/v1/embeddings", map[string]any{"texts": []string{strings.Repeat("a", 5000)}}, 413, "larger than 4096"},
		{"model error", "/v1/embeddings", map[string]any{"texts": []string{"fail"}}, 422, "cannot embed"},
		{"one label", "/v1/classify", map[string]any{"labels": []string{"a"}, "images": []string{img}}, 400, "two"},
		{"no images", "/v1/classify", map[string]any{"labels": []string{"a", "b"}}, 400, "no \"images\""},
		{"no query", "/v1/search", `{}`, 400, "give a query"},
		{"two queries", "/v1/search", map[string]any{"text": "a", "image": img}, 400, "one query"},
		{"two texts", "/v1/search", map[string]any{"texts": []string{"a", "b"}}, 400, "one query"},
		{"k too big", "/v1/search", map[string]any{"text": "a", "k": 51}, 400, "at most 50"},
		{"k zero", "/v1/search", map[string]any{"text": "a", "k": 0}, 400, "k = 0: must be at least 1"},
		{"k negative", "/v1/search", map[string]any{"text": "a", "k": -3}, 400, "k = -3: must be at least 1"},
		{"classify k zero", "/v1/classify", map[string]any{"labels": []string{"a", "b"}, "images": []string{img}, "k": 0}, 400, "k = 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postJSON(t, base+tc.path, tc.body)
			assert.Equal(t, tc.code, resp.StatusCode, string(body))
			assert.Contains(t, errorMessage(t, body), tc.msg)
		})
	}

	resp, err := http.Post(base+"/v1/embeddings", "text/plain", strings.NewReader("hi"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
	resp, err = http.Get(base + "/v1/embeddings")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Get(base + "/nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// errorMessage reads the message of an error body, in clipinfer's shape
// {"error":"…"} or OpenAI's {"error":{"message":"…",…}}.
func errorMessage(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ Error json.RawMessage }
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	var msg string
	if json.Unmarshal(e.Error, &msg) == nil {
		return msg
	}
	var o openAIErrorDetail
	require.NoError(t, json.Unmarshal(e.Error, &o), string(body))
	return o.Message
}

func TestNewChecksIndex(t *testing.T) {
	idx, err := index.New(index.ModelInfo{Fingerprint: "sha256:a", Dim: fakeDim}, index.Int8)
	require.NoError(t, err)
	_, err = New(Config{Model: &fakeModel{}, Fingerprint: "sha256:b", Index: idx})
	require.ErrorIs(t, err, index.ErrModelMismatch)
	idx5, err := index.New(index.ModelInfo{Fingerprint: "sha256:a", Dim: 5}, index.Int8)
	require.NoError(t, err)
	_, err = New(Config{Model: &fakeModel{}, Fingerprint: "sha256:a", Index: idx5})
	require.ErrorContains(t, err, "5-d")
	_, err = New(Config{})
	require.ErrorContains(t, err, "no model")
}

func TestClassify(t *testing.T) {
	fm := &fakeModel{}
	base := start(t, newServer(t, Config{Model: fm}))
	// The fake text embedding of a label is its letter histogram mod 4; an
	// image embeds as (r, g, b, 1). Pick labels that line up with colours:
	// 'a' (97 % 4 = 1) ↔ green, 'd' (100 % 4 = 0) ↔ red.
	green := base64.StdEncoding.EncodeToString(pngBytes(t, 2, 2, color.RGBA{0, 255, 0, 255}))
	red := base64.StdEncoding.EncodeToString(pngBytes(t, 2, 2, color.RGBA{255, 0, 0, 255}))
	req := map[string]any{"labels": []string{"d", "a", "c"}, "templates": []string{"{}"}, "images": []string{green, red}, "k": 2}
	resp, body := postJSON(t, base+"/v1/classify", req)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var cr ClassifyResponse
	require.NoError(t, json.Unmarshal(body, &cr))
	require.Len(t, cr.Results, 2)
	require.Len(t, cr.Results[0].Labels, 2)
	assert.Equal(t, "a", cr.Results[0].Labels[0].Label)
	assert.Equal(t, "d", cr.Results[1].Labels[0].Label)
	assert.Equal(t, "softmax", cr.Scoring)
	for _, r := range cr.Results {
		assert.GreaterOrEqual(t, r.Labels[0].Probability, r.Labels[1].Probability)
		assert.Greater(t, r.Labels[0].Probability, float32(0.5))
	}
	calls := fm.textCalls.Load()
	resp, _ = postJSON(t, base+"/v1/classify", req)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, calls, fm.textCalls.Load(), "label embeddings come from the cache")
}

func TestSearch(t *testing.T) {
	idx, err := index.New(index.ModelInfo{Fingerprint: "sha256:fake", Dim: fakeDim}, index.Int8)
	require.NoError(t, err)
	require.NoError(t, idx.Add(index.Entry{Path: "/red.png"}, []float32{1, 0, 0, 0}))
	require.NoError(t, idx.Add(index.Entry{Path: "/green.png"}, []float32{0, 1, 0, 0}))
	require.NoError(t, idx.Add(index.Entry{Path: "/blue.png"}, []float32{0, 0, 1, 0}))
	base := start(t, newServer(t, Config{Fingerprint: "sha256:fake", Index: idx}))

	resp, err := http.Get(base + "/v1/search?" + url.Values{"q": {"aaa"}, "k": {"2"}}.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var sr SearchResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sr))
	assert.Equal(t, "aaa", sr.Query)
	require.Len(t, sr.Results, 2)
	assert.Equal(t, Result{Rank: 1, Path: "/green.png", Score: 1}, sr.Results[0])

	blue := base64.StdEncoding.EncodeToString(pngBytes(t, 2, 2, color.RGBA{0, 0, 255, 255}))
	r2, body := postJSON(t, base+"/v1/search", map[string]any{"image": blue, "k": 1})
	require.Equal(t, http.StatusOK, r2.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &sr))
	assert.Equal(t, "image", sr.Query)
	require.Len(t, sr.Results, 1)
	assert.Equal(t, "/blue.png", sr.Results[0].Path)

	r3, err := http.Get(base + "/v1/search?q=a&k=x")
	require.NoError(t, err)
	r3.Body.Close()
	assert.Equal(t, http.StatusBadRequest, r3.StatusCode)

	// Without an index, search is 404.
	base2 := start(t, newServer(t, Config{}))
	r4, err := http.Get(base2 + "/v1/search?q=a")
	require.NoError(t, err)
	r4.Body.Close()
	assert.Equal(t, http.StatusNotFound, r4.StatusCode)
}

func TestHealthAndMetrics(t *testing.T) {
	base := start(t, newServer(t, Config{Fingerprint: "sha256:fake"}))
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	var h Health
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	resp.Body.Close()
	assert.Equal(t, Health{Status: "ok", Model: "fake", Fingerprint: "sha256:fake", Dim: fakeDim, InFlight: 0, Images: ImageDecoding{EXIFOrientation: true}}, h, "a health check does not count itself in flight")
	postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a", "b"}})
	postJSON(t, base+"/v1/embeddings", `{}`)

	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	m := string(b)
	for _, want := range []string{
		`clipinfer_requests_total{endpoint="embeddings",code="200"} 1`,
		`clipinfer_requests_total{endpoint="embeddings",code="400"} 1`,
		`clipinfer_requests_total{endpoint="healthz",code="200"} 1`,
		`clipinfer_request_duration_seconds_count{endpoint="embeddings"} 2`,
		`clipinfer_request_duration_seconds_bucket{endpoint="embeddings",le="+Inf"} 2`,
		"clipinfer_texts_embedded_total 2",
		"clipinfer_rejected_total 0",
		"clipinfer_in_flight_requests 0",
	} {
		assert.Contains(t, m, want)
	}
}

// TestBoundedConcurrency holds the only compute slot, fills the one queue
// place, and checks that the next request is refused at once with 503.
func TestBoundedConcurrency(t *testing.T) {
	fm := &fakeModel{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	s := newServer(t, Config{Model: fm, MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: time.Minute})
	base := start(t, s)
	codes := make(chan int, 2)
	var wg sync.WaitGroup
	send := func() {
		defer wg.Done()
		resp, _ := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a"}})
		codes <- resp.StatusCode
	}
	wg.Add(1)
	go send()
	<-fm.started // the first request holds the slot
	wg.Add(1)
	go send()
	require.Eventually(t, func() bool { return s.waiting.Load() == 1 }, 5*time.Second, time.Millisecond)

	t0 := time.Now()
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a"}})
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Less(t, time.Since(t0), 2*time.Second, "refused at once, not queued")

	close(fm.gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		assert.Equal(t, http.StatusOK, c)
	}
	assert.EqualValues(t, 1, s.metrics.rejected.Load())
}

func TestQueueTimeout(t *testing.T) {
	fm := &fakeModel{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	s := newServer(t, Config{Model: fm, MaxConcurrent: 1, QueueTimeout: 50 * time.Millisecond})
	base := start(t, s)
	done := make(chan int)
	go func() {
		resp, _ := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a"}})
		done <- resp.StatusCode
	}()
	<-fm.started
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"b"}})
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	close(fm.gate)
	assert.Equal(t, http.StatusOK, <-done)
}

func TestRequestTimeout(t *testing.T) {
	fm := &fakeModel{gate: make(chan struct{})}
	s := newServer(t, Config{Model: fm, RequestTimeout: 100 * time.Millisecond})
	base := start(t, s)
	resp, body := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a"}})
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(body), "too long")
	close(fm.gate) // the abandoned computation finishes and frees its slot
	require.Eventually(t, func() bool { return len(s.slots) == 0 }, 5*time.Second, time.Millisecond)
}

// TestGracefulShutdown cancels the server's context while a request is in
// flight: the request completes, Serve returns nil, and new connections
// are refused.
func TestGracefulShutdown(t *testing.T) {
	fm := &fakeModel{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	s := newServer(t, Config{Model: fm})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	got := make(chan int, 1)
	go func() {
		resp, _ := postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a"}})
		got <- resp.StatusCode
	}()
	<-fm.started
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(fm.gate)
	assert.Equal(t, http.StatusOK, <-got)
	require.NoError(t, <-served)
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err)
}

func TestDecodeBase64(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0x01, 0x02}
	for _, enc := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		"data:image/png;base64," + base64.StdEncoding.EncodeToString(raw),
		" " + base64.StdEncoding.EncodeToString(raw) + "\n",
	} {
		got, err := decodeBase64(enc)
		require.NoError(t, err, enc)
		assert.Equal(t, raw, got, enc)
	}
	for _, bad := range []string{"data:image/png,abc", "a", "@@@@"} {
		_, err := decodeBase64(bad)
		assert.Error(t, err, bad)
	}
}

func TestLRU(t *testing.T) {
	c := newLRU(2)
	c.put("a", [][]float32{{1}})
	c.put("b", [][]float32{{2}})
	_, ok := c.get("a") // a is now more recent than b
	require.True(t, ok)
	c.put("c", [][]float32{{3}})
	_, ok = c.get("b")
	assert.False(t, ok, "least recently used is evicted")
	for _, k := range []string{"a", "c"} {
		_, ok := c.get(k)
		assert.True(t, ok, k)
	}
	assert.Len(t, c.items, 2)
}

// TestQueueBoundedByBodyBytes: the queue takes many small requests but
// only as many large bodies as MaxQueueBytes holds; the one beyond is
// refused at once while small ones still queue.
func TestQueueBoundedByBodyBytes(t *testing.T) {
	fm := &fakeModel{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	s := newServer(t, Config{Model: fm, MaxConcurrent: 1, MaxQueue: 10, MaxQueueBytes: 5000, QueueTimeout: time.Minute})
	base := start(t, s)
	assert.Equal(t, "0", metricValue(t, base, "clipinfer_waiting_body_bytes"))
	large := map[string]any{"texts": []string{strings.Repeat("x", 3000)}}
	small := map[string]any{"texts": []string{"a"}}
	codes := make(chan int, 10)
	var wg sync.WaitGroup
	send := func(body any) {
		wg.Go(func() {
			resp, _ := postJSON(t, base+"/v1/embeddings", body)
			codes <- resp.StatusCode
		})
	}
	send(small)
	<-fm.started // the first request holds the slot
	send(large)
	require.Eventually(t, func() bool { return s.waiting.Load() == 1 }, 5*time.Second, time.Millisecond)
	assert.Greater(t, s.waitingBytes.Load(), int64(3000))

	resp, body := postJSON(t, base+"/v1/embeddings", large)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a second large body would exceed MaxQueueBytes: %s", body)
	for range 3 {
		send(small)
	}
	require.Eventually(t, func() bool { return s.waiting.Load() == 4 }, 5*time.Second, time.Millisecond, "small requests still queue")

	close(fm.gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		assert.Equal(t, http.StatusOK, c)
	}
	assert.Zero(t, s.waitingBytes.Load())
	assert.EqualValues(t, 1, s.metrics.rejected.Load())
}

// TestDefaultQueue: by default 64 requests (4 per slot on larger
// machines) may wait, holding at most four largest bodies per slot.
func TestDefaultQueue(t *testing.T) {
	for _, c := range []struct{ slots, queue int }{{1, 64}, {2, 64}, {32, 128}} {
		s := newServer(t, Config{MaxConcurrent: c.slots})
		assert.Equal(t, c.queue, s.cfg.MaxQueue)
		assert.Equal(t, int64(4*c.slots)*32<<20, s.cfg.MaxQueueBytes)
	}
	assert.Zero(t, newServer(t, Config{MaxQueue: -1}).cfg.MaxQueue)
}
