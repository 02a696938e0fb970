//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/server"
)

// asCommandEnv makes the test binary run as clipinfer itself (TestMain
// calls main), so tests can start real server processes and kill them
// without building a binary.
const asCommandEnv = "CLIPINFER_TEST_AS_COMMAND"

// process is a clipinfer command running in its own process.
type process struct {
	cmd    *exec.Cmd
	url    string // http://host:port once a server listens
	stderr *lockedBuffer
	done   chan struct{}
}

var listening = regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)

// startServe starts "clipinfer serve args..." in a new process and waits
// until it listens. The test's cleanup stops it (SIGTERM, then SIGKILL).
func startServe(t *testing.T, args ...string) *process {
	t.Helper()
	if testing.Short() {
		t.Skip("starts server processes: skipped in -short mode (the arm64 suite under qemu cannot re-execute itself)")
	}
	p := &process{stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	p.cmd.Env = append(os.Environ(), asCommandEnv+"=1")
	pipe, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write([]byte(line + "\n"))
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pipe)
	}()
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case p.url = <-found:
	case <-p.done:
		t.Fatalf("serve exited: %s", p.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start: %s", p.stderr.String())
	}
	return p
}

// stop ends the process gracefully (SIGTERM), or kills it after 20 s.
func (p *process) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("serve did not stop on SIGTERM: %s", p.stderr.String())
	}
}

// kill ends the process at once, as a crash would.
func (p *process) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// health fetches /healthz.
func health(t *testing.T, base string) (int, server.Health) {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var h server.Health
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	return resp.StatusCode, h
}

// metric returns the value of the first /metrics line starting with name.
func metric(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name) {
			f := strings.Fields(l)
			return f[len(f)-1]
		}
	}
	return ""
}
