package imageproc

import (
	"bytes"
	"fmt"
	"image"

	"github.com/clipinfer/clipinfer/imageproc/internal/jpeg"
)

// DisplayedSize reads the width and height of the encoded image in data
// from its header, without decoding pixels, as a person sees the image:
// swapped when the orientation LoadInto applies with opt (EXIF when
// opt.EXIF, a TIFF's Orientation tag always) turns it by a quarter. The
// size is the stored one, not a reduced FastDecode scale. It is what
// DecodeFor's Bounds report without FastDecode.
func DisplayedSize(data []byte, opt LoadOptions) (w, h int, err error) {
	if isJPEG(data) {
		w, h, _, _, err = jpeg.Layout(bytes.NewReader(data), jpeg.Options{})
		if err != nil {
			return 0, 0, fmt.Errorf("imageproc: reading JPEG header: %w", err)
		}
	} else {
		c, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return 0, 0, fmt.Errorf("imageproc: reading %s header: %w", formatName(format), err)
		}
		w, h = c.Width, c.Height
	}
	if opt.EXIF || turnsOnDecode(data) {
		if o := orientation(data); o >= 5 && o <= 8 {
			w, h = h, w
		}
	}
	return w, h, nil
}
