package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/store/pgstore/pgtest"
)

// One PostgreSQL cluster serves every test of the package that needs one;
// TestMain stops it.
var (
	pgOnce    sync.Once
	pgCluster *pgtest.Cluster
	pgErr     error
	pgSeq     atomic.Int64
)

// testDB returns the URL of a new, empty database, or skips the test when
// PostgreSQL with pgvector is not installed.
func testDB(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL: skipped in -short mode (the arm64 suite under qemu)")
	}
	pgOnce.Do(func() { pgCluster, pgErr = pgtest.Start(pgtest.Options{}) })
	if errors.Is(pgErr, pgtest.ErrUnavailable) {
		t.Skip("needs PostgreSQL with pgvector: " + pgErr.Error())
	}
	require.NoError(t, pgErr)
	url, err := pgCluster.CreateDB(context.Background(), fmt.Sprintf("cmd%d", pgSeq.Add(1)))
	require.NoError(t, err)
	return url
}

// stopTestDB stops the shared cluster, if one was started.
func stopTestDB() {
	if pgCluster != nil {
		if err := pgCluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// TestDatabaseIndexMatchesFile indexes the same images with the same model
// into an index file and into PostgreSQL: text and image searches return
// the same top-5 with the same scores, an unchanged re-run keeps every
// entry, and index export writes the same rows.
func TestDatabaseIndexMatchesFile(t *testing.T) {
	url := testDB(t)
	dir := t.TempDir()
	model := rtModel(t, dir, 3)
	photos := filepath.Join(dir, "photos")
	paths := rtImages(t, photos, 60, 5)
	file := filepath.Join(dir, "photos.idx")

	for _, out := range []string{file, url} {
		code, stdout, stderr := rtRun("index", "-m", model, "-o", out, "-dtype", "f16", "-q", photos)
		require.Equal(t, 0, code, stderr)
		sum := jsonLines[indexSummary](t, stdout)[0]
		assert.Equal(t, 60, sum.Added)
		assert.Equal(t, 60, sum.Entries)
	}
	code, stdout, stderr := rtRun("index", "-m", model, "-o", url, "-q", photos)
	require.Equal(t, 0, code, stderr)
	sum := jsonLines[indexSummary](t, stdout)[0]
	assert.Equal(t, 60, sum.Kept)
	assert.Zero(t, sum.Added+sum.Changed+sum.Removed)

	args := []string{"-k", "5", "-image", paths[7], "-image", paths[42], "a red square", "blue", "a photo of a dog"}
	var got [2][]searchHit
	for i, idx := range []string{file, url} {
		code, stdout, stderr := rtRun(append([]string{"search", "-m", model, "-index", idx}, args...)...)
		require.Equal(t, 0, code, stderr)
		got[i] = jsonLines[searchHit](t, stdout)
	}
	require.Len(t, got[0], 25)
	require.Len(t, got[1], 25)
	for i := range got[0] {
		assert.Equal(t, got[0][i].Path, got[1][i].Path, "hit %d (%s rank %d)", i, got[0][i].Query, got[0][i].Rank)
		assert.InDelta(t, got[0][i].Score, got[1][i].Score, 2e-6)
	}
	self := 0
	for _, h := range got[1] {
		if h.Type == "image" && h.Rank == 1 {
			assert.Equal(t, h.Query, h.Path, "an image finds itself first")
			self++
		}
	}
	assert.Equal(t, 2, self)

	var exports [2]string
	for i, idx := range []string{file, url} {
		prefix := filepath.Join(dir, fmt.Sprintf("export%d", i))
		code, _, stderr := rtRun("index", "export", "-o", prefix, idx)
		require.Equal(t, 0, code, stderr)
		b, err := os.ReadFile(prefix + ".jsonl")
		require.NoError(t, err)
		exports[i] = string(b)
		npy, err := os.Stat(prefix + ".npy")
		require.NoError(t, err)
		assert.Greater(t, npy.Size(), int64(60*4))
	}
	assert.Equal(t, exports[0], exports[1])

	code, _, stderr = rtRun("index", "export", url)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "-o PREFIX")

	// Another model's search is refused rather than mixing vector spaces.
	other := rtModel(t, dir, 4)
	code, _, stderr = rtRun("search", "-m", other, "-index", url, "cat")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "different model")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, stderr)
}
