package imageproc

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
)

// Pipeline selects the order of preprocessing steps.
type Pipeline int

const (
	// OpenAI is OpenAI CLIP's torchvision transform: Resize(Size, BICUBIC)
	// and CenterCrop(Crop) on the image in the mode it was opened in, then
	// convert("RGB"), ToTensor and Normalize. It is the default.
	OpenAI Pipeline = iota
	// HF is Hugging Face's CLIPImageProcessor: convert to RGB first, then
	// resize the shortest edge to Size with Pillow's bicubic filter, center
	// crop with floor rounding (padding with zeros when too small), rescale
	// by 1/255 and normalise.
	HF
	// SigLIP is Hugging Face's SiglipImageProcessor: HF's steps, but the
	// image is resized straight to Size×Size (aspect ratio not kept) and
	// not cropped; Crop must equal Size.
	SigLIP
)

// String returns "openai" or "hf".
func (p Pipeline) String() string {
	switch p {
	case OpenAI:
		return "openai"
	case HF:
		return "hf"
	case SigLIP:
		return "siglip"
	}
	return fmt.Sprintf("Pipeline(%d)", int(p))
}

// ParsePipeline parses "openai" or "hf" (as written by String).
func ParsePipeline(s string) (Pipeline, error) {
	switch s {
	case "openai", "":
		return OpenAI, nil
	case "hf":
		return HF, nil
	case "siglip":
		return SigLIP, nil
	}
	return 0, fmt.Errorf("imageproc: unknown pipeline %q (want openai, hf or siglip)", s)
}

// Filter is the resampling filter of the resize (Pillow's).
type Filter int

const (
	// Bicubic is Pillow's BICUBIC (a = -0.5), what CLIP and SigLIP use.
	Bicubic Filter = iota
	// Bilinear is Pillow's BILINEAR (a triangle), which some Hugging
	// Face image processors configure (resample 2).
	Bilinear
)

// CLIPMean and CLIPStd are the normalisation constants of OpenAI's CLIP.
var (
	CLIPMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// maxConfigSide bounds Size and Crop.
const maxConfigSide = 1 << 14

// Config describes a model's image preprocessing.
type Config struct {
	// Size is the length the shorter side is resized to.
	Size int
	// Crop is the side of the square centre crop.
	Crop int
	// Mean and Std normalise each RGB channel after scaling to [0, 1].
	Mean, Std [3]float32
	// Mode is the order of the steps (OpenAI, HF or SigLIP).
	Mode Pipeline
	// Filter is the resize filter; the zero value is Bicubic.
	Filter Filter
}

// DefaultConfig returns the preprocessing of OpenAI's ViT-B/32 and most
// CLIP models: 224 pixels, CLIP's mean and std, OpenAI's order.
func DefaultConfig() Config {
	return Config{Size: 224, Crop: 224, Mean: CLIPMean, Std: CLIPStd, Mode: OpenAI}
}

// Validate reports whether c can be used.
func (c Config) Validate() error {
	if c.Size < 1 || c.Size > maxConfigSide || c.Crop < 1 || c.Crop > maxConfigSide {
		return fmt.Errorf("imageproc: size %d and crop %d must be between 1 and %d", c.Size, c.Crop, maxConfigSide)
	}
	for i := range 3 {
		m, s := float64(c.Mean[i]), float64(c.Std[i])
		if math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(s) || math.IsInf(s, 0) || s == 0 {
			return fmt.Errorf("imageproc: mean %v and std %v must be finite, std non-zero", c.Mean, c.Std)
		}
	}
	if c.Mode != OpenAI && c.Mode != HF && c.Mode != SigLIP {
		return fmt.Errorf("imageproc: unknown pipeline %v", c.Mode)
	}
	if c.Filter != Bicubic && c.Filter != Bilinear {
		return fmt.Errorf("imageproc: unknown filter %d", c.Filter)
	}
	if c.Mode == SigLIP && c.Crop != c.Size {
		return fmt.Errorf("imageproc: the siglip pipeline does not crop: crop %d must equal size %d", c.Crop, c.Size)
	}
	return nil
}

// Scratch holds the buffers one preprocessing run needs, so that repeated
// runs allocate nothing. The zero value is ready to use; a Scratch must not
// be used by two goroutines at once.
type Scratch struct {
	ax, ay     axis
	srow, hrow []uint8
	yrow       []uint8
	srow32     []int32
	hrow32     []int32
	acc        []int32
	accd       []float64
	ub, vb     []uint8 // upsampled chroma of one row
	cs         []int32 // chroma column sums
	pair       []uint8 // upsampled chroma before trimming to the window
	crop       []uint8
	turn       []uint8 // resized window of a turned image, as stored
	pal        [256][3]uint8
	lut        [3][256]float32
}

var scratchPool = sync.Pool{New: func() any { return new(Scratch) }}

// Preprocess returns the normalised 3×Crop×Crop (CHW) float32 tensor the
// image tower sees, computed as cfg.Mode's reference implementation does.
func Preprocess(img image.Image, cfg Config) ([]float32, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dst := make([]float32, 3*cfg.Crop*cfg.Crop)
	if err := PreprocessInto(dst, img, cfg, nil); err != nil {
		return nil, err
	}
	return dst, nil
}

// PreprocessInto is Preprocess writing into dst (at least 3×Crop×Crop
// values). With a non-nil Scratch it allocates nothing once the scratch
// buffers have grown to size (images read through At, i.e. types other
// than Go's standard ones and *Bilevel, still allocate per pixel); with a
// nil Scratch one is taken from a pool.
func PreprocessInto(dst []float32, img image.Image, cfg Config, s *Scratch) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	c := cfg.Crop
	if len(dst) < 3*c*c {
		return fmt.Errorf("imageproc: destination holds %d values, need %d", len(dst), 3*c*c)
	}
	if s == nil {
		s = scratchPool.Get().(*Scratch)
		defer scratchPool.Put(s)
	}
	return s.preprocess(dst, img, cfg, 1)
}

// ResizeCropRGB8 returns the Crop×Crop 8-bit RGB image (HWC order) that the
// pipeline normalises, i.e. the image just before ToTensor.
func ResizeCropRGB8(img image.Image, cfg Config) ([]uint8, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := scratchPool.Get().(*Scratch)
	defer scratchPool.Put(s)
	crop, src, err := s.run(img, cfg, 1)
	if err != nil {
		return nil, err
	}
	out := make([]uint8, 3*cfg.Crop*cfg.Crop)
	for i := range cfg.Crop * cfg.Crop {
		out[3*i], out[3*i+1], out[3*i+2] = s.finalRGB(crop, i, &src)
	}
	return out, nil
}

// PillowMode returns the Pillow mode ("1", "L", "P", "I", "RGB", "RGBA" or
// "CMYK") whose resizing and RGB conversion Preprocess applies to img in
// the OpenAI pipeline. An RGBA image without transparent pixels reports
// "RGB": Pillow gives the same result for both.
func PillowMode(img image.Image) string {
	var pal [256][3]uint8
	img, _ = unturn(img, 1)
	return newSource(img, OpenAI, &pal).mode
}

// errEmptyImage is returned for images without pixels.
var errEmptyImage = errors.New("imageproc: image has no pixels")

// run resizes and crops img into s.crop (Crop×Crop pixels of src.ch
// channels, in the representation src.fin describes), as if img had first
// been turned by the EXIF orientation orient (1 or 0: as stored).
func (s *Scratch) run(img image.Image, cfg Config, orient int) ([]uint8, source, error) {
	if img == nil || img.Bounds().Empty() {
		return nil, source{}, errEmptyImage
	}
	img, orient = unturn(img, orient)
	src := newSource(img, cfg.Mode, &s.pal)
	w, h := src.r.Dx(), src.r.Dy()
	p, err := newPlan(w, h, cfg, orient)
	if err != nil {
		return nil, source{}, err
	}
	if cfg.Mode == OpenAI && p.srw == w && p.srh == h {
		// Pillow's resize returns a plain copy when the size does not
		// change: nothing is premultiplied, so the pixels are those of
		// the image converted to RGB first, as in the HF order.
		src = newSource(img, HF, &s.pal)
	}
	c, ch := cfg.Crop, src.ch
	s.crop = grow(s.crop, c*c*ch)
	crop := s.crop[:c*c*ch]
	clear(crop)
	if p.empty() {
		return crop, src, nil
	}
	g := p.g
	if !p.turned() {
		out := crop[((p.y0-g.oy)*c+(p.x0-g.ox))*ch:]
		s.resize(&src, cfg.Filter, w, h, p.srw, p.srh, p.sx0, p.sx1, p.sy0, p.sy1, out, c*ch)
		return crop, src, nil
	}
	// Resize the stored image over the window that lands in the crop, then
	// place every pixel where the orientation puts it.
	wx, wy := p.sx1-p.sx0, p.sy1-p.sy0
	s.turn = grow(s.turn, wx*wy*ch)
	tmp := s.turn[:wx*wy*ch]
	s.resize(&src, cfg.Filter, w, h, p.srw, p.srh, p.sx0, p.sx1, p.sy0, p.sy1, tmp, wx*ch)
	for y := p.y0; y < p.y1; y++ {
		for x := p.x0; x < p.x1; x++ {
			sx, sy := p.stored(x, y)
			d := ((y-g.oy)*c + (x - g.ox)) * ch
			o := ((sy-p.sy0)*wx + (sx - p.sx0)) * ch
			copy(crop[d:d+ch], tmp[o:o+ch])
		}
	}
	return crop, src, nil
}

// resize resamples the w×h source to rw×rh with filter f and writes the
// output window [x0, x1) × [y0, y1) to out (row stride stride).
func (s *Scratch) resize(src *source, f Filter, w, h, rw, rh, x0, x1, y0, y1 int, out []uint8, stride int) {
	switch {
	case src.nearest && (rw != w || rh != h):
		s.ax.setNearest(w, rw, x0, x1)
		s.ay.setNearest(h, rh, y0, y1)
		s.resampleNearest(src, out, stride)
		return
	case rw == w:
		s.ax.setIdentity(x0, x1)
	default:
		s.ax.setFilter(w, rw, x0, x1, src.wide, f)
	}
	if rh == h {
		s.ay.setIdentity(y0, y1)
	} else {
		s.ay.setFilter(h, rh, y0, y1, src.wide, f)
	}
	if src.wide {
		s.resample32(src, out, stride)
	} else {
		s.resample8(src, out, stride)
	}
}

// finalRGB converts pixel i of the crop buffer to RGB.
func (s *Scratch) finalRGB(crop []uint8, i int, src *source) (r, g, b uint8) {
	switch src.fin {
	case finL:
		v := crop[i]
		return v, v, v
	case finRGB:
		p := crop[3*i : 3*i+3 : 3*i+3]
		return p[0], p[1], p[2]
	case finRGBa:
		p := crop[4*i : 4*i+4 : 4*i+4]
		return unpremulPillow(p[0], p[3]), unpremulPillow(p[1], p[3]), unpremulPillow(p[2], p[3])
	case finCMYK:
		p := crop[4*i : 4*i+4 : 4*i+4]
		return cmykRGB(p[0], p[1], p[2], p[3])
	default: // finP
		c := &s.pal[crop[i]]
		return c[0], c[1], c[2]
	}
}

// fillLUT computes the normalised value of every 8-bit level per channel,
// with the reference's float32 arithmetic: torchvision divides by 255 in
// float32; Hugging Face multiplies by 1/255 in float64 and rounds to
// float32. Both then subtract the mean and divide by the std in float32.
func (s *Scratch) fillLUT(cfg Config) {
	for c := range 3 {
		m, sd := cfg.Mean[c], cfg.Std[c]
		for v := range 256 {
			var x float32
			if cfg.Mode != OpenAI {
				x = float32(float64(v) * (1.0 / 255.0))
			} else {
				x = float32(v) / 255
			}
			s.lut[c][v] = (x - m) / sd
		}
	}
}

// geom is where the crop sits in the resized image.
type geom struct {
	rw, rh int // resized size
	ox, oy int // top-left corner of the crop in resized coordinates
}

// maxResized bounds the long side of the resized image.
const maxResized = 1 << 30

// geometry computes the resized size as torchvision's Resize(int) and
// transformers' get_resize_output_image_size do (the shorter side becomes
// Size, the longer int(Size·long/short)) and the crop position: torchvision
// pads (c-r)//2 on the left/top when the crop is larger and otherwise starts
// at round((r-c)/2) with Python's round-half-to-even; transformers starts at
// (r-c)//2 with floor division either way.
func geometry(w, h int, cfg Config) (geom, error) {
	if cfg.Mode == SigLIP {
		return geom{rw: cfg.Size, rh: cfg.Size}, nil
	}
	short, long := int64(w), int64(h)
	if w > h {
		short, long = int64(h), int64(w)
	}
	size := int64(cfg.Size)
	newLong := int64(float64(size*long) / float64(short))
	if newLong > maxResized {
		return geom{}, fmt.Errorf("imageproc: %d×%d image: aspect ratio too extreme to resize", w, h)
	}
	g := geom{rw: int(size), rh: int(newLong)}
	if w > h {
		g.rw, g.rh = int(newLong), int(size)
	}
	c := cfg.Crop
	if cfg.Mode == HF {
		g.ox, g.oy = (g.rw-c)>>1, (g.rh-c)>>1
	} else {
		g.ox, g.oy = torchCropStart(g.rw, c), torchCropStart(g.rh, c)
	}
	return g, nil
}

// torchCropStart is torchvision's center_crop offset along one side of r
// samples for a crop of c.
func torchCropStart(r, c int) int {
	if c > r {
		return -((c - r) / 2)
	}
	n := r - c // round(n / 2.0), ties to even
	q := n / 2
	if n%2 == 1 && q%2 == 1 {
		q++
	}
	return q
}
