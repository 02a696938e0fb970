package server

import (
	"context"
	"encoding/base64"
	"image/color"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/internal/randclip"
	clip "github.com/clipinfer/clipinfer/runtime"
)

// deepSpec is a random CLIP whose image tower is narrow but deep: one
// block is a few milliseconds, a batch of 16 images through all of them
// well over a second, and the file converts in a moment.
var deepSpec = randclip.Spec{ImageSize: 224, Patch: 16, VisionWidth: 64, VisionLayers: 160,
	Context: 77, Vocab: 49408, TextWidth: 64, TextLayers: 1, Embed: 32}

// blockFloor is the least time one block of the deep model takes in these
// tests. The encoder's own work depends on the machine (a fast many-core
// CI host runs all 160 blocks in under the deadline); the floor makes a
// full pass last at least 160 × blockFloor = 1.6 s everywhere, so the
// deadlines below always fall inside it.
const blockFloor = 10 * time.Millisecond

// layerCounter is the real model with every context the server hands it
// counting how often the encoder asks it: once per block, so the count is
// the number of blocks a pass started. Each check also waits blockFloor.
type layerCounter struct {
	*clip.Model
	checks atomic.Int64
}

type countingCtx struct {
	context.Context
	n *atomic.Int64
}

func (c countingCtx) Err() error {
	c.n.Add(1)
	select {
	case <-c.Done():
	case <-time.After(blockFloor):
	}
	return c.Context.Err()
}

func (l *layerCounter) EmbedPixelsContext(ctx context.Context, pix [][]float32) ([][]float32, error) {
	return l.Model.EmbedPixelsContext(countingCtx{ctx, &l.checks}, pix)
}

func openDeep(t *testing.T) *layerCounter {
	t.Helper()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "deep.safetensors"), filepath.Join(dir, "deep.clip")
	require.NoError(t, randclip.WriteSafetensors(src, deepSpec, 3))
	_, err := convert.Convert(src, dst, convert.Options{Quant: "q8"})
	require.NoError(t, err)
	m, err := clip.Open(dst, clip.Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return &layerCounter{Model: m}
}

func metricValue(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestCancellationStopsTheEncoder: with one compute slot and a real model
// whose image batch takes seconds, a request whose deadline passes (and
// one whose client hangs up) stops in the encoder at the next block: its
// slot is free within a second of the deadline, a following request is
// answered, and far fewer blocks ran than a full pass needs.
func TestCancellationStopsTheEncoder(t *testing.T) {
	if testing.Short() || raceEnabled {
		// Under the race detector decoding and preprocessing alone outlast
		// the deadline; the slot handling is raced by TestDeadlineFreesTheSlot.
		t.Skip("converts and runs a 160-block model against wall-clock deadlines")
	}
	m := openDeep(t)
	img := base64.StdEncoding.EncodeToString(pngBytes(t, 40, 30, color.RGBA{20, 140, 90, 255}))
	images := make([]string, 16)
	for i := range images {
		images[i] = img
	}
	body := map[string]any{"images": images}
	// Long enough for the images to be decoded and preprocessed on a busy
	// machine, far shorter than the pass (at least 1.6 s with blockFloor;
	// 2.4 s on one Zen 5 core).
	const timeout = 600 * time.Millisecond

	t.Run("deadline", func(t *testing.T) {
		m.checks.Store(0)
		s := newServer(t, Config{Model: m, MaxConcurrent: 1, RequestTimeout: timeout})
		base := start(t, s)
		t0 := time.Now()
		resp, b := postJSON(t, base+"/v1/embeddings", body)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(b))
		answered := time.Since(t0)
		deadline := t0.Add(timeout)
		require.Eventually(t, func() bool { return len(s.slots) == 0 }, time.Until(deadline.Add(time.Second)), time.Millisecond,
			"the slot frees within a second of the deadline")
		freed := time.Since(deadline)
		blocks := m.checks.Load()
		t.Logf("503 after %v; slot free %v after the deadline; %d of %d blocks started", answered, freed, blocks, deepSpec.VisionLayers)
		assert.Positive(t, blocks, "the request reached the encoder")
		assert.Less(t, blocks, int64(deepSpec.VisionLayers), "the pass stopped before its last block")

		resp, b = postJSON(t, base+"/v1/embeddings", map[string]any{"texts": []string{"a cat"}})
		assert.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		assert.Equal(t, "1", metricValue(t, base, "clipinfer_computations_stopped_total"))
	})

	t.Run("client gone", func(t *testing.T) {
		m.checks.Store(0)
		s := newServer(t, Config{Model: m, MaxConcurrent: 1})
		base := start(t, s)
		j := `{"images":["` + strings.Join(images, `","`) + `"]}`
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/embeddings", strings.NewReader(j))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		_, err = http.DefaultClient.Do(req)
		require.Error(t, err, "the client gives up")
		require.Eventually(t, func() bool { return len(s.slots) == 0 }, time.Second, time.Millisecond,
			"the slot frees within a second of the hang-up")
		blocks := m.checks.Load()
		t.Logf("%d of %d blocks started", blocks, deepSpec.VisionLayers)
		assert.Positive(t, blocks, "the request reached the encoder")
		assert.Less(t, blocks, int64(deepSpec.VisionLayers))
		require.Eventually(t, func() bool {
			return metricValue(t, base, `clipinfer_requests_total{endpoint="embeddings",code="499"}`) == "1"
		}, time.Second, 10*time.Millisecond, "recorded as 499")
		assert.Equal(t, "1", metricValue(t, base, "clipinfer_computations_stopped_total"))
	})

	t.Run("full pass", func(t *testing.T) {
		// The reference: the same request given time runs every block.
		m.checks.Store(0)
		base := start(t, newServer(t, Config{Model: m, MaxConcurrent: 1}))
		t0 := time.Now()
		resp, b := postJSON(t, base+"/v1/embeddings", body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		took := time.Since(t0)
		t.Logf("a full pass of 16 images: %v, %d blocks", took, m.checks.Load())
		assert.Equal(t, int64(deepSpec.VisionLayers), m.checks.Load())
		assert.Greater(t, took, timeout, "the pass is longer than the deadline the other cases give it")
	})
}
