package imageproc

import (
	"image"
	"image/color"
)

// rowKind says how a source row is read.
type rowKind uint8

const (
	rowGray          rowKind = iota // *image.Gray or *Bilevel: 1 channel
	rowGray16                       // *image.Gray16 as Pillow "I": int32
	rowGray16Clip                   // *image.Gray16 converted to 8 bits as I→RGB does
	rowPalIndex                     // *image.Paletted indices: 1 channel
	rowPalRGB                       // *image.Paletted through the palette: 3 channels
	rowPixRGB                       // 4-sample pixels, first three: 3 channels
	rowPixPremul                    // non-premultiplied 4-sample pixels, premultiplied as Pillow does
	rowPixCopy                      // premultiplied 4-sample pixels as they are
	rowPixUnpremul                  // premultiplied 4-sample pixels, un-premultiplied, alpha dropped
	rowCMYK                         // *image.CMYK: 4 channels
	rowCMYKRGB                      // *image.CMYK converted as Pillow does: 3 channels
	rowYCbCr                        // *image.YCbCr through libjpeg's conversion: 3 channels
	rowYCbCrAPremul                 // *image.NYCbCrA, premultiplied: 4 channels
	rowGenericRGB                   // any image through At: 3 channels
	rowGenericPremul                // any image through At, premultiplied: 4 channels
)

// finalKind says how a resampled pixel becomes RGB.
type finalKind uint8

const (
	finL    finalKind = iota // one grey channel
	finRGB                   // three channels
	finRGBa                  // premultiplied RGBA: Pillow's RGBa→RGBA, then alpha dropped
	finCMYK                  // Pillow's cmyk2rgb
	finP                     // palette index
)

// source reads rows of an image in the representation Pillow resizes it in.
type source struct {
	img     image.Image
	r       image.Rectangle
	kind    rowKind
	ch      int       // channels per pixel in rows and in the crop buffer
	fin     finalKind // conversion to RGB after resampling
	mode    string    // the Pillow mode the image stands for
	nearest bool      // Pillow resizes "P" and "1" with nearest neighbour
	wide    bool      // rows are int32 (Pillow "I")

	pix    []uint8 // Pix of the concrete image
	stride int
	step   int // bytes per pixel for 4-sample pixels (4 or 8)
	ycc    *image.YCbCr
	alpha  *image.NYCbCrA
}

// opaque reports whether img has no transparent pixel.
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// newSource picks how to read img for the pipeline p, and fills pal when
// the image has a palette.
func newSource(img image.Image, p Pipeline, pal *[256][3]uint8) source {
	hf := p != OpenAI // HF and SigLIP convert to RGB before resizing
	s := source{img: img, r: img.Bounds()}
	set := func(kind rowKind, ch int, fin finalKind, mode string) {
		s.kind, s.ch, s.fin, s.mode = kind, ch, fin, mode
	}
	four := func(pix []uint8, stride, step int, premultiplied bool) {
		s.pix, s.stride, s.step = pix, stride, step
		switch {
		case opaque(img):
			set(rowPixRGB, 3, finRGB, "RGB")
		case hf && premultiplied:
			set(rowPixUnpremul, 3, finRGB, "RGBA")
		case hf:
			set(rowPixRGB, 3, finRGB, "RGBA")
		case premultiplied:
			set(rowPixCopy, 4, finRGBa, "RGBA")
		default:
			set(rowPixPremul, 4, finRGBa, "RGBA")
		}
	}
	switch m := img.(type) {
	case *Bilevel:
		s.pix, s.stride = m.Pix, m.Stride
		set(rowGray, 1, finL, "1")
		s.nearest = !hf
	case *image.Gray:
		s.pix, s.stride = m.Pix, m.Stride
		set(rowGray, 1, finL, "L")
	case *image.Gray16:
		s.pix, s.stride = m.Pix, m.Stride
		if hf {
			set(rowGray16Clip, 1, finL, "I")
		} else {
			set(rowGray16, 1, finL, "I")
			s.wide = true
		}
	case *image.Paletted:
		s.pix, s.stride = m.Pix, m.Stride
		fillPalette(pal, m.Palette)
		if hf {
			set(rowPalRGB, 3, finRGB, "P")
		} else {
			set(rowPalIndex, 1, finP, "P")
			s.nearest = true
		}
	case *image.RGBA:
		four(m.Pix, m.Stride, 4, true)
	case *image.NRGBA:
		four(m.Pix, m.Stride, 4, false)
	case *image.RGBA64:
		four(m.Pix, m.Stride, 8, true)
	case *image.NRGBA64:
		four(m.Pix, m.Stride, 8, false)
	case *image.CMYK:
		s.pix, s.stride = m.Pix, m.Stride
		if hf {
			set(rowCMYKRGB, 3, finRGB, "CMYK")
		} else {
			set(rowCMYK, 4, finCMYK, "CMYK")
		}
	case *image.YCbCr:
		if ycbcrExact(m) {
			s.ycc = m
			set(rowYCbCr, 3, finRGB, "RGB")
		} else {
			set(rowGenericRGB, 3, finRGB, "RGB")
		}
	case *image.NYCbCrA:
		switch {
		case !ycbcrExact(&m.YCbCr):
			s.generic(hf)
		case hf || m.Opaque():
			s.ycc = &m.YCbCr
			set(rowYCbCr, 3, finRGB, "RGB")
		default:
			s.ycc, s.alpha = &m.YCbCr, m
			set(rowYCbCrAPremul, 4, finRGBa, "RGBA")
		}
	default:
		s.generic(hf)
	}
	return s
}

// generic reads any image through At.
func (s *source) generic(hf bool) {
	if hf || opaque(s.img) {
		s.kind, s.ch, s.fin, s.mode = rowGenericRGB, 3, finRGB, "RGB"
		return
	}
	s.kind, s.ch, s.fin, s.mode = rowGenericPremul, 4, finRGBa, "RGBA"
}

// fillPalette stores the RGB of each palette entry, ignoring alpha as
// Pillow's P→RGB conversion does; missing entries are black.
func fillPalette(pal *[256][3]uint8, p color.Palette) {
	*pal = [256][3]uint8{}
	for i, c := range p {
		if i == 256 {
			break
		}
		switch c := c.(type) {
		case nil:
		case color.NRGBA:
			pal[i] = [3]uint8{c.R, c.G, c.B}
		case color.RGBA:
			if c.A == 0xff || c.A == 0 {
				pal[i] = [3]uint8{c.R, c.G, c.B}
				break
			}
			r, g, b, a := c.RGBA()
			pal[i] = [3]uint8{unpremul16(r, a), unpremul16(g, a), unpremul16(b, a)}
		default:
			r, g, b, a := c.RGBA()
			pal[i] = [3]uint8{unpremul16(r, a), unpremul16(g, a), unpremul16(b, a)}
		}
	}
}

// muldiv255 is Pillow's MULDIV255: a·b/255 rounded.
func muldiv255(a, b uint32) uint8 {
	t := a*b + 128
	return uint8(((t >> 8) + t) >> 8)
}

// unpremul16 un-premultiplies a 16-bit colour value as Go's NRGBA model
// does, keeping the high byte.
func unpremul16(v, a uint32) uint8 {
	if a == 0 {
		return 0
	}
	return uint8(min(v*0xffff/a, 0xffff) >> 8)
}

// row writes columns [x0, x1) of row y (relative to the bounds) into dst,
// ch bytes per pixel.
func (s *source) row(y, x0, x1 int, dst []uint8, sc *Scratch) {
	n := x1 - x0
	switch s.kind {
	case rowGray, rowPalIndex:
		copy(dst[:n], s.pix[y*s.stride+x0:])
	case rowGray16Clip:
		p := s.pix[y*s.stride+2*x0:]
		for i := range n {
			if p[2*i] != 0 {
				dst[i] = 255
			} else {
				dst[i] = p[2*i+1]
			}
		}
	case rowPalRGB:
		p := s.pix[y*s.stride+x0:]
		for i := range n {
			c := &sc.pal[p[i]]
			dst[3*i], dst[3*i+1], dst[3*i+2] = c[0], c[1], c[2]
		}
	case rowPixRGB:
		// For 16-bit samples (step 8) these are the high bytes, which is
		// what Pillow keeps when it opens a 16-bit RGB(A) file.
		p, st := s.pix[y*s.stride+s.step*x0:], s.step
		for i := range n {
			q := p[st*i:]
			dst[3*i], dst[3*i+1], dst[3*i+2] = q[0], q[st/4], q[st/2]
		}
	case rowPixPremul:
		p, st := s.pix[y*s.stride+s.step*x0:], s.step
		for i := range n {
			q := p[st*i:]
			a := uint32(q[3*st/4])
			d := dst[4*i : 4*i+4 : 4*i+4]
			d[0] = muldiv255(uint32(q[0]), a)
			d[1] = muldiv255(uint32(q[st/4]), a)
			d[2] = muldiv255(uint32(q[st/2]), a)
			d[3] = uint8(a)
		}
	case rowPixCopy:
		p, st := s.pix[y*s.stride+s.step*x0:], s.step
		for i := range n {
			q := p[st*i:]
			d := dst[4*i : 4*i+4 : 4*i+4]
			d[0], d[1], d[2], d[3] = q[0], q[st/4], q[st/2], q[3*st/4]
		}
	case rowPixUnpremul:
		p, st := s.pix[y*s.stride+s.step*x0:], s.step
		for i := range n {
			q := p[st*i:]
			var c [4]uint32
			for k := range 4 {
				if st == 8 {
					c[k] = uint32(q[2*k])<<8 | uint32(q[2*k+1])
				} else {
					c[k] = uint32(q[k]) * 0x101
				}
			}
			dst[3*i] = unpremul16(c[0], c[3])
			dst[3*i+1] = unpremul16(c[1], c[3])
			dst[3*i+2] = unpremul16(c[2], c[3])
		}
	case rowCMYK:
		copy(dst[:4*n], s.pix[y*s.stride+4*x0:])
	case rowCMYKRGB:
		p := s.pix[y*s.stride+4*x0:]
		for i := range n {
			q := p[4*i : 4*i+4 : 4*i+4]
			dst[3*i], dst[3*i+1], dst[3*i+2] = cmykRGB(q[0], q[1], q[2], q[3])
		}
	case rowYCbCr:
		sc.ycbcrRow(s.ycc, y, x0, x1, dst)
	case rowYCbCrAPremul:
		sc.yrow = grow(sc.yrow, 3*n)
		rgb := sc.yrow[:3*n]
		sc.ycbcrRow(s.ycc, y, x0, x1, rgb)
		a := s.alpha.A[s.alpha.AOffset(s.r.Min.X+x0, s.r.Min.Y+y):]
		for i := range n {
			av := uint32(a[i])
			d := dst[4*i : 4*i+4 : 4*i+4]
			d[0] = muldiv255(uint32(rgb[3*i]), av)
			d[1] = muldiv255(uint32(rgb[3*i+1]), av)
			d[2] = muldiv255(uint32(rgb[3*i+2]), av)
			d[3] = uint8(av)
		}
	case rowGenericRGB:
		for i := range n {
			c := color.NRGBAModel.Convert(s.img.At(s.r.Min.X+x0+i, s.r.Min.Y+y)).(color.NRGBA)
			dst[3*i], dst[3*i+1], dst[3*i+2] = c.R, c.G, c.B
		}
	case rowGenericPremul:
		for i := range n {
			c := color.NRGBAModel.Convert(s.img.At(s.r.Min.X+x0+i, s.r.Min.Y+y)).(color.NRGBA)
			a := uint32(c.A)
			d := dst[4*i : 4*i+4 : 4*i+4]
			d[0] = muldiv255(uint32(c.R), a)
			d[1] = muldiv255(uint32(c.G), a)
			d[2] = muldiv255(uint32(c.B), a)
			d[3] = c.A
		}
	}
}

// row32 writes columns [x0, x1) of row y of a Gray16 image as Pillow "I".
func (s *source) row32(y, x0, x1 int, dst []int32) {
	p := s.pix[y*s.stride+2*x0:]
	for i := range x1 - x0 {
		dst[i] = int32(p[2*i])<<8 | int32(p[2*i+1])
	}
}

// cmykRGB is Pillow's cmyk2rgb.
func cmykRGB(c, m, y, k uint8) (r, g, b uint8) {
	nk := 255 - uint32(k)
	return muldiv255(255-uint32(c), nk), muldiv255(255-uint32(m), nk), muldiv255(255-uint32(y), nk)
}

// unpremulPillow is Pillow's rgba2rgbA for one channel.
func unpremulPillow(v, a uint8) uint8 {
	if a == 0 || a == 255 {
		return v
	}
	return uint8(min(255*uint32(v)/uint32(a), 255))
}
