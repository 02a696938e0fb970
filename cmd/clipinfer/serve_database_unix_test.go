//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/server"
	"github.com/clipinfer/clipinfer/store/pgstore/pgtest"
)

// searchImage posts an image query to /v1/search.
func searchImage(t *testing.T, base, path string, k int) (int, []server.Result) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]any{"image": base64.StdEncoding.EncodeToString(b), "k": k})
	resp, err := http.Post(base+"/v1/search", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var sr server.SearchResponse
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&sr))
	}
	return resp.StatusCode, sr.Results
}

// TestServeDatabase runs two serve replicas on one database: they agree,
// see entries a concurrent index run adds without a restart, report the
// database in /healthz and /metrics, become unready (without exiting)
// while the database is down and ready again when it is back.
func TestServeDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and server processes: skipped in -short mode")
	}
	cl, err := pgtest.Start(pgtest.Options{})
	if errors.Is(err, pgtest.ErrUnavailable) {
		t.Skip("needs PostgreSQL with pgvector: " + err.Error())
	}
	require.NoError(t, err)
	defer cl.Stop()
	url, err := cl.CreateDB(context.Background(), "serve")
	require.NoError(t, err)

	dir := t.TempDir()
	model := rtModel(t, dir, 6)
	first := rtImages(t, filepath.Join(dir, "a"), 20, 8)
	code, _, stderr := rtRun("index", "-m", model, "-o", url, "-q", filepath.Join(dir, "a"))
	require.Equal(t, 0, code, stderr)

	r1 := startServe(t, "-m", model, "-index", url, "-addr", "127.0.0.1:0")
	r2 := startServe(t, "-m", model, "-index", url, "-addr", "127.0.0.1:0")
	for _, r := range []*process{r1, r2} {
		code, h := health(t, r.url)
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok", h.Status)
		require.NotNil(t, h.Index)
		assert.Equal(t, "postgres", h.Index.Kind)
		assert.True(t, h.Index.Ready)
		assert.Equal(t, 20, h.IndexEntries)
		assert.Equal(t, "1", metric(t, r.url, `clipinfer_index_ready{kind="postgres"}`))
	}
	c1, h1 := searchImage(t, r1.url, first[3], 5)
	c2, h2 := searchImage(t, r2.url, first[3], 5)
	require.Equal(t, http.StatusOK, c1)
	require.Equal(t, http.StatusOK, c2)
	assert.Equal(t, h1, h2, "replicas agree")
	assert.Equal(t, first[3], h1[0].Path)

	// A concurrent writer adds a folder; both replicas find the new
	// images at once and count them soon.
	second := rtImages(t, filepath.Join(dir, "b"), 10, 9)
	code, _, stderr = rtRun("index", "-m", model, "-o", url, "-q", filepath.Join(dir, "b"))
	require.Equal(t, 0, code, stderr)
	for _, r := range []*process{r1, r2} {
		c, hits := searchImage(t, r.url, second[4], 3)
		require.Equal(t, http.StatusOK, c)
		assert.Equal(t, second[4], hits[0].Path)
		assert.Eventually(t, func() bool { _, h := health(t, r.url); return h.IndexEntries == 30 }, 15*time.Second, 200*time.Millisecond)
	}

	// The database goes down: unready, searches 503, embeddings still work.
	require.NoError(t, cl.Kill())
	assert.Eventually(t, func() bool {
		code, h := health(t, r1.url)
		return code == http.StatusServiceUnavailable && h.Status == "unready" && h.Index != nil && !h.Index.Ready && h.Index.Error != ""
	}, 15*time.Second, 200*time.Millisecond)
	c, _ := searchImage(t, r1.url, first[0], 3)
	assert.Equal(t, http.StatusServiceUnavailable, c)
	assert.Equal(t, "0", metric(t, r1.url, `clipinfer_index_ready{kind="postgres"}`))
	resp, err := http.Post(r1.url+"/v1/embeddings", "application/json", bytes.NewReader([]byte(`{"texts":["a cat"]}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Back again: ready without a restart, nothing lost.
	require.NoError(t, cl.Restart())
	for _, r := range []*process{r1, r2} {
		assert.Eventually(t, func() bool { code, _ := health(t, r.url); return code == http.StatusOK }, 20*time.Second, 200*time.Millisecond)
		c, hits := searchImage(t, r.url, second[7], 3)
		require.Equal(t, http.StatusOK, c)
		assert.Equal(t, second[7], hits[0].Path)
		select {
		case <-r.done:
			t.Fatalf("replica exited: %s", r.stderr.String())
		default:
		}
	}
	_, h := health(t, r2.url)
	assert.Equal(t, 30, h.IndexEntries)
}

// TestServeReloadsReplacedFile replaces the index file under a running
// server (as clipinfer index does: a new file renamed over the old): the
// server answers from the new version without a restart.
func TestServeReloadsReplacedFile(t *testing.T) {
	dir := t.TempDir()
	model := rtModel(t, dir, 6)
	first := rtImages(t, filepath.Join(dir, "a"), 6, 10)
	idx := filepath.Join(dir, "photos.idx")
	code, _, stderr := rtRun("index", "-m", model, "-o", idx, "-q", filepath.Join(dir, "a"))
	require.Equal(t, 0, code, stderr)
	r := startServe(t, "-m", model, "-index", idx, "-reload", "100ms", "-addr", "127.0.0.1:0")
	_, h := health(t, r.url)
	assert.Equal(t, 6, h.IndexEntries)
	assert.Equal(t, "file", h.Index.Kind)

	second := rtImages(t, filepath.Join(dir, "b"), 4, 11)
	code, _, stderr = rtRun("index", "-m", model, "-o", idx, "-q", filepath.Join(dir, "b"))
	require.Equal(t, 0, code, stderr)
	require.Eventually(t, func() bool { _, h := health(t, r.url); return h.IndexEntries == 10 }, 10*time.Second, 50*time.Millisecond)
	c, hits := searchImage(t, r.url, second[1], 3)
	require.Equal(t, http.StatusOK, c)
	assert.Equal(t, second[1], hits[0].Path)
	c, hits = searchImage(t, r.url, first[2], 3)
	require.Equal(t, http.StatusOK, c)
	assert.Equal(t, first[2], hits[0].Path)
	assert.Equal(t, "1", metric(t, r.url, "clipinfer_index_reloads_total"))

	// A damaged replacement is refused; the server keeps the good version.
	require.NoError(t, os.WriteFile(idx+".tmp", []byte("not an index"), 0o644))
	require.NoError(t, os.Rename(idx+".tmp", idx))
	require.Eventually(t, func() bool { _, h := health(t, r.url); return h.Index.Error != "" }, 10*time.Second, 50*time.Millisecond)
	code, h = health(t, r.url)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, 10, h.IndexEntries)
	c, _ = searchImage(t, r.url, second[1], 3)
	assert.Equal(t, http.StatusOK, c)
}
