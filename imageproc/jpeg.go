package imageproc

import "image"

// Go's JPEG decoder returns the YCbCr planes as they are coded; Pillow gets
// RGB from libjpeg-turbo, which upsamples subsampled chroma with a triangle
// filter ("fancy upsampling", jdsample.c) and converts with fixed-point
// tables (jdcolor.c). ycbcrRow reproduces both, so that the only remaining
// difference is the inverse DCT (Go's differs from libjpeg's islow one by
// at most a level or two here and there).

// libjpeg's YCbCr→RGB tables (build_ycc_rgb_table, 16-bit fixed point).
var jpegCrR, jpegCbB, jpegCrG, jpegCbG [256]int32

func init() {
	const scaleBits = 16
	const oneHalf = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		jpegCrR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		jpegCbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		jpegCrG[i] = -fix(0.71414) * x
		jpegCbG[i] = -fix(0.34414)*x + oneHalf
	}
}

// jpegRGB is libjpeg's ycc_rgb_convert for one pixel.
func jpegRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy := int32(y)
	return clipInt(yy + jpegCrR[cr]),
		clipInt(yy + (jpegCbG[cb]+jpegCrG[cr])>>16),
		clipInt(yy + jpegCbB[cb])
}

// ycbcrExact reports whether ycbcrRow handles m (otherwise the generic
// path is used).
func ycbcrExact(m *image.YCbCr) bool {
	if m.Rect.Min.X < 0 || m.Rect.Min.Y < 0 {
		return false
	}
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440,
		image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
		return true
	}
	return false
}

// chromaShift returns log2 of the horizontal and vertical subsampling.
func chromaShift(r image.YCbCrSubsampleRatio) (hs, vs int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

// ycbcrRow writes RGB for columns [x0, x1) of row y (relative to m.Rect)
// into dst, as libjpeg-turbo would decode them with its default settings.
func (s *Scratch) ycbcrRow(m *image.YCbCr, y, x0, x1 int, dst []uint8) {
	r := m.Rect
	ay := r.Min.Y + y
	yrow := m.Y[(ay-r.Min.Y)*m.YStride+x0:]
	hs, vs := chromaShift(m.SubsampleRatio)
	// Chroma sample range in absolute chroma coordinates.
	cx0, cy0 := r.Min.X>>hs, r.Min.Y>>vs
	cx1, cy1 := (r.Max.X+(1<<hs)-1)>>hs, (r.Max.Y+(1<<vs)-1)>>vs
	cw := cx1 - cx0
	plane := func(p []uint8, cy int) []uint8 {
		o := (cy - cy0) * m.CStride
		return p[o : o+cw]
	}

	// h2 ratios are upsampled "fancily" only when the chroma is wider than
	// two samples (jinit_upsampler); h1v2 always is; the rest replicate.
	fancyH := hs == 1 && cw > 2
	fancyV := vs == 1 && (hs == 0 || fancyH)
	cy := ay >> vs
	var cb, cr, cbFar, crFar []uint8
	cb, cr = plane(m.Cb, cy), plane(m.Cr, cy)
	if fancyV {
		far := cy - 1
		if ay&1 == 1 {
			far = cy + 1
		}
		far = max(cy0, min(far, cy1-1))
		cbFar, crFar = plane(m.Cb, far), plane(m.Cr, far)
	}

	if !fancyH && !fancyV {
		// Box filter: each chroma sample covers 1<<hs columns.
		for i := 0; i < x1-x0; i++ {
			c := ((r.Min.X + x0 + i) >> hs) - cx0
			dst[3*i], dst[3*i+1], dst[3*i+2] = jpegRGB(yrow[i], cb[c], cr[c])
		}
		return
	}
	if !fancyH { // h1v2: vertical triangle only
		bias := int32(1)
		if ay&1 == 1 {
			bias = 2
		}
		for i := 0; i < x1-x0; i++ {
			c := r.Min.X + x0 + i - cx0
			b := uint8((3*int32(cb[c]) + int32(cbFar[c]) + bias) >> 2)
			rr := uint8((3*int32(cr[c]) + int32(crFar[c]) + bias) >> 2)
			dst[3*i], dst[3*i+1], dst[3*i+2] = jpegRGB(yrow[i], b, rr)
		}
		return
	}

	// Horizontal (and, for 4:2:0, vertical) triangle filter. Column sums
	// are 3·near + far rows for h2v2 (scaled by 4) or the samples for h2v1.
	c0 := max(((r.Min.X+x0)>>1)-1, cx0) - cx0
	c1 := min(((r.Min.X+x1-1)>>1)+1, cx1-1) - cx0
	n := c1 - c0 + 1
	s.csb = growInt32(s.csb, n)
	s.csr = growInt32(s.csr, n)
	csb, csr := s.csb[:n], s.csr[:n]
	for i := range n {
		c := c0 + i
		if fancyV {
			csb[i] = 3*int32(cb[c]) + int32(cbFar[c])
			csr[i] = 3*int32(cr[c]) + int32(crFar[c])
		} else {
			csb[i], csr[i] = int32(cb[c]), int32(cr[c])
		}
	}
	for i := 0; i < x1-x0; i++ {
		ax := r.Min.X + x0 + i
		c := (ax >> 1) - cx0
		nb := c + 1 // odd columns lean on the right neighbour
		if ax&1 == 0 {
			nb = c - 1
		}
		nb = max(0, min(nb, cw-1))
		tb, tr := csb[c-c0], csr[c-c0]
		fb, fr := csb[nb-c0], csr[nb-c0]
		var b, rr uint8
		switch {
		case fancyV && ax&1 == 0:
			b, rr = uint8((3*tb+fb+8)>>4), uint8((3*tr+fr+8)>>4)
		case fancyV:
			b, rr = uint8((3*tb+fb+7)>>4), uint8((3*tr+fr+7)>>4)
		case ax&1 == 0:
			b, rr = uint8((3*tb+fb+1)>>2), uint8((3*tr+fr+1)>>2)
		default:
			b, rr = uint8((3*tb+fb+2)>>2), uint8((3*tr+fr+2)>>2)
		}
		dst[3*i], dst[3*i+1], dst[3*i+2] = jpegRGB(yrow[i], b, rr)
	}
}
