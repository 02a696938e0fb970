package imageproc

import (
	"encoding/binary"
	"image"
)

// plan is where the crop comes from: the resized size and crop position of
// the image as displayed (after its EXIF orientation), and the window of
// the resized image as stored that lands in the crop.
type plan struct {
	orient         int
	g              geom // displayed: resized size and crop corner
	x0, x1, y0, y1 int  // displayed crop window inside the resized image
	srw, srh       int  // resized size as stored
	sx0, sx1       int  // stored window
	sy0, sy1       int
}

// newPlan computes the plan for a w×h stored image.
func newPlan(w, h int, cfg Config, orient int) (plan, error) {
	if orient < 1 || orient > 8 {
		orient = 1
	}
	p := plan{orient: orient}
	dw, dh := w, h
	if orient >= 5 {
		dw, dh = h, w
	}
	g, err := geometry(dw, dh, cfg)
	if err != nil {
		return p, err
	}
	p.g = g
	p.srw, p.srh = g.rw, g.rh
	if orient >= 5 {
		p.srw, p.srh = g.rh, g.rw
	}
	c := cfg.Crop
	p.x0, p.x1 = max(0, g.ox), min(g.rw, g.ox+c)
	p.y0, p.y1 = max(0, g.oy), min(g.rh, g.oy+c)
	if p.empty() {
		return p, nil
	}
	ax, ay := p.stored(p.x0, p.y0)
	bx, by := p.stored(p.x1-1, p.y1-1)
	p.sx0, p.sx1 = min(ax, bx), max(ax, bx)+1
	p.sy0, p.sy1 = min(ay, by), max(ay, by)+1
	return p, nil
}

func (p plan) empty() bool  { return p.x0 >= p.x1 || p.y0 >= p.y1 }
func (p plan) turned() bool { return p.orient != 1 }

// stored maps a pixel of the displayed resized image to the stored resized
// image. PIL.ImageOps.exif_transpose's methods per orientation: 2 mirror,
// 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise,
// 7 transverse, 8 rotate 90° counter-clockwise.
func (p plan) stored(x, y int) (int, int) {
	w, h := p.srw, p.srh
	switch p.orient {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}

// need returns the part of the w×h stored image that resizing reads for
// the plan, widened by margin samples (for chroma upsampling), or the
// whole image when nothing is left out.
func (p plan) need(w, h, margin int) image.Rectangle {
	if p.empty() {
		return image.Rect(0, 0, 1, 1)
	}
	x0, x1 := inputRange(w, p.srw, p.sx0, p.sx1)
	y0, y1 := inputRange(h, p.srh, p.sy0, p.sy1)
	return image.Rect(max(0, x0-margin), max(0, y0-margin), min(w, x1+margin), min(h, y1+margin))
}

// inputRange is the range of input samples that resampling inSize to
// outSize reads for outputs [o0, o1), as axis.setFilter computes it for the
// bicubic filter; the bilinear filter's narrower support reads a subset.
func inputRange(inSize, outSize, o0, o1 int) (int, int) {
	if inSize == outSize {
		return o0, o1
	}
	scale := float64(inSize) / float64(outSize)
	support := bicubicSupport * max(scale, 1.0)
	lo := int(float64((float64(o0)+0.5)*scale) - support + 0.5)
	hi := int(float64((float64(o1-1)+0.5)*scale) + support + 0.5)
	return max(0, lo), min(inSize, hi)
}

// exifOrientation returns the orientation (1–8) the first EXIF APP1
// segment of JPEG data records, or 1 when there is none or it cannot be
// read.
func exifOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return 1
	}
	p := 2
	for p+4 <= len(data) && data[p] == 0xff {
		marker := data[p+1]
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			break
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			break
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xe1 && len(seg) >= 5 && string(seg[:5]) == "Exif\x00" {
			// Pillow keeps the first segment that looks like EXIF.
			if len(seg) < 6 || seg[5] != 0 {
				return 1
			}
			if o := tiffOrientation(seg[6:]); o != 0 {
				return o
			}
			return 1
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF structure (EXIF's
// body), or returns 0.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		// Pillow takes the first value of any integer type but BYTE.
		var v uint32
		switch typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]); {
		case count == 0:
			return 0
		case typ == 3 || typ == 8: // SHORT, SSHORT
			v = uint32(bo.Uint16(t[e+8:]))
		case (typ == 4 || typ == 9) && count == 1: // LONG, SLONG
			v = bo.Uint32(t[e+8:])
		}
		if v >= 1 && v <= 8 {
			return int(v)
		}
		return 0
	}
	return 0
}
