package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"

	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/internal/regfile"
	"github.com/clipinfer/clipinfer/server"
	"github.com/clipinfer/clipinfer/store"
)

func init() {
	register("serve", command{
		summary: "Serve a JSON HTTP API: POST /v1/embeddings (OpenAI's protocol), GET /v1/models, POST /v1/classify, GET|POST /v1/search (with -index), Immich's POST /predict and Weaviate's POST /vectorize, GET /healthz, GET /metrics. Ctrl-C or SIGTERM shuts down gracefully.",
		usage:   "-m MODEL [-index INDEX|postgres://…] [-reload 2s] [-alias NAME]… [-addr 127.0.0.1:8080] [-concurrency N] [-queue N] [-timeout 60s] [-max-body BYTES] [-max-batch N] [-allow-host NAME]… [-allow-origin ORIGIN]… [-token-file FILE] [-max-request-pixels N] [-max-work N] [-fast-decode] [-exif=false] [-v]",
		run:     runServe,
	})
}

func runServe(e *env, args []string) error {
	fs := flags(e, "serve")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	idxPath := fs.String("index", "", "index file or postgres:// database URL to serve /v1/search from")
	reload := fs.Duration("reload", 2*time.Second, "check an index file this often and reload it when replaced (0: never)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	concurrency := fs.Int("concurrency", 0, "requests computing at once (default: number of CPUs; -threads then defaults to CPUs ÷ concurrency)")
	queue := fs.Int("queue", 0, "requests allowed to wait for a turn before the server answers 503 (default 64, or 4×concurrency if more; -1: none); their bodies may hold at most 4×concurrency×max-body bytes in all")
	queueWait := fs.Duration("queue-timeout", 10*time.Second, "longest wait for a turn before 503")
	timeout := fs.Duration("timeout", time.Minute, "longest time to handle one request")
	maxBody := fs.Int64("max-body", 32<<20, "largest request body in bytes")
	maxBatch := fs.Int("max-batch", 64, "most texts plus images in one request")
	verbose := fs.Bool("v", false, "log every request")
	var allowHosts, allowOrigins stringList
	fs.Var(&allowHosts, "allow-host", "a host name clients may use to reach the server (repeatable; IP addresses and localhost always work; * allows any)")
	fs.Var(&allowOrigins, "allow-origin", "a browser origin allowed to call the API cross-origin, e.g. https://app.example (repeatable; * allows any)")
	tokenFile := fs.String("token-file", "", "file holding a bearer token every request but GET /healthz must carry (required to bind a non-loopback address without a warning)")
	maxRequestPixels := fs.Int64("max-request-pixels", 100_000_000, "most pixels the images of one request may declare, checked before decoding")
	maxWork := fs.Int("max-work", 20_000, "most encoder passes one request may need (texts + 2 per image + labels×templates for classify)")
	var aliases stringList
	fs.Var(&aliases, "alias", "another name the model answers to in OpenAI's \"model\" and Immich's \"modelName\" (repeatable), e.g. ViT-B-32__openai")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "m"); err != nil {
		return err
	}
	if err := nargs(fs, 0, 0, ""); err != nil {
		return err
	}
	if !flagSet(fs, "threads") {
		// Concurrent requests are the server's parallelism: each compute
		// slot runs its passes on its share of the CPUs. Every pass
		// spreading over every CPU would oversubscribe them: two slots of
		// two threads on two cores spent 1.7 ms of CPU per one-caption
		// request with the demo model, one thread per slot 0.2 ms.
		slots := *concurrency
		if slots <= 0 {
			slots = goruntime.GOMAXPROCS(0)
		}
		mf.threads = max(1, goruntime.GOMAXPROCS(0)/slots)
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	fp, err := m.Fingerprint()
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var x store.Store
	if *idxPath != "" {
		// A database may be down when the server starts: it then reports
		// itself unready and connects when the database comes back.
		info := index.ModelInfo{Fingerprint: fp, Name: filepath.Base(mf.path), Dim: m.EmbedDim()}
		if x, err = openStore(ctx, *idxPath, &info, store.IsDatabaseURL(*idxPath), 0, index.SearchOptions{}, true); err != nil {
			return err
		}
		defer x.Close()
		if f, ok := x.(*store.File); ok && *reload > 0 {
			go f.Watch(ctx, *reload, func(reloaded bool, err error) {
				if err != nil {
					logger.Error("index reload failed; serving the previous version", "err", err)
					return
				}
				logger.Info("index reloaded", "entries", f.Index().Len())
			})
		}
	}
	s, err := server.New(server.Config{
		Model: m, ModelName: filepath.Base(mf.path), Aliases: aliases, Created: modTime(mf.path), Fingerprint: fp, Store: x,
		MaxBodyBytes: *maxBody, MaxPixels: mf.maxPixels, MaxBatch: *maxBatch,
		IgnoreEXIF: !mf.exif, FastDecode: mf.fast,
		MaxConcurrent: *concurrency, MaxQueue: *queue, QueueTimeout: *queueWait, RequestTimeout: *timeout,
		Logger:     logger,
		AllowHosts: allowHosts, AllowOrigins: allowOrigins, Token: token,
		MaxRequestPixels: *maxRequestPixels, MaxWork: *maxWork,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if token == "" && !loopback(ln.Addr()) {
		fmt.Fprintf(e.stderr, "WARNING: serving %s on a non-loopback address without -token-file: anyone who can reach it can embed, classify and search (and read the indexed file paths)\n", ln.Addr())
	}
	attrs := []any{"url", "http://" + ln.Addr().String(), "model", mf.path, "kernel", m.Kernel()}
	if x != nil {
		st := x.Status(ctx)
		attrs = append(attrs, "index", st.Location, "index_entries", st.Entries, "index_ready", st.Ready)
	}
	logger.Info("listening", attrs...)
	noticed := make(chan struct{})
	go func() {
		defer close(noticed)
		<-ctx.Done()
		stop() // a second signal ends the process at once
		logger.Info("shutting down: finishing requests in flight")
	}()
	if err := s.Serve(ctx, ln); err != nil {
		return err
	}
	<-noticed
	logger.Info("stopped")
	return nil
}

// modTime is a file's modification time, or the zero time.
func modTime(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty name")
	}
	*l = append(*l, v)
	return nil
}

// readToken reads a bearer token file (one line; surrounding white space
// ignored). An empty path means no token.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := regfile.ReadFile(path, 4096)
	if err != nil {
		return "", fmt.Errorf("-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("-token-file %s: want one token without white space", path)
	}
	return tok, nil
}

// loopback reports whether a listener address is loopback only.
func loopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
