package format

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// OpenOptions tunes Open and OpenBytes.
type OpenOptions struct {
	// VerifyData checks the CRC32C of every tensor before returning, which
	// reads the whole file (see docs/FORMAT.md for measured costs). Without
	// it only the header, metadata and directory are checked; call
	// File.Verify later if wanted.
	VerifyData bool
}

// File is an open weight file. Its methods may be called concurrently,
// except Close, which must not run concurrently with any other use of the
// File or of its tensors' views.
type File struct {
	name    string // path, for messages
	data    []byte // whole file (mapped or in memory), 64-byte aligned
	release func() error
	meta    Metadata
	tensors []*Tensor
	byName  map[string]*Tensor
	closed  bool
}

// Tensor is one tensor of a File. Its fields describe it; do not modify
// them. Views returned by its methods point into the File's memory and are
// valid until the File is closed.
type Tensor struct {
	// Name is the tensor's unique name (e.g. "visual.proj").
	Name string
	// DType is the element type.
	DType DType
	// Shape is the logical shape; for Q8 it is [.., cols] of the int8 values.
	Shape []int
	// Block is the Q8 block size along the last dimension (it divides
	// Cols; Block == Cols means one scale per row); 0 for other types.
	Block int
	// CRC32C is the stored Castagnoli CRC of the tensor's data parts.
	CRC32C uint32

	parts  [maxParts]span
	nparts int
	file   *File
}

// span is a validated byte range of the file.
type span struct{ off, size int }

var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// OpenBytes opens a weight file held in memory, e.g. embedded in the binary
// or read by the caller. When b starts at a 64-byte aligned address the
// tensor views point into b (which must then not be modified while the File
// is in use); otherwise OpenBytes works on an aligned copy of b. Close
// releases nothing but makes further use fail.
func OpenBytes(b []byte, opts ...OpenOptions) (*File, error) {
	const name = "in-memory file"
	o, err := pickOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("format: open %s: %w", name, err)
	}
	if len(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%Alignment != 0 {
		b = alignedCopy(b)
	}
	return open(name, b, nil, o)
}

// Open maps the weight file at path read-only (on unix; elsewhere it reads
// it into memory) and checks its header, metadata and directory. With
// OpenOptions.VerifyData it also checks every tensor's CRC32C. At most one
// OpenOptions may be given.
//
// The returned File must be closed; views into it are invalid after Close.
// The file must not be modified in place while it is open (Writer never
// does: it replaces files by rename).
func Open(path string, opts ...OpenOptions) (*File, error) {
	o, err := pickOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("format: open %s: %w", path, err)
	}
	data, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("format: open %s: %w", path, err)
	}
	return open(path, data, release, o)
}

func pickOptions(opts []OpenOptions) (OpenOptions, error) {
	switch len(opts) {
	case 0:
		return OpenOptions{}, nil
	case 1:
		return opts[0], nil
	}
	return OpenOptions{}, fmt.Errorf("%d OpenOptions given, want at most one", len(opts))
}

func open(name string, data []byte, release func() error, o OpenOptions) (*File, error) {
	f, err := parse(name, data)
	if err != nil {
		if release != nil {
			_ = release() // the parse error is the one worth reporting
		}
		return nil, fmt.Errorf("format: open %s: %w", name, err)
	}
	f.release = release
	if o.VerifyData {
		if err := f.Verify(); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	return f, nil
}

// parse validates data as a weight file. It never reads outside data.
func parse(name string, data []byte) (*File, error) {
	if !hostLittleEndian {
		return nil, ErrBigEndian
	}
	size := uint64(len(data))
	if len(data) < HeaderSize {
		if len(data) >= len(Magic) && string(data[:len(Magic)]) == Magic {
			return nil, errorf(ErrTruncated, "file is %d bytes, shorter than the %d-byte header: truncated", len(data), HeaderSize)
		}
		return nil, errorf(ErrBadMagic, "%v: file is %d bytes, shorter than the %d-byte header", ErrBadMagic, len(data), HeaderSize)
	}
	if m := data[:len(Magic)]; string(m) != Magic {
		return nil, errorf(ErrBadMagic, "%v (magic %q, want %q)", ErrBadMagic, m, Magic)
	}
	h := decodeHeader(data)
	if h.version != Version {
		return nil, errorf(ErrUnsupportedVersion, "format version %d not supported (this reader reads version %d)", h.version, Version)
	}
	if h.flags != 0 {
		return nil, corruptf("header flags %#x set; version %d defines none", h.flags, Version)
	}
	if h.fileSize != size {
		if h.fileSize > size {
			return nil, errorf(ErrTruncated, "file is %d bytes but its header says %d: truncated", size, h.fileSize)
		}
		return nil, corruptf("file is %d bytes but its header says %d: %d unexpected trailing bytes", size, h.fileSize, size-h.fileSize)
	}
	if h.metaSize == 0 || h.metaSize > MaxMetadataSize {
		return nil, corruptf("metadata size %d outside 1..%d", h.metaSize, MaxMetadataSize)
	}
	if err := checkSection("metadata", h.metaOff, h.metaSize, size); err != nil {
		return nil, err
	}
	if h.count > MaxTensors {
		return nil, corruptf("%d tensors, more than the limit of %d", h.count, MaxTensors)
	}
	if h.dirSize > uint64(h.count)*maxEntrySize {
		return nil, corruptf("directory of %d bytes is too large for %d tensors", h.dirSize, h.count)
	}
	if err := checkSection("directory", h.dirOff, h.dirSize, size); err != nil {
		return nil, err
	}
	if h.dirSize > 0 && h.metaOff < h.dirOff+h.dirSize && h.dirOff < h.metaOff+h.metaSize {
		return nil, corruptf("metadata [%d, %d) overlaps the directory [%d, %d)", h.metaOff, h.metaOff+h.metaSize, h.dirOff, h.dirOff+h.dirSize)
	}
	meta := data[h.metaOff : h.metaOff+h.metaSize]
	dir := data[h.dirOff : h.dirOff+h.dirSize]
	if sum := headerChecksum(data, meta, dir); sum != h.checksum {
		return nil, errorf(ErrChecksum, "header/metadata/directory checksum mismatch (stored %08x, computed %08x): file is corrupt", h.checksum, sum)
	}

	f := &File{name: name, data: data}
	if err := json.Unmarshal(meta, &f.meta); err != nil {
		return nil, corruptf("metadata is not valid JSON: %v", err)
	}
	if err := f.parseDirectory(dir, h); err != nil {
		return nil, err
	}
	if err := f.meta.Validate(); err != nil {
		return nil, corruptf("metadata: %v", err)
	}
	for _, ref := range f.meta.tensorRefs() {
		t, ok := f.byName[ref]
		if !ok {
			return nil, corruptf("metadata: tokenizer refers to tensor %q, which the file does not have", ref)
		}
		if t.DType != U8 {
			return nil, corruptf("metadata: tokenizer tensor %q is %v, want u8", ref, t.DType)
		}
	}
	return f, nil
}

// checkSection checks that [off, off+n) lies in the file after the header.
func checkSection(what string, off, n, size uint64) error {
	if off < HeaderSize {
		return corruptf("%s offset %d lies inside the %d-byte header", what, off, HeaderSize)
	}
	if off > size || n > size-off {
		return corruptf("%s [%d, +%d) extends past the end of the %d-byte file", what, off, n, size)
	}
	return nil
}

// region is a byte range used by the overlap check; owner is a tensor index
// or one of the negative section ids below.
type region struct {
	off, end    uint64
	owner, part int
}

const (
	ownerHeader = -1 - iota
	ownerMetadata
	ownerDirectory
)

func (f *File) regionName(r region) string {
	switch r.owner {
	case ownerHeader:
		return "the header"
	case ownerMetadata:
		return "the metadata"
	case ownerDirectory:
		return "the directory"
	}
	return fmt.Sprintf("tensor %q part %d", f.tensors[r.owner].Name, r.part)
}

func (f *File) parseDirectory(dir []byte, h header) error {
	n := int(h.count)
	f.tensors = make([]*Tensor, 0, n)
	f.byName = make(map[string]*Tensor, n)
	regions := make([]region, 0, 3+maxParts*n)
	regions = append(regions,
		region{0, HeaderSize, ownerHeader, 0},
		region{h.metaOff, h.metaOff + h.metaSize, ownerMetadata, 0},
		region{h.dirOff, h.dirOff + h.dirSize, ownerDirectory, 0})
	pos := 0
	for i := range n {
		e, used, err := decodeEntry(dir[pos:])
		if err != nil {
			return corruptf("directory entry %d (directory offset %d): %v", i, pos, err)
		}
		pos += used
		t, err := f.newTensor(e)
		if err != nil {
			return corruptf("tensor %d %q: %v", i, e.name, err)
		}
		if prev, dup := f.byName[t.Name]; dup {
			return corruptf("tensor %d: duplicate name %q (already used by tensor %d)", i, t.Name, slices.Index(f.tensors, prev))
		}
		f.byName[t.Name] = t
		f.tensors = append(f.tensors, t)
		for j := range t.nparts {
			p := t.parts[j]
			regions = append(regions, region{uint64(p.off), uint64(p.off + p.size), i, j})
		}
	}
	if pos != len(dir) {
		return corruptf("directory has %d bytes left over after its %d entries", len(dir)-pos, n)
	}
	slices.SortFunc(regions, func(a, b region) int {
		return cmp.Or(cmp.Compare(a.off, b.off), cmp.Compare(a.end, b.end), cmp.Compare(a.owner, b.owner), cmp.Compare(a.part, b.part))
	})
	var last *region
	for i := range regions {
		r := &regions[i]
		if r.off == r.end {
			continue
		}
		if last != nil && r.off < last.end {
			return corruptf("%s [%d, %d) overlaps %s [%d, %d)", f.regionName(*r), r.off, r.end, f.regionName(*last), last.off, last.end)
		}
		if last == nil || r.end > last.end {
			last = r
		}
	}
	return nil
}

// decodeEntry decodes the entry at the start of b and returns it with its
// encoded size. It checks everything local to the entry.
func decodeEntry(b []byte) (entry, int, error) {
	var e entry
	if len(b) < entryFixedSize {
		return e, 0, fmt.Errorf("only %d bytes left in the directory, an entry needs at least %d", len(b), entryFixedSize)
	}
	le := binary.LittleEndian
	nameLen := int(le.Uint16(b))
	e.dtype = DType(b[2])
	rank, nparts := int(b[3]), int(b[4])
	if b[5]|b[6]|b[7] != 0 {
		return e, 0, fmt.Errorf("reserved bytes 5..7 are % x, want zero", b[5:8])
	}
	if !e.dtype.valid() {
		return e, 0, fmt.Errorf("unknown dtype %d (this reader knows f32=1, f16=2, q8=3, u8=4)", b[2])
	}
	if rank > MaxRank {
		return e, 0, fmt.Errorf("rank %d exceeds the limit of %d", rank, MaxRank)
	}
	if want := e.dtype.numParts(); nparts != want {
		return e, 0, fmt.Errorf("%v tensor with %d data parts, want %d", e.dtype, nparts, want)
	}
	if nameLen == 0 {
		return e, 0, errors.New("empty tensor name")
	}
	if nameLen > MaxNameLen {
		return e, 0, fmt.Errorf("name length %d exceeds the limit of %d", nameLen, MaxNameLen)
	}
	n := entrySize(rank, nparts, nameLen)
	if len(b) < n {
		return e, 0, fmt.Errorf("entry needs %d bytes, only %d left in the directory", n, len(b))
	}
	e.block = le.Uint32(b[8:])
	e.crc = le.Uint32(b[12:])
	p := entryFixedSize
	e.dims = make([]uint64, rank)
	for i := range e.dims {
		e.dims[i] = le.Uint64(b[p:])
		p += 8
	}
	e.parts = make([]part, nparts)
	for i := range e.parts {
		e.parts[i] = part{off: le.Uint64(b[p:]), size: le.Uint64(b[p+8:])}
		p += 16
	}
	name := b[p : p+nameLen]
	if !utf8.Valid(name) {
		return e, 0, fmt.Errorf("tensor name %q is not valid UTF-8", name)
	}
	e.name = string(name)
	for _, c := range b[p+nameLen : n] {
		if c != 0 {
			return e, 0, fmt.Errorf("tensor %q: padding after the name is not zero", e.name)
		}
	}
	return e, n, nil
}

// newTensor checks e's shape, block and parts against the file and builds
// the Tensor.
func (f *File) newTensor(e entry) (*Tensor, error) {
	size := uint64(len(f.data))
	t := &Tensor{Name: e.name, DType: e.dtype, CRC32C: e.crc, file: f, nparts: len(e.parts)}
	t.Shape = make([]int, len(e.dims))
	count := uint64(1)
	for i, d := range e.dims {
		if d == 0 {
			return nil, fmt.Errorf("dimension %d is zero (shape %v)", i, e.dims)
		}
		c, ok := mulWithin(count, d, size)
		if !ok {
			return nil, fmt.Errorf("shape %v has more elements than the %d-byte file could hold", e.dims, size)
		}
		count = c
		t.Shape[i] = int(d) // d <= count <= size <= MaxInt
	}
	rows, cols := uint64(1), uint64(1)
	if r := len(e.dims); r > 0 {
		cols = e.dims[r-1]
		rows = count / cols
	}
	want := [maxParts]uint64{}
	var ok bool
	if want[0], ok = mulWithin(count, uint64(e.dtype.ElemSize()), size); !ok {
		return nil, fmt.Errorf("shape %v of %v needs more bytes than the %d-byte file has", e.dims, e.dtype, size)
	}
	if e.dtype == Q8 {
		if e.block == 0 || uint64(e.block) > cols || cols%uint64(e.block) != 0 {
			return nil, fmt.Errorf("q8 block %d does not divide the %d columns", e.block, cols)
		}
		t.Block = int(e.block)
		if want[1], ok = mulWithin(rows*(cols/uint64(e.block)), 4, size); !ok {
			return nil, fmt.Errorf("q8 scales of shape %v need more bytes than the %d-byte file has", e.dims, size)
		}
	} else if e.block != 0 {
		return nil, fmt.Errorf("block %d set on a %v tensor (only q8 has blocks)", e.block, e.dtype)
	}
	for i, p := range e.parts {
		if p.size != want[i] {
			return nil, fmt.Errorf("part %d is %d bytes, %v shape %v needs %d", i, p.size, e.dtype, e.dims, want[i])
		}
		if p.off%Alignment != 0 {
			return nil, fmt.Errorf("part %d offset %d is not %d-byte aligned", i, p.off, Alignment)
		}
		if p.off < HeaderSize || p.off > size || p.size > size-p.off {
			return nil, fmt.Errorf("part %d [%d, +%d) lies outside the data area of the %d-byte file", i, p.off, p.size, size)
		}
		t.parts[i] = span{off: int(p.off), size: int(p.size)}
	}
	return t, nil
}

// mulWithin returns a*b if it does not exceed limit.
func mulWithin(a, b, limit uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0 && lo <= limit
}

// Metadata returns the file's metadata. Do not modify it.
func (f *File) Metadata() *Metadata { return &f.meta }

// Tensor returns the tensor called name. The error wraps ErrNotFound and
// names the tensor and the file.
func (f *File) Tensor(name string) (*Tensor, error) {
	if f.closed {
		return nil, fmt.Errorf("format: %s: tensor %q: %w", f.name, name, ErrClosed)
	}
	t, ok := f.byName[name]
	if !ok {
		return nil, fmt.Errorf("format: %s: %w: %q", f.name, ErrNotFound, name)
	}
	return t, nil
}

// Tensors returns all tensors in file order.
func (f *File) Tensors() []*Tensor { return slices.Clone(f.tensors) }

// Size returns the file size in bytes.
func (f *File) Size() int64 { return int64(len(f.data)) }

// Verify checks the CRC32C of every tensor's data, reading the whole file;
// tensors are checked in parallel on up to GOMAXPROCS goroutines. On a
// mismatch the error wraps ErrChecksum and names the first bad tensor (in
// file order) and how many are bad.
func (f *File) Verify() error {
	return f.verifyWith(runtime.GOMAXPROCS(0))
}

func (f *File) verifyWith(workers int) error {
	if f.closed {
		return fmt.Errorf("format: verify %s: %w", f.name, ErrClosed)
	}
	errs := make([]error, len(f.tensors))
	workers = max(1, min(workers, len(f.tensors)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(f.tensors) {
					return
				}
				errs[i] = f.tensors[i].verify()
			}
		})
	}
	wg.Wait()
	var first error
	bad := 0
	for _, err := range errs {
		if err != nil {
			if first == nil {
				first = err
			}
			bad++
		}
	}
	if bad > 1 {
		return fmt.Errorf("format: verify %s: %w (and %d more tensors)", f.name, first, bad-1)
	}
	if first != nil {
		return fmt.Errorf("format: verify %s: %w", f.name, first)
	}
	return nil
}

// Close releases the file's memory. Views obtained from its tensors must not
// be used afterwards: with a mapped file, touching one crashes the program.
// Further calls to the File's and its tensors' methods return ErrClosed;
// closing twice is harmless.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	release := f.release
	f.release, f.data = nil, nil
	if release != nil {
		if err := release(); err != nil {
			return fmt.Errorf("format: close %s: %w", f.name, err)
		}
	}
	return nil
}

// NumElements returns the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Cols returns the last dimension (1 for a scalar).
func (t *Tensor) Cols() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[len(t.Shape)-1]
}

// Rows returns the product of all dimensions but the last (1 for rank 0
// and 1).
func (t *Tensor) Rows() int { return t.NumElements() / t.Cols() }

// ByteSize returns the number of bytes the tensor's data occupies in the
// file (all parts, without alignment padding).
func (t *Tensor) ByteSize() int64 {
	var n int64
	for i := range t.nparts {
		n += int64(t.parts[i].size)
	}
	return n
}

// F32 returns the float32 data of an F32 tensor, in place.
func (t *Tensor) F32() ([]float32, error) {
	b, err := t.view(F32, 0)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4), nil
}

// F16 returns the IEEE half-precision bit patterns of an F16 tensor, in
// place.
func (t *Tensor) F16() ([]uint16, error) {
	b, err := t.view(F16, 0)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/2), nil
}

// Q8 returns the int8 values (Rows()×Cols(), row-major) and the float32
// scales (Rows()×Cols()/Block) of a Q8 tensor, in place.
func (t *Tensor) Q8() (q []int8, scales []float32, err error) {
	b, err := t.view(Q8, 0)
	if err != nil {
		return nil, nil, err
	}
	s, err := t.view(Q8, 1)
	if err != nil {
		return nil, nil, err
	}
	q = unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	scales = unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s)/4)
	return q, scales, nil
}

// Bytes returns the contents of a U8 tensor, in place.
func (t *Tensor) Bytes() ([]byte, error) { return t.view(U8, 0) }

// Verify checks the tensor's CRC32C.
func (t *Tensor) Verify() error {
	if t.file.closed {
		return fmt.Errorf("format: verify %s: tensor %q: %w", t.file.name, t.Name, ErrClosed)
	}
	if err := t.verify(); err != nil {
		return fmt.Errorf("format: verify %s: %w", t.file.name, err)
	}
	return nil
}

func (t *Tensor) verify() error {
	var c uint32
	for i := range t.nparts {
		p := t.parts[i]
		c = crc32.Update(c, castagnoli, t.file.data[p.off:p.off+p.size])
	}
	if c != t.CRC32C {
		return errorf(ErrChecksum, "tensor %q: data checksum mismatch (stored %08x, computed %08x)", t.Name, t.CRC32C, c)
	}
	return nil
}

// view returns part i of t's data after checking its dtype and alignment.
func (t *Tensor) view(want DType, i int) ([]byte, error) {
	f := t.file
	if f.closed {
		return nil, fmt.Errorf("format: %s: tensor %q: %w", f.name, t.Name, ErrClosed)
	}
	if t.DType != want {
		return nil, fmt.Errorf("format: %s: tensor %q is %v, not %v: %w", f.name, t.Name, t.DType, want, ErrDType)
	}
	p := t.parts[i]
	b := f.data[p.off : p.off+p.size : p.off+p.size]
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%Alignment != 0 {
		// Unreachable: the base is aligned and offsets are checked.
		return nil, fmt.Errorf("format: %s: tensor %q: data not %d-byte aligned in memory", f.name, t.Name, Alignment)
	}
	return b, nil
}

// alignedCopy copies b to a new Alignment-aligned buffer.
func alignedCopy(b []byte) []byte {
	buf := alignedAlloc(len(b))
	copy(buf, b)
	return buf
}

// alignedAlloc allocates n bytes starting at an Alignment-aligned address.
func alignedAlloc(n int) []byte {
	buf := make([]byte, n+Alignment-1)
	shift := int((Alignment - uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%Alignment) % Alignment)
	return buf[shift : shift+n : shift+n]
}
