package imageproc

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"

	"github.com/clipinfer/clipinfer/imageproc/internal/jpeg"
)

// Oriented is an image as a person sees it: the stored image turned by an
// EXIF orientation (2–8, PIL.ImageOps.exif_transpose's table). Its pixels
// are not copied: At reads the stored image, and Preprocess resizes the
// stored pixels and places them as the orientation says, exactly as
// LoadInto does for a file.
type Oriented struct {
	// Image is the image as stored.
	Image image.Image
	// Orientation is the EXIF orientation, 1–8.
	Orientation int
}

// ColorModel returns the stored image's colour model.
func (o *Oriented) ColorModel() color.Model { return o.Image.ColorModel() }

// Bounds is the displayed size, with the origin at (0, 0).
func (o *Oriented) Bounds() image.Rectangle {
	b := o.Image.Bounds()
	if o.Orientation >= 5 && o.Orientation <= 8 {
		return image.Rect(0, 0, b.Dy(), b.Dx())
	}
	return image.Rect(0, 0, b.Dx(), b.Dy())
}

// At returns the colour of the displayed pixel (x, y).
func (o *Oriented) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(o.Bounds())) {
		return o.Image.ColorModel().Convert(color.Transparent)
	}
	b := o.Image.Bounds()
	p := plan{orient: o.Orientation, srw: b.Dx(), srh: b.Dy()}
	sx, sy := p.stored(x, y)
	return o.Image.At(b.Min.X+sx, b.Min.Y+sy)
}

// unturn returns the stored image and orientation of an *Oriented, or img
// and orient unchanged.
func unturn(img image.Image, orient int) (image.Image, int) {
	if o, ok := img.(*Oriented); ok && orient == 1 && o.Orientation >= 1 && o.Orientation <= 8 {
		return o.Image, o.Orientation
	}
	return img, orient
}

// DecodeFor decodes an image the way LoadInto reads it before
// preprocessing for cfg, for callers that need the image itself (its size,
// or several preprocessings): opt.FastDecode decodes a JPEG at the reduced
// scale cfg.Size allows, opt.EXIF turns the image by its EXIF orientation
// (a TIFF's Orientation tag always), returning an *Oriented when it turns.
// Preprocess of the result with cfg gives exactly LoadInto's tensor.
// opt.Budget is not used; MaxPixels bounds the image as in Decode.
func DecodeFor(r io.Reader, cfg Config, opt LoadOptions) (image.Image, string, error) {
	if opt.FastDecode {
		if err := cfg.Validate(); err != nil {
			return nil, "", err
		}
	}
	maxPixels := opt.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	data, err := readAllLimited(r, maxPixels, nil)
	if err != nil {
		return nil, "", err
	}
	var img image.Image
	format := "jpeg"
	if isJPEG(data) {
		// The fork LoadInto uses, without its window: the same pixels.
		jo := jpegOptions(cfg, opt)
		w, h, scale, _, err := jpeg.Layout(bytes.NewReader(data), jo)
		if err != nil {
			return nil, format, fmt.Errorf("imageproc: reading JPEG header: %w", err)
		}
		if err := checkSize(w*scale, h*scale, maxPixels); err != nil {
			return nil, format, fmt.Errorf("imageproc: JPEG: %w", err)
		}
		d, err := jpeg.DecodeBytes(data, jo)
		if err != nil {
			return nil, format, fmt.Errorf("imageproc: decoding JPEG: %w", err)
		}
		img = d.Image
	} else if img, format, err = decodeBytes(data, maxPixels); err != nil {
		return nil, format, err
	}
	if opt.EXIF || turnsOnDecode(data) {
		if o := orientation(data); o != 1 {
			img = &Oriented{Image: img, Orientation: o}
		}
	}
	return img, format, nil
}
