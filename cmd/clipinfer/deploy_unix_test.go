//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/store/pgstore"
	"github.com/clipinfer/clipinfer/store/pgstore/pgtest"
)

// startHAProxy runs HAProxy with deploy/haproxy.cfg in front of the
// replicas and returns the load balancer's URL; the test's cleanup stops
// it.
func startHAProxy(t *testing.T, replicas ...string) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("needs HAProxy (apt-get install haproxy)")
	}
	port, err := pgtest.FreePort()
	require.NoError(t, err)
	cmd := exec.Command(bin, "-db", "-f", "../../deploy/haproxy.cfg")
	cmd.Env = append(os.Environ(), fmt.Sprintf("CLIPINFER_LISTEN=127.0.0.1:%d", port))
	for i, r := range replicas {
		cmd.Env = append(cmd.Env, fmt.Sprintf("CLIPINFER_REPLICA%d=%s", i+1, strings.TrimPrefix(r, "http://")))
	}
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("haproxy log:\n%s", logs.String())
		}
	})
	lb := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(lb + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 15*time.Second, 50*time.Millisecond, logs.String())
	return lb
}

// TestDeployFailover is the deployment recipe of deploy/ end to end on
// loopback: PostgreSQL, two serve replicas and HAProxy with
// deploy/haproxy.cfg. Images are indexed through one replica's host while
// clients search and embed through the load balancer; one replica is
// killed during the load. No client request fails, and every committed
// entry is in the database and found through the load balancer.
func TestDeployFailover(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("needs HAProxy (apt-get install haproxy)")
	}
	db := testDB(t)
	dir := t.TempDir()
	model := rtModel(t, dir, 12)
	first := rtImages(t, filepath.Join(dir, "a"), 20, 13)
	code, _, stderr := rtRun("index", "-m", model, "-o", db, "-q", filepath.Join(dir, "a"))
	require.Equal(t, 0, code, stderr)

	r1 := startServe(t, "-m", model, "-index", db, "-addr", "127.0.0.1:0")
	r2 := startServe(t, "-m", model, "-index", db, "-addr", "127.0.0.1:0")
	lb := startHAProxy(t, r1.url, r2.url)

	// Bounded load: 4 clients alternate text searches and embeddings for
	// 6 s; replica 1 is killed after 2 s, while a writer indexes a second
	// folder through replica 2's host.
	const clients, loadFor, killAfter = 4, 6 * time.Second, 2 * time.Second
	var ok, failed atomic.Int64
	var failMu sync.Mutex
	var failures []string
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Since(start) < loadFor; i++ {
				var resp *http.Response
				var err error
				if (c+i)%2 == 0 {
					resp, err = client.Get(lb + "/v1/search?" + url.Values{"q": {fmt.Sprintf("query %d", i%7)}, "k": {"5"}}.Encode())
				} else {
					resp, err = client.Post(lb+"/v1/embeddings", "application/json", strings.NewReader(`{"texts":["a photo of a cat"]}`))
				}
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
						continue
					}
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
				failed.Add(1)
				failMu.Lock()
				failures = append(failures, fmt.Sprintf("%.2fs: %v", time.Since(start).Seconds(), err))
				failMu.Unlock()
			}
		}()
	}
	second := rtImages(t, filepath.Join(dir, "b"), 16, 14)
	var indexErr string
	wg.Add(1)
	go func() {
		defer wg.Done()
		code, _, stderr := rtRun("index", "-m", model, "-o", db, "-batch", "4", "-q", filepath.Join(dir, "b"))
		if code != 0 {
			indexErr = stderr
		}
	}()
	time.Sleep(killAfter)
	r1.kill()
	var okAtKill = ok.Load()
	wg.Wait()
	require.Empty(t, indexErr)
	t.Logf("%d requests answered (%d after the kill), %d failed, in %s", ok.Load(), ok.Load()-okAtKill, failed.Load(), time.Since(start).Round(time.Millisecond))
	assert.Zero(t, failed.Load(), "failed requests: %v", failures)
	assert.Greater(t, ok.Load()-okAtKill, int64(clients), "the load went on after the kill")

	// Nothing committed is lost: the database holds every image, and the
	// load balancer (now only replica 2) finds each new one first.
	s, err := pgstore.Open(context.Background(), db, pgstore.Options{})
	require.NoError(t, err)
	defer s.Close()
	n, err := s.Len(context.Background())
	require.NoError(t, err)
	assert.Equal(t, len(first)+len(second), n)
	for _, p := range []string{second[0], second[9], second[15], first[5]} {
		c, hits := searchImage(t, lb, p, 3)
		require.Equal(t, http.StatusOK, c)
		assert.Equal(t, p, hits[0].Path)
	}
}
