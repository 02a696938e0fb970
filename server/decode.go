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

// setupDecode checks the decoding options against the model.
func (s *Server) setupDecode() error {
	if !s.cfg.FastDecode {
		return nil
	}
	m, ok := s.cfg.Model.(imageConfigModel)
	if !ok {
		return errors.New("server: FastDecode needs a model that reports its image preprocessing (ImageConfig)")
	}
	cfg, ok := m.ImageConfig()
	if !ok {
		return errors.New("server: FastDecode needs a model whose image tower takes pixels")
	}
	s.imgCfg = cfg
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
