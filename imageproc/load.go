package imageproc

import (
	"fmt"
	"io"
	"os"
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
	// EXIF applies the orientation an EXIF tag records, as
	// PIL.ImageOps.exif_transpose does before the transform, so the model
	// sees the photo the way a person does. OpenAI's own pipeline ignores
	// the tag (EXIF false).
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
// with a Scratch as in PreprocessInto.
func LoadFileInto(dst []float32, path string, cfg Config, opt LoadOptions, s *Scratch) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("imageproc: %w", err)
	}
	defer f.Close()
	if err := LoadInto(dst, f, cfg, opt, s); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
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

// LoadInto is Load writing into dst.
func LoadInto(dst []float32, r io.Reader, cfg Config, opt LoadOptions, s *Scratch) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	maxPixels := opt.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	data, err := readAllLimited(r, maxPixels)
	if err != nil {
		return err
	}
	img, _, err := decodeBytes(data, maxPixels, decodeHints{})
	if err != nil {
		return err
	}
	return PreprocessInto(dst, img, cfg, s)
}

// readAllLimited reads the whole input, refusing more than 8 bytes per
// allowed pixel plus 32 MiB.
func readAllLimited(r io.Reader, maxPixels int64) ([]byte, error) {
	maxPixels = min(maxPixels, maxSide*maxSide)
	limit := maxPixels*8 + 32<<20
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("imageproc: reading image: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("imageproc: %w: more than %d bytes of input", ErrTooLarge, limit)
	}
	return data, nil
}

