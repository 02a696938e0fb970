// Package server is clipinfer's HTTP JSON API: embeddings of texts and
// images, zero-shot classification with prompt ensembling, and search in an
// embedding index, plus health and Prometheus-style metrics.
//
//	POST /v1/embeddings   {"texts":[…], "images":["<base64>",…]} or multipart (text, image)
//	POST /v1/classify     {"labels":[…], "templates":[…], "images":[…], "k":5} or multipart
//	GET  /v1/search?q=…&k=10
//	POST /v1/search       {"text":"…"} or {"image":"<base64>"}, "k", or multipart
//	GET  /healthz
//	GET  /metrics
//
// Every request is bounded: body size, pixels per image, texts and images
// per request, and time. At most Config.MaxConcurrent requests compute at
// once and at most Config.MaxQueue wait for a turn; beyond that the server
// answers 503 with Retry-After at once rather than queueing without end.
// [Server.Serve] shuts down gracefully when its context ends, finishing the
// requests in flight. docs/RETRIEVAL.md describes the API in full.
package server

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/index"
	clip "github.com/clipinfer/clipinfer/runtime"
	"github.com/clipinfer/clipinfer/store"
)

// Model is what the server needs from a model; *runtime.Model provides it.
// Its methods must be safe for concurrent use. A model that also has
// EmbedTextsContext, EmbedTokensContext and EmbedImagesContext (as
// *runtime.Model does) is handed each request's context and stops at its
// next layer when the request's deadline passes or its client leaves; one
// that also has Preprocess and EmbedPixelsContext gets a request's images
// decoded and preprocessed one at a time.
type Model interface {
	EmbedTexts(texts []string) ([][]float32, error)
	EmbedImages(imgs []image.Image) ([][]float32, error)
	EmbedDim() int
	// Score is the model family's zero-shot classification of an image
	// embedding against label embeddings.
	Score(image []float32, labels [][]float32) clip.Scores
}

// Config configures a Server. Zero limits take the defaults named.
type Config struct {
	// Model computes the embeddings (required).
	Model Model
	// ModelName and Fingerprint describe the model in responses; the
	// fingerprint must match the index's when Index is set.
	ModelName   string
	Fingerprint string
	// Aliases are further names the model answers to in the protocols that
	// name a model (OpenAI's "model", Immich's "modelName"); ModelName
	// always works. A request naming any other model is refused, so a
	// client never gets vectors from an embedding space it did not ask for.
	Aliases []string
	// Created is the model's creation time reported by GET /v1/models
	// (the zero time reports 0).
	Created time.Time
	// Index, if set, serves /v1/search. It must not be modified while the
	// server runs.
	Index *index.Index
	// Store, if set, serves /v1/search instead of Index: an index file that
	// may be reloaded while serving (store.File) or a database shared with
	// other servers (store/pgstore). Its state shows in /healthz (503
	// while it cannot answer searches) and /metrics.
	Store store.Store

	// MaxBodyBytes bounds a request body (default 32 MiB).
	MaxBodyBytes int64
	// MaxPixels bounds width·height of each image (default 40 million).
	MaxPixels int64
	// IgnoreEXIF embeds uploaded images as stored, as OpenAI's pipeline
	// does, instead of turning them by their EXIF orientation first (what
	// a person sees; the default, as for image files). FastDecode decodes
	// JPEGs at 1/2, 1/4 or 1/8 scale in the DCT domain, as Pillow's draft
	// mode does (the model must implement ImageConfig, as *runtime.Model
	// does). See imageproc.LoadOptions.
	IgnoreEXIF bool
	FastDecode bool
	// MaxBatch bounds the texts plus images of one request (default 64).
	MaxBatch int
	// MaxTextBytes bounds one text (default 4096).
	MaxTextBytes int
	// MaxLabels bounds the labels of one classify request (default 1000).
	MaxLabels int
	// MaxK bounds k for search and classify (default 1000).
	MaxK int
	// MaxConcurrent is the number of requests computing at once (default
	// GOMAXPROCS); MaxQueue the number allowed to wait for a turn (default
	// 64, or 4·MaxConcurrent if more; negative for none); MaxQueueBytes
	// the request-body bytes the waiting requests may hold in all (default
	// 4·MaxConcurrent·MaxBodyBytes, so a queue full of largest bodies
	// holds no more than four per slot); QueueTimeout how long one may
	// wait (default 10 s). Requests beyond these get 503 at once.
	MaxConcurrent int
	MaxQueue      int
	MaxQueueBytes int64
	QueueTimeout  time.Duration
	// RequestTimeout bounds the handling of one request (default 60 s);
	// a request that takes longer gets 503.
	RequestTimeout time.Duration
	// LabelCache is the number of label sets whose text embeddings are
	// kept for classify (default 256).
	LabelCache int
	// Logger receives one line per request at debug level and errors at
	// error level; nil discards.
	Logger *slog.Logger

	// AllowHosts are the host names (besides IP literals and localhost)
	// requests may name in their Host header; "*" allows any. AllowOrigins
	// are the browser origins ("https://app.example") allowed to call the
	// API cross-origin; "*" allows any. Token, if set, is the bearer token
	// every request but GET /healthz must carry. See guard.go.
	AllowHosts   []string
	AllowOrigins []string
	Token        string
	// MaxRequestPixels bounds the pixels all images of one request declare,
	// checked before any is decoded (default 100 million, or MaxPixels if
	// larger). MaxWork bounds the encoder passes of one request: texts, 2
	// per image, labels × templates for classify (default 20000).
	// Requests above HeavyWork passes (default 256) may use at most
	// MaxConcurrent-1 slots at once. See budget.go.
	MaxRequestPixels int64
	MaxWork          int
	HeavyWork        int
}

func (c *Config) defaults() error {
	if c.Model == nil {
		return errors.New("server: no model")
	}
	if c.Store == nil && c.Index != nil {
		c.Store = store.NewMemory(c.Index, index.SearchOptions{})
	}
	if c.Store != nil {
		if m := c.Store.Model(); m.Fingerprint != c.Fingerprint {
			return fmt.Errorf("server: %w (index: %s, model: %s)", index.ErrModelMismatch, m.Fingerprint, c.Fingerprint)
		} else if m.Dim != c.Model.EmbedDim() {
			return fmt.Errorf("server: index holds %d-d vectors, the model makes %d-d", m.Dim, c.Model.EmbedDim())
		}
	}
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = 40_000_000
	}
	set(&c.MaxBatch, 64)
	set(&c.MaxTextBytes, 4096)
	set(&c.MaxLabels, 1000)
	set(&c.MaxK, 1000)
	set(&c.MaxConcurrent, goruntime.GOMAXPROCS(0))
	switch {
	case c.MaxQueue == 0:
		c.MaxQueue = max(defaultQueue, 4*c.MaxConcurrent)
	case c.MaxQueue < 0:
		c.MaxQueue = 0
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = 4 * int64(c.MaxConcurrent) * c.MaxBodyBytes
	}
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = 10 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 60 * time.Second
	}
	set(&c.LabelCache, 256)
	c.budgetDefaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// defaultQueue is the default MaxQueue: a client with a few dozen
// connections (a photo indexer, a load balancer's pool) waits for a turn
// instead of being refused, since each waiting request is small next to
// the work it waits for; MaxQueueBytes still bounds what large bodies
// can hold.
const defaultQueue = 64

// Server serves the API. Create it with New.
type Server struct {
	cfg     Config
	slots   chan struct{}
	waiting atomic.Int64
	// waitingBytes is the body bytes the waiting requests hold.
	waitingBytes atomic.Int64
	labels       *lru
	metrics      *metrics
	mux          *http.ServeMux
	allowed      map[string][]string // path → methods, for 405 answers
	status       statusCache
	budget       *budget
	imgCfg       imageproc.Config // the model's preprocessing, for FastDecode
}

// New checks cfg and returns a server.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		slots:   make(chan struct{}, cfg.MaxConcurrent),
		labels:  newLRU(cfg.LabelCache),
		metrics: newMetrics(),
		mux:     http.NewServeMux(),
		allowed: map[string][]string{},
		budget:  newBudget(cfg.MaxConcurrent),
	}
	if err := s.setupDecode(); err != nil {
		return nil, err
	}
	s.route("POST /v1/classify", "classify", s.handleClassify)
	s.route("GET /v1/search", "search", s.handleSearch)
	s.route("POST /v1/search", "search", s.handleSearch)
	s.route("GET /healthz", "healthz", s.handleHealth)
	s.route("GET /metrics", "metrics", s.handleMetrics)
	s.routeOpenAI()
	s.routeImmich()
	s.routeWeaviate()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := s.allowed[r.URL.Path]; ok {
			s.metrics.observe("other", http.StatusMethodNotAllowed, 0)
			w.Header().Set("Allow", strings.Join(m, ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, strings.Join(m, " or ")))
			return
		}
		s.metrics.observe("other", http.StatusNotFound, 0)
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return s, nil
}

// Handler returns the server's HTTP handler: every route behind the Host,
// Origin and token checks of guard.go.
func (s *Server) Handler() http.Handler { return s.guard(s.mux) }

// errorWriter writes an error response in one protocol's shape.
type errorWriter func(w http.ResponseWriter, code int, msg string, err error)

// writeNativeError is clipinfer's own error shape, {"error":"…"}.
func writeNativeError(w http.ResponseWriter, code int, msg string, _ error) {
	writeError(w, code, msg)
}

// route registers a handler of clipinfer's own API: it records metrics and
// turns errors into {"error":"…"} responses.
func (s *Server) route(pattern, name string, h func(http.ResponseWriter, *http.Request) error) {
	s.routeWith(pattern, name, writeNativeError, h)
}

// probePaths are the health checks and the metrics scrape: they are not
// work, so they are left out of the in-flight count (a health check would
// otherwise always see itself).
var probePaths = map[string]bool{
	"/healthz": true, "/metrics": true, "/ping": true, "/{$}": true,
	"/.well-known/live": true, "/.well-known/ready": true,
}

// routeWith is route with the error shape of another protocol.
func (s *Server) routeWith(pattern, name string, ew errorWriter, h func(http.ResponseWriter, *http.Request) error) {
	method, path, _ := strings.Cut(pattern, " ")
	s.allowed[path] = append(s.allowed[path], method)
	counted := !probePaths[path]
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if counted {
			s.metrics.inFlight.Add(1)
			defer s.metrics.inFlight.Add(-1)
		}
		body := &countingBody{ReadCloser: http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)}
		r.Body = body
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), bodyKey{}, body), s.cfg.RequestTimeout)
		defer cancel()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		err := h(sw, r.WithContext(ctx))
		if err != nil {
			code, msg := classify(err)
			if code == http.StatusServiceUnavailable {
				sw.Header().Set("Retry-After", "1")
			}
			if code >= 500 && code != http.StatusServiceUnavailable {
				s.cfg.Logger.Error("request failed", "endpoint", name, "err", err)
			}
			ew(sw, code, msg, err)
		}
		d := time.Since(start)
		s.metrics.observe(name, sw.code, d)
		s.cfg.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.code, "duration", d)
	})
}

// countingBody counts the bytes read from a request body: what the
// request holds in memory while it waits for a turn.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// bodyKey is the context key of a request's *countingBody.
type bodyKey struct{}

// bodyBytes is the number of body bytes the request of ctx has read.
func bodyBytes(ctx context.Context) int64 {
	if b, ok := ctx.Value(bodyKey{}).(*countingBody); ok {
		return b.n
	}
	return 0
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// errBusy and errTimeout are answered with 503; errGone is recorded as
// 499 (the client closed the connection; nobody reads the answer).
var (
	errBusy    = errors.New("server busy: too many requests in progress, retry later")
	errTimeout = errors.New("request took too long")
	errGone    = errors.New("client closed the request")
)

// ctxErr tells a deadline from a client that went away.
func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errTimeout
	}
	return errGone
}

// compute runs f while holding one of the MaxConcurrent slots. It returns
// errBusy at once when MaxQueue requests already wait or their bodies and
// this one's would exceed MaxQueueBytes, or when no slot frees within
// QueueTimeout; errTimeout when the request's deadline passes first,
// and errGone when the client leaves. (A started f keeps its slot until it
// returns, so the number of computations never exceeds the bound; f is
// given the request's context and stops at its model's next layer.)
func (s *Server) compute(ctx context.Context, f func() error) error {
	select {
	case s.slots <- struct{}{}:
	default:
		held := bodyBytes(ctx)
		leave := func() {
			s.waiting.Add(-1)
			s.waitingBytes.Add(-held)
		}
		n, b := s.waiting.Add(1), s.waitingBytes.Add(held)
		if n > int64(s.cfg.MaxQueue) || (n > 1 && b > s.cfg.MaxQueueBytes) {
			leave()
			s.metrics.rejected.Add(1)
			return errBusy
		}
		t := time.NewTimer(s.cfg.QueueTimeout)
		select {
		case s.slots <- struct{}{}:
			leave()
			t.Stop()
		case <-t.C:
			leave()
			s.metrics.rejected.Add(1)
			return errBusy
		case <-ctx.Done():
			leave()
			t.Stop()
			return ctxErr(ctx)
		}
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-s.slots }()
		done <- f()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctxErr(ctx)
	}
}

// Serve accepts connections on ln until ctx ends, then shuts down
// gracefully: it stops accepting, lets the requests in flight finish (for
// at most 30 s) and returns nil. Server-level timeouts guard against slow
// clients.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.RequestTimeout,
		WriteTimeout:      s.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return s.Serve(ctx, ln)
}

// lru caches label embeddings by key.
type lru struct {
	mu    sync.Mutex
	max   int
	items map[string]*lruItem
	tick  uint64
}

type lruItem struct {
	v    [][]float32
	used uint64
}

func newLRU(n int) *lru { return &lru{max: n, items: map[string]*lruItem{}} }

func (c *lru) get(k string) ([][]float32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.tick++
	it.used = c.tick
	return it.v, true
}

func (c *lru) put(k string, v [][]float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) >= c.max {
		// Evict the least recently used (a linear scan: the cache is small
		// and puts are rare next to the text encoder's cost).
		var oldest string
		var min uint64 = ^uint64(0)
		for key, it := range c.items {
			if it.used < min {
				oldest, min = key, it.used
			}
		}
		delete(c.items, oldest)
	}
	c.tick++
	c.items[k] = &lruItem{v: v, used: c.tick}
}
