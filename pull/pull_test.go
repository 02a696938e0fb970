package pull

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/format"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// payload is a file body that is not all one byte, so a misplaced resume
// changes the hash.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// server serves files by path with Range support, and records the Range
// header of every request. breakFirst makes the first full request of a
// path send half its body and then drop the connection.
type server struct {
	*httptest.Server
	mu         sync.Mutex
	files      map[string][]byte
	ranges     []string
	breakFirst bool
	broken     map[string]bool
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files, broken: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.files[strings.TrimPrefix(r.URL.Path, "/")]
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	cut := ok && s.breakFirst && !s.broken[r.URL.Path] && r.Header.Get("Range") == ""
	if cut {
		s.broken[r.URL.Path] = true
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if cut {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection mid-body
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func TestFetchResumesAnInterruptedTransfer(t *testing.T) {
	body := payload(300 << 10)
	srv := newServer(t, map[string][]byte{"f.bin": body})
	srv.breakFirst = true
	dest := filepath.Join(t.TempDir(), "f.bin")
	f := File{Name: "f.bin", Path: "f.bin", SHA256: sum(body)}

	err := Fetch(context.Background(), srv.URL, f, dest, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "run the same command again to resume")
	st, err := os.Stat(dest + ".part")
	require.NoError(t, err, "the partial download stays")
	assert.Greater(t, st.Size(), int64(0))
	assert.Less(t, st.Size(), int64(len(body)))
	assert.NoFileExists(t, dest)

	require.NoError(t, Fetch(context.Background(), srv.URL, f, dest, Options{}))
	got, err := os.ReadFile(dest)
	require.NoError(t, err)
	assert.Equal(t, body, got)
	assert.Equal(t, fmt.Sprintf("bytes=%d-", st.Size()), srv.ranges[len(srv.ranges)-1], "the second call asks for the rest only")
	assert.NoFileExists(t, dest+".part")

	// A verified file is not fetched again.
	n := len(srv.ranges)
	require.NoError(t, Fetch(context.Background(), srv.URL, f, dest, Options{}))
	assert.Len(t, srv.ranges, n)
}

func TestFetchRetriesWithinOneCall(t *testing.T) {
	body := payload(100 << 10)
	srv := newServer(t, map[string][]byte{"f.bin": body})
	srv.breakFirst = true
	dest := filepath.Join(t.TempDir(), "f.bin")
	var last int64
	require.NoError(t, Fetch(context.Background(), srv.URL, File{Name: "f", Path: "f.bin", Size: int64(len(body)), SHA256: sum(body)}, dest,
		Options{Retries: 1, Progress: func(_ string, done, total int64) { last = done; assert.Equal(t, int64(len(body)), total) }}))
	assert.Equal(t, int64(len(body)), last)
	require.Len(t, srv.ranges, 2)
	assert.NotEmpty(t, srv.ranges[1])
}

func TestFetchRefusals(t *testing.T) {
	body := payload(64 << 10)
	srv := newServer(t, map[string][]byte{"f.bin": body})
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		f    File
		want string
	}{
		{"wrong hash", File{Path: "f.bin", SHA256: strings.Repeat("ab", 32)}, "SHA-256 mismatch"},
		{"404", File{Path: "missing.bin"}, "404 Not Found"},
		{"bigger than its size", File{Path: "f.bin", Size: 1000}, "more than the 1000 expected"},
		{"bigger than the budget", File{Path: "f.bin", MaxSize: 1000}, "more than the 1000 expected"},
	} {
		dest := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
		err := Fetch(context.Background(), srv.URL, c.f, dest, Options{})
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
		assert.NoFileExists(t, dest, c.name)
	}
	assert.NoFileExists(t, filepath.Join(dir, "wrong-hash.part"), "a download with the wrong hash is removed")
}

func TestFetchGivesUpOnAStalledServer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	dest := filepath.Join(t.TempDir(), "f")
	start := time.Now()
	err := Fetch(context.Background(), srv.URL, File{Path: "f"}, dest, Options{StallTimeout: 200 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no data for 200ms after 10 bytes")
	assert.Less(t, time.Since(start), 5*time.Second)
	st, err := os.Stat(dest + ".part")
	require.NoError(t, err)
	assert.Equal(t, int64(10), st.Size(), "what arrived is kept for a resume")
}

func TestHuggingFaceFolderVerifiedByLFSPointer(t *testing.T) {
	const repo = "test/tiny-clip"
	files := map[string][]byte{}
	src := "../testdata/models/hf-qgelu"
	for _, n := range []string{"config.json", "preprocessor_config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(src, n))
		require.NoError(t, err)
		files[repo+"/resolve/main/"+n] = b
	}
	weights := files[repo+"/resolve/main/model.safetensors"]
	files[repo+"/raw/main/model.safetensors"] = []byte(fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", sum(weights), len(weights)))
	srv := newServer(t, files)
	cp := hfCLIP(repo, nil, "test", "")
	cp.Base = "https://unreachable.invalid"
	dir := t.TempDir()

	res, err := PullCheckpoint(context.Background(), cp, PullOptions{Base: srv.URL, Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "test--tiny-clip-q8.clip"), res.Path)
	f, err := format.Open(res.Path)
	require.NoError(t, err)
	assert.Equal(t, format.ArchCLIPViT, f.Metadata().Architecture)
	require.NoError(t, f.Close())
	assert.NoDirExists(t, filepath.Join(dir, "downloads", "test--tiny-clip"), "the download is removed after conversion")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"downloads", "test--tiny-clip-q8.clip"}, names)

	again, err := PullCheckpoint(context.Background(), cp, PullOptions{Base: srv.URL, Dir: dir})
	require.NoError(t, err)
	assert.True(t, again.Cached)

	// A pointer whose hash does not match the weights.
	files[repo+"/raw/main/model.safetensors"] = []byte(fmt.Sprintf("oid sha256:%s\nsize %d\n", strings.Repeat("0", 64), len(weights)))
	_, err = PullCheckpoint(context.Background(), cp, PullOptions{Base: srv.URL, Dir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SHA-256 mismatch")
}

func TestKnownTable(t *testing.T) {
	seen := map[string]bool{}
	hexPath := regexp.MustCompile(`^([0-9a-f]{64})/`)
	for _, c := range Known {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			key := strings.ToLower(n)
			assert.False(t, seen[key], "%s named twice", n)
			seen[key] = true
			got, ok := Lookup(strings.ToUpper(n))
			assert.True(t, ok, n)
			assert.Equal(t, c.Name, got.Name)
		}
		require.NotEmpty(t, c.Files, c.Name)
		for _, f := range c.Files {
			if m := hexPath.FindStringSubmatch(f.Path); m != nil {
				assert.Equal(t, m[1], f.SHA256, "%s: the path carries the hash", f.Path)
			}
			assert.True(t, f.SHA256 != "" || f.Pointer != "" || f.MaxSize > 0, "%s: verified or bounded", f.Path)
		}
	}
	for _, want := range []string{"vit-b/32", "vit-b/16", "vit-l/14", "openai/clip-vit-base-patch32"} {
		assert.True(t, seen[want], want)
	}
}

func TestFromURL(t *testing.T) {
	h := strings.Repeat("c0", 32)
	cp, err := FromURL("http://127.0.0.1:9/models/" + h + "/Tiny.pt?x=1")
	require.NoError(t, err)
	assert.Equal(t, "Tiny", cp.Name)
	assert.Equal(t, "http://127.0.0.1:9", cp.Base)
	assert.Equal(t, File{Name: "Tiny.pt", Path: "models/" + h + "/Tiny.pt?x=1", SHA256: h}, cp.Files[0])
	for _, bad := range []string{"ViT-Q-99", "ftp://host/x.pt", "http://host/"} {
		_, err := Pull(context.Background(), bad, PullOptions{Dir: t.TempDir()})
		assert.Error(t, err, bad)
	}
}

func FuzzParsePointer(f *testing.F) {
	f.Add([]byte("version https://git-lfs.github.com/spec/v1\noid sha256:" + strings.Repeat("ab", 32) + "\nsize 605157884\n"))
	f.Add([]byte("oid sha256:zz\nsize -1\n"))
	f.Add([]byte(strings.Repeat("x", 5000)))
	f.Fuzz(func(t *testing.T, b []byte) {
		oid, size, err := parsePointer(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(oid) != 64 || size <= 0 {
			t.Fatalf("accepted oid %q size %d", oid, size)
		}
		if _, err := hex.DecodeString(oid); err != nil {
			t.Fatalf("oid %q is not hex", oid)
		}
	})
}

func TestRangeStart(t *testing.T) {
	for in, want := range map[string]int64{"bytes 100-199/200": 100, "bytes 0-0/1": 0} {
		got, ok := rangeStart(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "bytes */200", "items 1-2/3", "bytes x-1/2"} {
		_, ok := rangeStart(bad)
		assert.False(t, ok, bad)
	}
}
