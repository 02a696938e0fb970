package format

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	s := newSample()
	path := writeSampleFile(t, t.TempDir(), "m.cif")
	for _, opts := range []OpenOptions{{}, {VerifyData: true}} {
		f, err := Open(path, opts)
		require.NoError(t, err)
		defer f.Close()

		assert.Equal(t, clipMeta(), f.Metadata())
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, fi.Size(), f.Size())
		require.NoError(t, f.Verify())

		var names []string
		for _, tn := range f.Tensors() {
			names = append(names, tn.Name)
		}
		assert.Equal(t, []string{"f32.matrix", "f16.vector", "q8.blocked", "q8.per_row", "tokenizer.merges", "scalar"}, names)

		tests := []struct {
			name        string
			dtype       DType
			shape       []int
			block       int
			rows, cols  int
			n           int
			bytes       int64
			checkValues func(t *testing.T, tn *Tensor)
		}{
			{"f32.matrix", F32, []int{3, 5}, 0, 3, 5, 15, 60, func(t *testing.T, tn *Tensor) {
				v, err := tn.F32()
				require.NoError(t, err)
				assert.Equal(t, s.f32, v)
			}},
			{"f16.vector", F16, []int{7}, 0, 1, 7, 7, 14, func(t *testing.T, tn *Tensor) {
				v, err := tn.F16()
				require.NoError(t, err)
				assert.Equal(t, s.f16, v)
			}},
			{"q8.blocked", Q8, []int{2, 2, 8}, 4, 4, 8, 32, 32 + 32, func(t *testing.T, tn *Tensor) {
				q, sc, err := tn.Q8()
				require.NoError(t, err)
				assert.Equal(t, s.q, q)
				assert.Equal(t, s.scales, sc)
			}},
			{"q8.per_row", Q8, []int{2, 6}, 6, 2, 6, 12, 12 + 8, func(t *testing.T, tn *Tensor) {
				q, sc, err := tn.Q8()
				require.NoError(t, err)
				assert.Equal(t, s.qrow, q)
				assert.Equal(t, s.srow, sc)
			}},
			{"tokenizer.merges", U8, []int{8}, 0, 1, 8, 8, 8, func(t *testing.T, tn *Tensor) {
				v, err := tn.Bytes()
				require.NoError(t, err)
				assert.Equal(t, s.blob, v)
			}},
			{"scalar", F32, []int{}, 0, 1, 1, 1, 4, func(t *testing.T, tn *Tensor) {
				v, err := tn.F32()
				require.NoError(t, err)
				assert.Equal(t, s.scalar, v)
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tn, err := f.Tensor(tc.name)
				require.NoError(t, err)
				assert.Equal(t, tc.name, tn.Name)
				assert.Equal(t, tc.dtype, tn.DType)
				assert.Equal(t, tc.shape, tn.Shape)
				assert.Equal(t, tc.block, tn.Block)
				assert.Equal(t, tc.rows, tn.Rows())
				assert.Equal(t, tc.cols, tn.Cols())
				assert.Equal(t, tc.n, tn.NumElements())
				assert.Equal(t, tc.bytes, tn.ByteSize())
				require.NoError(t, tn.Verify())
				tc.checkValues(t, tn)
			})
		}
	}
}

func TestWrongViewType(t *testing.T) {
	f, err := OpenBytes(sampleBytes(t))
	require.NoError(t, err)
	defer f.Close()
	tn, err := f.Tensor("f32.matrix")
	require.NoError(t, err)
	_, err = tn.F16()
	assert.ErrorIs(t, err, ErrDType)
	assert.ErrorContains(t, err, `tensor "f32.matrix" is f32, not f16`)
	_, _, err = tn.Q8()
	assert.ErrorIs(t, err, ErrDType)
	_, err = tn.Bytes()
	assert.ErrorIs(t, err, ErrDType)
	q, err := f.Tensor("q8.per_row")
	require.NoError(t, err)
	_, err = q.F32()
	assert.ErrorIs(t, err, ErrDType)
}

func TestMissingTensor(t *testing.T) {
	path := writeSampleFile(t, t.TempDir(), "m.cif")
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Tensor("visual.proj")
	require.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, `"visual.proj"`)
	assert.ErrorContains(t, err, path)
}

// inside reports whether all of view lies inside mem.
func inside(view unsafe.Pointer, viewLen uintptr, mem []byte) bool {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	p := uintptr(view)
	return p >= lo && p+viewLen <= lo+uintptr(len(mem))
}

func TestViewsAreInPlace(t *testing.T) {
	path := writeSampleFile(t, t.TempDir(), "m.cif")
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()

	for _, tn := range f.Tensors() {
		var p unsafe.Pointer
		var n uintptr
		switch tn.DType {
		case F32:
			v, err := tn.F32()
			require.NoError(t, err)
			p, n = unsafe.Pointer(&v[0]), uintptr(len(v))*4
			assert.Equal(t, len(v), cap(v), "views are capped")
		case F16:
			v, err := tn.F16()
			require.NoError(t, err)
			p, n = unsafe.Pointer(&v[0]), uintptr(len(v))*2
		case Q8:
			q, s, err := tn.Q8()
			require.NoError(t, err)
			p, n = unsafe.Pointer(&q[0]), uintptr(len(q))
			assert.True(t, inside(unsafe.Pointer(&s[0]), uintptr(len(s))*4, f.data), "%s scales", tn.Name)
			assert.Zero(t, uintptr(unsafe.Pointer(&s[0]))%Alignment)
		case U8:
			v, err := tn.Bytes()
			require.NoError(t, err)
			p, n = unsafe.Pointer(&v[0]), uintptr(len(v))
		}
		assert.True(t, inside(p, n, f.data), "%s: view not inside the file's memory", tn.Name)
		assert.Zero(t, uintptr(p)%Alignment, "%s: view not 64-byte aligned", tn.Name)
		// The view is exactly the bytes at the tensor's offset.
		assert.Equal(t, unsafe.Pointer(&f.data[tn.parts[0].off]), p, tn.Name)
	}
	assertMapped(t, f, path)
}

func TestOpenBytesInPlaceWhenAligned(t *testing.T) {
	src := sampleBytes(t)
	aligned := alignedCopy(src)
	f, err := OpenBytes(aligned)
	require.NoError(t, err)
	tn, err := f.Tensor("f32.matrix")
	require.NoError(t, err)
	v, err := tn.F32()
	require.NoError(t, err)
	assert.True(t, inside(unsafe.Pointer(&v[0]), uintptr(len(v))*4, aligned), "aligned input is used in place")
	require.NoError(t, f.Close())

	// A misaligned input is copied, and the views are still right and aligned.
	buf := make([]byte, len(src)+1+Alignment)
	off := 1
	for (uintptr(unsafe.Pointer(&buf[off])))%Alignment == 0 {
		off++
	}
	mis := buf[off : off+len(src)]
	copy(mis, src)
	f, err = OpenBytes(mis)
	require.NoError(t, err)
	defer f.Close()
	tn, err = f.Tensor("f32.matrix")
	require.NoError(t, err)
	v, err = tn.F32()
	require.NoError(t, err)
	assert.Equal(t, newSample().f32, v)
	assert.False(t, inside(unsafe.Pointer(&v[0]), uintptr(len(v))*4, mis))
	assert.Zero(t, uintptr(unsafe.Pointer(&v[0]))%Alignment)
}

func TestClose(t *testing.T) {
	f, err := Open(writeSampleFile(t, t.TempDir(), "m.cif"))
	require.NoError(t, err)
	tn, err := f.Tensor("f32.matrix")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "closing twice is harmless")

	_, err = tn.F32()
	assert.ErrorIs(t, err, ErrClosed)
	_, err = f.Tensor("f32.matrix")
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, f.Verify(), ErrClosed)
	assert.ErrorIs(t, tn.Verify(), ErrClosed)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir + "/missing.cif")
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "missing.cif")

	_, err = Open(dir)
	assert.ErrorContains(t, err, "not a regular file")

	empty := dir + "/empty.cif"
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = Open(empty)
	assert.ErrorIs(t, err, ErrBadMagic)

	_, err = OpenBytes(sampleBytes(t), OpenOptions{}, OpenOptions{})
	assert.ErrorContains(t, err, "at most one")
}

func TestDTypeString(t *testing.T) {
	for d, want := range map[DType]string{F32: "f32", F16: "f16", Q8: "q8", U8: "u8", 0: "dtype(0)", 200: "dtype(200)"} {
		assert.Equal(t, want, d.String())
	}
}

func TestErrorKinds(t *testing.T) {
	assert.True(t, errors.Is(errorf(ErrChecksum, "x"), ErrCorrupt))
	assert.True(t, errors.Is(errorf(ErrTruncated, "x"), ErrCorrupt))
	assert.False(t, errors.Is(errorf(ErrBadMagic, "x"), ErrCorrupt))
	assert.False(t, errors.Is(corruptf("x"), ErrChecksum))
}
