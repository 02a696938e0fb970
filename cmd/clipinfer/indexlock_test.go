package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/index"
)

// TestConcurrentIndexWriters runs two index commands on one -o at once, each
// with its own folder: either both finish and the index holds both folders'
// entries, or one fails saying another update holds the lock and the index
// holds the other's entries. No entry is lost silently.
func TestConcurrentIndexWriters(t *testing.T) {
	dir := t.TempDir()
	model := rtModel(t, dir, 1)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	rtImages(t, a, 30, 1)
	rtImages(t, b, 30, 2)
	idx := filepath.Join(dir, "shared.idx")
	t.Setenv(cacheDirEnv, filepath.Join(dir, "cache"))

	codes := make([]int, 2)
	errs := make([]string, 2)
	var wg sync.WaitGroup
	for i, folder := range []string{a, b} {
		wg.Go(func() { codes[i], _, errs[i] = rtRun("index", "-q", "-m", model, "-o", idx, folder) })
	}
	wg.Wait()
	x, err := index.Load(idx)
	require.NoError(t, err)
	ok := 0
	for i := range codes {
		if codes[i] == 0 {
			ok++
		} else {
			assert.Equal(t, 1, codes[i])
			assert.Contains(t, errs[i], "another process is updating this index")
		}
	}
	require.GreaterOrEqual(t, ok, 1, "%v", errs)
	assert.Equal(t, 30*ok, x.Len(), "every finished run's entries are in the index")
	_, err = os.Stat(idx + ".lock")
	assert.NoError(t, err, "the lock file stays beside the index")
}

// TestIndexExitStatus: 0 when every image is embedded (files without an
// image extension are ignored, not failures), 3 when some could not be.
func TestIndexExitStatus(t *testing.T) {
	dir := t.TempDir()
	model := rtModel(t, dir, 1)
	photos := filepath.Join(dir, "photos")
	rtImages(t, photos, 3, 1)
	require.NoError(t, os.WriteFile(filepath.Join(photos, "notes.txt"), []byte("hi"), 0o644))
	t.Setenv(cacheDirEnv, filepath.Join(dir, "cache"))
	idx := filepath.Join(dir, "p.idx")
	code, _, errOut := rtRun("index", "-q", "-m", model, "-o", idx, photos)
	assert.Equal(t, 0, code, errOut)
	require.NoError(t, os.WriteFile(filepath.Join(photos, "broken.png"), []byte("not a png"), 0o644))
	code, out, errOut := rtRun("index", "-q", "-m", model, "-o", idx, photos)
	assert.Equal(t, exitSomeFailed, code)
	assert.Contains(t, errOut, "1 files or folders could not be read or embedded")
	assert.Equal(t, 3, jsonLines[indexSummary](t, out)[0].Entries, "the summary is still printed")
}
