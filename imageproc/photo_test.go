package imageproc

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// photoDir holds the fixtures of tools/reference/photo_ref.py: Pillow's
// draft mode and exif_transpose, as 8-bit crops.
const photoDir = "testdata/photo"

type photoCase struct {
	File        string `json:"file"`
	Kind        string `json:"kind"`
	Size        int    `json:"size"`
	Scale       int    `json:"scale"`
	Orientation int    `json:"orientation"`
	Expected    string `json:"expected"`
}

func photoCases(t *testing.T) []photoCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(photoDir, "manifest.json"))
	require.NoError(t, err)
	var m struct{ Cases []photoCase }
	require.NoError(t, json.Unmarshal(b, &m))
	require.NotEmpty(t, m.Cases)
	return m.Cases
}

func readRGB(t *testing.T, name string) []uint8 {
	t.Helper()
	f, err := os.Open(filepath.Join(photoDir, name))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return b
}

// loadCrop8 runs LoadFile and maps the tensor back to the 8-bit HWC crop.
func loadCrop8(t *testing.T, path string, size int, opt LoadOptions) []uint8 {
	t.Helper()
	cfg := Config{Size: size, Crop: size, Mean: CLIPMean, Std: CLIPStd}
	got, err := LoadFile(path, cfg, opt)
	require.NoError(t, err)
	var s Scratch
	s.fillLUT(cfg)
	cc := size * size
	out := make([]uint8, 3*cc)
	for c := range 3 {
		for i := range cc {
			out[3*i+c] = uint8(level(got[c*cc+i], &s.lut[c]))
		}
	}
	return out
}

// crop8Diff returns the mean and max |Δ| in normalised units (levels
// divided by 255 and by CLIP's smallest std) and the largest level
// difference.
func crop8Diff(got, want []uint8) (mean, maxNorm float64, maxLevels int) {
	sum := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		n := d / 255 / float64(CLIPStd[i%3])
		sum += n
		maxNorm = max(maxNorm, n)
		maxLevels = max(maxLevels, int(d))
	}
	return sum / float64(len(want)), maxNorm, maxLevels
}

// FastDecode follows Pillow's draft mode: the same scale (checked through
// the size the decoder reports) and, once resized and cropped, pixels within
// the differences of two inverse DCTs; EXIF orientation follows
// exif_transpose within the 0.02 mean |Δ| the exact JPEG path allows, for
// JPEG, PNG, WebP and TIFF (which Pillow turns when loading).
func TestPhotoReference(t *testing.T) {
	for _, c := range photoCases(t) {
		path := filepath.Join(photoDir, c.File)
		want := readRGB(t, c.Expected)
		require.Len(t, want, 3*c.Size*c.Size)
		switch c.Kind {
		case "draft":
			got := loadCrop8(t, path, c.Size, LoadOptions{FastDecode: true})
			mean, mx, lv := crop8Diff(got, want)
			t.Logf("%s draft %d (1/%d): mean|Δ| %.4f max|Δ| %.3f (%d levels)", c.File, c.Size, c.Scale, mean, mx, lv)
			assert.LessOrEqual(t, mean, 0.02, "draft %d", c.Size)
			assert.LessOrEqual(t, mx, 0.2, "draft %d", c.Size)
			exact := loadCrop8(t, path, c.Size, LoadOptions{})
			me, _, _ := crop8Diff(exact, want)
			assert.Greater(t, me, mean, "draft %d: the exact path should be further from draft mode than the fast one", c.Size)
		case "orientation":
			got := loadCrop8(t, path, c.Size, LoadOptions{EXIF: true})
			mean, mx, lv := crop8Diff(got, want)
			t.Logf("%s: mean|Δ| %.4f max|Δ| %.3f (%d levels)", c.File, mean, mx, lv)
			assert.LessOrEqual(t, mean, 0.02, "orientation %d", c.Orientation)
			assert.LessOrEqual(t, mx, 0.1, "orientation %d", c.Orientation)
			raw := loadCrop8(t, path, c.Size, LoadOptions{})
			mr, _, _ := crop8Diff(raw, want)
			switch {
			case strings.HasSuffix(c.File, ".tif"):
				// Pillow's TIFF reader turns the image itself.
				assert.Equal(t, got, raw, "%s: a TIFF is turned without EXIF too", c.File)
			case c.Orientation != 1:
				assert.Greater(t, mr, 0.1, "%s: ignoring the tag should differ", c.File)
			}
		}
	}
}
