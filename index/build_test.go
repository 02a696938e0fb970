package index

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEmbedder "decodes" a file by reading it (files starting with "bad"
// fail) and embeds it as a vector derived from its bytes.
type fakeEmbedder struct {
	dim     int
	loads   atomic.Int64
	embeds  atomic.Int64
	failErr error
}

func (f *fakeEmbedder) Load(path string) ([]float32, error) {
	f.loads.Add(1)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(string(b), "bad") {
		return nil, errors.New("image: unknown format")
	}
	h := sha256.Sum256(b)
	v := make([]float32, f.dim)
	for i := range v {
		v[i] = float32(h[i%len(h)]) - 127.5
	}
	return v, nil
}

func (f *fakeEmbedder) Embed(in [][]float32) ([][]float32, error) {
	if f.failErr != nil {
		return nil, f.failErr
	}
	f.embeds.Add(int64(len(in)))
	out := make([][]float32, len(in))
	for i, v := range in {
		out[i] = append([]float32(nil), v...)
		var ss float32
		for _, x := range v {
			ss += x * x
		}
		for j := range out[i] {
			out[i][j] /= float32(math.Sqrt(float64(ss)))
		}
	}
	return out, nil
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestUpdateIncremental(t *testing.T) {
	root := t.TempDir()
	other := t.TempDir()
	for i, p := range []string{"a.jpg", "sub/b.PNG", "sub/deep/c.webp", "d.gif", "e.jpeg"} {
		writeFile(t, filepath.Join(root, p), strings.Repeat("x", i+1))
	}
	writeFile(t, filepath.Join(root, "notes.txt"), "not an image")
	writeFile(t, filepath.Join(root, "broken.jpg"), "bad data")
	writeFile(t, filepath.Join(root, ".hidden", "h.jpg"), "hidden")
	writeFile(t, filepath.Join(other, "o.jpg"), "other")

	fe := &fakeEmbedder{dim: 8}
	var warned []string
	var mu sync.Mutex
	opt := UpdateOptions{Embedder: fe, Batch: 2, Decoders: 3, Warn: func(p string, err error) {
		mu.Lock()
		warned = append(warned, filepath.Base(p))
		mu.Unlock()
	}}
	x, err := New(testModel, Int8)
	require.NoError(t, err)

	st, err := Update(context.Background(), x, []string{root, filepath.Join(other, "o.jpg")}, opt)
	require.NoError(t, err)
	assert.Equal(t, Stats{Found: 7, Added: 6, Failed: 1, Ignored: 1, Entries: 6}, st)
	assert.Equal(t, []string{"broken.jpg"}, warned)
	assert.EqualValues(t, 6, fe.embeds.Load())
	for i := 1; i < x.Len(); i++ {
		assert.Less(t, x.Entry(i-1).Path, x.Entry(i).Path, "entries are added in path order")
	}

	// Nothing changed: nothing embedded (the broken file is tried again).
	st, err = Update(context.Background(), x, []string{root}, opt)
	require.NoError(t, err)
	assert.Equal(t, Stats{Found: 6, Kept: 5, Failed: 1, Ignored: 1, Entries: 6}, st, "o.jpg is outside the root and kept")
	assert.EqualValues(t, 6, fe.embeds.Load())

	// Change one file, delete one, add one.
	changed := filepath.Join(root, "sub", "b.PNG")
	writeFile(t, changed, "changed content")
	require.NoError(t, os.Chtimes(changed, time.Now(), time.Now().Add(time.Hour)))
	require.NoError(t, os.Remove(filepath.Join(root, "d.gif")))
	writeFile(t, filepath.Join(root, "new.bmp"), "new")
	st, err = Update(context.Background(), x, []string{root}, opt)
	require.NoError(t, err)
	assert.Equal(t, Stats{Found: 6, Kept: 3, Added: 1, Changed: 1, Removed: 1, Failed: 1, Ignored: 1, Entries: 6}, st)
	assert.EqualValues(t, 8, fe.embeds.Load())
	_, ok := x.Lookup(filepath.Join(root, "d.gif"))
	assert.False(t, ok)
	i, ok := x.Lookup(changed)
	require.True(t, ok)
	want, _ := fe.Load(changed)
	got := x.Vector(i, nil)
	wv, _ := fe.Embed([][]float32{want})
	for j := range got {
		assert.InDelta(t, wv[0][j], got[j], 0.01)
	}
}

func TestUpdateInterrupted(t *testing.T) {
	root := t.TempDir()
	for i := range 40 {
		writeFile(t, filepath.Join(root, string(rune('a'+i/10)), string(rune('a'+i%10))+".jpg"), strings.Repeat("y", i+1))
	}
	fe := &fakeEmbedder{dim: 8}
	x, err := New(testModel, Float16)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var checkpoints atomic.Int64
	// Batches hold up to 4 images (fewer when the decoders fall behind).
	done, batches := 0, 0
	opt := UpdateOptions{Embedder: fe, Batch: 4, Progress: func(p Progress) {
		if done < 12 {
			done = p.Done
			batches++
		}
		if p.Done >= 12 {
			cancel()
		}
	}, Checkpoint: func(*Index) error { checkpoints.Add(1); return nil }, CheckpointEvery: time.Nanosecond}
	st, err := Update(ctx, x, []string{root}, opt)
	require.ErrorIs(t, err, context.Canceled)
	require.GreaterOrEqual(t, done, 12)
	require.LessOrEqual(t, done, 15)
	assert.Equal(t, done, x.Len(), "finished batches are kept")
	assert.Equal(t, done, st.Added)
	assert.Equal(t, 40-done, st.Pending)
	assert.EqualValues(t, batches, checkpoints.Load())

	// Resuming embeds only the rest.
	opt.Progress = nil
	st, err = Update(context.Background(), x, []string{root}, opt)
	require.NoError(t, err)
	assert.Equal(t, Stats{Found: 40, Kept: done, Added: 40 - done, Entries: 40}, st)
	assert.EqualValues(t, 40, fe.embeds.Load())
}

func TestUpdateErrors(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.jpg"), "a")
	x, err := New(testModel, Int8)
	require.NoError(t, err)
	_, err = Update(context.Background(), x, []string{root}, UpdateOptions{})
	require.ErrorContains(t, err, "no embedder")
	_, err = Update(context.Background(), x, nil, UpdateOptions{Embedder: &fakeEmbedder{dim: 8}})
	require.ErrorContains(t, err, "no paths")
	_, err = Update(context.Background(), x, []string{filepath.Join(root, "missing")}, UpdateOptions{Embedder: &fakeEmbedder{dim: 8}})
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = Update(context.Background(), x, []string{root}, UpdateOptions{Embedder: &fakeEmbedder{dim: 8, failErr: errors.New("boom")}})
	require.ErrorContains(t, err, "boom")
	_, err = Update(context.Background(), x, []string{root}, UpdateOptions{Embedder: &fakeEmbedder{dim: 5}})
	require.ErrorContains(t, err, "5 values")
}

// gatedEmbedder's Load of the file named gate waits until a batch has been
// embedded (or a few seconds have passed, failing the file).
type gatedEmbedder struct {
	fakeEmbedder
	gate     string
	embedded chan struct{}
	once     sync.Once
	sizes    []int
}

func (g *gatedEmbedder) Load(path string) ([]float32, error) {
	if filepath.Base(path) == g.gate {
		select {
		case <-g.embedded:
		case <-time.After(5 * time.Second):
			return nil, errors.New("no batch was embedded while decoding was held up")
		}
	}
	return g.fakeEmbedder.Load(path)
}

func (g *gatedEmbedder) Embed(in [][]float32) ([][]float32, error) {
	g.sizes = append(g.sizes, len(in))
	g.once.Do(func() { close(g.embedded) })
	return g.fakeEmbedder.Embed(in)
}

// A decoded image does not wait for a full batch while a decoder has
// nothing to do: here one decoder is held up on the third file until
// something is embedded, and the other runs out of files.
func TestUpdateEmbedsWhenDecodersIdle(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	root := t.TempDir()
	for i := range 10 {
		writeFile(t, filepath.Join(root, fmt.Sprintf("%02d.jpg", i)), strings.Repeat("z", i+1))
	}
	g := &gatedEmbedder{fakeEmbedder: fakeEmbedder{dim: 8}, gate: "02.jpg", embedded: make(chan struct{})}
	x, err := New(testModel, Float16)
	require.NoError(t, err)
	st, err := Update(context.Background(), x, []string{root}, UpdateOptions{Embedder: g, Batch: 16, Decoders: 2})
	require.NoError(t, err)
	assert.Equal(t, 10, st.Added)
	assert.Equal(t, 0, st.Failed)
	require.NotEmpty(t, g.sizes)
	assert.Less(t, g.sizes[0], 10, "the first batch went to the tower before the held-up file was decoded")
}
