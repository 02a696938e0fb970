package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/internal/atomicfile"
	"github.com/clipinfer/clipinfer/internal/termtext"
	clip "github.com/clipinfer/clipinfer/runtime"
	"github.com/clipinfer/clipinfer/store"
)

func init() {
	register("index", command{
		summary: "Embed the images under folders into an index file for search (incremental: only new or changed files are embedded, deleted ones dropped; Ctrl-C keeps finished work). \"index export\" writes an index as .npy + .jsonl.",
		usage:   "-m MODEL -o INDEX [-dtype int8|f16] [-batch N] [-decoders N] [-decode-mib N] [-fast-decode] [-exif=false] [-retry-failed] [-checkpoint 1m] [-q] PATH...\n       clipinfer index export [-o PREFIX] INDEX",
		run:     runIndex,
	})
}

// indexSummary is the JSON line clipinfer index prints at the end.
type indexSummary struct {
	Index string `json:"index"`
	index.Stats
	Seconds float64 `json:"seconds"`
	// ImagesPerS is the images embedded per second of embedding (decoding
	// included, listing and loading excluded); absent when none was.
	ImagesPerS  float64 `json:"images_per_s,omitempty"`
	Interrupted bool    `json:"interrupted,omitempty"`
}

// maxWarnings is how many skipped files are named before only counting.
const maxWarnings = 20

func runIndex(e *env, args []string) error {
	if len(args) > 0 && args[0] == "export" {
		return runIndexExport(e, args[1:])
	}
	fs := flags(e, "index")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	out := fs.String("o", "", "index file to create or update, or a postgres:// database URL")
	dtypeF := fs.String("dtype", "int8", "vector storage for a new index: int8 (with one scale per vector) or f16")
	batch := fs.Int("batch", 16, "images per forward pass")
	decoders := fs.Int("decoders", 2, "goroutines decoding images while the model runs")
	budget := fs.Int64("decode-mib", 192, "MiB of decoded pixels all decoders may hold at once (a larger image waits until it fits; one larger than this runs alone)")
	every := fs.Duration("checkpoint", time.Minute, "save the index this often while embedding (0: only at the end)")
	quiet := fs.Bool("q", false, "no progress output")
	retry := fs.Bool("retry-failed", false, "try again the files that failed before although they have not changed (they are remembered in INDEX.failed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFlagOrder(fs); err != nil {
		return err
	}
	if err := required(fs, "m", "o"); err != nil {
		return err
	}
	if err := nargs(fs, 1, -1, "PATH"); err != nil {
		return err
	}
	dtype, err := index.ParseDType(*dtypeF)
	if err != nil {
		return err
	}
	if *budget < 1 {
		return fmt.Errorf("-decode-mib must be at least 1")
	}
	mf.budget = imageproc.NewBudget(*budget << 20)
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	fp, err := m.Fingerprint()
	if err != nil {
		return err
	}
	if !m.HasVision() {
		return fmt.Errorf("%s has no image tower", mf.path)
	}

	if !store.IsDatabaseURL(*out) {
		// A database serialises its own writers; an index file needs the lock.
		unlock, err := index.LockWriter(*out)
		if err != nil {
			return err
		}
		defer unlock()
	}
	info := index.ModelInfo{Fingerprint: fp, Name: filepath.Base(mf.path), Dim: m.EmbedDim()}
	x, err := openStore(context.Background(), *out, &info, true, dtype, index.SearchOptions{}, false)
	if err != nil {
		return err
	}
	defer x.Close()
	if f, ok := x.(*store.File); ok {
		if flagSet(fs, "dtype") && f.Index().DType() != dtype {
			return fmt.Errorf("%s stores %s vectors, not %s: use another -o to build a %s index", *out, f.Index().DType(), dtype, dtype)
		}
		f.CheckpointEvery = *every
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()

	// Files that failed are remembered beside an index file; a database
	// run remembers them only while it runs.
	failed := &failures{old: map[string]index.Entry{}, new: map[string]failure{}}
	if _, ok := x.(*store.File); ok {
		if failed, err = loadFailures(*out + ".failed"); err != nil {
			return err
		}
	}
	batchBytes := int64(0)
	if c, ok := m.ImageConfig(); ok {
		batchBytes = int64(*batch) * 3 * int64(c.Crop) * int64(c.Crop) * 4
	}
	limitHeap(*budget<<20, batchBytes)
	var embedTime time.Duration
	bar := newProgress(e, "images", 0)
	bar.quiet = *quiet
	warnings := 0
	var mu sync.Mutex
	opt := index.UpdateOptions{
		Embedder:   modelEmbedder{m},
		Decoders:   *decoders,
		Batch:      *batch,
		SkipFailed: func(e index.Entry) bool { return !*retry && failed.has(e) },
		Failed:     failed.add,
		Progress: func(p index.Progress) {
			embedTime = p.Elapsed
			bar.total = p.Total
			bar.update(p.Done, p.Failed)
		},
		Warn: func(path string, err error) {
			mu.Lock()
			defer mu.Unlock()
			warnings++
			if warnings <= maxWarnings {
				bar.warn(fmt.Sprintf("warning: skipped %s: %s", termtext.Safe(path), skipReason(path, err)))
			} else if warnings == maxWarnings+1 {
				bar.warn("warning: more files skipped; the summary counts them")
			}
		},
	}
	start := time.Now()
	st, err := x.Update(ctx, fs.Args(), opt)
	bar.finish()
	interrupted := errors.Is(err, context.Canceled)
	// Whatever happened, every entry the store holds is complete (a file
	// is saved with every finished embedding, a database has committed
	// every finished batch); the failures beside an index file are saved
	// with it.
	if f, ok := x.(*store.File); ok && (err == nil || st.Found > 0 || st.Removed > 0) {
		if serr := failed.save(f.Index()); serr != nil {
			return errors.Join(err, serr)
		}
	}
	if err != nil && !interrupted {
		return fmt.Errorf("%w (%s keeps the %d embeddings made before)", err, redact(*out), st.Entries)
	}
	secs := time.Since(start).Seconds()
	sum := indexSummary{Index: redact(*out), Stats: st, Seconds: secs, Interrupted: interrupted}
	if n := st.Added + st.Changed; n > 0 && embedTime > 0 {
		sum.ImagesPerS = float64(n) / embedTime.Seconds()
	}
	if err := printJSON(e.stdout, sum); err != nil {
		return err
	}
	if interrupted {
		if st.Found == 0 {
			return fmt.Errorf("interrupted while listing files: %s is unchanged", redact(*out))
		}
		return fmt.Errorf("interrupted: %s keeps %d embeddings; run the same command again to embed the %d files left", redact(*out), st.Entries, st.Pending)
	}
	if st.Failed > 0 {
		return exitError{code: exitSomeFailed, err: fmt.Errorf("%d files or folders could not be read or embedded (see the warnings); %s holds the %d others", st.Failed, redact(*out), st.Entries)}
	}
	return nil
}

// failures remembers the files that could not be decoded, by path, size
// and modification time, in a JSON-lines file beside the index, so that
// later runs skip them until they change.
type failures struct {
	path string
	mu   sync.Mutex
	old  map[string]index.Entry
	new  map[string]failure
}

type failure struct {
	index.Entry
	Error string `json:"error"`
}

func loadFailures(path string) (*failures, error) {
	f := &failures{path: path, old: map[string]index.Entry{}, new: map[string]failure{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r failure
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		f.old[r.Path] = r.Entry
		f.new[r.Path] = r
	}
	return f, nil
}

// has reports whether e failed before with this size and time.
func (f *failures) has(e index.Entry) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.old[e.Path]
	return ok && o == e
}

func (f *failures) add(e index.Entry, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.new[e.Path] = failure{e, oneLine(err.Error())}
}

// save writes the failures whose file is still there, unchanged, and not
// in the index (removing the file when none is left).
func (f *failures) save(x *index.Index) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keep []failure
	for _, r := range f.new {
		if _, ok := x.Lookup(r.Path); ok {
			continue
		}
		info, err := os.Stat(r.Path)
		if err != nil || info.Size() != r.Size || info.ModTime().UnixNano() != r.ModTime {
			continue
		}
		keep = append(keep, r)
	}
	if len(keep) == 0 {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	slices.SortFunc(keep, func(a, b failure) int { return strings.Compare(a.Path, b.Path) })
	return atomicfile.Write(f.path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range keep {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// limitHeap sets a soft limit on the Go heap (unless GOMEMLIMIT is set) so
// that the garbage of decoded images is collected before the heap grows to
// twice what is live. The limit is what is live once the model and index
// are open, plus the decoding budget, plus room for four batches of
// preprocessed images (the queue of decoded images holds two, the tower
// embeds a third, the decoders fill the next) and 64 MiB for the index growing and the rest; so the heap
// follows the budget rather than the size of the last large photo
// (docs/PERFORMANCE.md has the peak RSS it gives).
func limitHeap(budget, batchBytes int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	debug.SetMemoryLimit(int64(ms.HeapAlloc) + budget + 4*batchBytes + 64<<20)
}

// skipReason shortens a decoding error for a warning that already names
// the file.
func skipReason(path string, err error) string {
	msg := strings.TrimPrefix(err.Error(), path+": ")
	return termtext.Safe(oneLine(strings.TrimPrefix(msg, "imageproc: ")))
}

// modelEmbedder adapts a model to index.Embedder.
type modelEmbedder struct{ m *clip.Model }

func (me modelEmbedder) Load(path string) ([]float32, error) { return me.m.ImageInput(path) }

func (me modelEmbedder) Embed(pix [][]float32) ([][]float32, error) { return me.m.EmbedPixels(pix) }

func runIndexExport(e *env, args []string) error {
	fs := flag.NewFlagSet("index export", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: clipinfer index export [-o PREFIX] [-fingerprint FP] INDEX\n\nWrite an index's vectors as PREFIX.npy (float32, rows × dim) and one JSON line per row as PREFIX.jsonl ({\"row\",\"path\",\"size\",\"mtime_ns\"}): what FAISS, Qdrant and clip-retrieval ingest. INDEX is an index file or a postgres:// database URL.\n\nflags:\n")
		fs.PrintDefaults()
	}
	prefix := fs.String("o", "", "output prefix (default: INDEX without its extension; required for a database)")
	fingerprint := fs.String("fingerprint", "", "for a database holding several models: the model's fingerprint (or a prefix of it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := nargs(fs, 1, 1, "INDEX"); err != nil {
		return err
	}
	loc := fs.Arg(0)
	p := *prefix
	if p == "" {
		if store.IsDatabaseURL(loc) {
			return errors.New("index export: give -o PREFIX to export a database")
		}
		p = strings.TrimSuffix(loc, filepath.Ext(loc))
	}
	var model *index.ModelInfo
	if *fingerprint != "" {
		model = &index.ModelInfo{Fingerprint: *fingerprint}
	}
	ctx := context.Background()
	x, err := openStore(ctx, loc, model, false, 0, index.SearchOptions{}, false)
	if err != nil {
		return err
	}
	defer x.Close()
	// The two files are written together so that their rows match; each
	// appears atomically.
	rows := 0
	err = atomicfile.Write(p+".npy", func(npy io.Writer) error {
		return atomicfile.Write(p+".jsonl", func(jsonl io.Writer) error {
			var err error
			rows, err = x.Export(ctx, npy, jsonl)
			return err
		})
	})
	if err != nil {
		return err
	}
	return printJSON(e.stdout, struct {
		NPY   string `json:"npy"`
		JSONL string `json:"jsonl"`
		Rows  int    `json:"rows"`
		Dim   int    `json:"dim"`
		Model string `json:"model_fingerprint"`
	}{p + ".npy", p + ".jsonl", rows, x.Model().Dim, x.Model().Fingerprint})
}

// progress shows how far a long job is: a bar with rate and ETA redrawn in
// place on a terminal, a plain line every few seconds otherwise.
type progress struct {
	w      io.Writer
	tty    bool
	quiet  bool
	what   string
	total  int
	start  time.Time
	last   time.Time
	drawn  bool
	shown  int // done count last printed (plain mode)
	mu     sync.Mutex
	failed int
}

// plainEvery is how often progress prints a line when not on a terminal.
const plainEvery = 5 * time.Second

func newProgress(e *env, what string, total int) *progress {
	p := &progress{w: e.stderr, what: what, total: total, start: time.Now()}
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// update reports done items (of total, if known) and failures so far.
func (p *progress) update(done, failed int) {
	if p == nil || p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.failed = max(p.failed, failed)
	if p.tty {
		if now.Sub(p.last) < 100*time.Millisecond && done < p.total {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(done, true))
		p.drawn = true
		return
	}
	if done == p.shown || (now.Sub(p.last) < plainEvery && done < p.total) {
		return
	}
	if p.last.IsZero() && now.Sub(p.start) < plainEvery {
		return // jobs shorter than plainEvery stay silent
	}
	p.last, p.shown = now, done
	fmt.Fprintln(p.w, p.line(done, false))
}

func (p *progress) line(done int, bar bool) string {
	el := time.Since(p.start)
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el.Seconds()
	}
	var b strings.Builder
	if bar && p.total > 0 {
		const width = 30
		n := min(width, done*width/max(p.total, 1))
		b.WriteString("[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] ")
	}
	if p.total > 0 {
		fmt.Fprintf(&b, "%d/%d %s (%.0f%%)", done, p.total, p.what, 100*float64(done)/float64(p.total))
	} else {
		fmt.Fprintf(&b, "%d %s", done, p.what)
	}
	fmt.Fprintf(&b, ", %.1f/s", rate)
	if p.total > 0 && rate > 0 && done < p.total {
		eta := time.Duration(float64(p.total-done) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	if p.failed > 0 {
		fmt.Fprintf(&b, ", %d skipped", p.failed)
	}
	return b.String()
}

// warn prints a message on its own line, keeping the bar below it.
func (p *progress) warn(msg string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintln(p.w, msg)
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p == nil || p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
