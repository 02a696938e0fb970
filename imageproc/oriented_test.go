package imageproc

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DecodeFor then Preprocess gives LoadFile's tensor bit for bit, with and
// without EXIF orientation and fast decoding, in every format that carries
// an orientation.
func TestDecodeForMatchesLoad(t *testing.T) {
	files := []string{"orient6_300x200.jpg", "orient3_300x200.jpg", "draft_480x360.jpg",
		"orient6_48x32.png", "orient8_48x32.webp", "orient5_48x32.tif"}
	cfgs := []Config{
		{Size: 64, Crop: 64, Mean: CLIPMean, Std: CLIPStd},
		{Size: 40, Crop: 32, Mean: CLIPMean, Std: CLIPStd, Mode: HF},
	}
	for _, name := range files {
		path := filepath.Join(photoDir, name)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, cfg := range cfgs {
			for _, opt := range []LoadOptions{{}, {EXIF: true}, {EXIF: true, FastDecode: true}, {FastDecode: true}} {
				want, err := LoadFile(path, cfg, opt)
				require.NoError(t, err)
				img, _, err := DecodeFor(bytes.NewReader(data), cfg, opt)
				require.NoError(t, err)
				got, err := Preprocess(img, cfg)
				require.NoError(t, err)
				assert.Equal(t, want, got, "%s %+v %v", name, opt, cfg.Mode)
			}
		}
	}
}

// An *Oriented reports the displayed size and pixels.
func TestOrientedAt(t *testing.T) {
	src := image.NewGray(image.Rect(10, 20, 13, 22)) // 3×2, offset origin
	for i := range src.Pix {
		src.Pix[i] = uint8(i + 1)
	}
	// Stored rows: [1 2 3] [4 5 6]. Orientation 6 (rotate 90° clockwise
	// to display): displayed 2×3, rows [4 1] [5 2] [6 3].
	o := &Oriented{Image: src, Orientation: 6}
	require.Equal(t, image.Rect(0, 0, 2, 3), o.Bounds())
	want := [][]uint8{{4, 1}, {5, 2}, {6, 3}}
	for y, row := range want {
		for x, v := range row {
			r, _, _, _ := o.At(x, y).RGBA()
			assert.Equal(t, uint32(v)*0x101, r, "(%d,%d)", x, y)
		}
	}
	assert.Equal(t, src.At(0, 0), o.At(5, 5), "outside: the zero colour, as the stored image answers")
	// Preprocess of the view equals Preprocess of the turned copy within a
	// level (the two axes are resized in the other order).
	turned := image.NewGray(image.Rect(0, 0, 2, 3))
	for y, row := range want {
		copy(turned.Pix[y*2:], row)
	}
	cfg := Config{Size: 4, Crop: 4, Mean: CLIPMean, Std: CLIPStd}
	a1, err := Preprocess(o, cfg)
	require.NoError(t, err)
	a2, err := Preprocess(turned, cfg)
	require.NoError(t, err)
	assert.InDeltaSlice(t, a2, a1, 2.0/255/float64(CLIPStd[2]))
	assert.Equal(t, "L", PillowMode(o))
}

// DecodeFor refuses what Decode refuses, with the same errors.
func TestDecodeForLimits(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(photoDir, "orient6_300x200.jpg"))
	require.NoError(t, err)
	_, _, err = DecodeFor(bytes.NewReader(data), DefaultConfig(), LoadOptions{MaxPixels: 100, EXIF: true})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, _, err = DecodeFor(bytes.NewReader([]byte("not an image")), DefaultConfig(), LoadOptions{})
	assert.Error(t, err)
	_, _, err = DecodeFor(bytes.NewReader(data), Config{}, LoadOptions{FastDecode: true})
	assert.Error(t, err, "fast decoding needs a valid config")
}
