package server

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"net/http"

	"github.com/clipinfer/clipinfer/imageproc"
)

// imageConfigModel is implemented by models that say how their image tower
// preprocesses (*runtime.Model does): FastDecode needs the input size to
// choose the JPEG scale.
type imageConfigModel interface {
	ImageConfig() (imageproc.Config, bool)
}

// ImageDecoding is how the server decodes uploaded images, as GET /healthz
// reports it.
type ImageDecoding struct {
	// EXIFOrientation: images are turned by their EXIF orientation (JPEG,
	// PNG, WebP) before the transform; a TIFF's Orientation tag applies
	// either way, as Pillow's TIFF reader does.
	EXIFOrientation bool `json:"exif_orientation"`
	// FastDecode: JPEGs are decoded at 1/2, 1/4 or 1/8 scale in the DCT
	// domain (Pillow's draft mode).
	FastDecode bool `json:"fast_decode"`
}

// setupDecode checks the decoding options against the model and notes its
// preprocessing when it reports one.
func (s *Server) setupDecode() error {
	var cfg imageproc.Config
	ok := false
	if m, reports := s.cfg.Model.(imageConfigModel); reports {
		cfg, ok = m.ImageConfig()
	}
	_, pixels := s.cfg.Model.(pixelModel)
	s.imgCfg, s.loads = cfg, ok && pixels
	if s.cfg.FastDecode && !ok {
		return errors.New("server: FastDecode needs a model that reports its image preprocessing (ImageConfig) and whose image tower takes pixels")
	}
	return nil
}

// decodeImage decodes uploaded image file number i with the pixel limit,
// turned by its EXIF orientation and at a reduced scale as configured.
func (s *Server) decodeImage(i int, b []byte) (image.Image, error) {
	img, _, err := imageproc.DecodeFor(bytes.NewReader(b), s.imgCfg, s.loadOptions())
	if err != nil {
		return nil, imageError(i, err)
	}
	return img, nil
}

// loadImage decodes and preprocesses uploaded image file number i straight
// into the model's input tensor, as the index command reads a file: a JPEG
// is decoded only where the crop reads it, into recycled planes, with no
// full-size image in between. It also returns the image's displayed size.
func (s *Server) loadImage(i int, b []byte) (pix []float32, w, h int, err error) {
	opt := s.loadOptions()
	if w, h, err = imageproc.DisplayedSize(b, opt); err != nil {
		return nil, 0, 0, imageError(i, err)
	}
	pix = make([]float32, 3*s.imgCfg.Crop*s.imgCfg.Crop)
	if err := imageproc.LoadInto(pix, bytes.NewReader(b), s.imgCfg, opt, nil); err != nil {
		return nil, 0, 0, imageError(i, err)
	}
	return pix, w, h, nil
}

// imageError is the answer to image i that could not be decoded: 413 for
// one over the pixel limit, 400 otherwise.
func imageError(i int, err error) error {
	if errors.Is(err, imageproc.ErrTooLarge) {
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Errorf("image %d: %w", i, err)}
	}
	return badRequest("image %d: %v", i, err)
}

// loadOptions are the imageproc options every uploaded image is decoded
// with.
func (s *Server) loadOptions() imageproc.LoadOptions {
	return imageproc.LoadOptions{MaxPixels: s.cfg.MaxPixels, EXIF: !s.cfg.IgnoreEXIF, FastDecode: s.cfg.FastDecode}
}

func (s *Server) imageDecoding() ImageDecoding {
	return ImageDecoding{EXIFOrientation: !s.cfg.IgnoreEXIF, FastDecode: s.cfg.FastDecode}
}

// isJPEG reports whether b starts with a JPEG's SOI marker.
func isJPEG(b []byte) bool { return len(b) >= 2 && b[0] == 0xff && b[1] == 0xd8 }
