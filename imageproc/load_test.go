package imageproc

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// LoadFile without options is DecodeFile + Preprocess, value for value,
// although JPEG blocks outside the crop are not transformed and plane
// memory is reused between calls.
func TestLoadFileMatchesDecodePreprocess(t *testing.T) {
	m := loadManifest(t)
	for _, c := range m.Cases {
		path := filepath.Join(refDir, c.File)
		img, err := DecodeFile(path, DefaultMaxPixels)
		require.NoError(t, err)
		for _, cfg := range []Config{DefaultConfig(), {Size: 48, Crop: 40, Mean: CLIPMean, Std: CLIPStd, Mode: HF}, {Size: 17, Crop: 17, Mean: CLIPMean, Std: CLIPStd}} {
			want, err := Preprocess(img, cfg)
			require.NoError(t, err)
			for range 2 { // the second run gets recycled planes
				got, err := LoadFile(path, cfg, LoadOptions{Budget: NewBudget(1 << 20)})
				require.NoError(t, err)
				require.Equal(t, want, got, "%s %+v", c.File, cfg)
			}
		}
	}
}

// A budget lets loads that fit run together, holds back one that does not
// fit until enough is released, and admits an over-budget load alone.
func TestBudget(t *testing.T) {
	b := NewBudget(100)
	ctx := context.Background()
	require.NoError(t, b.Acquire(ctx, 60))
	require.NoError(t, b.Acquire(ctx, 30)) // fits beside the first
	var wg sync.WaitGroup
	got := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		assert.NoError(t, b.Acquire(ctx, 50))
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("50 bytes acquired while 90 of 100 are held")
	case <-time.After(50 * time.Millisecond):
	}
	b.Release(60)
	<-got
	wg.Wait()
	b.Release(30)
	b.Release(50)
	require.NoError(t, b.Acquire(ctx, 500)) // alone, larger than the budget
	assert.Equal(t, int64(500), b.Peak())
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	assert.ErrorIs(t, b.Acquire(cctx, 1), context.Canceled)
	b.Release(500)
}
