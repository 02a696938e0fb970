package imageproc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"sync"

	"github.com/clipinfer/clipinfer/imageproc/internal/jpeg"
)

// LoadOptions choose how Load reads an image file before preprocessing.
type LoadOptions struct {
	// MaxPixels bounds width × height as in Decode (<= 0: DefaultMaxPixels).
	MaxPixels int64
	// FastDecode decodes JPEGs at 1/2, 1/4 or 1/8 scale in the DCT domain
	// (the smallest scale whose result is not smaller than the model's
	// input), as Pillow's Image.draft("RGB", (Size, Size)) does with
	// libjpeg-turbo, before the same resize. Other formats are unaffected.
	FastDecode bool
	// EXIF applies the orientation an EXIF tag records (in a JPEG, PNG or
	// WebP file), as PIL.ImageOps.exif_transpose does before the
	// transform, so the model sees the photo the way a person does.
	// OpenAI's own pipeline ignores the tag (EXIF false). A TIFF's
	// Orientation tag is applied either way, as Pillow's TIFF reader does.
	EXIF bool
	// Budget, if set, is acquired for the decoded size of the image
	// before its pixels are decoded and released once it is preprocessed,
	// bounding the memory of all loads that share it.
	Budget *Budget
}

// LoadFile decodes the image file at path and preprocesses it (Decode,
// then Preprocess, with the options). Errors name the file.
func LoadFile(path string, cfg Config, opt LoadOptions) ([]float32, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dst := make([]float32, 3*cfg.Crop*cfg.Crop)
	if err := LoadFileInto(dst, path, cfg, opt, nil); err != nil {
		return nil, err
	}
	return dst, nil
}

// LoadFileInto is LoadFile writing into dst (at least 3×Crop×Crop values),
// with a Scratch as in PreprocessInto. With a Budget the header is read
// first and the file's bytes plus its decoded size are acquired before the
// rest is read.
func LoadFileInto(dst []float32, path string, cfg Config, opt LoadOptions, s *Scratch) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("imageproc: %w", err)
	}
	defer f.Close()
	if opt.Budget != nil {
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("imageproc: %w", err)
		}
		cost, err := loadCost(bufio.NewReaderSize(f, 64<<10), cfg, opt)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		cost += info.Size()
		if err := opt.Budget.Acquire(context.Background(), cost); err != nil {
			return err
		}
		defer opt.Budget.Release(cost)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("imageproc: %w", err)
		}
		opt.Budget = nil
	}
	if err := LoadInto(dst, f, cfg, opt, s); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// loadCost estimates the bytes of decoded samples an image needs, from its
// header.
func loadCost(r io.Reader, cfg Config, opt LoadOptions) (int64, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0xff && head[1] == 0xd8 {
		_, _, _, n, err := jpeg.Layout(br, jpegOptions(cfg, opt))
		if err != nil {
			return 0, fmt.Errorf("imageproc: reading JPEG header: %w", err)
		}
		return int64(n), nil
	}
	c, format, err := image.DecodeConfig(br)
	if err != nil {
		return 0, fmt.Errorf("imageproc: reading %s header: %w", formatName(format), err)
	}
	return 4 * int64(c.Width) * int64(c.Height), nil
}

// jpegOptions are the decoder options for cfg and opt.
func jpegOptions(cfg Config, opt LoadOptions) jpeg.Options {
	if opt.FastDecode {
		return jpeg.Options{Draft: cfg.Size}
	}
	return jpeg.Options{}
}

// Load decodes an image from r and preprocesses it.
func Load(r io.Reader, cfg Config, opt LoadOptions) ([]float32, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dst := make([]float32, 3*cfg.Crop*cfg.Crop)
	if err := LoadInto(dst, r, cfg, opt, nil); err != nil {
		return nil, err
	}
	return dst, nil
}

// LoadInto is Load writing into dst, with a Scratch as in PreprocessInto.
// JPEGs are decoded only where the crop reads them (the inverse DCT of
// blocks that do not reach it is skipped; the pixels that matter are
// those Decode gives), into plane memory reused between calls.
func LoadInto(dst []float32, r io.Reader, cfg Config, opt LoadOptions, s *Scratch) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	c := cfg.Crop
	if len(dst) < 3*c*c {
		return fmt.Errorf("imageproc: destination holds %d values, need %d", len(dst), 3*c*c)
	}
	maxPixels := opt.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	data, err := readAllLimited(r, maxPixels, getFileBuf)
	if err != nil {
		return err
	}
	// Nothing decoded keeps a reference to the file's bytes.
	defer fileBufPool.put(data)
	if opt.Budget != nil {
		cost, err := loadCost(bytes.NewReader(data), cfg, opt)
		if err != nil {
			return err
		}
		if err := opt.Budget.Acquire(context.Background(), cost); err != nil {
			return err
		}
		defer opt.Budget.Release(cost)
	}
	if s == nil {
		s = scratchPool.Get().(*Scratch)
		defer scratchPool.Put(s)
	}
	orient := 1
	if opt.EXIF || turnsOnDecode(data) {
		orient = orientation(data)
	}
	if isJPEG(data) {
		return s.loadJPEG(dst, data, cfg, opt, maxPixels, orient)
	}
	img, _, err := decodeBytes(data, maxPixels)
	if err != nil {
		return err
	}
	return s.preprocess(dst, img, cfg, orient)
}

// bufPool recycles byte buffers between loads: a camera file's megabytes
// (its bytes, its sample planes) are not allocated and cleared again for
// every file. Buffers above max bytes (0: no bound) are left to the
// collector, so that the pool does not keep tens of megabytes alive.
type bufPool struct {
	p   sync.Pool // of *[]byte
	max int
}

// get returns a buffer of length n with stale contents.
func (bp *bufPool) get(n int) []byte {
	if p, ok := bp.p.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func (bp *bufPool) put(b []byte) {
	if cap(b) > 0 && (bp.max == 0 || cap(b) <= bp.max) {
		bp.p.Put(&b)
	}
}

var (
	// planePool holds JPEG sample planes.
	planePool bufPool
	// fileBufPool holds the buffers LoadInto reads files into; large
	// PNGs and TIFFs are not kept.
	fileBufPool = bufPool{max: 16 << 20}
)

// getPlanes and getFileBuf are the decoder's and readAllLimited's
// allocators (plain functions: a method value would be allocated).
func getPlanes(n int) []byte  { return planePool.get(n) }
func getFileBuf(n int) []byte { return fileBufPool.get(n)[:0] }

// loadJPEG decodes JPEG data with the fork of image/jpeg (at a reduced
// scale for FastDecode, skipping blocks the crop does not read) and
// preprocesses it.
func (s *Scratch) loadJPEG(dst []float32, data []byte, cfg Config, opt LoadOptions, maxPixels int64, orient int) error {
	jo := jpegOptions(cfg, opt)
	w, h, scale, _, err := jpeg.Layout(bytes.NewReader(data), jo)
	if err != nil {
		return fmt.Errorf("imageproc: reading JPEG header: %w", err)
	}
	if err := checkSize(w*scale, h*scale, maxPixels); err != nil {
		return fmt.Errorf("imageproc: JPEG: %w", err)
	}
	if p, err := newPlan(w, h, cfg, orient); err == nil {
		// A margin of 16 samples covers chroma upsampling's neighbours.
		jo.Need = p.need(w, h, 16)
	}
	jo.Alloc = getPlanes
	d, err := jpeg.DecodeBytes(data, jo)
	defer planePool.put(d.Planes)
	if err != nil {
		return fmt.Errorf("imageproc: decoding JPEG: %w", err)
	}
	return s.preprocess(dst, d.Image, cfg, orient)
}

// preprocess is PreprocessInto for an image turned by an EXIF orientation.
func (s *Scratch) preprocess(dst []float32, img image.Image, cfg Config, orient int) error {
	crop, src, err := s.run(img, cfg, orient)
	if err != nil {
		return err
	}
	s.fillLUT(cfg)
	cc := cfg.Crop * cfg.Crop
	r, g, b := dst[:cc], dst[cc:2*cc], dst[2*cc:3*cc]
	for i := range cc {
		rv, gv, bv := s.finalRGB(crop, i, &src)
		r[i], g[i], b[i] = s.lut[0][rv], s.lut[1][gv], s.lut[2][bv]
	}
	return nil
}

// readAllLimited reads the whole input, refusing more than 8 bytes per
// allowed pixel plus 32 MiB. alloc, if not nil, provides the buffer for a
// regular file.
func readAllLimited(r io.Reader, maxPixels int64, alloc func(n int) []byte) ([]byte, error) {
	maxPixels = min(maxPixels, maxSide*maxSide)
	limit := maxPixels*8 + 32<<20
	// A regular file's size sizes the buffer once (growing it from a few
	// bytes would copy a camera file's megabytes several times).
	var data []byte
	if f, ok := r.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil && off <= info.Size() && info.Size()-off <= limit {
				if alloc == nil {
					alloc = func(n int) []byte { return make([]byte, 0, n) }
				}
				data = alloc(int(info.Size() - off + 1))
			}
		}
	}
	lr := io.LimitReader(r, limit+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := lr.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("imageproc: reading image: %w", err)
		}
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("imageproc: %w: more than %d bytes of input", ErrTooLarge, limit)
	}
	return data, nil
}
