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

// jpegClamp is libjpeg's range_limit: jpegClamp[v+256] is v clamped to
// 0..255 for v in [-256, 767].
var jpegClamp [1024]uint8

func init() {
	for i := range jpegClamp {
		jpegClamp[i] = clipInt(int32(i - 256))
	}
}

// jpegRGB is libjpeg's ycc_rgb_convert for one pixel.
func jpegRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy := int32(y) + 256
	return jpegClamp[(yy+jpegCrR[cr])&1023],
		jpegClamp[(yy+(jpegCbG[cb]+jpegCrG[cr])>>16)&1023],
		jpegClamp[(yy+jpegCbB[cb])&1023]
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
	n := x1 - x0
	s.ub = grow(s.ub, n)
	s.vb = grow(s.vb, n)
	ub, vb := s.ub[:n], s.vb[:n]
	s.chromaRow(m, m.Cb, y, x0, x1, ub)
	s.chromaRow(m, m.Cr, y, x0, x1, vb)
	yrow := m.Y[y*m.YStride+x0:]
	yrow = yrow[:n]
	dst = dst[:3*n]
	for i, yv := range yrow {
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = jpegRGB(yv, ub[i], vb[i])
	}
}

// chromaRow upsamples one chroma plane for columns [x0, x1) of row y.
func (s *Scratch) chromaRow(m *image.YCbCr, p []uint8, y, x0, x1 int, out []uint8) {
	r := m.Rect
	ay, ax0, ax1 := r.Min.Y+y, r.Min.X+x0, r.Min.X+x1
	hs, vs := chromaShift(m.SubsampleRatio)
	// Chroma sample range in absolute chroma coordinates.
	cx0, cy0 := r.Min.X>>hs, r.Min.Y>>vs
	cx1, cy1 := (r.Max.X+(1<<hs)-1)>>hs, (r.Max.Y+(1<<vs)-1)>>vs
	cw := cx1 - cx0
	row := func(cy int) []uint8 {
		o := (cy - cy0) * m.CStride
		return p[o : o+cw]
	}

	// h2 ratios are upsampled "fancily" only when the chroma is wider than
	// two samples (jinit_upsampler); h1v2 always is; the rest replicate.
	fancyH := hs == 1 && cw > 2
	fancyV := vs == 1 && (hs == 0 || fancyH)
	cy := ay >> vs
	near := row(cy)
	var far []uint8
	if fancyV {
		f := cy - 1
		if ay&1 == 1 {
			f = cy + 1
		}
		far = row(max(cy0, min(f, cy1-1)))
	}

	switch {
	case !fancyH && !fancyV: // box filter
		if hs == 0 {
			copy(out, near[ax0-cx0:])
			return
		}
		for i := range out {
			out[i] = near[((ax0+i)>>hs)-cx0]
		}
	case !fancyH: // h1v2: vertical triangle only
		bias := uint32(1)
		if ay&1 == 1 {
			bias = 2
		}
		nr, fr := near[ax0-cx0:], far[ax0-cx0:]
		nr, fr = nr[:len(out)], fr[:len(out)]
		for i := range out {
			out[i] = uint8((3*uint32(nr[i]) + uint32(fr[i]) + bias) >> 2)
		}
	default:
		// Triangle filter between chroma columns, on column sums that are
		// 3·near + far (h2v2) or the samples themselves (h2v1). The sums
		// are padded with the clamped neighbours of the needed columns.
		cA, cB := ax0>>1, (ax1-1)>>1
		k := cB - cA + 1
		s.cs = growInt32(s.cs, k+2)
		cs := s.cs[:k+2]
		// The needed columns cA..cB lie inside the plane; their
		// neighbours are clamped to it.
		edge := func(c int) int32 {
			c = max(cx0, min(c, cx1-1)) - cx0
			if fancyV {
				return 3*int32(near[c]) + int32(far[c])
			}
			return int32(near[c])
		}
		cs[0], cs[k+1] = edge(cA-1), edge(cB+1)
		nr := near[cA-cx0 : cB-cx0+1]
		if fancyV {
			fr := far[cA-cx0 : cB-cx0+1]
			fr = fr[:len(nr)]
			mid := cs[1 : len(nr)+1]
			for i, v := range nr {
				mid[i] = 3*int32(v) + int32(fr[i])
			}
		} else {
			mid := cs[1 : len(nr)+1]
			for i, v := range nr {
				mid[i] = int32(v)
			}
		}
		s.pair = grow(s.pair, 2*k)
		pair := s.pair[:2*k]
		bias0, bias1, shift := int32(1), int32(2), uint(2)
		if fancyV {
			bias0, bias1, shift = 8, 7, 4
		}
		for i := range k {
			w := cs[i : i+3 : i+3]
			p := pair[2*i : 2*i+2 : 2*i+2]
			c := 3 * w[1]
			p[0] = uint8((c + w[0] + bias0) >> shift)
			p[1] = uint8((c + w[2] + bias1) >> shift)
		}
		copy(out, pair[ax0-2*cA:])
	}
}
