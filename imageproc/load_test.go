package imageproc

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
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
		for _, cfg := range []Config{DefaultConfig(), {Size: 48, Crop: 40, Mean: CLIPMean, Std: CLIPStd, Mode: HF},
			{Size: 17, Crop: 17, Mean: CLIPMean, Std: CLIPStd}, {Size: 30, Crop: 30, Mean: CLIPMean, Std: CLIPStd, Mode: SigLIP, Filter: Bilinear}} {
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

// FuzzLoad feeds arbitrary bytes to Load in every mode (the JPEG fork at
// every scale, EXIF parsing, the budget) and to DisplayedSize: errors are
// fine, panics and non-finite outputs are not, and an image Load reads has
// a displayed size.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"ref/jpg_420_2x3.jpg", "ref/jpg_prog_160x120.jpg", "ref/jpg_gray_64x48.jpg",
		"ref/jpg_cmyk_64x48.jpg", "ref/jpg_411_53x30.jpg", "photo/orient6_300x200.jpg", "ref/png_rgb_2x3.png"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b, uint8(3))
	}
	budget := NewBudget(1 << 20)
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		cfg := Config{Size: 8 + int(mode>>3), Crop: 8, Mean: CLIPMean, Std: CLIPStd}
		opt := LoadOptions{MaxPixels: 1 << 18, FastDecode: mode&1 != 0, EXIF: mode&2 != 0, Budget: budget}
		w, h, serr := DisplayedSize(data, opt)
		out, err := Load(bytes.NewReader(data), cfg, opt)
		if err != nil {
			return
		}
		if serr != nil || w <= 0 || h <= 0 {
			t.Fatalf("Load read the image, DisplayedSize gives %d×%d, %v", w, h, serr)
		}
		for i, v := range out {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("value %d is %v", i, v)
			}
		}
	})
}

func TestEXIFOrientationParse(t *testing.T) {
	for o := 1; o <= 8; o++ {
		b, err := os.ReadFile(filepath.Join(photoDir, fmt.Sprintf("orient%d_300x200.jpg", o)))
		require.NoError(t, err)
		assert.Equal(t, o, exifOrientation(b))
		assert.Equal(t, 1, exifOrientation(b[:40]), "truncated EXIF is ignored")
	}
	assert.Equal(t, 1, exifOrientation([]byte("not a jpeg")))
}
