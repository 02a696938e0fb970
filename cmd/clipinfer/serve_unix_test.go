//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/server"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeCommand starts clipinfer serve on a free loopback port, makes
// real requests, then sends the process SIGINT and checks the command
// shuts down cleanly.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	model := rtModel(t, dir, 1)
	rtImages(t, filepath.Join(dir, "photos"), 8, 3)
	idx := filepath.Join(dir, "photos.idx")
	code, _, errOut := rtRun("index", "-m", model, "-o", idx, filepath.Join(dir, "photos"))
	require.Equal(t, 0, code, errOut)

	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "-m", model, "-index", idx, "-addr", "127.0.0.1:0"}, &env{stdout: io.Discard, stderr: stderr, stdin: strings.NewReader("")})
	}()
	re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
	var base string
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(stderr.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 10*time.Second, 5*time.Millisecond, stderr.String())

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	var h server.Health
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	resp.Body.Close()
	assert.Equal(t, "ok", h.Status)
	assert.Equal(t, 8, h.IndexEntries)

	resp, err = http.Post(base+"/v1/embeddings", "application/json", strings.NewReader(`{"texts":["a cat","a dog"]}`))
	require.NoError(t, err)
	var er server.EmbeddingsResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&er))
	resp.Body.Close()
	require.Len(t, er.Data, 2)
	assert.Len(t, er.Data[0].Embedding, 32)

	resp, err = http.Get(base + "/v1/search?" + url.Values{"q": {"red"}, "k": {"3"}}.Encode())
	require.NoError(t, err)
	var sr server.SearchResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sr))
	resp.Body.Close()
	assert.Len(t, sr.Results, 3)

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after SIGINT")
	}
	assert.Contains(t, stderr.String(), "msg=stopped")
}
