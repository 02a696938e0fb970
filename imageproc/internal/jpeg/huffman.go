// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpeg

import (
	"io"
)

// maxCodeLength is the maximum (inclusive) number of bits in a Huffman code.
const maxCodeLength = 16

// maxNCodes is the maximum (inclusive) number of codes in a Huffman tree.
const maxNCodes = 256

// lutSize is the log-2 size of the Huffman decoder's look-up table: codes
// up to this long (nearly all of a photo's) decode with one look-up.
const lutSize = 11

// huffman is a Huffman decoder, specified in section C.
type huffman struct {
	// length is the number of codes in the tree.
	nCodes int32
	// lut is the look-up table for the next lutSize bits in the bit-stream.
	// The high 8 bits of the uint16 are the encoded value. The low 8 bits
	// are 1 plus the code length, or 0 if the code is longer than lutSize
	// bits.
	lut [1 << lutSize]uint16
	// vals are the decoded values, sorted by their encoding.
	vals [maxNCodes]uint8
	// minCodes[i] is the minimum code of length i, or -1 if there are no
	// codes of that length.
	minCodes [maxCodeLength]int32
	// maxCodes[i] is the maximum code of length i, or -1 if there are no
	// codes of that length.
	maxCodes [maxCodeLength]int32
	// valsIndices[i] is the index into vals of minCodes[i].
	valsIndices [maxCodeLength]int32
	// fullLUT is whether lut holds every code up to lutSize bits (not so
	// for an over-subscribed table).
	fullLUT bool
	// fastReady is whether coef and multi are derived from lut.
	fastReady bool
	// multi is the look-up table for reading past as many AC symbols as
	// have their codes inside the next multiBits bits (at least one), with
	// their extra bits: the low 5 bits are the bits read, the next 7 how
	// far the symbols advance in zig-zag order, and multiEOB is set when
	// the last of them ends the block. Zero for a longer code or an
	// end-of-band run. (16 bits an entry keep the tables in the L1 cache
	// with two decoders on one core.)
	multi [1 << multiBits]uint16
	// coef is the look-up table for an AC coefficient whose code and
	// extra bits both lie in the next lutSize bits: its value in the
	// high 16 bits, the run of zeros before it in the next 8, the bits
	// read in the low 8. Zero for other symbols.
	coef [1 << lutSize]int32
}

// multiBits is the log-2 size of huffman.multi: the window its symbols'
// codes lie in.
const multiBits = 12

// multiEOB marks a huffman.multi entry whose last symbol ends the block.
const multiEOB = 1 << 12

// errShortHuffmanData means that an unexpected EOF occurred while decoding
// Huffman data.
var errShortHuffmanData = FormatError("short Huffman data")

// ensureNBits reads bytes from the byte buffer to ensure that d.bits.n is at
// least n. For best performance (avoiding function calls inside hot loops),
// the caller is the one responsible for first checking that d.bits.n < n.
//
// It fills the 64-bit accumulator as far as it can from buffered bytes that
// are not 0xff, several bytes per call; a 0xff byte (stuffed data or a
// marker) goes through readByteStuffedByte one byte at a time, and only
// when the bits are needed, so the accumulator never holds bytes from
// beyond the entropy-coded segment. A failed read gives its bytes back.
func (d *decoder) ensureNBits(n int32) error {
	a, nb := d.bits.a, d.bits.n
	i, j := d.bytes.i, d.bytes.j
	if nb <= 56 && i < j {
		for nb <= 56 && i < j {
			c := d.bytes.buf[i]
			if c == 0xff {
				break
			}
			a = a<<8 | uint64(c)
			nb += 8
			i++
		}
		d.bytes.i = i
		d.bytes.nUnreadable = 0
	}
	for nb < n {
		c, err := d.readByteStuffedByte()
		if err != nil {
			d.bytes.i -= d.bytes.nUnreadable
			d.bytes.nUnreadable = 0
			d.bits.a, d.bits.n, d.bits.m = a, nb, bitMask(nb)
			if err == io.ErrUnexpectedEOF {
				return errShortHuffmanData
			}
			return err
		}
		a = a<<8 | uint64(c)
		nb += 8
	}
	d.bits.a, d.bits.n, d.bits.m = a, nb, bitMask(nb)
	return nil
}

// bitMask is bits.m for n unread bits.
func bitMask(n int32) uint64 {
	if n == 0 {
		return 0
	}
	return 1 << uint(n-1)
}

// receiveExtend is the composition of RECEIVE and EXTEND, specified in section
// F.2.2.1.
func (d *decoder) receiveExtend(t uint8) (int32, error) {
	if d.bits.n < int32(t) {
		if err := d.ensureNBits(int32(t)); err != nil {
			return 0, err
		}
	}
	d.bits.n -= int32(t)
	d.bits.m >>= t
	s := int32(1) << t
	x := int32(d.bits.a>>uint(d.bits.n)) & (s - 1)
	if x < s>>1 {
		x += ((-1) << t) + 1
	}
	return x, nil
}

// processDHT processes a Define Huffman Table marker, and initializes a huffman
// struct from its contents. Specified in section B.2.4.2.
func (d *decoder) processDHT(n int) error {
	for n > 0 {
		if n < 17 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(d.tmp[:17]); err != nil {
			return err
		}
		tc := d.tmp[0] >> 4
		if tc > maxTc {
			return FormatError("bad Tc value")
		}
		th := d.tmp[0] & 0x0f
		// The baseline th <= 1 restriction is specified in table B.5.
		if th > maxTh || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		h := &d.huff[tc][th]

		// Read nCodes and h.vals (and derive h.nCodes).
		// nCodes[i] is the number of codes with code length i.
		// h.nCodes is the total number of codes.
		h.nCodes = 0
		var nCodes [maxCodeLength]int32
		for i := range nCodes {
			nCodes[i] = int32(d.tmp[i+1])
			h.nCodes += nCodes[i]
		}
		if h.nCodes == 0 {
			return FormatError("Huffman table has zero length")
		}
		if h.nCodes > maxNCodes {
			return FormatError("Huffman table has excessive length")
		}
		n -= int(h.nCodes) + 17
		if n < 0 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(h.vals[:h.nCodes]); err != nil {
			return err
		}

		// An over-subscribed table (more codes of some length than fit)
		// is not a prefix code; image/jpeg decodes it through an 8-bit
		// look-up table, wrapping its indices, and bit by bit beyond, so
		// for such a table only codes up to 8 bits go into the table.
		lutBits := uint32(lutSize)
		for i, c := 0, int32(0); i < maxCodeLength; i++ {
			if c = c<<1 + nCodes[i]; c > 1<<(i+1) {
				lutBits = 8
				break
			}
		}

		h.fullLUT = lutBits == lutSize

		// Derive the look-up table.
		clear(h.lut[:])
		var x, code uint32
		for i := uint32(0); i < lutBits; i++ {
			code <<= 1
			for j := int32(0); j < nCodes[i]; j++ {
				// The codeLength is 1+i, so shift code by lutSize-(1+i)
				// to calculate the high bits for every lutSize-bit
				// sequence whose codeLength's high bits matches code.
				// The high 8 bits of lutValue are the encoded value.
				// The low 8 bits are 1 plus the codeLength.
				base := code << (lutSize - 1 - i)
				lutValue := uint16(h.vals[x])<<8 | uint16(2+i)
				for k := uint32(0); k < 1<<(lutSize-1-i); k++ {
					h.lut[(base|k)&(1<<lutSize-1)] = lutValue
				}
				code++
				x++
			}
		}

		h.fastReady = false // coef and multi are derived when a scan needs them

		// Derive minCodes, maxCodes, and valsIndices.
		var c, index int32
		for i, n := range nCodes {
			if n == 0 {
				h.minCodes[i] = -1
				h.maxCodes[i] = -1
				h.valsIndices[i] = -1
			} else {
				h.minCodes[i] = c
				h.maxCodes[i] = c + n - 1
				h.valsIndices[i] = index
				c += n
				index += n
			}
			c <<= 1
		}
	}
	return nil
}

// skipEntry returns, for the symbol whose code starts the lutSize bits i,
// the bits it takes with its extra bits, the length of its code, and how
// far it advances in zig-zag order (0: end of block); ok is false for a
// code longer than lutSize bits and an end-of-band run.
func (h *huffman) skipEntry(i int) (n, code, adv uint32, ok bool) {
	v := h.lut[i]
	if v == 0 || !h.fullLUT {
		return 0, 0, 0, false
	}
	code = uint32(v&0xff) - 1
	r, size := uint32(v>>12), uint32(v>>8)&0x0f
	switch {
	case size != 0:
		return code + size, code, r + 1, true
	case r == 15: // sixteen zeros
		return code, code, 16, true
	case r == 0: // end of block
		return code, code, 0, true
	}
	return 0, 0, 0, false
}

// deriveFast derives h.coef and h.multi from h.lut, once per table.
func (h *huffman) deriveFast() {
	if h.fastReady {
		return
	}
	h.fastReady = true
	for i, v := range h.lut {
		h.coef[i] = 0
		n := uint32(v&0xff) - 1
		r, size := int32(v>>12), uint32(v>>8)&0x0f
		if v == 0 || !h.fullLUT || size == 0 || n+size > lutSize {
			continue
		}
		x := extend(uint64(i)<<(64-lutSize+n), uint(size)) // the extra bits after the code
		h.coef[i] = x<<16 | r<<8 | int32(n+size)
	}
	for i := range h.multi {
		h.multi[i] = 0
		var pos, adv uint32
		for pos < multiBits {
			n, code, a, ok := h.skipEntry((i << pos) & (1<<multiBits - 1) >> (multiBits - lutSize))
			if !ok || pos+code > multiBits || adv+a > 127 {
				break // a code not (wholly) inside the window
			}
			pos += n
			adv += a
			h.multi[i] = uint16(pos | adv<<5)
			if a == 0 {
				h.multi[i] |= multiEOB
				break
			}
		}
	}
}

// decodeHuffman returns the next Huffman-coded value from the bit-stream,
// decoded according to h.
func (d *decoder) decodeHuffman(h *huffman) (uint8, error) {
	if h.nCodes == 0 {
		return 0, FormatError("uninitialized Huffman table")
	}

	if d.bits.n < lutSize {
		if err := d.ensureNBits(lutSize); err != nil {
			if err != errMissingFF00 && err != errShortHuffmanData {
				return 0, err
			}
			// There are no more bytes of data in this segment, but we may still
			// be able to read the next symbol out of the previously read bits
			// (ensureNBits gave back the bytes of its failed read).
			goto slowPath
		}
	}
	if v := h.lut[(d.bits.a>>uint(d.bits.n-lutSize))&(1<<lutSize-1)]; v != 0 {
		n := (v & 0xff) - 1
		d.bits.n -= int32(n)
		d.bits.m >>= n
		return uint8(v >> 8), nil
	}

slowPath:
	for i, code := 0, int32(0); i < maxCodeLength; i++ {
		if d.bits.n == 0 {
			if err := d.ensureNBits(1); err != nil {
				return 0, err
			}
		}
		if d.bits.a&d.bits.m != 0 {
			code |= 1
		}
		d.bits.n--
		d.bits.m >>= 1
		if code <= h.maxCodes[i] {
			return h.vals[h.valsIndices[i]+code-h.minCodes[i]], nil
		}
		code <<= 1
	}
	return 0, FormatError("bad Huffman code")
}

func (d *decoder) decodeBit() (bool, error) {
	if d.bits.n == 0 {
		if err := d.ensureNBits(1); err != nil {
			return false, err
		}
	}
	ret := d.bits.a&d.bits.m != 0
	d.bits.n--
	d.bits.m >>= 1
	return ret, nil
}

func (d *decoder) decodeBits(n int32) (uint32, error) {
	if d.bits.n < n {
		if err := d.ensureNBits(n); err != nil {
			return 0, err
		}
	}
	ret := uint32(d.bits.a>>uint(d.bits.n-n)) & (1<<uint(n) - 1)
	d.bits.n -= n
	d.bits.m >>= uint32(n)
	return ret, nil
}
