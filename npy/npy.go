// Package npy reads and writes float32 arrays in NumPy's .npy format
// (format versions 1.0, 2.0 and 3.0, C order).
//
// Only what clipinfer needs is supported: little- or big-endian float32
// data in C order. Everything else is rejected with a clear error, and
// nothing is allocated in proportion to what a header claims before the
// data is actually there.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// magic starts every .npy file.
const magic = "\x93NUMPY"

// maxHeaderLen bounds the header dictionary this package accepts. NumPy's
// own reader refuses headers longer than 10000 bytes unless told otherwise.
const maxHeaderLen = 1 << 16

// maxDims bounds the number of dimensions of an array.
const maxDims = 32

// ErrFormat is wrapped by every error about malformed input.
var ErrFormat = errors.New("npy: malformed file")

// WriteFloat32 writes data as a little-endian float32 .npy array of the
// given shape (C order). The product of shape must equal len(data); an empty
// shape writes a 0-d array holding one value.
func WriteFloat32(w io.Writer, data []float32, shape []int) error {
	if len(shape) > maxDims {
		return fmt.Errorf("npy: %d dimensions, at most %d supported", len(shape), maxDims)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt/d {
			return fmt.Errorf("npy: shape %v overflows", shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: shape %v holds %d values, got %d", shape, n, len(data))
	}

	var dict strings.Builder
	dict.WriteString("{'descr': '<f4', 'fortran_order': False, 'shape': (")
	for i, d := range shape {
		if i > 0 {
			dict.WriteString(", ")
		}
		dict.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		dict.WriteString(",")
	}
	dict.WriteString("), }")

	// Pad with spaces and end with '\n' so that the data starts on a
	// 64-byte boundary, as NumPy does.
	const prefix1, prefix2 = len(magic) + 2 + 2, len(magic) + 2 + 4
	version, prefix := byte(1), prefix1
	if dict.Len()+1+prefix1 > math.MaxUint16 {
		version, prefix = 2, prefix2
	}
	total := (prefix + dict.Len() + 1 + 63) / 64 * 64
	hlen := total - prefix

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(magic)
	bw.WriteByte(version)
	bw.WriteByte(0)
	if version == 1 {
		binary.Write(bw, binary.LittleEndian, uint16(hlen))
	} else {
		binary.Write(bw, binary.LittleEndian, uint32(hlen))
	}
	bw.WriteString(dict.String())
	for i := dict.Len(); i < hlen-1; i++ {
		bw.WriteByte(' ')
	}
	bw.WriteByte('\n')

	var buf [4096]byte
	for len(data) > 0 {
		m := min(len(data), len(buf)/4)
		for i, v := range data[:m] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := bw.Write(buf[:4*m]); err != nil {
			return fmt.Errorf("npy: writing data: %w", err)
		}
		data = data[m:]
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("npy: writing: %w", err)
	}
	return nil
}

// ReadFloat32 reads a whole .npy stream holding a float32 array in C order
// and returns its values and shape. The stream must end right after the
// data. Arrays of other types, Fortran-ordered arrays and malformed headers
// are errors wrapping ErrFormat (or io.ErrUnexpectedEOF when the data is
// short).
func ReadFloat32(r io.Reader) ([]float32, []int, error) {
	var pre [len(magic) + 2]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: reading magic: %w", ErrFormat, err)
	}
	if string(pre[:len(magic)]) != magic {
		return nil, nil, fmt.Errorf("%w: not an .npy file (bad magic)", ErrFormat)
	}
	major, minor := pre[len(magic)], pre[len(magic)+1]
	var hlen int
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("%w: reading header length: %w", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("%w: reading header length: %w", ErrFormat, err)
		}
		h := binary.LittleEndian.Uint32(b[:])
		if h > maxHeaderLen {
			return nil, nil, fmt.Errorf("%w: header of %d bytes is too long", ErrFormat, h)
		}
		hlen = int(h)
	default:
		return nil, nil, fmt.Errorf("%w: unsupported format version %d.%d", ErrFormat, major, minor)
	}
	if minor != 0 {
		return nil, nil, fmt.Errorf("%w: unsupported format version %d.%d", ErrFormat, major, minor)
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, nil, fmt.Errorf("%w: reading header: %w", ErrFormat, err)
	}
	h, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	if h.descr != "<f4" && h.descr != ">f4" {
		return nil, nil, fmt.Errorf("%w: dtype %q is not float32", ErrFormat, h.descr)
	}
	if h.fortran {
		return nil, nil, fmt.Errorf("%w: Fortran-ordered arrays are not supported", ErrFormat)
	}
	n := 1
	for _, d := range h.shape {
		if d != 0 && n > math.MaxInt/4/d {
			return nil, nil, fmt.Errorf("%w: shape %v is too large", ErrFormat, h.shape)
		}
		n *= d
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if h.descr[0] == '>' {
		order = binary.BigEndian
	}

	// Grow the result as data arrives, so a lying header cannot make us
	// allocate more than the stream holds.
	data := make([]float32, 0, min(n, 1<<16))
	var buf [1 << 14]byte
	for len(data) < n {
		m := min(n-len(data), len(buf)/4)
		if _, err := io.ReadFull(r, buf[:4*m]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, fmt.Errorf("npy: reading %d values: %w", n, err)
		}
		for i := 0; i < m; i++ {
			data = append(data, math.Float32frombits(order.Uint32(buf[4*i:])))
		}
	}
	var one [1]byte
	k, err := io.ReadFull(r, one[:])
	if k > 0 {
		return nil, nil, fmt.Errorf("%w: trailing bytes after the array data", ErrFormat)
	}
	if err != io.EOF {
		return nil, nil, fmt.Errorf("npy: after the array data: %w", err)
	}
	return data, h.shape, nil
}

// header is the parsed header dictionary.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader parses the Python dict literal NumPy writes, strictly: the
// three keys descr, fortran_order and shape exactly once each, then only
// spaces and a final newline.
func parseHeader(b []byte) (header, error) {
	p := &parser{s: b}
	var h header
	seen := map[string]bool{}
	bad := func(what string) (header, error) {
		return header{}, fmt.Errorf("%w: header %q: %s", ErrFormat, truncate(b), what)
	}
	p.space()
	if !p.eat('{') {
		return bad("expected '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return bad("expected a quoted key")
		}
		if seen[key] {
			return bad("duplicate key " + key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return bad("expected ':'")
		}
		p.space()
		switch key {
		case "descr":
			if h.descr, ok = p.str(); !ok {
				return bad("descr is not a string")
			}
		case "fortran_order":
			switch {
			case p.word("False"):
				h.fortran = false
			case p.word("True"):
				h.fortran = true
			default:
				return bad("fortran_order is not a boolean")
			}
		case "shape":
			if h.shape, ok = p.tuple(); !ok {
				return bad("shape is not a tuple of non-negative integers")
			}
		default:
			return bad("unexpected key " + key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return bad("expected ',' or '}'")
		}
		break
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return bad("missing key")
	}
	rest := bytes.TrimSuffix(p.s[p.i:], []byte("\n"))
	if len(bytes.Trim(rest, " ")) != 0 {
		return bad("unexpected bytes after the dictionary")
	}
	return h, nil
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// parser is a cursor over a header.
type parser struct {
	s []byte
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) word(w string) bool {
	if bytes.HasPrefix(p.s[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a string in single or double quotes without escapes.
func (p *parser) str() (string, bool) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := bytes.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := string(p.s[p.i+1 : p.i+1+end])
	if strings.ContainsRune(v, '\\') {
		return "", false
	}
	p.i += end + 2
	return v, true
}

// tuple reads "()", "(n,)" or "(n, m, ...)" with an optional trailing comma.
func (p *parser) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	shape := []int{}
	comma := false
	for {
		p.space()
		if p.eat(')') {
			// "(3)" is an int in parentheses, not a tuple.
			return shape, len(shape) != 1 || comma
		}
		if len(shape) > 0 && !comma {
			return nil, false
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start || p.i-start > 18 {
			return nil, false
		}
		d, err := strconv.Atoi(string(p.s[start:p.i]))
		if err != nil {
			return nil, false
		}
		if shape = append(shape, d); len(shape) > maxDims {
			return nil, false
		}
		p.space()
		comma = p.eat(',')
	}
}
