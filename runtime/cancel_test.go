package runtime

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
)

// countdownCtx is a context that is live for its first n Err calls and
// cancelled from then on: it ends a forward pass at an exact layer
// boundary, and its call count shows how far the pass went.
type countdownCtx struct {
	context.Context
	n     int64
	calls atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.calls.Add(1) > c.n {
		return context.Canceled
	}
	return nil
}

// TestCancelStopsAtALayerBoundary: a pass whose context ends before layer
// k+1 stops there (the context is asked once more, not once per remaining
// layer), returns the context's error wrapped, and leaves the model giving
// bit-identical embeddings afterwards — for every tower kind: CLIP's ViT
// and causal text tower, SigLIP's towers, SimpleCLIP's BiLSTM.
func TestCancelStopsAtALayerBoundary(t *testing.T) {
	skipUnderRace(t)
	r := rand.New(rand.NewPCG(21, 22))
	clipIDs := randomTexts(r, 3)
	clipPix := randomPixels(r, 2, 32)
	// Every model has more threads than a case has inputs, so each pass is
	// split inside (TestCancelSplitBatch covers batches split by inputs).
	clip := openTest(t, tinyModel(t, "q8"), Options{Threads: 4})

	siglipPath := filepath.Join(t.TempDir(), "siglip.clip")
	_, err := convert.Convert(filepath.Join(testdata, "models", "siglip-tiny"), siglipPath, convert.Options{Quant: "q8"})
	require.NoError(t, err)
	siglip := openTest(t, siglipPath, Options{Threads: 4})
	sigIDs, err := siglip.Tokenize("a photo of a cat")
	require.NoError(t, err)
	sigSize := siglip.Metadata().Vision.ImageSize

	simplePath := filepath.Join(t.TempDir(), "simple.clip")
	_, err = convert.Convert(filepath.Join(testdata, "simpleclip", "simpleclip.safetensors"), simplePath, convert.Options{})
	require.NoError(t, err)
	simple := openTest(t, simplePath, Options{Threads: 4})

	for _, c := range []struct {
		name   string
		m      *Model
		layers int64 // context checks of one uncancelled pass
		embed  func(m *Model, ctx context.Context, dst []float32) error
	}{
		{"clip/text", clip, int64(clip.Metadata().Text.Layers), func(m *Model, ctx context.Context, dst []float32) error {
			return m.EmbedTokensIntoContext(ctx, dst, clipIDs)
		}},
		{"clip/image", clip, int64(clip.Metadata().Vision.Layers), func(m *Model, ctx context.Context, dst []float32) error {
			return m.EmbedPixelsIntoContext(ctx, dst, clipPix)
		}},
		{"siglip/text", siglip, int64(siglip.Metadata().Text.Layers), func(m *Model, ctx context.Context, dst []float32) error {
			return m.EmbedTokensIntoContext(ctx, dst, [][]int32{sigIDs})
		}},
		{"siglip/image", siglip, int64(siglip.Metadata().Vision.Layers), func(m *Model, ctx context.Context, dst []float32) error {
			return m.EmbedPixelsIntoContext(ctx, dst, randomPixels(rand.New(rand.NewPCG(1, 2)), 1, sigSize))
		}},
		{"simpleclip/text", simple, 2 * 5, func(m *Model, ctx context.Context, dst []float32) error {
			return m.EmbedTokensIntoContext(ctx, dst, [][]int32{{3, 4, 5, 6, 7}, {8, 9}})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Nil(t, c.m.splitPlan(inputs{pix: make([][]float32, 3)}, nil), "the cases' batches are not split by inputs")
			d := c.m.EmbedDim()
			want := make([]float32, 3*d)
			full := &countdownCtx{Context: context.Background(), n: 1 << 30}
			require.NoError(t, c.embed(c.m, full, want))
			require.Equal(t, c.layers, full.calls.Load(), "an uncancelled pass asks its context once per layer")

			for stopAt := int64(0); stopAt < c.layers; stopAt++ {
				ctx := &countdownCtx{Context: context.Background(), n: stopAt}
				got := make([]float32, 3*d)
				err := c.embed(c.m, ctx, got)
				require.Error(t, err)
				assert.ErrorIs(t, err, context.Canceled)
				assert.Equal(t, stopAt+1, ctx.calls.Load(), "the pass stops at the first layer boundary after the end")
			}

			again := make([]float32, 3*d)
			require.NoError(t, c.embed(c.m, context.Background(), again))
			assert.Equal(t, want, again, "a cancelled pass leaves nothing behind")
		})
	}
}

// TestCancelSplitBatch: a batch split by inputs runs one pass per
// participant, each asking the context before every layer; cancelled, every
// pass stops at its next layer boundary, and the model gives bit-identical
// embeddings afterwards.
func TestCancelSplitBatch(t *testing.T) {
	skipUnderRace(t)
	m := openTest(t, tinyModel(t, "q8"), Options{Threads: 2})
	pix := randomPixels(rand.New(rand.NewPCG(25, 26)), 4, 32)
	require.Equal(t, []int{0, 2, 4}, m.splitPlan(inputs{pix: pix}, nil))
	layers := int64(m.Metadata().Vision.Layers)
	d := m.EmbedDim()
	want := make([]float32, len(pix)*d)
	full := &countdownCtx{Context: context.Background(), n: 1 << 30}
	require.NoError(t, m.EmbedPixelsIntoContext(full, want, pix))
	require.Equal(t, 2*layers, full.calls.Load(), "two passes, one check per layer each")
	for stopAt := int64(0); stopAt < 2*layers; stopAt++ {
		ctx := &countdownCtx{Context: context.Background(), n: stopAt}
		err := m.EmbedPixelsIntoContext(ctx, make([]float32, len(pix)*d), pix)
		require.ErrorIs(t, err, context.Canceled)
		calls := ctx.calls.Load()
		assert.True(t, calls > stopAt && calls <= stopAt+2, "each pass stops at its next layer boundary: %d calls, cancelled after %d", calls, stopAt)
	}
	again := make([]float32, len(pix)*d)
	require.NoError(t, m.EmbedPixelsInto(again, pix))
	assert.Equal(t, want, again, "a cancelled batch leaves nothing behind")
}

// TestCancelledContext: an already cancelled context and a passed deadline
// are reported promptly through every entry point, and a later call gives
// the same embeddings as before.
func TestCancelledContext(t *testing.T) {
	m := openTest(t, tinyModel(t, "f32"), Options{})
	r := rand.New(rand.NewPCG(23, 24))
	ids := randomTexts(r, 4)
	pix := randomPixels(r, 3, 32)
	wantT, err := m.EmbedTokens(ids)
	require.NoError(t, err)
	wantI, err := m.EmbedPixels(pix)
	require.NoError(t, err)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, ctx := range []context.Context{cancelled, expired} {
		want := ctx.Err()
		t0 := time.Now()
		_, err := m.EmbedTokensContext(ctx, ids)
		assert.ErrorIs(t, err, want)
		_, err = m.EmbedTextsContext(ctx, []string{"a dog"})
		assert.ErrorIs(t, err, want)
		_, err = m.EmbedPixelsContext(ctx, pix)
		assert.ErrorIs(t, err, want)
		_, err = m.EmbedImagesContext(ctx, nil)
		assert.NoError(t, err, "nothing to embed, nothing to stop")
		_, err = m.EmbedImageFilesContext(ctx, []string{"../models/demo/airplane.png"})
		assert.ErrorIs(t, err, want)
		assert.Less(t, time.Since(t0), time.Second)
		assert.True(t, errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
	}

	gotT, err := m.EmbedTokens(ids)
	require.NoError(t, err)
	gotI, err := m.EmbedPixels(pix)
	require.NoError(t, err)
	assert.Equal(t, wantT, gotT)
	assert.Equal(t, wantI, gotI)
}
