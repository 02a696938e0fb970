package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// section is a byte range [off, off+n) of an io.ReaderAt: the bytes of one
// storage (torch) or one tensor (safetensors) inside the checkpoint file.
type section struct {
	r   io.ReaderAt
	off int64
	n   int64
}

// readAt fills p from the section at byte offset off, which the caller has
// checked against s.n.
func (s section) readAt(p []byte, off int64) error {
	if off < 0 || off > s.n || int64(len(p)) > s.n-off {
		return fmt.Errorf("read of %d bytes at %d outside a %d-byte storage", len(p), off, s.n)
	}
	n, err := s.r.ReadAt(p, s.off+off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Tensor is one named tensor of a checkpoint. Its data stays in the file until
// Float32 or Raw reads it; a Tensor is valid until its StateDict is closed.
type Tensor struct {
	// Name is the dotted name in the state dict, e.g. "visual.conv1.weight".
	Name string
	// DType is the element type as stored.
	DType DType
	// Shape is the size of each dimension; empty for a scalar (0-d) tensor.
	Shape []int

	data      section // the storage the tensor views
	offset    int64   // first element, in elements from the start of data
	strides   []int64 // in elements; nil means contiguous row-major
	bigEndian bool    // storage bytes are big-endian (torch byteorder "big")
	numel     int64
}

// NumElements returns the number of elements (1 for a 0-d tensor).
func (t *Tensor) NumElements() int { return int(t.numel) }

// NumBytes returns the size of the tensor's data in bytes once made contiguous.
func (t *Tensor) NumBytes() int { return int(t.numel) * t.DType.Size() }

// String describes the tensor as "name BF16[768 3 32 32]".
func (t *Tensor) String() string { return fmt.Sprintf("%s %s%v", t.Name, t.DType, t.Shape) }

// contiguous reports whether the tensor's elements are one run of its storage
// in row-major order.
func (t *Tensor) contiguous() bool {
	if t.strides == nil {
		return true
	}
	want := int64(1)
	for i := len(t.Shape) - 1; i >= 0; i-- {
		if t.Shape[i] != 1 && t.strides[i] != want {
			return false
		}
		want *= int64(t.Shape[i])
	}
	return true
}

// Raw returns the tensor's elements contiguous, row-major and little-endian in
// its own DType: the bytes a safetensors file would hold for it.
func (t *Tensor) Raw() ([]byte, error) {
	es := t.DType.Size()
	if t.numel == 0 {
		return []byte{}, nil
	}
	if t.contiguous() {
		buf := make([]byte, t.NumBytes())
		if err := t.data.readAt(buf, t.offset*int64(es)); err != nil {
			return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		if t.bigEndian {
			swapBytes(buf, es)
		}
		return buf, nil
	}
	span, err := t.readSpan()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, t.NumBytes())
	t.eachIndex(func(i int64) {
		buf = append(buf, span[i*int64(es):(i+1)*int64(es)]...)
	})
	if t.bigEndian {
		swapBytes(buf, es)
	}
	return buf, nil
}

// chunkElems bounds the scratch buffer Float32 reads through (64 KiB of f64).
const chunkElems = 8192

// Float32 returns the tensor's elements converted to float32, contiguous and
// row-major. F64 and integers round to nearest; F16 and BF16 are exact.
func (t *Tensor) Float32() ([]float32, error) {
	es := t.DType.Size()
	out := make([]float32, t.numel)
	if t.numel == 0 {
		return out, nil
	}
	if t.contiguous() {
		if t.DType == F32 && !t.bigEndian {
			// Read straight into out's memory through a byte view: no second copy.
			if err := t.data.readAt(float32Bytes(out), t.offset*4); err != nil {
				return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
			}
			if !nativeLittleEndian {
				decodeFloat32(out, float32Bytes(out), F32)
			}
			return out, nil
		}
		scratch := make([]byte, min(len(out), chunkElems)*es)
		for done := 0; done < len(out); {
			n := min(len(out)-done, chunkElems)
			b := scratch[:n*es]
			if err := t.data.readAt(b, (t.offset+int64(done))*int64(es)); err != nil {
				return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
			}
			if t.bigEndian {
				swapBytes(b, es)
			}
			decodeFloat32(out[done:done+n], b, t.DType)
			done += n
		}
		return out, nil
	}
	span, err := t.readSpan()
	if err != nil {
		return nil, err
	}
	if t.bigEndian {
		swapBytes(span, es)
	}
	k := 0
	t.eachIndex(func(i int64) {
		decodeFloat32(out[k:k+1], span[i*int64(es):], t.DType)
		k++
	})
	return out, nil
}

// readSpan reads the storage elements from t.offset to the last element the
// view touches (checked against the storage when the tensor was built).
func (t *Tensor) readSpan() ([]byte, error) {
	if t.numel == 0 {
		return nil, nil
	}
	last := int64(0)
	for i, s := range t.Shape {
		last += int64(s-1) * t.strides[i]
	}
	es := int64(t.DType.Size())
	span := make([]byte, (last+1)*es)
	if err := t.data.readAt(span, t.offset*es); err != nil {
		return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	return span, nil
}

// eachIndex calls f with the storage index (relative to t.offset) of every
// element in row-major order.
func (t *Tensor) eachIndex(f func(int64)) {
	if t.numel == 0 {
		return
	}
	nd := len(t.Shape)
	idx := make([]int, nd)
	pos := int64(0)
	for {
		f(pos)
		d := nd - 1
		for ; d >= 0; d-- {
			idx[d]++
			pos += t.strides[d]
			if idx[d] < t.Shape[d] {
				break
			}
			pos -= int64(idx[d]) * t.strides[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// maxExpandedElems bounds views with more elements than their storage
// (stride-0 broadcasts): the file cannot vouch for their size, so a crafted
// one could otherwise demand any amount of memory when read.
const maxExpandedElems = 1 << 24

// newView builds a tensor viewing data (whose length in elements is storageElems)
// at element offset with the given size and stride, and checks that every index
// it can touch lies inside the storage. stride may be nil for row-major.
func newView(data section, dt DType, storageElems, offset int64, size, stride []int64) (*Tensor, error) {
	if !dt.valid() {
		return nil, fmt.Errorf("invalid dtype %v", dt)
	}
	if stride != nil && len(stride) != len(size) {
		return nil, fmt.Errorf("size %v and stride %v differ in rank", size, stride)
	}
	if len(size) > 64 {
		return nil, fmt.Errorf("rank %d is too large", len(size))
	}
	if offset < 0 {
		return nil, fmt.Errorf("negative storage offset %d", offset)
	}
	es := int64(dt.Size())
	maxElems := int64(math.MaxInt) / es
	numel := int64(1)
	last := int64(0) // largest index reached relative to offset
	shape := make([]int, len(size))
	for i, s := range size {
		if s < 0 {
			return nil, fmt.Errorf("negative dimension in size %v", size)
		}
		if s != 0 && numel > maxElems/s {
			return nil, fmt.Errorf("size %v has too many elements for this platform", size)
		}
		numel *= s
		shape[i] = int(s)
	}
	if stride != nil && numel > 0 {
		for i, s := range size {
			st := stride[i]
			if st < 0 {
				return nil, fmt.Errorf("negative stride in %v", stride)
			}
			if st != 0 && s-1 > (math.MaxInt64-last)/st {
				return nil, fmt.Errorf("stride %v overflows", stride)
			}
			last += (s - 1) * st
		}
	} else if numel > 0 {
		last = numel - 1
	}
	if numel > 0 && (offset > storageElems || last >= storageElems-offset) {
		return nil, fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of a %d-element storage",
			offset, size, stride, offset+last, storageElems)
	}
	if numel > storageElems && numel > maxExpandedElems {
		return nil, fmt.Errorf("view of size %v repeats a %d-element storage into %d elements, more than the %d allowed",
			size, storageElems, numel, maxExpandedElems)
	}
	if storageElems > data.n/es {
		return nil, fmt.Errorf("storage of %d %s elements needs %d bytes, file holds %d", storageElems, dt, storageElems*es, data.n)
	}
	var st []int64
	if stride != nil {
		st = append([]int64(nil), stride...)
	}
	return &Tensor{DType: dt, Shape: shape, data: data, offset: offset, strides: st, numel: numel}, nil
}
