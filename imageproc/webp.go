package imageproc

import "image"

// Lossy WebP stores VP8 frames in limited-range BT.601 YUV 4:2:0. Go's
// decoder hands the planes over as an image.YCbCr, whose colour model is
// JPEG's full-range one; Pillow instead gets RGB from libwebp, which
// interpolates chroma between the four nearest samples (weights 9-3-3-1,
// its "fancy upsampling") and converts with its own 14-bit fixed-point
// formula. webpView reproduces libwebp (dsp/upsampling.c, dsp/yuv.h).

// webpView converts a lossy WebP image to RGB(A) exactly as libwebp does.
func webpView(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.YCbCr:
		if !webpConvertible(m) {
			return img
		}
		out := image.NewRGBA(m.Rect)
		webpToRGB(m, out.Pix, out.Stride)
		return out
	case *image.NYCbCrA:
		if !webpConvertible(&m.YCbCr) {
			return img
		}
		out := image.NewNRGBA(m.Rect)
		webpToRGB(&m.YCbCr, out.Pix, out.Stride)
		w, h := m.Rect.Dx(), m.Rect.Dy()
		for y := 0; y < h; y++ {
			a := m.A[y*m.AStride : y*m.AStride+w]
			o := out.Pix[y*out.Stride:]
			for x, v := range a {
				o[4*x+3] = v
			}
		}
		return out
	}
	return img
}

func webpConvertible(m *image.YCbCr) bool {
	return m.SubsampleRatio == image.YCbCrSubsampleRatio420 && m.Rect.Min == (image.Point{}) && !m.Rect.Empty()
}

// webpToRGB writes opaque RGBA pixels (alpha 255) for m into pix.
func webpToRGB(m *image.YCbCr, pix []uint8, stride int) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	uvh := (h + 1) / 2
	u := make([]uint8, w)
	v := make([]uint8, w)
	for y := 0; y < h; y++ {
		// The nearer chroma row gets weight 3/4, the other 1/4; rows past
		// the edges repeat the edge row (libwebp's EmitFancyRGB).
		near := y >> 1
		far := near - 1
		if y&1 == 1 {
			far = near + 1
		}
		far = max(0, min(far, uvh-1))
		webpUpsampleRow(u, m.Cb[near*m.CStride:], m.Cb[far*m.CStride:], w)
		webpUpsampleRow(v, m.Cr[near*m.CStride:], m.Cr[far*m.CStride:], w)
		yrow := m.Y[y*m.YStride : y*m.YStride+w]
		o := pix[y*stride : y*stride+4*w]
		for x, yy := range yrow {
			p := o[4*x : 4*x+4 : 4*x+4]
			p[0] = webpR(int(yy), int(v[x]))
			p[1] = webpG(int(yy), int(u[x]), int(v[x]))
			p[2] = webpB(int(yy), int(u[x]))
			p[3] = 0xff
		}
	}
}

// webpUpsampleRow is one plane of libwebp's UpsampleRgbLinePair for one
// output row, with n the nearer chroma row and f the farther one.
func webpUpsampleRow(dst, n, f []uint8, w int) {
	dst[0] = uint8((3*int(n[0]) + int(f[0]) + 2) >> 2)
	last := (w - 1) >> 1
	for j := 1; j <= last; j++ {
		nl, nr, fl, fr := int(n[j-1]), int(n[j]), int(f[j-1]), int(f[j])
		avg := nl + nr + fl + fr + 8
		dst[2*j-1] = uint8((((avg + 2*(nr+fl)) >> 3) + nl) >> 1)
		dst[2*j] = uint8((((avg + 2*(nl+fr)) >> 3) + nr) >> 1)
	}
	if w&1 == 0 {
		dst[w-1] = uint8((3*int(n[last]) + int(f[last]) + 2) >> 2)
	}
}

func webpMultHi(v, c int) int { return (v * c) >> 8 }

func webpClip8(v int) uint8 {
	const mask = (256 << 6) - 1
	if v&^mask == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

func webpR(y, v int) uint8 {
	return webpClip8(webpMultHi(y, 19077) + webpMultHi(v, 26149) - 14234)
}

func webpG(y, u, v int) uint8 {
	return webpClip8(webpMultHi(y, 19077) - webpMultHi(u, 6419) - webpMultHi(v, 13320) + 8708)
}

func webpB(y, u int) uint8 {
	return webpClip8(webpMultHi(y, 19077) + webpMultHi(u, 33050) - 17685)
}
