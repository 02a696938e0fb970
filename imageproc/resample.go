package imageproc

// This file reproduces Pillow's resampling (libImaging/Resample.c and the
// nearest-neighbour path of Geometry.c, Pillow 9.4) operation for operation:
// the same double-precision filter and normalisation, the same 22-bit
// fixed-point coefficients, the same rounding, and 8-bit clipping between the
// horizontal and the vertical pass. Float expressions are written with
// explicit float64 conversions wherever Go could otherwise fuse a multiply
// and an add into one FMA instruction, so that results do not depend on the
// architecture.
//
// Unlike Pillow, only the output pixels inside the crop window are computed,
// and the vertical pass is done by scattering each horizontally resampled
// row into per-output accumulators. Integer sums do not depend on the order
// of their terms, and the float64 sums of the "I" path are still added in
// Pillow's order (increasing source row), so results stay bit-identical
// while memory stays proportional to the crop.

// precisionBits is Pillow's PRECISION_BITS: 8 bits for the result, 2 for
// overflow and sign, the rest for the fraction.
const precisionBits = 32 - 8 - 2

// bicubicSupport is the support of Pillow's bicubic filter.
const bicubicSupport = 2.0

// bicubic is Pillow's bicubic_filter with a = -0.5.
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		t := float64((a+2)*x) - (a + 3)
		return float64(float64(t*x)*x) + 1
	}
	if x < 2 {
		t := float64((x-5)*x) + 8
		t = float64(t*x) - 4
		return t * a
	}
	return 0
}

// bilinear is Pillow's bilinear_filter (a triangle of support 1).
func bilinear(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

// axis holds the resampling of one axis, restricted to the output window
// [o0, o1) of an output of outSize samples made from inSize input samples.
type axis struct {
	identity bool // output size equals input size: samples are copied
	o0, o1   int  // output window
	lo, hi   int  // input samples the window needs

	// bicubic: taps of output o0+i are k[off[i]:off[i]+n[i]] applied to
	// input samples start[i], start[i]+1, ...
	start, n, off []int
	k             []int32   // fixed-point coefficients (8-bit data)
	kd            []float64 // normalised double coefficients ("I" data)

	// nearest: input sample of output o0+i, or -1 when Pillow leaves the
	// output at 0 (never happens for scale factors Resize produces).
	src []int
}

// reset prepares a for a new window, keeping its buffers.
func (a *axis) reset(o0, o1 int) {
	a.o0, a.o1 = o0, o1
	a.start, a.n, a.off = a.start[:0], a.n[:0], a.off[:0]
	a.k, a.kd, a.src = a.k[:0], a.kd[:0], a.src[:0]
}

// setIdentity makes a copy input samples [o0, o1) unchanged.
func (a *axis) setIdentity(o0, o1 int) {
	a.reset(o0, o1)
	a.identity = true
	a.lo, a.hi = o0, o1
}

// setBicubic is setFilter with Pillow's bicubic filter.
func (a *axis) setBicubic(inSize, outSize, o0, o1 int, double bool) {
	a.setFilter(inSize, outSize, o0, o1, double, Bicubic)
}

// setFilter computes Pillow's precompute_coeffs for the window, plus the
// fixed-point form of normalize_coeffs_8bpc. When double is set the
// normalised double coefficients are kept too (Pillow's 32bpc path).
func (a *axis) setFilter(inSize, outSize, o0, o1 int, double bool, f Filter) {
	a.reset(o0, o1)
	a.identity = false
	filter, support := bicubic, bicubicSupport
	if f == Bilinear {
		filter, support = bilinear, 1.0
	}
	// box = (0, inSize) as C floats; in1 - in0 is exact.
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1.0)
	support *= filterscale
	ss := 1.0 / filterscale
	a.lo, a.hi = inSize, 0
	for xx := o0; xx < o1; xx++ {
		center := float64((float64(xx) + 0.5) * scale)
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		base := len(a.kd)
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := filter(float64((float64(x+xmin) - center + 0.5) * ss))
			a.kd = append(a.kd, w)
			ww += w
		}
		for x := base; x < len(a.kd); x++ {
			if ww != 0 {
				a.kd[x] /= ww
			}
			v := float64(a.kd[x] * (1 << precisionBits))
			if v < 0 {
				a.k = append(a.k, int32(-0.5+v))
			} else {
				a.k = append(a.k, int32(0.5+v))
			}
		}
		a.start = append(a.start, xmin)
		a.n = append(a.n, xmax)
		a.off = append(a.off, base)
		a.lo = min(a.lo, xmin)
		a.hi = max(a.hi, xmin+xmax)
	}
	if !double {
		a.kd = a.kd[:0]
	}
}

// setNearest computes the source sample of each output sample of the
// window the way Pillow's ImagingScaleAffine does: a double accumulator
// starting at scale/2 and advanced by scale per output, truncated.
func (a *axis) setNearest(inSize, outSize, o0, o1 int) {
	a.reset(o0, o1)
	a.identity = false
	scale := float64(inSize) / float64(outSize)
	pos := float64(scale * 0.5)
	a.lo, a.hi = inSize, 0
	for xx := 0; xx < o1; xx++ {
		if xx >= o0 {
			s := -1
			if pos >= 0 && int(pos) < inSize {
				s = int(pos)
				a.lo = min(a.lo, s)
				a.hi = max(a.hi, s+1)
			}
			a.src = append(a.src, s)
		}
		pos += scale
	}
	if a.lo > a.hi {
		a.lo, a.hi = 0, 0
	}
}

// clip8 is Pillow's clip8: the top bits of a fixed-point sum, clamped.
func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// clipInt clamps to 0..255, as Pillow's CLIP8 on an int.
func clipInt(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// roundUp is Pillow's ROUND_UP: round half away from zero, then truncate to
// int as C does.
func roundUp(f float64) int32 {
	if f >= 0 {
		return int32(f + 0.5)
	}
	return int32(f - 0.5)
}

// horizontal8 resamples one row of ch-channel 8-bit samples. src holds input
// samples a.lo .. a.hi-1; dst receives the window's outputs.
func horizontal8(dst, src []uint8, a *axis, ch int) {
	const half = 1 << (precisionBits - 1)
	for i := range a.start {
		k := a.k[a.off[i] : a.off[i]+a.n[i]]
		s := src[(a.start[i]-a.lo)*ch:]
		switch ch {
		case 1:
			s = s[:len(k)]
			ss0 := int32(half)
			for x, kv := range k {
				ss0 += int32(s[x]) * kv
			}
			dst[i] = clip8(ss0)
		case 3:
			s = s[:3*len(k)]
			ss0, ss1, ss2 := int32(half), int32(half), int32(half)
			// Two taps a step, in two sets of sums (integer sums do not
			// depend on their order).
			var tt0, tt1, tt2 int32
			for len(k) >= 2 && len(s) >= 6 {
				k0, k1 := k[0], k[1]
				ss0 += int32(s[0]) * k0
				ss1 += int32(s[1]) * k0
				ss2 += int32(s[2]) * k0
				tt0 += int32(s[3]) * k1
				tt1 += int32(s[4]) * k1
				tt2 += int32(s[5]) * k1
				k, s = k[2:], s[6:]
			}
			if len(k) > 0 && len(s) >= 3 {
				kv := k[0]
				ss0 += int32(s[0]) * kv
				ss1 += int32(s[1]) * kv
				ss2 += int32(s[2]) * kv
			}
			ss0, ss1, ss2 = ss0+tt0, ss1+tt1, ss2+tt2
			d := dst[3*i : 3*i+3 : 3*i+3]
			d[0], d[1], d[2] = clip8(ss0), clip8(ss1), clip8(ss2)
		default: // 4
			s = s[:4*len(k)]
			ss0, ss1, ss2, ss3 := int32(half), int32(half), int32(half), int32(half)
			for x, kv := range k {
				p := s[4*x : 4*x+4 : 4*x+4]
				ss0 += int32(p[0]) * kv
				ss1 += int32(p[1]) * kv
				ss2 += int32(p[2]) * kv
				ss3 += int32(p[3]) * kv
			}
			d := dst[4*i : 4*i+4 : 4*i+4]
			d[0], d[1], d[2], d[3] = clip8(ss0), clip8(ss1), clip8(ss2), clip8(ss3)
		}
	}
}

// horizontal32 is Pillow's ImagingResampleHorizontal_32bpc for INT32
// images: double sums rounded half away from zero, no clipping.
func horizontal32(dst, src []int32, a *axis) {
	for i := range a.start {
		k := a.kd[a.off[i] : a.off[i]+a.n[i]]
		s := src[a.start[i]-a.lo:]
		s = s[:len(k)]
		ss := 0.0
		for x, kv := range k {
			ss += float64(float64(s[x]) * kv)
		}
		dst[i] = roundUp(ss)
	}
}

// active tracks the contiguous run of window outputs whose taps cover the
// current input sample; both ends only move forward as the input advances.
type active struct{ lo, hi int }

// advance updates the run for input sample y.
func (r *active) advance(a *axis, y int) {
	for r.hi < len(a.start) && a.start[r.hi] <= y {
		r.hi++
	}
	for r.lo < r.hi && a.start[r.lo]+a.n[r.lo] <= y {
		r.lo++
	}
}

// resample8 runs the two passes for 8-bit data. It writes the window's
// output rows into out (row stride outStride, ch channels per pixel).
func (s *Scratch) resample8(src *source, out []uint8, outStride int) {
	ax, ay, ch := &s.ax, &s.ay, src.ch
	ww := ax.o1 - ax.o0
	rowLen := ww * ch
	s.hrow = grow(s.hrow, rowLen)
	hrow := s.hrow[:rowLen]
	var srow []uint8
	if !ax.identity {
		s.srow = grow(s.srow, (ax.hi-ax.lo)*ch)
		srow = s.srow[:(ax.hi-ax.lo)*ch]
	}
	var acc []int32
	if !ay.identity {
		const half = 1 << (precisionBits - 1)
		n := (ay.o1 - ay.o0) * rowLen
		s.acc = growInt32(s.acc, n)
		acc = s.acc[:n]
		for i := range acc {
			acc[i] = half
		}
	}
	var run active
	for y := ay.lo; y < ay.hi; y++ {
		if ax.identity {
			src.row(y, ax.o0, ax.o1, hrow, s)
		} else {
			src.row(y, ax.lo, ax.hi, srow, s)
			horizontal8(hrow, srow, ax, ch)
		}
		if ay.identity {
			copy(out[(y-ay.o0)*outStride:], hrow)
			continue
		}
		run.advance(ay, y)
		for j := run.lo; j < run.hi; j++ {
			kv := ay.k[ay.off[j]+y-ay.start[j]]
			a := acc[j*rowLen : j*rowLen+rowLen]
			a = a[:len(hrow)]
			for i, v := range hrow {
				a[i] += int32(v) * kv
			}
		}
	}
	if !ay.identity {
		for j := 0; j < ay.o1-ay.o0; j++ {
			o := out[j*outStride : j*outStride+rowLen]
			for i, v := range acc[j*rowLen : j*rowLen+rowLen] {
				o[i] = clip8(v)
			}
		}
	}
}

// resample32 runs the two passes for Pillow's "I" mode (32-bit integers,
// double coefficients, rounding after each pass, no clipping) and stores
// the result clipped to 8 bits, which is what converting "I" to "RGB" does.
func (s *Scratch) resample32(src *source, out []uint8, outStride int) {
	ax, ay := &s.ax, &s.ay
	ww := ax.o1 - ax.o0
	s.hrow32 = growInt32(s.hrow32, ww)
	hrow := s.hrow32[:ww]
	var srow []int32
	if !ax.identity {
		s.srow32 = growInt32(s.srow32, ax.hi-ax.lo)
		srow = s.srow32[:ax.hi-ax.lo]
	}
	var acc []float64
	if !ay.identity {
		n := (ay.o1 - ay.o0) * ww
		if cap(s.accd) < n {
			s.accd = make([]float64, n)
		}
		acc = s.accd[:n]
		clear(acc)
	}
	var run active
	for y := ay.lo; y < ay.hi; y++ {
		if ax.identity {
			src.row32(y, ax.o0, ax.o1, hrow)
		} else {
			src.row32(y, ax.lo, ax.hi, srow)
			horizontal32(hrow, srow, ax)
		}
		if ay.identity {
			o := out[(y-ay.o0)*outStride:]
			for i, v := range hrow {
				o[i] = clipInt(v)
			}
			continue
		}
		run.advance(ay, y)
		for j := run.lo; j < run.hi; j++ {
			kv := ay.kd[ay.off[j]+y-ay.start[j]]
			a := acc[j*ww : j*ww+ww]
			a = a[:len(hrow)]
			for i, v := range hrow {
				a[i] += float64(float64(v) * kv)
			}
		}
	}
	if !ay.identity {
		for j := 0; j < ay.o1-ay.o0; j++ {
			o := out[j*outStride : j*outStride+ww]
			for i, v := range acc[j*ww : j*ww+ww] {
				o[i] = clipInt(roundUp(v))
			}
		}
	}
}

// resampleNearest is Pillow's nearest-neighbour resize (used for "P" and
// "1" images): each output sample copies one input sample.
func (s *Scratch) resampleNearest(src *source, out []uint8, outStride int) {
	ax, ay, ch := &s.ax, &s.ay, src.ch
	s.srow = grow(s.srow, (ax.hi-ax.lo)*ch)
	srow := s.srow[:(ax.hi-ax.lo)*ch]
	last := -1
	for j, y := range ay.src {
		if y < 0 || ax.hi <= ax.lo {
			continue // Pillow's fill: the row stays 0
		}
		if y != last {
			src.row(y, ax.lo, ax.hi, srow, s)
			last = y
		}
		o := out[j*outStride:]
		for i, x := range ax.src {
			if x < 0 {
				continue
			}
			copy(o[i*ch:i*ch+ch], srow[(x-ax.lo)*ch:])
		}
	}
}

// grow returns b with length at least n, reusing its storage when possible.
func grow(b []uint8, n int) []uint8 {
	if cap(b) < n {
		return make([]uint8, n)
	}
	return b[:n]
}

func growInt32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}
