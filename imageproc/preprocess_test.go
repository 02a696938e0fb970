package imageproc

import (
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected sizes and offsets were printed by torchvision 0.14's
// _compute_resized_output_size and center_crop run in Python, and by
// transformers' formula ((r-c)//2) evaluated in Python.
func TestGeometry(t *testing.T) {
	tests := []struct {
		w, h, size, crop int
		mode             Pipeline
		want             geom
	}{
		{61, 13, 32, 32, OpenAI, geom{rw: 150, rh: 32, ox: 59, oy: 0}},
		{13, 61, 32, 32, OpenAI, geom{rw: 32, rh: 150, ox: 0, oy: 59}},
		{300, 200, 224, 224, OpenAI, geom{rw: 336, rh: 224, ox: 56, oy: 0}},
		{1, 1, 32, 32, OpenAI, geom{rw: 32, rh: 32}},
		{5, 40, 32, 32, OpenAI, geom{rw: 32, rh: 256, oy: 112}},
		{4000, 3000, 224, 224, OpenAI, geom{rw: 298, rh: 224, ox: 37}},
		{3, 1000, 7, 7, OpenAI, geom{rw: 7, rh: 2333, oy: 1163}},
		{3, 1000, 7, 7, HF, geom{rw: 7, rh: 2333, oy: 1163}},
		{4000, 3000, 224, 224, HF, geom{rw: 298, rh: 224, ox: 37}},
	}
	for _, tt := range tests {
		g, err := geometry(tt.w, tt.h, Config{Size: tt.size, Crop: tt.crop, Mode: tt.mode})
		require.NoError(t, err)
		assert.Equal(t, tt.want, g, "%d×%d → %d (%v)", tt.w, tt.h, tt.size, tt.mode)
	}
}

func TestCropStart(t *testing.T) {
	tests := []struct{ r, c, torch, hf int }{
		{33, 32, 0, 0}, // round(0.5) = 0: ties go to even
		{34, 32, 1, 1},
		{35, 32, 2, 1}, // round(1.5) = 2, 3//2 = 1
		{36, 32, 2, 2},
		{37, 32, 2, 2}, // round(2.5) = 2
		{24, 32, -4, -4},
		{25, 32, -3, -4}, // torchvision pads (c-r)//2 left, transformers ceil((c-r)/2)
		{32, 32, 0, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.torch, torchCropStart(tt.r, tt.c), "torchvision r=%d c=%d", tt.r, tt.c)
		assert.Equal(t, tt.hf, (tt.r-tt.c)>>1, "transformers r=%d c=%d", tt.r, tt.c)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	require.NoError(t, good.Validate())
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"zero size", func(c *Config) { c.Size = 0 }},
		{"negative crop", func(c *Config) { c.Crop = -1 }},
		{"huge crop", func(c *Config) { c.Crop = 1 << 20 }},
		{"zero std", func(c *Config) { c.Std[1] = 0 }},
		{"NaN mean", func(c *Config) { c.Mean[2] = float32(math.NaN()) }},
		{"infinite std", func(c *Config) { c.Std[0] = float32(math.Inf(1)) }},
		{"bad mode", func(c *Config) { c.Mode = 7 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			assert.Error(t, c.Validate())
			_, err := Preprocess(image.NewGray(image.Rect(0, 0, 2, 2)), c)
			assert.Error(t, err)
		})
	}
}

func TestParsePipeline(t *testing.T) {
	for _, p := range []Pipeline{OpenAI, HF} {
		got, err := ParsePipeline(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	_, err := ParsePipeline("torch")
	assert.Error(t, err)
}

func TestPreprocessErrors(t *testing.T) {
	cfg := DefaultConfig()
	_, err := Preprocess(nil, cfg)
	assert.Error(t, err)
	_, err = Preprocess(image.NewRGBA(image.Rect(3, 3, 3, 9)), cfg)
	assert.Error(t, err)
	err = PreprocessInto(make([]float32, 10), image.NewGray(image.Rect(0, 0, 4, 4)), cfg, nil)
	assert.ErrorContains(t, err, "destination holds 10 values")
	_, err = Preprocess(image.NewGray(image.Rect(0, 0, 1, 1<<24)), Config{Size: 8192, Crop: 8, Mean: CLIPMean, Std: CLIPStd})
	assert.ErrorContains(t, err, "aspect ratio")
}

func decodeRef(t testing.TB, name string) image.Image {
	t.Helper()
	img, err := DecodeFile(filepath.Join(refDir, name), 0)
	require.NoError(t, err)
	return img
}

// One Scratch reused across images, modes and sizes must give what a fresh
// one gives.
func TestScratchReuse(t *testing.T) {
	files := []string{"jpg_420_300x200.jpg", "png_p_48x36.png", "png_rgba_45x37.png",
		"png_i16_40x30.png", "jpg_cmyk_64x48.jpg", "png_rgb_1x1.png", "jpg_440_45x38.jpg"}
	cfgs := []Config{DefaultConfig(), {Size: 20, Crop: 31, Mean: CLIPMean, Std: CLIPStd, Mode: HF},
		{Size: 9, Crop: 5, Mean: CLIPMean, Std: CLIPStd}}
	var s Scratch
	for _, name := range files {
		img := decodeRef(t, name)
		for _, cfg := range cfgs {
			want, err := Preprocess(img, cfg)
			require.NoError(t, err)
			got := make([]float32, 3*cfg.Crop*cfg.Crop)
			require.NoError(t, PreprocessInto(got, img, cfg, &s))
			assert.Equal(t, want, got, "%s %+v", name, cfg)
		}
	}
}

// PreprocessInto with a warm Scratch allocates nothing for the image types
// Go's decoders return.
func TestPreprocessIntoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are slow to measure")
	}
	cfg := DefaultConfig()
	dst := make([]float32, 3*cfg.Crop*cfg.Crop)
	for _, name := range []string{"jpg_420_300x200.jpg", "png_rgba_45x37.png", "png_p_48x36.png",
		"png_i16_40x30.png", "jpg_cmyk_64x48.jpg", "png_1bit_64x48.png", "png_rgb16_40x30.png"} {
		img := decodeRef(t, name)
		for _, mode := range []Pipeline{OpenAI, HF} {
			cfg.Mode = mode
			var s Scratch
			require.NoError(t, PreprocessInto(dst, img, cfg, &s))
			allocs := testing.AllocsPerRun(3, func() {
				if err := PreprocessInto(dst, img, cfg, &s); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs, "%s %v", name, mode)
		}
	}
}

// Sub-images (bounds not at the origin) give the same result as the same
// pixels in a fresh image.
func TestSubImage(t *testing.T) {
	src := decodeRef(t, "png_rgba_300x250.png").(*image.NRGBA)
	r := image.Rect(17, 9, 200, 130)
	sub := src.SubImage(r)
	fresh := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		copy(fresh.Pix[y*fresh.Stride:], src.Pix[src.PixOffset(r.Min.X, r.Min.Y+y):src.PixOffset(r.Max.X, r.Min.Y+y)])
	}
	for _, mode := range []Pipeline{OpenAI, HF} {
		cfg := Config{Size: 40, Crop: 36, Mean: CLIPMean, Std: CLIPStd, Mode: mode}
		want, err := Preprocess(fresh, cfg)
		require.NoError(t, err)
		got, err := Preprocess(sub, cfg)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%v", mode)
	}
}

// wrapped hides the concrete type, forcing the generic At path.
type wrapped struct{ image.Image }

func TestGenericPathMatchesFastPath(t *testing.T) {
	for _, name := range []string{"png_rgba_45x37.png", "png_rgb_31x33.png", "jpg_444_75x51.jpg"} {
		img := decodeRef(t, name)
		if _, ok := img.(*image.YCbCr); ok {
			// At uses Go's own colour conversion, so compare with an NRGBA copy.
			b := img.Bounds()
			n := image.NewNRGBA(b)
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					n.Set(x, y, img.At(x, y))
				}
			}
			img = n
		}
		for _, mode := range []Pipeline{OpenAI, HF} {
			cfg := Config{Size: 24, Crop: 20, Mean: CLIPMean, Std: CLIPStd, Mode: mode}
			want, err := Preprocess(img, cfg)
			require.NoError(t, err)
			got, err := Preprocess(wrapped{img}, cfg)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%s %v", name, mode)
		}
	}
}

// An NYCbCrA image is the YCbCr conversion with alpha attached.
func TestNYCbCrA(t *testing.T) {
	ycc := decodeRef(t, "jpg_420_300x200.jpg").(*image.YCbCr)
	b := ycc.Bounds()
	m := &image.NYCbCrA{YCbCr: *ycc, A: make([]uint8, b.Dx()*b.Dy()), AStride: b.Dx()}
	for i := range m.A {
		m.A[i] = uint8(i * 7)
	}
	var s Scratch
	n := image.NewNRGBA(b)
	row := make([]uint8, 3*b.Dx())
	for y := 0; y < b.Dy(); y++ {
		s.ycbcrRow(ycc, y, 0, b.Dx(), row)
		for x := 0; x < b.Dx(); x++ {
			n.Pix[y*n.Stride+4*x] = row[3*x]
			n.Pix[y*n.Stride+4*x+1] = row[3*x+1]
			n.Pix[y*n.Stride+4*x+2] = row[3*x+2]
			n.Pix[y*n.Stride+4*x+3] = m.A[y*m.AStride+x]
		}
	}
	for _, mode := range []Pipeline{OpenAI, HF} {
		cfg := Config{Size: 50, Crop: 40, Mean: CLIPMean, Std: CLIPStd, Mode: mode}
		want, err := Preprocess(n, cfg)
		require.NoError(t, err)
		got, err := Preprocess(m, cfg)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%v", mode)
	}
}

func TestResizeCropRGB8MatchesPreprocess(t *testing.T) {
	img := decodeRef(t, "png_ptrns_40x40.png")
	cfg := Config{Size: 33, Crop: 30, Mean: CLIPMean, Std: CLIPStd}
	rgb, err := ResizeCropRGB8(img, cfg)
	require.NoError(t, err)
	x, err := Preprocess(img, cfg)
	require.NoError(t, err)
	cc := cfg.Crop * cfg.Crop
	for i := range cc {
		for c := range 3 {
			want := (float32(rgb[3*i+c])/255 - cfg.Mean[c]) / cfg.Std[c]
			require.Equal(t, want, x[c*cc+i])
		}
	}
}

// Pillow's arithmetic, checked exhaustively where it is cheap.
func TestPillowArithmetic(t *testing.T) {
	for a := range 256 {
		for v := range 256 {
			// MULDIV255 is round(a·v/255) for these ranges.
			want := uint8(math.Floor(float64(a*v)/255 + 0.5))
			require.Equal(t, want, muldiv255(uint32(a), uint32(v)), "%d·%d", a, v)
		}
	}
	assert.Equal(t, uint8(0), clip8(-1<<precisionBits))
	assert.Equal(t, uint8(255), clip8(300<<precisionBits))
	assert.Equal(t, uint8(7), clip8(7<<precisionBits|(1<<precisionBits-1)))
	assert.Equal(t, int32(3), roundUp(2.5))
	assert.Equal(t, int32(-3), roundUp(-2.5))
	assert.Equal(t, uint8(9), unpremulPillow(9, 0), "alpha 0 passes the value through")
	assert.Equal(t, uint8(255), unpremulPillow(200, 100), "clipped")
}

// Every coefficient row of Pillow's bicubic filter sums to one before the
// fixed-point conversion.
func TestBicubicCoefficientsNormalised(t *testing.T) {
	var a axis
	for _, tt := range []struct{ in, out int }{{4000, 224}, {20, 224}, {517, 32}, {1, 32}, {33, 32}} {
		a.setBicubic(tt.in, tt.out, 0, tt.out, true)
		for i := range a.start {
			sum := 0.0
			for _, k := range a.kd[a.off[i] : a.off[i]+a.n[i]] {
				sum += k
			}
			require.InDelta(t, 1, sum, 1e-12, "%d→%d output %d", tt.in, tt.out, i)
			require.GreaterOrEqual(t, a.start[i], 0)
			require.LessOrEqual(t, a.start[i]+a.n[i], tt.in)
		}
	}
}
