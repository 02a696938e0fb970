package jpeg

// Reduced-size inverse DCTs: an 8×8 block of dequantised coefficients
// becomes 4×4, 2×2 or 1×1 samples, which is how libjpeg(-turbo) decodes at
// 1/2, 1/4 and 1/8 scale (Pillow's draft mode). Each 1-D step is the
// Loeffler–Ligtenberg–Moschytz 8-point IDCT whose outputs are averaged in
// pairs (8→4) or fours (8→2) and simplified, in 13-bit fixed point with two
// extra bits kept between the passes; the constants are √2 times sums of
// the cosines cₖ = cos(kπ/16) that the averaging leaves.

const (
	constBits = 13
	pass1Bits = 2
)

// fix is x in constBits fixed point, rounded.
func fix(x float64) int32 { return int32(x*(1<<constBits) + 0.5) }

var (
	fix0_211164243 = fix(0.211164243) // √2·(c1−c3)
	fix0_509795579 = fix(0.509795579) // √2·(c5−c7)
	fix0_601344887 = fix(0.601344887) // √2·(c1−c5)
	fix0_720959822 = fix(0.720959822) // √2·(c1−c3+c5−c7)
	fix0_765366865 = fix(0.765366865) // √2·(c2−c6)
	fix0_850430095 = fix(0.850430095) // √2·(−c1+c3+c5+c7)
	fix0_899976223 = fix(0.899976223) // √2·(c3−c7)
	fix1_061594337 = fix(1.061594337) // √2·(c5+c7)
	fix1_272758580 = fix(1.272758580) // √2·(c1−c3+c5+c7)
	fix1_451774981 = fix(1.451774981) // √2·(c3+c7)
	fix1_847759065 = fix(1.847759065) // √2·(c2+c6)
	fix2_172734803 = fix(2.172734803) // √2·(c1+c5)
	fix2_562915447 = fix(2.562915447) // √2·(c1+c3)
	fix3_624509785 = fix(3.624509785) // √2·(c1+c3+c5+c7)
)

// descale divides by 2^n, rounding half up.
func descale(x int32, n uint) int32 { return (x + 1<<(n-1)) >> n }

// level shifts by +128 and clamps to a sample.
func level(v int32) uint8 {
	v += 128
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// idct4 writes the 4×4 reduced IDCT of b to dst (row stride stride).
func idct4(b *block, dst []byte, stride int) {
	var ws [8 * 4]int32
	for c := range 8 {
		if c == 4 { // only used by outputs this size drops
			continue
		}
		col := func(r int) int32 { return b[8*r+c] }
		if col(1) == 0 && col(2) == 0 && col(3) == 0 && col(5) == 0 && col(6) == 0 && col(7) == 0 {
			dc := col(0) << pass1Bits
			ws[c], ws[8+c], ws[16+c], ws[24+c] = dc, dc, dc, dc
			continue
		}
		t0 := col(0) << (constBits + 1)
		t2 := col(2)*fix1_847759065 - col(6)*fix0_765366865
		t10, t12 := t0+t2, t0-t2
		z1, z2, z3, z4 := col(7), col(5), col(3), col(1)
		o0 := -z1*fix0_211164243 + z2*fix1_451774981 - z3*fix2_172734803 + z4*fix1_061594337
		o2 := -z1*fix0_509795579 - z2*fix0_601344887 + z3*fix0_899976223 + z4*fix2_562915447
		const sh = constBits - pass1Bits + 1
		ws[c] = descale(t10+o2, sh)
		ws[24+c] = descale(t10-o2, sh)
		ws[8+c] = descale(t12+o0, sh)
		ws[16+c] = descale(t12-o0, sh)
	}
	for r := range 4 {
		w := ws[8*r : 8*r+8 : 8*r+8]
		d := dst[r*stride : r*stride+4 : r*stride+4]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := level(descale(w[0], pass1Bits+3))
			d[0], d[1], d[2], d[3] = v, v, v, v
			continue
		}
		t0 := w[0] << (constBits + 1)
		t2 := w[2]*fix1_847759065 - w[6]*fix0_765366865
		t10, t12 := t0+t2, t0-t2
		z1, z2, z3, z4 := w[7], w[5], w[3], w[1]
		o0 := -z1*fix0_211164243 + z2*fix1_451774981 - z3*fix2_172734803 + z4*fix1_061594337
		o2 := -z1*fix0_509795579 - z2*fix0_601344887 + z3*fix0_899976223 + z4*fix2_562915447
		const sh = constBits + pass1Bits + 3 + 1
		d[0] = level(descale(t10+o2, sh))
		d[3] = level(descale(t10-o2, sh))
		d[1] = level(descale(t12+o0, sh))
		d[2] = level(descale(t12-o0, sh))
	}
}

// idct2 writes the 2×2 reduced IDCT of b to dst.
func idct2(b *block, dst []byte, stride int) {
	// The column pass on the columns the row pass reads (even columns
	// other than 0 cancel out); rows 2, 4 and 6 cancel out too. A column
	// or row without AC terms takes the shortcut, which also keeps its
	// samples when the full formula would overflow (corrupt input).
	const sh1 = constBits - pass1Bits + 2
	col := func(c int) (int32, int32) {
		z1, z3, z5, z7 := b[8+c], b[24+c], b[40+c], b[56+c]
		if z1|z3|z5|z7 == 0 {
			dc := b[c] << pass1Bits
			return dc, dc
		}
		t10 := b[c] << (constBits + 2)
		t0 := -z7*fix0_720959822 + z5*fix0_850430095 - z3*fix1_272758580 + z1*fix3_624509785
		return descale(t10+t0, sh1), descale(t10-t0, sh1)
	}
	a0, b0 := col(0)
	a1, b1 := col(1)
	a3, b3 := col(3)
	a5, b5 := col(5)
	a7, b7 := col(7)
	const sh2 = constBits + pass1Bits + 3 + 2
	row := func(w0, w1, w3, w5, w7 int32, d []byte) {
		if w1|w3|w5|w7 == 0 {
			v := level(descale(w0, pass1Bits+3))
			d[0], d[1] = v, v
			return
		}
		t10 := w0 << (constBits + 2)
		t0 := -w7*fix0_720959822 + w5*fix0_850430095 - w3*fix1_272758580 + w1*fix3_624509785
		d[0] = level(descale(t10+t0, sh2))
		d[1] = level(descale(t10-t0, sh2))
	}
	row(a0, a1, a3, a5, a7, dst[0:2:2])
	row(b0, b1, b3, b5, b7, dst[stride:stride+2:stride+2])
}

// dcSample is the 1×1 reduced IDCT of a block whose dequantized DC term
// is v: the block's mean, as a sample. The reduced IDCTs (1/2, 1/4) of a
// block with only its DC term give that sample at every position.
func dcSample(v int32) uint8 { return level(descale(v, 3)) }
