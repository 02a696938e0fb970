package npy

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The files in testdata were written by NumPy (tools/reference/preprocess_ref.py).
func TestReadNumPyFiles(t *testing.T) {
	a := []float32{-1, -0.5, 0, 0.5, 1, 1.5}
	tests := []struct {
		file  string
		data  []float32
		shape []int
	}{
		{"f4_3x2.npy", a, []int{3, 2}},
		{"f4_be.npy", a, []int{3, 2}},
		{"f4_v2.npy", a, []int{3, 2}},
		{"f4_v3.npy", a, []int{3, 2}},
		{"f4_1d.npy", []float32{1.5, -2, 0, float32(math.Inf(1)), 1e-40}, []int{5}},
		{"f4_0d.npy", []float32{3.25}, []int{}},
		{"f4_empty.npy", []float32{}, []int{0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			defer f.Close()
			data, shape, err := ReadFloat32(f)
			require.NoError(t, err)
			assert.Equal(t, tt.shape, shape)
			assert.Equal(t, tt.data, data)
		})
	}
}

func TestReadRejects(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"f8_3x2.npy", "not float32"},
		{"i4_3x2.npy", "not float32"},
		{"f4_fortran.npy", "Fortran"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			_, _, err = ReadFloat32(bytes.NewReader(b))
			require.ErrorIs(t, err, ErrFormat)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// WriteFloat32 must produce exactly the bytes NumPy writes.
func TestWriteMatchesNumPy(t *testing.T) {
	tests := []struct {
		file  string
		data  []float32
		shape []int
	}{
		{"f4_3x2.npy", []float32{-1, -0.5, 0, 0.5, 1, 1.5}, []int{3, 2}},
		{"f4_1d.npy", []float32{1.5, -2, 0, float32(math.Inf(1)), 1e-40}, []int{5}},
		{"f4_0d.npy", []float32{3.25}, nil},
		{"f4_empty.npy", nil, []int{0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, WriteFloat32(&buf, tt.data, tt.shape))
			assert.Equal(t, want, buf.Bytes())
		})
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name  string
		data  []float32
		shape []int
	}{
		{"count mismatch", []float32{1, 2}, []int{3}},
		{"negative", nil, []int{-1}},
		{"overflow", nil, []int{math.MaxInt / 2, 4}},
		{"too many dims", nil, make([]int, 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Error(t, WriteFloat32(io.Discard, tt.data, tt.shape))
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWritePropagatesWriterError(t *testing.T) {
	err := WriteFloat32(failWriter{}, make([]float32, 100000), []int{100000})
	assert.ErrorContains(t, err, "disk full")
}

func TestRoundTripLarge(t *testing.T) {
	data := make([]float32, 3*224*224)
	for i := range data {
		data[i] = float32(i)*0.25 - 1000
	}
	var buf bytes.Buffer
	require.NoError(t, WriteFloat32(&buf, data, []int{3, 224, 224}))
	assert.Zero(t, (buf.Len()-len(data)*4)%64, "data must start on a 64-byte boundary")
	got, shape, err := ReadFloat32(&buf)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 224, 224}, shape)
	assert.Equal(t, data, got)
}

// file1 builds a version 1.0 file around dict and data.
func file1(dict string, data []byte) []byte {
	b := []byte(magic + "\x01\x00")
	b = append(b, byte(len(dict)), byte(len(dict)>>8))
	b = append(b, dict...)
	return append(b, data...)
}

func TestReadMalformed(t *testing.T) {
	four := []byte{0, 0, 128, 63} // 1.0
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"bad magic", []byte("\x93NUMPX\x01\x00\x00\x00"), ErrFormat},
		{"version 4", []byte(magic + "\x04\x00\x00\x00"), ErrFormat},
		{"minor version", []byte(magic + "\x01\x01\x00\x00"), ErrFormat},
		{"short header", []byte(magic + "\x01\x00\x50\x00{'descr'"), ErrFormat},
		{"huge v2 header", []byte(magic + "\x02\x00\xff\xff\xff\x7f"), ErrFormat},
		{"not a dict", file1("[1]\n", nil), ErrFormat},
		{"missing shape", file1("{'descr': '<f4', 'fortran_order': False}\n", four), ErrFormat},
		{"duplicate key", file1("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", four), ErrFormat},
		{"unknown key", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", four), ErrFormat},
		{"int in parens", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (1)}\n", four), ErrFormat},
		{"negative dim", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n", four), ErrFormat},
		{"missing comma", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (1 1)}\n", four), ErrFormat},
		{"bad bool", file1("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}\n", four), ErrFormat},
		{"junk after dict", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x\n", four), ErrFormat},
		{"short data", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", four), io.ErrUnexpectedEOF},
		{"huge shape, no data", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 1000)}\n", four), io.ErrUnexpectedEOF},
		{"overflowing shape", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (999999999999999999, 999999999999999999)}\n", four), ErrFormat},
		{"trailing data", file1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", append(four, 0)), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadFloat32(bytes.NewReader(tt.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestReadAcceptsDoubleQuotesAndNoTrailingComma(t *testing.T) {
	in := file1(`{"descr": "<f4", "shape": (1, 1), "fortran_order": False}`+"   \n", []byte{0, 0, 128, 63})
	data, shape, err := ReadFloat32(bytes.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1}, shape)
	assert.Equal(t, []float32{1}, data)
}

func FuzzReadFloat32(f *testing.F) {
	for _, name := range []string{"f4_3x2.npy", "f4_0d.npy", "f4_be.npy", "f4_v2.npy", "f8_3x2.npy"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		data, shape, err := ReadFloat32(bytes.NewReader(in))
		if err != nil {
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if n != len(data) {
			t.Fatalf("shape %v but %d values", shape, len(data))
		}
		var buf bytes.Buffer
		if err := WriteFloat32(&buf, data, shape); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		data2, shape2, err := ReadFloat32(&buf)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(data2) != len(data) || len(shape2) != len(shape) {
			t.Fatalf("round trip changed the array")
		}
		for i := range data {
			if math.Float32bits(data[i]) != math.Float32bits(data2[i]) {
				t.Fatalf("value %d changed", i)
			}
		}
	})
}
