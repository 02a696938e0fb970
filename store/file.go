package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clipinfer/clipinfer/index"
)

// File is an index file held in memory. Searches may run concurrently with
// each other and with Reload, which swaps in a new version of the file
// when it has been replaced (written elsewhere and renamed over the path,
// as clipinfer index does).
type File struct {
	path    string
	search  index.SearchOptions
	mu      sync.RWMutex
	x       *index.Index
	stamp   fileStamp
	reloads atomic.Int64
	lastErr atomic.Value // string: the last reload error, "" after success
	// CheckpointEvery is how often Update saves the file while embedding
	// (0: only at the end).
	CheckpointEvery time.Duration
}

// fileStamp tells one version of a file from another.
type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mtime: fi.ModTime(), ino: inode(fi)}
}

// OpenFile loads the index file at path. If the file does not exist and
// model is not nil, it starts an empty index for model storing dtype
// vectors, written by the first Update.
func OpenFile(path string, model *index.ModelInfo, dtype index.DType, opt index.SearchOptions) (*File, error) {
	f := &File{path: path, search: opt}
	f.lastErr.Store("")
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) && model != nil {
		x, err := index.New(*model, dtype)
		if err != nil {
			return nil, err
		}
		f.x = x
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if f.x, err = index.Load(path); err != nil {
		return nil, err
	}
	f.stamp = stampOf(fi)
	return f, nil
}

// NewMemory wraps an index already in memory (no file behind it: Update
// and Reload do nothing to it).
func NewMemory(x *index.Index, opt index.SearchOptions) *File {
	f := &File{x: x, search: opt}
	f.lastErr.Store("")
	return f
}

// Index returns the current in-memory index. It must not be modified.
func (f *File) Index() *index.Index {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.x
}

// Model implements Store.
func (f *File) Model() index.ModelInfo { return f.Index().Model() }

// SearchBatch implements Store with an exact scan (index.Index.SearchBatch).
func (f *File) SearchBatch(ctx context.Context, queries [][]float32, k int) ([][]index.Hit, error) {
	return f.Index().SearchBatch(queries, k, f.search)
}

// Status implements Store.
func (f *File) Status(ctx context.Context) Status {
	st := Status{Kind: "file", Location: f.path, Ready: true, Entries: f.Index().Len(), Reloads: f.reloads.Load()}
	if f.path == "" {
		st.Kind, st.Location = "memory", ""
	}
	if e, _ := f.lastErr.Load().(string); e != "" {
		st.Error = "reload failed (serving the previous version): " + e
	}
	return st
}

// Reload loads the file again if it has been replaced or changed since it
// was loaded, and reports whether it did. A file that cannot be read or
// is malformed (e.g. caught half-written by a program that does not write
// atomically) leaves the loaded version in place and returns the error;
// a later Reload tries again. A new version must hold the same model's
// vectors.
func (f *File) Reload() (bool, error) {
	if f.path == "" {
		return false, nil
	}
	fi, err := os.Stat(f.path)
	if err != nil {
		return false, f.fail(fmt.Errorf("index: %w", err))
	}
	f.mu.RLock()
	same := stampOf(fi) == f.stamp
	fp := f.x.Model().Fingerprint
	f.mu.RUnlock()
	if same {
		return false, nil
	}
	x, err := index.Load(f.path)
	if err != nil {
		return false, f.fail(err)
	}
	if err := x.CheckModel(fp); err != nil {
		return false, f.fail(fmt.Errorf("%s: %w", f.path, err))
	}
	f.mu.Lock()
	f.x, f.stamp = x, stampOf(fi)
	f.mu.Unlock()
	f.reloads.Add(1)
	f.lastErr.Store("")
	return true, nil
}

func (f *File) fail(err error) error {
	f.lastErr.Store(err.Error())
	return err
}

// Watch calls Reload every interval until ctx ends, passing each reload
// or error to report (which may be nil).
func (f *File) Watch(ctx context.Context, every time.Duration, report func(reloaded bool, err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := f.Reload()
			if report != nil && (ok || err != nil) {
				report(ok, err)
			}
		}
	}
}

// Update implements Store: index.Update on the in-memory index, then an
// atomic save (also every CheckpointEvery while embedding). The file is
// saved even when Update stops early, keeping every finished embedding.
func (f *File) Update(ctx context.Context, roots []string, opt index.UpdateOptions) (index.Stats, error) {
	if f.path == "" {
		return index.Stats{}, errors.New("index: in-memory index cannot be updated")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	opt.Checkpoint = func(x *index.Index) error { return x.Save(f.path) }
	opt.CheckpointEvery = f.CheckpointEvery
	st, err := index.Update(ctx, f.x, roots, opt)
	if err == nil || st.Found > 0 || st.Removed > 0 {
		if serr := f.x.Save(f.path); serr != nil {
			return st, errors.Join(err, serr)
		}
		if fi, serr := os.Stat(f.path); serr == nil {
			f.stamp = stampOf(fi)
		}
	}
	return st, err
}

// Export implements Store.
func (f *File) Export(ctx context.Context, npy, jsonl io.Writer) (int, error) {
	x := f.Index()
	if err := x.ExportNPY(npy); err != nil {
		return 0, err
	}
	if err := x.ExportJSONL(jsonl); err != nil {
		return 0, err
	}
	return x.Len(), nil
}

// Close implements Store.
func (f *File) Close() error { return nil }
