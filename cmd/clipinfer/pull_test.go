package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/internal/randclip"
)

// mirror serves files by path with Range support; the first request for
// each file breaks off half way, so every pull has to resume.
func mirror(t *testing.T, files map[string][]byte) (url string, ranges func() []string) {
	var mu sync.Mutex
	var seen []string
	broken := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		seen = append(seen, r.Header.Get("Range"))
		cut := !broken[r.URL.Path]
		broken[r.URL.Path] = true
		mu.Unlock()
		if cut {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// TestPullThenEmbed: a random-weight checkpoint the test makes, served by a
// local mirror under a path that carries its SHA-256 (as OpenAI publishes),
// is pulled through an interrupted transfer, verified, converted into the
// cache folder, and embeds text.
func TestPullThenEmbed(t *testing.T) {
	src := filepath.Join(t.TempDir(), "tiny.safetensors")
	require.NoError(t, randclip.WriteSafetensors(src, randclip.Tiny, 7))
	ckpt, err := os.ReadFile(src)
	require.NoError(t, err)
	h := sha256.Sum256(ckpt)
	hash := hex.EncodeToString(h[:])
	url, ranges := mirror(t, map[string][]byte{
		"models/" + hash + "/Tiny-ViT.safetensors": ckpt,
	})

	code, stdout, stderr := cli("pull", "-quiet", url+"/models/"+hash+"/Tiny-ViT.safetensors")
	require.Equal(t, 0, code, stderr)
	model := strings.TrimSpace(stdout)
	assert.Equal(t, filepath.Join(os.Getenv("XDG_CACHE_HOME"), "clipinfer", "models", "Tiny-ViT-q8.clip"), model, "the user cache folder (here the test's own)")
	assert.Equal(t, []string{"", fmt.Sprintf("bytes=%d-", len(ckpt)/2)}, ranges(), "the second request resumes where the first broke off")

	code, stdout, stderr = cli("embed", "-m", model, "-text", "a photo of a cat")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"embedding":[`)

	code, stdout, stderr = cli("pull", url+"/models/"+hash+"/Tiny-ViT.safetensors")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, model+"\n", stdout)
	assert.Contains(t, stderr, "already pulled")

	// -o and -q f16; a known name through a mirror.
	out := filepath.Join(t.TempDir(), "tiny-f16.clip")
	code, _, stderr = cli("pull", "-quiet", "-q", "f16", "-o", out, url+"/models/"+hash+"/Tiny-ViT.safetensors")
	require.Equal(t, 0, code, stderr)
	code, stdout, _ = cli("info", out)
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "f16")
}

func TestPullRefusals(t *testing.T) {
	ckpt, err := os.ReadFile("../../testdata/models/openai-qgelu.pt")
	require.NoError(t, err)
	wrong := strings.Repeat("0", 64)
	url, _ := mirror(t, map[string][]byte{
		"40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt": ckpt,
		wrong + "/x.pt": ckpt,
	})
	for _, c := range []struct {
		args []string
		env  string
		code int
		want string
	}{
		// The known name fetches OpenAI's path from the mirror and checks
		// OpenAI's hash, which the test checkpoint does not have.
		{[]string{"pull", "-quiet", "-base-url", url, "ViT-B/32"}, "", 1, "want 40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"},
		{[]string{"pull", "-quiet", "vit-b-32"}, url, 1, "SHA-256 mismatch"},
		{[]string{"pull", "-quiet", url + "/" + wrong + "/x.pt"}, "", 1, "SHA-256 mismatch"},
		{[]string{"pull", "-quiet", url + "/nothing/here.pt"}, "", 1, "404 Not Found"},
		{[]string{"pull", "ViT-Q-99"}, "", 1, "neither a known checkpoint name nor an http(s) URL"},
		{[]string{"pull"}, "", 2, "missing NAME or URL argument"},
		{[]string{"pull", "-q", "q3", "ViT-B-32"}, "", 2, "unknown quantisation"},
	} {
		t.Setenv(mirrorEnv, c.env)
		code, _, stderr := cli(c.args...)
		assert.Equal(t, c.code, code, c.args)
		assert.Contains(t, stderr, c.want, c.args)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "%v: one line: %q", c.args, stderr)
	}
}

func TestPullList(t *testing.T) {
	code, stdout, _ := cli("pull", "-list")
	require.Equal(t, 0, code)
	for _, want := range []string{"ViT-B-32", "ViT-B-16", "ViT-L-14", "openai/clip-vit-base-patch32"} {
		assert.Contains(t, stdout, want)
	}
}
