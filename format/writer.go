package format

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// writerFile is the part of *os.File the Writer uses (tests substitute
// failing implementations).
type writerFile interface {
	io.Writer
	io.WriterAt
	Sync() error
	Chmod(os.FileMode) error
	Close() error
}

// Writer writes a weight file. Tensors are streamed to a temporary file in
// the destination's directory as they are added; Commit writes the metadata,
// directory and header, syncs, and renames the temporary file over the
// destination. Until then the destination is untouched.
//
// Any error aborts the Writer: the temporary file is removed and every later
// call returns the same error. The usual pattern is
//
//	w, err := format.Create(path)
//	if err != nil { ... }
//	defer w.Abort() // no-op after a successful Commit
//	w.SetMetadata(meta)
//	... w.AddF32(...) ...
//	return w.Commit()
//
// Output is deterministic: the same metadata and the same tensors added in
// the same order give byte-identical files. A Writer is not safe for
// concurrent use.
type Writer struct {
	path    string // destination
	tmp     string // temporary file
	f       writerFile
	bw      *bufio.Writer
	off     uint64 // bytes written so far
	meta    *Metadata
	entries []entry
	names   map[string]bool
	scratch []byte
	parts   []part // parts of the tensor being written
	err     error  // sticky error
	done    bool   // committed or aborted
}

// errAborted is the sticky error of an aborted Writer.
var errAborted = errors.New("writer aborted")

// FileMode is the permission of the files Writer creates.
const FileMode os.FileMode = 0o644

const writeBufSize = 1 << 20

// Create starts writing a weight file that will replace path on Commit.
func Create(path string) (*Writer, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("format: create %s: %w", path, err)
	}
	w := newWriter(path, f.Name(), f)
	if err := w.write(make([]byte, HeaderSize)); err != nil { // header placeholder
		return nil, w.fail(fmt.Errorf("format: create %s: %w", path, err))
	}
	return w, nil
}

func newWriter(path, tmp string, f writerFile) *Writer {
	return &Writer{
		path:    path,
		tmp:     tmp,
		f:       f,
		bw:      bufio.NewWriterSize(f, writeBufSize),
		names:   make(map[string]bool),
		scratch: make([]byte, 64<<10),
	}
}

// SetMetadata sets the metadata to store. m is read (and validated) by
// Commit; it must not change between Commit's start and end.
func (w *Writer) SetMetadata(m *Metadata) { w.meta = m }

// Written returns the number of bytes written so far: the file size after a
// successful Commit.
func (w *Writer) Written() int64 { return int64(w.off) }

// AddF32 appends an F32 tensor.
func (w *Writer) AddF32(name string, shape []int, data []float32) error {
	e, err := w.begin(name, F32, shape, 0, len(data), 0)
	if err != nil {
		return err
	}
	return w.finish(e, func(crc *uint32) error {
		return w.writeUint32s(crc, len(data), func(i int) uint32 { return math.Float32bits(data[i]) })
	})
}

// AddF16 appends an F16 tensor; data holds IEEE half-precision bit patterns.
func (w *Writer) AddF16(name string, shape []int, data []uint16) error {
	e, err := w.begin(name, F16, shape, 0, len(data), 0)
	if err != nil {
		return err
	}
	return w.finish(e, func(crc *uint32) error {
		return w.writeUint16s(crc, data)
	})
}

// AddQ8 appends a Q8 tensor: q holds Rows×Cols int8 values row-major (Cols
// is the last dimension of shape, Rows the product of the others) and
// scales holds Rows×(Cols/block) float32 scales. block must divide Cols;
// block 0 means Cols (one scale per row).
func (w *Writer) AddQ8(name string, shape []int, q []int8, scales []float32, block int) error {
	cols := 1
	if len(shape) > 0 {
		cols = shape[len(shape)-1]
	}
	if block == 0 {
		block = cols
	}
	e, err := w.begin(name, Q8, shape, block, len(q), len(scales))
	if err != nil {
		return err
	}
	return w.finish(e, func(crc *uint32) error {
		if err := w.writeBytes(crc, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(q))), len(q))); err != nil {
			return err
		}
		return w.writeUint32s(crc, len(scales), func(i int) uint32 { return math.Float32bits(scales[i]) })
	})
}

// AddBytes appends a U8 tensor of shape [len(data)].
func (w *Writer) AddBytes(name string, data []byte) error {
	e, err := w.begin(name, U8, []int{len(data)}, 0, len(data), 0)
	if err != nil {
		return err
	}
	return w.finish(e, func(crc *uint32) error { return w.writeBytes(crc, data) })
}

// begin checks a tensor's name, shape, block and data lengths (n elements
// in part 0, nscales in part 1 for q8) and returns its entry.
func (w *Writer) begin(name string, dt DType, shape []int, block, n, nscales int) (*entry, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (*entry, error) {
		return nil, w.fail(fmt.Errorf("format: create %s: tensor %q: "+format, append([]any{w.path, name}, args...)...))
	}
	switch {
	case name == "":
		return fail("empty name")
	case len(name) > MaxNameLen:
		return fail("name of %d bytes exceeds the limit of %d", len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fail("name is not valid UTF-8")
	case w.names[name]:
		return fail("duplicate name")
	case len(w.entries) >= MaxTensors:
		return fail("more than %d tensors", MaxTensors)
	case len(shape) > MaxRank:
		return fail("rank %d exceeds the limit of %d", len(shape), MaxRank)
	}
	count := uint64(1)
	dims := make([]uint64, len(shape))
	for i, d := range shape {
		if d <= 0 {
			return fail("dimension %d of shape %v is not positive", i, shape)
		}
		var ok bool
		if count, ok = mulWithin(count, uint64(d), math.MaxInt); !ok {
			return fail("shape %v has too many elements", shape)
		}
		dims[i] = uint64(d)
	}
	if count != uint64(n) {
		return fail("shape %v has %d elements, data has %d", shape, count, n)
	}
	e := &entry{name: name, dtype: dt, dims: dims}
	if dt == Q8 {
		cols := 1
		if len(shape) > 0 {
			cols = shape[len(shape)-1]
		}
		if block <= 0 || uint64(block) > math.MaxUint32 || cols%block != 0 {
			return fail("q8 block %d does not divide the %d columns", block, cols)
		}
		if want := int(count) / cols * (cols / block); nscales != want {
			return fail("%d q8 scales given, shape %v with block %d needs %d", nscales, shape, block, want)
		}
		e.block = uint32(block)
	}
	return e, nil
}

// finish writes a tensor's parts with writeParts (each part through one
// of the writeXxx methods, which align it and record it in w.parts) and
// records the entry.
func (w *Writer) finish(e *entry, writeParts func(crc *uint32) error) error {
	var crc uint32
	w.parts = w.parts[:0]
	if err := writeParts(&crc); err != nil {
		return w.fail(fmt.Errorf("format: create %s: tensor %q: %w", w.path, e.name, err))
	}
	e.crc = crc
	e.parts = append([]part(nil), w.parts...)
	w.entries = append(w.entries, *e)
	w.names[e.name] = true
	return nil
}

// writeBytes writes one part holding b.
func (w *Writer) writeBytes(crc *uint32, b []byte) error {
	if err := w.beginPart(); err != nil {
		return err
	}
	*crc = crc32.Update(*crc, castagnoli, b)
	if err := w.write(b); err != nil {
		return err
	}
	w.endPart()
	return nil
}

// writeUint16s writes one part holding v little-endian.
func (w *Writer) writeUint16s(crc *uint32, v []uint16) error {
	if err := w.beginPart(); err != nil {
		return err
	}
	for len(v) > 0 {
		n := min(len(v), len(w.scratch)/2)
		buf := w.scratch[:2*n]
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint16(buf[2*i:], x)
		}
		*crc = crc32.Update(*crc, castagnoli, buf)
		if err := w.write(buf); err != nil {
			return err
		}
		v = v[n:]
	}
	w.endPart()
	return nil
}

// writeUint32s writes one part holding at(0..n-1) little-endian.
func (w *Writer) writeUint32s(crc *uint32, n int, at func(int) uint32) error {
	if err := w.beginPart(); err != nil {
		return err
	}
	for i := 0; i < n; {
		m := min(n-i, len(w.scratch)/4)
		buf := w.scratch[:4*m]
		for j := range m {
			binary.LittleEndian.PutUint32(buf[4*j:], at(i+j))
		}
		*crc = crc32.Update(*crc, castagnoli, buf)
		if err := w.write(buf); err != nil {
			return err
		}
		i += m
	}
	w.endPart()
	return nil
}

// beginPart pads to Alignment and opens a part at the current offset.
func (w *Writer) beginPart() error {
	if err := w.pad(Alignment); err != nil {
		return err
	}
	w.parts = append(w.parts, part{off: w.off})
	return nil
}

// endPart closes the part opened by beginPart.
func (w *Writer) endPart() {
	p := &w.parts[len(w.parts)-1]
	p.size = w.off - p.off
}

// pad writes zeros up to the next multiple of a.
func (w *Writer) pad(a uint64) error {
	n := (a - w.off%a) % a
	clear(w.scratch[:n])
	return w.write(w.scratch[:n])
}

// write writes b and advances the offset. Its callers abort the Writer on
// error.
func (w *Writer) write(b []byte) error {
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	w.off += uint64(len(b))
	return nil
}

// usable returns the sticky error, if any.
func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("format: create %s: writer already committed", w.path)
	}
	return nil
}

// fail aborts the Writer, records err as its sticky error and returns it.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
		w.discard()
	}
	return w.err
}

// discard closes and removes the temporary file.
func (w *Writer) discard() {
	if w.f != nil {
		_ = w.f.Close()
		_ = os.Remove(w.tmp)
		w.f = nil
	}
}

// Abort discards everything written and removes the temporary file; the
// destination is left as it was. It is a no-op after Commit or a failure,
// so it can be deferred.
func (w *Writer) Abort() error {
	if w.done || w.err != nil {
		return nil
	}
	w.err = fmt.Errorf("format: create %s: %w", w.path, errAborted)
	w.discard()
	return nil
}

// Commit validates the metadata, writes the metadata, directory and header,
// syncs the file and renames it over the destination. On any error the
// temporary file is removed and the destination is untouched.
func (w *Writer) Commit() error {
	if err := w.usable(); err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return w.fail(fmt.Errorf("format: create %s: "+format, append([]any{w.path}, args...)...))
	}
	if w.meta == nil {
		return fail("no metadata set")
	}
	if err := w.meta.Validate(); err != nil {
		return fail("metadata: %w", err)
	}
	for _, ref := range w.meta.tensorRefs() {
		i := slices.IndexFunc(w.entries, func(e entry) bool { return e.name == ref })
		if i < 0 {
			return fail("metadata: tokenizer refers to tensor %q, which was not added", ref)
		}
		if w.entries[i].dtype != U8 {
			return fail("metadata: tokenizer tensor %q is %v, want u8", ref, w.entries[i].dtype)
		}
	}
	meta, err := json.Marshal(w.meta)
	if err != nil {
		return fail("metadata: %w", err)
	}
	if len(meta) > MaxMetadataSize {
		return fail("metadata of %d bytes exceeds the limit of %d", len(meta), MaxMetadataSize)
	}
	var dir []byte
	for i := range w.entries {
		dir = appendEntry(dir, &w.entries[i])
	}
	h := header{version: Version, count: uint32(len(w.entries))}
	if err := w.pad(sectionAlign); err != nil {
		return fail("%w", err)
	}
	h.metaOff, h.metaSize = w.off, uint64(len(meta))
	if err := w.write(meta); err != nil {
		return fail("metadata: %w", err)
	}
	if err := w.pad(sectionAlign); err != nil {
		return fail("%w", err)
	}
	h.dirOff, h.dirSize = w.off, uint64(len(dir))
	if err := w.write(dir); err != nil {
		return fail("directory: %w", err)
	}
	h.fileSize = w.off
	hdr := h.encode()
	h.checksum = headerChecksum(hdr, meta, dir)
	hdr = h.encode()
	if err := w.bw.Flush(); err != nil {
		return fail("write: %w", err)
	}
	if _, err := w.f.WriteAt(hdr, 0); err != nil {
		return fail("write header: %w", err)
	}
	if err := w.f.Chmod(FileMode); err != nil {
		return fail("%w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fail("sync: %w", err)
	}
	err = w.f.Close()
	w.f = nil // closed either way; discard must only remove
	if err != nil {
		_ = os.Remove(w.tmp)
		return fail("close: %w", err)
	}
	if err := os.Rename(w.tmp, w.path); err != nil {
		_ = os.Remove(w.tmp)
		return fail("%w", err)
	}
	w.done = true
	if err := syncDir(filepath.Dir(w.path)); err != nil {
		return fmt.Errorf("format: create %s: file written, but syncing its directory failed: %w", w.path, err)
	}
	return nil
}
