package index

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"unsafe"

	"github.com/clipinfer/clipinfer/internal/atomicfile"
)

// File layout (all integers little-endian):
//
//	offset  size  field
//	0       8     magic "CLIPIDX\x00"
//	8       4     version (1)
//	12      4     vector type: 1 = int8 + float32 scale, 2 = f16
//	16      4     dim
//	20      4     reserved (0)
//	24      8     count: number of vectors
//	32      8     meta_len: bytes of the JSON metadata
//	40      8     entries_len: bytes of the entry table
//	48      8     vec_off: offset of the vector section (a multiple of 64)
//	56      8     vec_len: bytes of the vector section
//	64      meta_len     JSON metadata: {"model": ModelInfo, "created", "updated", "tool"}
//	...     entries_len  count entries: u32 path length, path (UTF-8), i64 size, i64 mtime (Unix ns)
//	...     zero padding to vec_off
//	vec_off vec_len      int8: count float32 scales, then count·dim int8 values;
//	                     f16: count·dim binary16 values (row-major)
//	end-16  4     CRC32C (Castagnoli) of every byte before it
//	end-12  4     reserved (0)
//	end-8   8     end magic "CLIPIDXE"
//
// The file size must be exactly vec_off + vec_len + 16.
const (
	magic      = "CLIPIDX\x00"
	endMagic   = "CLIPIDXE"
	version    = 1
	headerLen  = 64
	trailerLen = 16
	align      = 64
	// maxPathLen bounds one stored path.
	maxPathLen = 1 << 16
	// maxMetaLen bounds the JSON metadata.
	maxMetaLen = 1 << 20
)

// ErrFormat is wrapped by every error about a malformed index file.
var ErrFormat = errors.New("malformed index file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileMeta is the JSON metadata section.
type fileMeta struct {
	Model   ModelInfo `json:"model"`
	Tool    string    `json:"tool,omitempty"`
	Created string    `json:"created,omitempty"`
	Updated string    `json:"updated,omitempty"`
}

// Load reads and checks the index file at path.
func Load(path string) (*Index, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	x, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("index: %s: %w", path, err)
	}
	return x, nil
}

// Decode parses an index file held in memory, checking its checksum and
// every size in it. The int8 vectors of the result share memory with b:
// b belongs to the index afterwards and must not be used by the caller.
func Decode(b []byte) (*Index, error) {
	bad := func(f string, args ...any) (*Index, error) {
		return nil, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(f, args...))
	}
	if len(b) < headerLen+trailerLen {
		return bad("%d bytes is shorter than the %d-byte header and trailer", len(b), headerLen+trailerLen)
	}
	if string(b[:8]) != magic {
		return bad("not an index file (bad magic)")
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[8:]); v != version {
		return bad("version %d, this program reads version %d", v, version)
	}
	if string(b[len(b)-8:]) != endMagic {
		return bad("truncated (no end marker)")
	}
	body := b[:len(b)-trailerLen]
	if want, got := le.Uint32(b[len(b)-trailerLen:]), crc32.Checksum(body, castagnoli); want != got {
		return bad("checksum mismatch (stored %08x, computed %08x): the file is corrupted", want, got)
	}
	dtype := DType(le.Uint32(b[12:]))
	dim := uint64(le.Uint32(b[16:]))
	count, metaLen, entLen := le.Uint64(b[24:]), le.Uint64(b[32:]), le.Uint64(b[40:])
	vecOff, vecLen := le.Uint64(b[48:]), le.Uint64(b[56:])
	size := uint64(len(body))
	switch {
	case dtype != Int8 && dtype != Float16:
		return bad("unknown vector type %d", uint32(dtype))
	case dim == 0 || dim > maxDim:
		return bad("dimension %d outside 1..%d", dim, maxDim)
	case metaLen > maxMetaLen:
		return bad("metadata of %d bytes", metaLen)
	case entLen > size || headerLen+metaLen+entLen > size:
		return bad("sections overrun the file")
	case vecOff%align != 0 || vecOff < headerLen+metaLen+entLen || vecOff > size:
		return bad("vector section offset %d", vecOff)
	case vecLen != size-vecOff:
		return bad("vector section of %d bytes where %d remain", vecLen, size-vecOff)
	}
	// count·dim cannot overflow once count is bounded by the data present.
	per := dim + 4
	if dtype == Float16 {
		per = 2 * dim
	}
	if count > vecLen/per || count*per != vecLen {
		return bad("%d vectors of %d values do not fill %d bytes", count, dim, vecLen)
	}
	if count > entLen/20 { // every entry takes at least 20 bytes
		return bad("%d entries cannot fit in %d bytes", count, entLen)
	}
	for _, c := range b[headerLen+metaLen+entLen : vecOff] {
		if c != 0 {
			return bad("non-zero padding")
		}
	}

	var meta fileMeta
	if err := json.Unmarshal(b[headerLen:headerLen+metaLen], &meta); err != nil {
		return bad("metadata: %v", err)
	}
	if meta.Model.Dim != int(dim) {
		return bad("metadata says dimension %d, header %d", meta.Model.Dim, dim)
	}
	x, err := New(meta.Model, dtype)
	if err != nil {
		return bad("%v", err)
	}
	x.created, x.updated = meta.Created, meta.Updated

	n := int(count)
	x.entries = make([]Entry, n)
	x.byPath = make(map[string]int, n)
	et := b[headerLen+metaLen : headerLen+metaLen+entLen]
	for i := range x.entries {
		if len(et) < 4 {
			return bad("entry %d truncated", i)
		}
		pl := uint64(le.Uint32(et))
		if pl == 0 || pl > maxPathLen || pl+20 > uint64(len(et)) {
			return bad("entry %d: path length %d", i, pl)
		}
		e := Entry{
			Path:    string(et[4 : 4+pl]),
			Size:    int64(le.Uint64(et[4+pl:])),
			ModTime: int64(le.Uint64(et[12+pl:])),
		}
		if _, dup := x.byPath[e.Path]; dup {
			return bad("entry %d: path %q appears twice", i, e.Path)
		}
		x.entries[i] = e
		x.byPath[e.Path] = i
		et = et[20+pl:]
	}
	if len(et) != 0 {
		return bad("%d bytes after the last entry", len(et))
	}

	vec := b[vecOff : vecOff+vecLen]
	d := int(dim)
	switch dtype {
	case Int8:
		x.scales = make([]float32, n)
		for i := range x.scales {
			s := math.Float32frombits(le.Uint32(vec[4*i:]))
			if !(s >= 0) || math.IsInf(float64(s), 0) {
				return bad("vector %d: scale %v", i, s)
			}
			x.scales[i] = s
		}
		q := vec[4*n:]
		if n > 0 {
			x.q = unsafe.Slice((*int8)(unsafe.Pointer(&q[0])), n*d)
		}
		for i, v := range x.q {
			if v == -128 {
				return bad("vector %d: value -128 outside [-127, 127]", i/d)
			}
		}
	case Float16:
		x.h = make([]uint16, n*d)
		for i := range x.h {
			x.h[i] = le.Uint16(vec[2*i:])
			if x.h[i]&0x7c00 == 0x7c00 {
				return bad("vector %d: non-finite value", i/d)
			}
		}
	}
	return x, nil
}

// Encode returns the index as an index file.
func (x *Index) Encode() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteTo writes the index file to w.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	meta, err := json.Marshal(fileMeta{Model: x.model, Tool: "clipinfer", Created: x.created, Updated: x.updated})
	if err != nil {
		return 0, fmt.Errorf("index: metadata: %w", err)
	}
	var entLen uint64
	for _, e := range x.entries {
		entLen += 20 + uint64(len(e.Path))
	}
	n, d := uint64(len(x.entries)), uint64(x.model.Dim)
	vecOff := (headerLen + uint64(len(meta)) + entLen + align - 1) / align * align
	vecLen := n * (d + 4)
	if x.dtype == Float16 {
		vecLen = n * 2 * d
	}

	cw := &crcWriter{w: w}
	bw := newLEWriter(cw)
	bw.bytes([]byte(magic))
	bw.u32(version)
	bw.u32(uint32(x.dtype))
	bw.u32(uint32(d))
	bw.u32(0)
	bw.u64(n)
	bw.u64(uint64(len(meta)))
	bw.u64(entLen)
	bw.u64(vecOff)
	bw.u64(vecLen)
	bw.bytes(meta)
	for _, e := range x.entries {
		bw.u32(uint32(len(e.Path)))
		bw.bytes([]byte(e.Path))
		bw.u64(uint64(e.Size))
		bw.u64(uint64(e.ModTime))
	}
	bw.bytes(make([]byte, vecOff-(headerLen+uint64(len(meta))+entLen)))
	switch x.dtype {
	case Int8:
		for _, s := range x.scales {
			bw.u32(math.Float32bits(s))
		}
		if len(x.q) > 0 {
			bw.bytes(unsafe.Slice((*byte)(unsafe.Pointer(&x.q[0])), len(x.q)))
		}
	case Float16:
		for _, v := range x.h {
			bw.u16(v)
		}
	}
	if err := bw.flush(); err != nil {
		return cw.n, fmt.Errorf("index: write: %w", err)
	}
	var tr [trailerLen]byte
	binary.LittleEndian.PutUint32(tr[:], cw.crc)
	copy(tr[8:], endMagic)
	if _, err := cw.Write(tr[:]); err != nil {
		return cw.n, fmt.Errorf("index: write: %w", err)
	}
	return cw.n, nil
}

// Save writes the index to path atomically: to a temporary file in the same
// directory, synced, then renamed over path. A failure leaves any existing
// file at path untouched.
func (x *Index) Save(path string) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := x.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("index: save %s: %w", path, err)
	}
	return nil
}

// crcWriter counts bytes and computes their CRC32C on the way to w.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	c.n += int64(n)
	return n, err
}

// leWriter buffers little-endian values and keeps the first error.
type leWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func newLEWriter(w io.Writer) *leWriter { return &leWriter{w: w, buf: make([]byte, 0, 64<<10)} }

func (l *leWriter) room(n int) {
	if len(l.buf)+n > cap(l.buf) {
		l.flush()
	}
}

func (l *leWriter) u16(v uint16) { l.room(2); l.buf = binary.LittleEndian.AppendUint16(l.buf, v) }
func (l *leWriter) u32(v uint32) { l.room(4); l.buf = binary.LittleEndian.AppendUint32(l.buf, v) }
func (l *leWriter) u64(v uint64) { l.room(8); l.buf = binary.LittleEndian.AppendUint64(l.buf, v) }

func (l *leWriter) bytes(p []byte) {
	if len(p) > cap(l.buf) {
		l.flush()
		if l.err == nil {
			_, l.err = l.w.Write(p)
		}
		return
	}
	l.room(len(p))
	l.buf = append(l.buf, p...)
}

func (l *leWriter) flush() error {
	if l.err == nil && len(l.buf) > 0 {
		_, l.err = l.w.Write(l.buf)
	}
	l.buf = l.buf[:0]
	return l.err
}
