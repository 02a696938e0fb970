package jpeg

import "encoding/binary"

// The fast sequential scan decoder. It decodes a whole MCU of a baseline or
// extended sequential scan the way libjpeg-turbo's decode_mcu_fast does:
// the bit accumulator and the buffer position live in local variables, the
// accumulator is refilled up to eight bytes at a time when none of the next
// eight buffered bytes is 0xff, and the Huffman look-up is inlined in the
// block loop. Whatever it does not handle — a marker or the end of the
// buffered bytes within reach, an invalid code, an end-of-band run, an
// excessive DC size — makes it give up on the MCU before anything but
// sample memory has changed; the careful per-symbol path (processSOS's
// block loop) then decodes that MCU again from the same state, so samples,
// errors and the bit position afterwards are the careful path's.

// fastComp is what the fast decoder needs of one scan component.
type fastComp struct {
	dc, ac *huffman
	q      *block // quantisation table, zig-zag order
	ci     int    // component index
	h, v   int    // blocks per MCU across and down (1, 2 or 4)
	hLog   uint   // log2 h
	// The blocks [bx0, bx1) × [by0, by1) are those needBlock accepts.
	bx0, bx1, by0, by1 int
	// The component's sample plane and its row stride.
	plane  []byte
	stride int
}

// fastScan is the per-scan set-up of the fast decoder.
type fastScan struct {
	comps [maxComponents]fastComp
	n     int
}

// setupFast prepares fs for a sequential scan and
// reports whether the fast decoder can decode it: all of the frame's
// components interleaved in the scan (so that MCU geometry is the frame's)
// and every table it uses a prefix code its look-up table fully covers.
func (d *decoder) setupFast(fs *fastScan, scan []scanComp) bool {
	if d.careful || d.progressive || len(scan) != d.nComp {
		return false
	}
	for i, sc := range scan {
		ci := int(sc.compIndex)
		c := fastComp{
			dc: &d.huff[dcTable][sc.td],
			ac: &d.huff[acTable][sc.ta],
			q:  &d.quant[d.comp[ci].tq],
			ci: ci,
			h:  d.comp[ci].h,
			v:  d.comp[ci].v,
		}
		c.hLog = uint(c.h / 2) // 1, 2, 4 → 0, 1, 2
		c.bx0, c.bx1, c.by0, c.by1 = d.needBlocks(ci)
		c.plane, c.stride = d.dst(0, 0, ci)
		for _, h := range []*huffman{c.dc, c.ac} {
			if h.nCodes == 0 || !h.fullLUT {
				return false
			}
		}
		c.ac.deriveFast()
		fs.comps[i] = c
	}
	fs.n = len(scan)
	return true
}

// needBlocks returns the range of a component's blocks that cover samples
// of d.opt.Need, [bx0, bx1) × [by0, by1) (every block without Need, or for
// a grey image or a fourth component).
func (d *decoder) needBlocks(ci int) (bx0, bx1, by0, by1 int) {
	const all = int(^uint(0) >> 1)
	if d.opt.Need.Empty() || d.nComp == 1 || ci >= 3 {
		return 0, all, 0, all
	}
	ss := d.ss[ci]
	w := ss * (d.comp[0].h * d.ss[0] / (d.comp[ci].h * ss))
	h := ss * (d.comp[0].v * d.ss[0] / (d.comp[ci].v * ss))
	if w <= 0 || h <= 0 {
		return 0, 0, 0, 0
	}
	// Block bx covers [bx·w, bx·w+w): it overlaps [Min.X, Max.X) when
	// floor(Min.X/w) ≤ bx < ceil(Max.X/w).
	n := d.opt.Need
	return floorDiv(n.Min.X, w), -floorDiv(-n.Max.X, w), floorDiv(n.Min.Y, h), -floorDiv(-n.Max.Y, h)
}

// floorDiv is a/b rounded down, for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// hasFF reports whether any byte of v is 0xff.
func hasFF(v uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := ^v
	return (x-lo)&^x&hi != 0
}

// fill8 appends the next eight bytes of buf[i:] to the left-aligned
// accumulator acc (nb < 32 bits) as far as they fit, with one load, when
// none of them is 0xff (a SWAR test); eight is false, and nothing changes,
// when fewer than eight bytes are left or one of them is 0xff, and the
// caller goes byte by byte with fillSlow. It is inlined, so the
// accumulator stays in registers.
func fill8(buf []byte, i int, acc uint64, nb uint) (_ uint64, _ uint, _ int, eight bool) {
	if i+8 > len(buf) {
		return acc, nb, i, false
	}
	v := binary.BigEndian.Uint64(buf[i:])
	if hasFF(v) {
		return acc, nb, i, false
	}
	k := (64 - nb) >> 3
	return acc | v>>nb, nb + 8*k, i + int(k), true
}

// fillSlow appends bytes to the left-aligned accumulator acc holding nb
// bits, one at a time, taking 0xff 0x00 as a stuffed 0xff and stopping at
// a marker, at the end of buf or when the accumulator is full.
func fillSlow(buf []byte, i int, acc uint64, nb uint) (uint64, uint, int) {
	for nb <= 56 && i < len(buf) {
		c := buf[i]
		if c == 0xff {
			if i+1 >= len(buf) || buf[i+1] != 0 {
				break
			}
			i++
		}
		i++
		acc |= uint64(c) << (56 - nb)
		nb += 8
	}
	return acc, nb, i
}

// decodeMCUFast decodes MCU (mx, my) of a sequential scan set up by
// setupFast, using and updating dc, d.bits and d.bytes. It returns false,
// with those unchanged, when the careful path has to decode the MCU.
func (d *decoder) decodeMCUFast(fs *fastScan, dc *[maxComponents]int32, mx, my int) bool {
	if d.eobRun != 0 {
		return false
	}
	buf := d.bytes.buf[:d.bytes.j]
	i := d.bytes.i
	// The accumulator holds nb bits left-aligned; the bits below them are
	// zero or the stream's next bits, so that OR-ing bytes in is exact.
	nb := uint(d.bits.n)
	var acc uint64
	if nb > 0 {
		acc = d.bits.a << (64 - nb)
	}
	dcs := *dc
	var b block
	for _, c := range fs.comps[:fs.n] {
		dcH, acH, q := c.dc, c.ac, c.q
		ss := d.ss[c.ci]
		// The blocks of an MCU, row by row (bx, by: the block's place).
		for bxy := 0; bxy < c.h*c.v; bxy++ {
			bx, by := c.h*mx+bxy&(c.h-1), c.v*my+bxy>>c.hLog

			// DC: a code of up to 16 bits and up to 16 extra bits.
			if nb < 32 {
				var eight bool
				if acc, nb, i, eight = fill8(buf, i, acc, nb); !eight {
					if acc, nb, i = fillSlow(buf, i, acc, nb); nb < 32 {
						return false
					}
				}
			}
			s, ok := uint(0), false
			if e := dcH.lut[acc>>(64-lutSize)]; e != 0 {
				l := uint(e&0xff) - 1
				acc <<= l & 63
				nb -= l
				s, ok = uint(e>>8), true
			} else {
				s, ok, acc, nb = decodeLong(dcH, acc, nb)
			}
			if !ok || s > 16 {
				return false
			}
			var diff int32
			if s != 0 {
				diff = extend(acc, s)
				acc <<= s & 63
				nb -= s
			}
			dcs[c.ci] += diff

			// AC.
			if ss == 1 {
				// At 1/8 scale a block is its DC term: the AC symbols
				// and their extra bits are read past.
				if i, acc, nb, ok = skipACFast(acH, buf, i, acc, nb); !ok {
					return false
				}
				if bx >= c.bx0 && bx < c.bx1 && by >= c.by0 && by < c.by1 {
					c.plane[by*c.stride+bx] = dcSample(dcs[c.ci] * q[0])
				}
				continue
			}
			// b is all zeros here.
			b[0] = dcs[c.ci] * q[0]
			var dcOnly bool
			if i, acc, nb, dcOnly, ok = decodeACFast(acH, q, &b, buf, i, acc, nb); !ok {
				return false
			}
			switch {
			case bx < c.bx0 || bx >= c.bx1 || by < c.by0 || by >= c.by1:
			case dcOnly && ss < 8:
				// A reduced IDCT of a flat block is its mean.
				storeFlat(dcSample(b[0]), c.plane[ss*(by*c.stride+bx):], c.stride, ss)
			default:
				storeSamples(&b, c.plane[ss*(by*c.stride+bx):], c.stride, ss) // the IDCT works in place
				dcOnly = false
			}
			if dcOnly {
				b[0] = 0
			} else {
				b = block{}
			}
		}
	}
	*dc = dcs
	d.bytes.i = i
	d.bytes.nUnreadable = 0
	d.bits.n = int32(nb)
	d.bits.a = 0
	if nb > 0 {
		d.bits.a = acc >> (64 - nb)
	}
	d.bits.m = bitMask(int32(nb))
	return true
}

// extend is RECEIVE and EXTEND (section F.2.2.1) of the s (1 to 16) bits at
// the top of acc.
func extend(acc uint64, s uint) int32 {
	x := int32(acc >> ((64 - s) & 63))
	if x < 1<<(s-1) {
		x += -1<<s + 1
	}
	return x
}

// decodeLong decodes a code longer than the look-up table's bits from the
// top of acc (at least 16 bits valid) as decodeHuffman's bit-by-bit loop
// does.
func decodeLong(h *huffman, acc uint64, nb uint) (uint, bool, uint64, uint) {
	code := int32(acc >> (64 - lutSize))
	for l := lutSize; l < maxCodeLength; l++ {
		code = code<<1 | int32(acc>>(63-l)&1)
		if code <= h.maxCodes[l] {
			n := uint(l + 1)
			return uint(h.vals[uint8(h.valsIndices[l]+code-h.minCodes[l])]), true, acc << n, nb - n
		}
	}
	return 0, false, acc, nb
}

// skipACFast reads past the AC symbols of a block and their extra bits,
// from buf[i:] and the accumulator (acc, nb), as the careful path's
// skipAC does. ok is false when the careful path has to decode the MCU.
// (The block loops are functions of their own so that the accumulator
// stays in a register.)
func skipACFast(acH *huffman, buf []byte, i int, acc uint64, nb uint) (_ int, _ uint64, _ uint, ok bool) {
	for k := 1; k < blockSize; {
		if nb < 32 {
			var eight bool
			if acc, nb, i, eight = fill8(buf, i, acc, nb); !eight {
				if acc, nb, i = fillSlow(buf, i, acc, nb); nb < 32 {
					return i, acc, nb, false
				}
			}
		}
		if e := acH.multi[acc>>(64-multiBits)]; e != 0 {
			n, adv := uint(e&0x1f), int(e>>5&0x7f)
			if e&multiEOB == 0 {
				if k+adv <= blockSize {
					acc <<= n & 63
					nb -= n
					k += adv
					continue
				}
			} else if k+adv < blockSize {
				acc <<= n & 63
				nb -= n
				break
			}
		}
		// One symbol at a time, as the careful path reads it: a long
		// code, an end-of-band run, or symbols that run past the block.
		var s uint
		if e := acH.lut[acc>>(64-lutSize)]; e != 0 {
			l := uint(e&0xff) - 1
			acc <<= l & 63
			nb -= l
			s = uint(e >> 8)
		} else {
			var ok bool
			if s, ok, acc, nb = decodeLong(acH, acc, nb); !ok {
				return i, acc, nb, false
			}
		}
		r, sz := int(s>>4), s&15
		if sz == 0 {
			if r == 0 {
				break // end of block
			}
			if r != 15 {
				return i, acc, nb, false // an end-of-band run
			}
			k += 16
			continue
		}
		if k += r; k >= blockSize {
			break
		}
		acc <<= sz & 63
		nb -= sz
		k++
	}
	return i, acc, nb, true
}

// decodeACFast decodes the AC coefficients of a block into b (all zeros
// but the DC term), dequantized by q, as processSOS does. dcOnly reports
// that the block has no AC coefficients.
func decodeACFast(acH *huffman, q, b *block, buf []byte, i int, acc uint64, nb uint) (_ int, _ uint64, _ uint, dcOnly, ok bool) {
	var s uint
	for k := 1; k < blockSize; k++ {
		if nb < 32 {
			var eight bool
			if acc, nb, i, eight = fill8(buf, i, acc, nb); !eight {
				if acc, nb, i = fillSlow(buf, i, acc, nb); nb < 32 {
					return i, acc, nb, false, false
				}
			}
		}
		idx := acc >> (64 - lutSize)
		if e := acH.coef[idx]; e != 0 {
			if r := int(e >> 8 & 0xff); k+r < blockSize {
				k += r
				n := uint(e & 0xff)
				acc <<= n & 63
				nb -= n
				z := k & (blockSize - 1)
				b[unzig[z]&(blockSize-1)] = (e >> 16) * q[z]
				continue
			}
		}
		if e := acH.lut[idx]; e != 0 {
			l := uint(e&0xff) - 1
			acc <<= l & 63
			nb -= l
			s = uint(e >> 8)
		} else if s, ok, acc, nb = decodeLong(acH, acc, nb); !ok {
			return i, acc, nb, false, false
		}
		r, sz := int(s>>4), s&15
		if sz == 0 {
			if r != 15 {
				if r != 0 {
					return i, acc, nb, false, false // an end-of-band run
				}
				dcOnly = k == 1
				break
			}
			k += 15
			continue
		}
		k += r
		if k >= blockSize {
			break
		}
		z := k & (blockSize - 1)
		b[unzig[z]&(blockSize-1)] = extend(acc, sz) * q[z]
		acc <<= sz & 63
		nb -= sz
	}
	return i, acc, nb, dcOnly, true
}
