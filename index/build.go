package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Embedder turns image files into embeddings for Update. Load runs on
// several goroutines at once (decoding in parallel with inference); Embed
// runs on one.
type Embedder interface {
	// Load decodes and preprocesses one image file into the model's input.
	Load(path string) ([]float32, error)
	// Embed returns the normalised embeddings of a batch of inputs.
	Embed(inputs [][]float32) ([][]float32, error)
}

// ImageExtensions are the file name extensions Update considers images
// (lower case, with the dot).
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// UpdateOptions tune Update.
type UpdateOptions struct {
	// Embedder makes the embeddings (required).
	Embedder Embedder
	// Decoders is the number of goroutines decoding images; 0 means 2.
	Decoders int
	// Batch is the number of images embedded per Embed call; 0 means 16.
	Batch int
	// Progress, if set, is called after every batch and once at the end.
	Progress func(Progress)
	// Warn, if set, is called for every file or folder that is skipped
	// because it cannot be read or decoded.
	Warn func(path string, err error)
	// SkipFailed, if set, is asked about every new or changed file before
	// it is embedded: a file it accepts (one that failed before and has
	// not changed since) is left out and counted in Stats.SkippedFailed.
	SkipFailed func(Entry) bool
	// Failed, if set, is called with the entry of every file that could
	// not be read or decoded (after Warn), e.g. to remember it.
	Failed func(Entry, error)
	// Checkpoint, if set, is called with the index every CheckpointEvery
	// while embedding (e.g. to save it), so that even a killed process
	// keeps most of its work.
	Checkpoint      func(*Index) error
	CheckpointEvery time.Duration
}

// Progress reports how far Update has come.
type Progress struct {
	// Done and Total count the files to embed in this run.
	Done, Total int
	// Failed counts files skipped because they could not be read or
	// decoded.
	Failed int
	// Elapsed is the time since embedding started.
	Elapsed time.Duration
}

// Stats summarises an Update.
type Stats struct {
	// Found is the number of image files found under the roots.
	Found int `json:"found"`
	// Kept is the number of entries whose file was unchanged.
	Kept int `json:"kept"`
	// Added counts files embedded for the first time; Changed those
	// re-embedded because their size or modification time changed. Files
	// that failed or are still pending count in neither.
	Added   int `json:"added"`
	Changed int `json:"changed"`
	// Removed counts entries dropped because their file is gone.
	Removed int `json:"removed"`
	// Failed counts files or folders skipped with a warning.
	Failed int `json:"failed"`
	// Ignored counts files without an image extension.
	Ignored int `json:"ignored"`
	// SkippedFailed counts files left out because they failed before and
	// have not changed (see UpdateOptions.SkipFailed).
	SkippedFailed int `json:"skipped_failed"`
	// Links counts symbolic links to folders that were followed; Loops
	// those not followed because they lead back to an enclosing folder
	// (each also reported through Warn with ErrLinkLoop).
	Links int `json:"links"`
	Loops int `json:"loops"`
	// Pending counts new or changed files not embedded because Update
	// was interrupted; a changed file's old vector is dropped, so a later
	// Update embeds it again.
	Pending int `json:"pending"`
	// Entries is the size of the index afterwards.
	Entries int `json:"entries"`
}

// Update brings x up to date with the image files under roots (files or
// folders, walked recursively): entries under a root whose file is gone or
// has a different size or modification time are dropped, and new or
// changed files are embedded and added. Entries outside every root are kept
// as they are.
//
// Unreadable folders and files that cannot be decoded are skipped with a
// call to Warn and counted. When ctx is cancelled Update stops early and
// returns ctx's error with x holding every embedding finished so far, ready
// to be saved; a later Update resumes where it stopped.
func Update(ctx context.Context, x *Index, roots []string, opt UpdateOptions) (Stats, error) {
	var st Stats
	if opt.Embedder == nil {
		return st, errors.New("index: update: no embedder")
	}
	if len(roots) == 0 {
		return st, errors.New("index: update: no paths")
	}
	found, abs, err := Walk(ctx, roots, opt, &st)
	if err != nil {
		return st, err
	}
	todo, redo, seen := Diff(found, func(path string) (Entry, bool) {
		i, ok := x.Lookup(path)
		if !ok {
			return Entry{}, false
		}
		return x.entries[i], true
	}, opt, &st)
	// Drop deleted files and the old vectors of changed ones.
	x.Retain(func(e Entry) bool {
		if _, ok := redo[e.Path]; ok {
			return false
		}
		if seen[e.Path] || !under(e.Path, abs) {
			return true
		}
		st.Removed++
		return false
	})
	if len(todo) > 0 || st.Removed > 0 {
		x.touch()
	}
	st.Pending = len(todo)
	lastCheckpoint := time.Now()
	err = embedAll(ctx, todo, opt, &st, func(es []Entry, vs [][]float32) error {
		for i, e := range es {
			if err := x.Add(e, vs[i]); err != nil {
				return err
			}
		}
		if opt.Checkpoint != nil && opt.CheckpointEvery > 0 && time.Since(lastCheckpoint) >= opt.CheckpointEvery {
			lastCheckpoint = time.Now()
			if err := opt.Checkpoint(x); err != nil {
				return fmt.Errorf("index: checkpoint: %w", err)
			}
		}
		return nil
	})
	for _, e := range todo {
		if _, ok := x.Lookup(e.Path); !ok {
			continue
		}
		if redo[e.Path] {
			st.Changed++
		} else {
			st.Added++
		}
	}
	st.Entries = x.Len()
	return st, err
}

// under reports whether path is one of roots or inside one of them.
func under(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, strings.TrimSuffix(r, string(filepath.Separator))+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// loaded is one decoded file on its way to the embedder.
type loaded struct {
	e   Entry
	in  []float32
	err error
}

// Walk lists the image files under roots (files or folders, walked
// recursively, made absolute, symbolic links to folders followed once),
// sorted by path and without duplicates, as Update does: hidden folders are
// skipped, unreadable ones reported to opt.Warn (counted in st.Failed),
// link loops reported to opt.Warn with ErrLinkLoop (counted in st.Loops),
// and st's Found, Ignored and Links counted. It also returns the absolute
// roots.
func Walk(ctx context.Context, roots []string, opt UpdateOptions, st *Stats) (found []Entry, absRoots []string, err error) {
	absRoots = make([]string, len(roots))
	for i, r := range roots {
		a, err := filepath.Abs(r)
		if err != nil {
			return nil, nil, fmt.Errorf("index: %s: %w", r, err)
		}
		if _, err := os.Stat(a); err != nil {
			return nil, nil, fmt.Errorf("index: %w", err)
		}
		absRoots[i] = a
	}
	warn := func(path string, err error) {
		st.Failed++
		if opt.Warn != nil {
			opt.Warn(path, err)
		}
	}
	loop := func(path string) {
		st.Loops++
		if opt.Warn != nil {
			opt.Warn(path, ErrLinkLoop)
		}
	}
	found, err = walk(ctx, absRoots, warn, loop, st)
	st.Found = len(found)
	return found, absRoots, err
}

// Diff compares the files Walk found with what a store holds (stored
// returns the entry kept for a path): todo lists the new and changed files
// to embed, leaving out new files opt.SkipFailed skips (counted in
// st.SkippedFailed); redo tells, for each of them, whether it replaces a
// stored entry; seen holds every found path. st.Kept counts the rest.
func Diff(found []Entry, stored func(path string) (Entry, bool), opt UpdateOptions, st *Stats) (todo []Entry, redo, seen map[string]bool) {
	seen = make(map[string]bool, len(found))
	redo = map[string]bool{}
	for _, e := range found {
		seen[e.Path] = true
		if old, ok := stored(e.Path); !ok || old != e {
			if !ok && opt.SkipFailed != nil && opt.SkipFailed(e) {
				st.SkippedFailed++
				continue
			}
			todo = append(todo, e)
			redo[e.Path] = ok
		}
	}
	st.Kept = len(found) - len(todo) - st.SkippedFailed
	return todo, redo, seen
}

// Under reports whether path is one of roots or inside one of them.
func Under(path string, roots []string) bool { return under(path, roots) }

// EmbedFiles decodes and embeds files as Update does (opt.Decoders
// goroutines decoding while the model embeds batches of opt.Batch) and hands
// every finished batch, in order, to sink. Files that cannot be decoded are
// reported to opt.Warn and counted in st.Failed; st.Pending counts the files
// not handed to sink when ctx ends. opt.Checkpoint is not used.
func EmbedFiles(ctx context.Context, files []Entry, opt UpdateOptions, st *Stats, sink func([]Entry, [][]float32) error) error {
	if opt.Embedder == nil {
		return errors.New("index: embed: no embedder")
	}
	st.Pending += len(files)
	return embedAll(ctx, files, opt, st, sink)
}

// embedAll decodes todo on several goroutines and embeds the results in
// batches, handing each to sink, until done or ctx is cancelled.
//
// The decoders and the embedder share the cores. The embedder waits for a
// full batch while every decoder is busy (the cores are used either way and
// a fuller batch costs the tower less per image), and takes whatever is
// decoded as soon as a decoder runs out of work (the end of the list, the
// queue of decoded images full, fewer decoders than cores), so a core never
// idles while decoded images wait.
func embedAll(ctx context.Context, todo []Entry, opt UpdateOptions, st *Stats, sink func([]Entry, [][]float32) error) error {
	if len(todo) == 0 {
		if opt.Progress != nil {
			opt.Progress(Progress{})
		}
		return ctx.Err()
	}
	decoders := opt.Decoders
	if decoders <= 0 {
		decoders = 2
	}
	batch := opt.Batch
	if batch <= 0 {
		batch = 16
	}
	// Fewer busy decoders than this leaves a core to the embedder.
	full := min(decoders, goruntime.GOMAXPROCS(0))
	ctx, cancel := context.WithCancel(ctx)
	// Files are handed out in order and results consumed in order: each
	// job carries its own result channel, queued in submission order. At
	// most cap(results) decoded images wait for the embedder.
	type job struct {
		e Entry
		r chan loaded
	}
	jobs := make(chan job)
	results := make(chan chan loaded, 2*batch)
	// busy counts the decoders working on a file; idle wakes the embedder
	// when one runs out of work.
	var busy atomic.Int32
	idle := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer func() {
		cancel() // stops the feeder, which closes jobs, which stops the decoders
		wg.Wait()
	}()
	// rest marks a decoder as out of work and wakes the embedder, which
	// may be waiting on a result only that decoder's peers can deliver.
	rest := func() {
		busy.Add(-1)
		select {
		case idle <- struct{}{}:
		default:
		}
	}
	for range decoders {
		wg.Add(1)
		busy.Add(1)
		go func() {
			defer wg.Done()
			for {
				var j job
				var ok bool
				select {
				case j, ok = <-jobs:
				default:
					rest()
					j, ok = <-jobs
					busy.Add(1)
				}
				if !ok {
					// The list is done: this decoder's core is free too.
					rest()
					return
				}
				in, err := opt.Embedder.Load(j.e.Path)
				j.r <- loaded{j.e, in, err}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(results)
		defer close(jobs)
		for _, e := range todo {
			r := make(chan loaded, 1)
			select {
			case results <- r:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{e, r}:
			case <-ctx.Done():
				return
			}
		}
	}()

	start := time.Now()
	done := 0
	var pend []loaded
	progress := func() {
		if opt.Progress != nil {
			opt.Progress(Progress{Done: done, Total: len(todo), Failed: st.Failed, Elapsed: time.Since(start)})
		}
	}
	flush := func() error {
		if len(pend) == 0 {
			return nil
		}
		ins := make([][]float32, len(pend))
		for i, p := range pend {
			ins[i] = p.in
		}
		vs, err := opt.Embedder.Embed(ins)
		if err != nil {
			return fmt.Errorf("index: embed: %w", err)
		}
		if len(vs) != len(pend) {
			return fmt.Errorf("index: embed returned %d vectors for %d images", len(vs), len(pend))
		}
		es := make([]Entry, len(pend))
		for i, p := range pend {
			es[i] = p.e
		}
		if err := sink(es, vs); err != nil {
			return err
		}
		done += len(pend)
		st.Pending -= len(pend)
		pend = pend[:0]
		progress()
		return nil
	}
	// starved reports whether a core would idle if the embedder waited.
	starved := func() bool { return len(pend) > 0 && int(busy.Load()) < full }
	var head chan loaded // the next result in order, taken from results
	for {
		if head == nil {
			var ok bool
			select {
			case head, ok = <-results:
			default:
				if starved() {
					if err := flush(); err != nil {
						return err
					}
					continue
				}
				select {
				case head, ok = <-results:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if !ok {
				break
			}
		}
		var l loaded
		select {
		case l = <-head:
		default:
			if starved() {
				if err := flush(); err != nil {
					return err
				}
				continue
			}
			select {
			case l = <-head:
			case <-idle:
				continue // look again: a decoder ran out of work
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		head = nil
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if l.err != nil {
			st.Failed++
			if opt.Warn != nil {
				opt.Warn(l.e.Path, l.err)
			}
			if opt.Failed != nil {
				opt.Failed(l.e, l.err)
			}
			st.Pending--
			done++
			continue
		}
		pend = append(pend, l)
		if len(pend) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	progress()
	return nil
}
