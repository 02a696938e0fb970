package imageproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // registers GIF
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG
	"io"
	"os"
	"strings"

	_ "golang.org/x/image/bmp"  // registers BMP
	_ "golang.org/x/image/tiff" // registers TIFF
	_ "golang.org/x/image/webp" // registers WebP
)

// DefaultMaxPixels is the default limit on width × height that Decode
// accepts (100 megapixels, close to Pillow's own decompression-bomb limit).
const DefaultMaxPixels = 100_000_000

// maxSide bounds either side of an image, whatever maxPixels says.
const maxSide = 1 << 24

var (
	// ErrTooLarge is wrapped by Decode's error for images whose pixel count
	// exceeds the limit (decompression bombs).
	ErrTooLarge = errors.New("image too large")
	// ErrEmpty is wrapped by Decode's error for images without pixels.
	ErrEmpty = errors.New("image has no pixels")
)

// Bilevel is a 1-bit image (Pillow mode "1") decoded as an image.Gray whose
// pixels are 0 or 255. Preprocess resizes it with nearest neighbour, as
// Pillow does for mode "1".
type Bilevel struct {
	*image.Gray
}

// Decode reads one image (JPEG, PNG, GIF's first frame, BMP, TIFF or WebP)
// and returns it with its format name ("jpeg", "png", "gif", "bmp", "tiff",
// "webp").
//
// The image's width and height are read first and checked before any pixel
// is decoded: zero sizes are an error wrapping ErrEmpty, and images with
// more than maxPixels pixels (or a side longer than 16777216) an error
// wrapping ErrTooLarge. maxPixels <= 0 means DefaultMaxPixels. The input
// itself is read into memory, and refused past 8 bytes per allowed pixel
// plus 32 MiB.
//
// The returned image is what Pillow's Image.open would hold, in the Go type
// Preprocess maps to the same Pillow mode: 1-bit PNG, BMP and TIFF images
// come back as *Bilevel; GIF and BMP images whose palette is the identity
// grey ramp as *image.Gray (Pillow's "L"); a GIF frame smaller than its
// logical screen is placed on a screen-sized canvas filled with the
// transparent (or 0) index, and the transparent palette entry keeps its
// colour; PNG grey or RGB images with a tRNS chunk, and 32-bit BMPs without
// bit fields, ignore transparency as Pillow does; lossy WebP is converted to
// RGB with libwebp's fancy upsampling and colour formula. See the package
// documentation for the full mapping.
func Decode(r io.Reader, maxPixels int64) (image.Image, string, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	data, err := readAllLimited(r, maxPixels, nil)
	if err != nil {
		return nil, "", err
	}
	return decodeBytes(data, maxPixels)
}

// decodeBytes is Decode on the whole input.
func decodeBytes(data []byte, maxPixels int64) (image.Image, string, error) {
	maxPixels = min(maxPixels, maxSide*maxSide)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, "", fmt.Errorf("imageproc: %w (not JPEG, PNG, GIF, BMP, TIFF or WebP)", err)
		}
		return nil, format, fmt.Errorf("imageproc: reading %s header: %w", formatName(format), err)
	}
	if err := checkSize(cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, format, fmt.Errorf("imageproc: %s: %w", formatName(format), err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("imageproc: decoding %s: %w", formatName(format), err)
	}
	b := img.Bounds()
	if err := checkSize(b.Dx(), b.Dy(), maxPixels); err != nil {
		return nil, format, fmt.Errorf("imageproc: %s: %w", formatName(format), err)
	}
	img, err = pillowView(format, data, img, cfg)
	if err != nil {
		return nil, format, fmt.Errorf("imageproc: %s: %w", formatName(format), err)
	}
	return img, format, nil
}

// DecodeFile opens and decodes the image file at path (see Decode).
func DecodeFile(path string, maxPixels int64) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %w", err)
	}
	defer f.Close()
	img, _, err := Decode(f, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

func checkSize(w, h int, maxPixels int64) error {
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w: %d×%d", ErrEmpty, w, h)
	case w > maxSide || h > maxSide:
		return fmt.Errorf("%w: %d×%d (a side is longer than %d)", ErrTooLarge, w, h, maxSide)
	case int64(w)*int64(h) > maxPixels:
		return fmt.Errorf("%w: %d×%d is %d pixels, the limit is %d", ErrTooLarge, w, h, int64(w)*int64(h), maxPixels)
	}
	return nil
}

// formatName spells a format as people write it, for error messages.
func formatName(f string) string {
	switch f {
	case "jpeg", "png", "gif", "bmp", "tiff":
		return strings.ToUpper(f)
	case "webp":
		return "WebP"
	case "":
		return "image"
	}
	return f
}

// pillowView adjusts what Go's decoders return so that its Go type stands
// for the mode Pillow opens the same file in.
func pillowView(format string, data []byte, img image.Image, cfg image.Config) (image.Image, error) {
	switch format {
	case "png":
		return pngView(data, img), nil
	case "bmp":
		return bmpView(data, img), nil
	case "gif":
		return gifView(data, img, cfg), nil
	case "tiff":
		if g, ok := img.(*image.Gray); ok && tiffBitsPerSample(data) == 1 {
			return &Bilevel{g}, nil
		}
	case "webp":
		return webpView(img), nil
	}
	return img, nil
}

// pngView: 1-bit grey is mode "1"; grey and RGB images keep mode "L"/"I"/
// "RGB" even with a tRNS chunk (Go turns those into NRGBA images).
func pngView(data []byte, img image.Image) image.Image {
	depth, ctype, trns, ok := pngHeader(data)
	if !ok {
		return img
	}
	if ctype == 0 && trns {
		switch m := img.(type) {
		case *image.NRGBA:
			g := image.NewGray(m.Rect)
			for i := range g.Pix {
				g.Pix[i] = m.Pix[4*i]
			}
			img = g
		case *image.NRGBA64:
			g := image.NewGray16(m.Rect)
			for i := 0; i < len(g.Pix); i += 2 {
				g.Pix[i], g.Pix[i+1] = m.Pix[4*i], m.Pix[4*i+1]
			}
			return g
		}
	}
	if ctype == 2 && trns {
		switch m := img.(type) {
		case *image.NRGBA:
			for i := 3; i < len(m.Pix); i += 4 {
				m.Pix[i] = 0xff
			}
		case *image.NRGBA64:
			for i := 6; i < len(m.Pix); i += 8 {
				m.Pix[i], m.Pix[i+1] = 0xff, 0xff
			}
		}
	}
	if g, ok := img.(*image.Gray); ok && ctype == 0 && depth == 1 {
		return &Bilevel{g}
	}
	return img
}

// pngHeader reads the bit depth and colour type from IHDR and whether a
// tRNS chunk comes before the first IDAT.
func pngHeader(data []byte) (depth, ctype byte, trns, ok bool) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(data) < 33 || string(data[:8]) != sig || string(data[12:16]) != "IHDR" {
		return 0, 0, false, false
	}
	depth, ctype = data[24], data[25]
	for p := 8; p+8 <= len(data); {
		n := int(uint32(data[p])<<24 | uint32(data[p+1])<<16 | uint32(data[p+2])<<8 | uint32(data[p+3]))
		typ := string(data[p+4 : p+8])
		if typ == "tRNS" {
			return depth, ctype, true, true
		}
		if typ == "IDAT" || n < 0 || n > len(data) {
			break
		}
		p += 12 + n
	}
	return depth, ctype, false, true
}

// bmpView: Pillow reads an 8-bit BMP whose palette is the grey ramp as "L"
// and a 1-bit one with a black-and-white palette as "1"; it ignores the
// fourth byte of 32-bit pixels unless the file uses bit fields.
func bmpView(data []byte, img image.Image) image.Image {
	if len(data) < 34 {
		return img
	}
	bpp := int(data[28]) | int(data[29])<<8
	compression := uint32(data[30]) | uint32(data[31])<<8 | uint32(data[32])<<16 | uint32(data[33])<<24
	switch m := img.(type) {
	case *image.Paletted:
		switch {
		case bpp == 8 && isGreyRamp(m.Palette, false):
			return grayFromIndices(m)
		case bpp == 1 && isGreyRamp(m.Palette, true):
			g := grayFromIndices(m)
			for i, v := range g.Pix {
				g.Pix[i] = v * 255
			}
			return &Bilevel{g}
		}
	case *image.NRGBA:
		if bpp == 32 && compression == 0 {
			for i := 3; i < len(m.Pix); i += 4 {
				m.Pix[i] = 0xff
			}
		}
	}
	return img
}

// isGreyRamp reports whether palette entry i is (i, i, i) for every i, or,
// for bilevel, whether the palette is exactly black then white.
func isGreyRamp(p color.Palette, bilevel bool) bool {
	if bilevel {
		if len(p) != 2 {
			return false
		}
		r0, g0, b0, _ := p[0].RGBA()
		r1, g1, b1, _ := p[1].RGBA()
		return r0|g0|b0 == 0 && r1&g1&b1 == 0xffff
	}
	for i, c := range p {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		if int(n.R) != i || int(n.G) != i || int(n.B) != i {
			return false
		}
	}
	return len(p) > 0
}

func grayFromIndices(m *image.Paletted) *image.Gray {
	g := image.NewGray(m.Rect)
	for y := 0; y < m.Rect.Dy(); y++ {
		copy(g.Pix[y*g.Stride:y*g.Stride+m.Rect.Dx()], m.Pix[y*m.Stride:])
	}
	return g
}

// gifView puts the first frame on the logical screen as Pillow does,
// restores the colour of the transparent palette entry (Go replaces it by
// transparent black, Pillow keeps it and ignores transparency when
// converting to RGB), and maps an identity grey palette to "L".
func gifView(data []byte, img image.Image, cfg image.Config) image.Image {
	m, ok := img.(*image.Paletted)
	if !ok {
		return img
	}
	info, ok := gifFirstFrame(data)
	if !ok {
		return img
	}
	table := info.table
	if info.transparent >= 0 && 3*info.transparent+2 < len(table) && info.transparent < len(m.Palette) {
		t := table[3*info.transparent:]
		m.Palette[info.transparent] = color.NRGBA{t[0], t[1], t[2], 0}
	}
	screen := image.Rect(0, 0, cfg.Width, cfg.Height)
	if m.Rect != screen {
		c := image.NewPaletted(screen, m.Palette)
		if info.transparent >= 0 && info.transparent < 256 {
			for i := range c.Pix {
				c.Pix[i] = uint8(info.transparent)
			}
		}
		r := m.Rect.Intersect(screen)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			copy(c.Pix[c.PixOffset(r.Min.X, y):c.PixOffset(r.Max.X, y)], m.Pix[m.PixOffset(r.Min.X, y):])
		}
		m = c
	}
	grey := len(table) > 0
	for i := 0; i+2 < len(table); i += 3 {
		if int(table[i]) != i/3 || table[i+1] != table[i] || table[i+2] != table[i] {
			grey = false
			break
		}
	}
	if grey {
		return grayFromIndices(m)
	}
	return m
}

// gifFrameInfo is what gifFirstFrame finds before the first image data.
type gifFrameInfo struct {
	table       []byte // the colour table the first frame uses, raw RGB triples
	transparent int    // transparent index of the first frame, or -1
}

// gifFirstFrame walks the GIF blocks up to the first image descriptor.
func gifFirstFrame(d []byte) (gifFrameInfo, bool) {
	info := gifFrameInfo{transparent: -1}
	if len(d) < 13 {
		return info, false
	}
	p := 13
	if flags := d[10]; flags&0x80 != 0 {
		n := 3 << (flags&7 + 1)
		if p+n > len(d) {
			return info, false
		}
		info.table = d[p : p+n]
		p += n
	}
	for p < len(d) {
		switch d[p] {
		case 0x21: // extension
			if p+2 > len(d) {
				return info, false
			}
			label := d[p+1]
			p += 2
			if label == 0xF9 && p+5 <= len(d) && d[p] == 4 {
				if d[p+1]&1 != 0 {
					info.transparent = int(d[p+4])
				} else {
					info.transparent = -1
				}
			}
			for p < len(d) && d[p] != 0 { // sub-blocks
				p += int(d[p]) + 1
			}
			p++
		case 0x2C: // image descriptor
			if p+10 > len(d) {
				return info, false
			}
			if flags := d[p+9]; flags&0x80 != 0 {
				n := 3 << (flags&7 + 1)
				if p+10+n > len(d) {
					return info, false
				}
				info.table = d[p+10 : p+10+n]
			}
			return info, true
		default:
			return info, false
		}
	}
	return info, false
}

// tiffBitsPerSample returns the first BitsPerSample value of the first IFD,
// or 0 when it cannot be read.
func tiffBitsPerSample(d []byte) int {
	if len(d) < 8 {
		return 0
	}
	var u16 func([]byte) int
	var u32 func([]byte) int
	switch string(d[:4]) {
	case "II*\x00":
		u16 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 }
		u32 = func(b []byte) int { return int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24) }
	case "MM\x00*":
		u16 = func(b []byte) int { return int(b[1]) | int(b[0])<<8 }
		u32 = func(b []byte) int { return int(uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24) }
	default:
		return 0
	}
	off := u32(d[4:8])
	if off < 8 || off > len(d)-2 {
		return 0
	}
	n := u16(d[off:])
	for i := 0; i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > len(d) {
			return 0
		}
		if u16(d[e:]) != 258 { // BitsPerSample
			continue
		}
		typ, count := u16(d[e+2:]), u32(d[e+4:])
		if typ != 3 || count < 1 { // SHORT
			return 0
		}
		if count <= 2 {
			return u16(d[e+8:])
		}
		p := u32(d[e+8:])
		if p < 0 || p > len(d)-2 {
			return 0
		}
		return u16(d[p:])
	}
	return 1 // BitsPerSample defaults to 1
}
