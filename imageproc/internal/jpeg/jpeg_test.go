package jpeg

import (
	"bytes"
	"image"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixtures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../testdata/ref/*.jpg")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// pixels returns the samples of img inside r, per plane.
func pixels(img image.Image, r image.Rectangle) [][]byte {
	var out [][]byte
	switch m := img.(type) {
	case *image.YCbCr:
		var y, cb, cr []byte
		for py := r.Min.Y; py < r.Max.Y; py++ {
			for px := r.Min.X; px < r.Max.X; px++ {
				y = append(y, m.Y[m.YOffset(px, py)])
				c := m.COffset(px, py)
				cb, cr = append(cb, m.Cb[c]), append(cr, m.Cr[c])
			}
		}
		out = [][]byte{y, cb, cr}
	case *image.Gray:
		var g []byte
		for py := r.Min.Y; py < r.Max.Y; py++ {
			g = append(g, m.Pix[m.PixOffset(r.Min.X, py):m.PixOffset(r.Max.X, py)]...)
		}
		out = [][]byte{g}
	case *image.CMYK:
		var g []byte
		for py := r.Min.Y; py < r.Max.Y; py++ {
			g = append(g, m.Pix[m.PixOffset(r.Min.X, py):m.PixOffset(r.Max.X, py)]...)
		}
		out = [][]byte{g}
	}
	return out
}

// At scale 1 the decoder is image/jpeg: same type, bounds and samples, also
// when the planes come from dirty memory, and inside Need when a region is
// given.
func TestScale1MatchesImageJPEG(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			want, err := stdjpeg.Decode(bytes.NewReader(data))
			require.NoError(t, err)
			dirty := func(n int) []byte {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(i*7 + 3)
				}
				return b
			}
			b := want.Bounds()
			need := image.Rect(b.Dx()/3, b.Dy()/4, b.Dx()/3+b.Dx()/3+1, b.Dy()/4+b.Dy()/2+1)
			for _, opt := range []Options{{}, {Alloc: dirty}, {Need: need, Alloc: dirty}} {
				got, err := Decode(bytes.NewReader(data), opt)
				require.NoError(t, err)
				assert.Equal(t, 1, got.Scale)
				require.IsType(t, want, got.Image)
				require.Equal(t, b, got.Image.Bounds())
				r := b
				if !opt.Need.Empty() {
					r = opt.Need
				}
				assert.Equal(t, pixels(want, r), pixels(got.Image, r))
				assert.Equal(t, opt.Alloc != nil, got.Planes != nil)
			}
		})
	}
}

// Scaled decoding gives ceil(size/scale) pixels whose mean follows the
// full-size image's block means (the 1/8 scale is exactly the DC term).
func TestScaledSizeAndMean(t *testing.T) {
	for _, f := range fixtures(t) {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		full, err := Decode(bytes.NewReader(data), Options{})
		require.NoError(t, err)
		fb := full.Image.Bounds()
		for _, s := range []int{2, 4, 8} {
			got, err := Decode(bytes.NewReader(data), Options{Scale: s})
			require.NoError(t, err, f)
			if _, cmyk := full.Image.(*image.CMYK); cmyk {
				assert.Equal(t, 1, got.Scale, "%s: four components decode at full size", f)
				continue
			}
			require.Equal(t, s, got.Scale)
			assert.Equal(t, image.Rect(0, 0, (fb.Dx()+s-1)/s, (fb.Dy()+s-1)/s), got.Image.Bounds(), "%s at 1/%d", f, s)
			// Compare luma means over the whole-block part of the image.
			bw, bh := fb.Dx()/8*8, fb.Dy()/8*8
			if bw == 0 || bh == 0 {
				continue
			}
			mf := lumaMean(full.Image, image.Rect(0, 0, bw, bh))
			ms := lumaMean(got.Image, image.Rect(0, 0, bw/s, bh/s))
			assert.InDelta(t, mf, ms, 1.0, "%s at 1/%d: mean luma", f, s)
		}
	}
}

func lumaMean(img image.Image, r image.Rectangle) float64 {
	sum, n := 0.0, 0
	for _, v := range pixels(img, r)[0] {
		sum += float64(v)
		n++
	}
	return sum / float64(n)
}

// The corpus (tools/reference/jpeg_corpus.sh: noisy pictures, baseline and
// progressive, restart intervals, 4:2:0/4:2:2/4:4:4, grayscale, optimised
// tables) decodes at full size to image/jpeg's samples, every one; and a
// lossless transcoding (NAME.tr-*.jpg: the same coefficients in another
// layout) decodes to its source's samples at every scale, which checks the
// paths that read past coefficients a scale does not need against the
// progressive path, which keeps them all.
func TestCorpusMatchesImageJPEG(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.jpg")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 10)
	decode := func(t *testing.T, f string, scale int) image.Image {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		got, err := Decode(bytes.NewReader(data), Options{Scale: scale})
		require.NoError(t, err)
		require.Equal(t, scale, got.Scale)
		return got.Image
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			want, err := stdjpeg.Decode(bytes.NewReader(data))
			require.NoError(t, err)
			got := decode(t, f, 1)
			require.Equal(t, want.Bounds(), got.Bounds())
			assert.Equal(t, pixels(want, want.Bounds()), pixels(got, got.Bounds()))
			base, _, ok := strings.Cut(filepath.Base(f), ".tr-")
			if !ok {
				return
			}
			src := filepath.Join(filepath.Dir(f), base+".jpg")
			for _, s := range []int{1, 2, 4, 8} {
				w, g := decode(t, src, s), decode(t, f, s)
				require.Equal(t, w.Bounds(), g.Bounds())
				assert.Equal(t, pixels(w, w.Bounds()), pixels(g, g.Bounds()), "1/%d", s)
			}
		})
	}
}

// FuzzDecode checks the fork against image/jpeg on arbitrary input: at
// scale 1 both fail or both give the same samples, and the scaled decodes
// neither panic nor write outside their planes. Seeds: the corpus and the
// reference fixtures.
func FuzzDecode(f *testing.F) {
	for _, glob := range []string{"testdata/corpus/*.jpg", "../../testdata/ref/*.jpg"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 16<<10 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := stdjpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<16 {
			return // image/jpeg would allocate whatever the header says
		}
		want, werr := stdjpeg.Decode(bytes.NewReader(data))
		got, gerr := Decode(bytes.NewReader(data), Options{})
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("image/jpeg: %v, fork: %v", werr, gerr)
		}
		if werr == nil {
			require.Equal(t, want.Bounds(), got.Image.Bounds())
			require.Equal(t, pixels(want, want.Bounds()), pixels(got.Image, got.Image.Bounds()))
		}
		for _, s := range []int{2, 4, 8} {
			_, _ = Decode(bytes.NewReader(data), Options{Scale: s})
		}
	})
}
