package index

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/quant"
)

var testModel = ModelInfo{Fingerprint: "sha256:0123", Name: "test", Dim: 8}

func TestNew(t *testing.T) {
	tests := []struct {
		name  string
		model ModelInfo
		dtype DType
		err   string
	}{
		{"ok int8", testModel, Int8, ""},
		{"ok f16", testModel, Float16, ""},
		{"zero dim", ModelInfo{Fingerprint: "x"}, Int8, "dimension 0"},
		{"huge dim", ModelInfo{Fingerprint: "x", Dim: 1 << 20}, Int8, "dimension"},
		{"no fingerprint", ModelInfo{Dim: 4}, Int8, "fingerprint"},
		{"bad dtype", testModel, 7, "unknown vector type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, err := New(tc.model, tc.dtype)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 0, x.Len())
			assert.Equal(t, tc.model, x.Model())
			assert.Equal(t, tc.dtype, x.DType())
		})
	}
}

func TestParseDType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want DType
		ok   bool
	}{{"int8", Int8, true}, {"Q8", Int8, true}, {"f16", Float16, true}, {"float16", Float16, true}, {"f32", 0, false}, {"", 0, false}} {
		got, err := ParseDType(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
		assert.NotEmpty(t, got.String())
	}
}

func unit(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	randUnit(r, v)
	return v
}

func TestAddLookupRetain(t *testing.T) {
	for _, dt := range []DType{Int8, Float16} {
		t.Run(dt.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			x, err := New(testModel, dt)
			require.NoError(t, err)
			vecs := map[string][]float32{}
			for _, p := range []string{"/a", "/b", "/c", "/d"} {
				vecs[p] = unit(r, 8)
				require.NoError(t, x.Add(Entry{Path: p, Size: 1, ModTime: 2}, vecs[p]))
			}
			require.Equal(t, 4, x.Len())
			// Replacing keeps the position.
			vecs["/b"] = unit(r, 8)
			require.NoError(t, x.Add(Entry{Path: "/b", Size: 9, ModTime: 9}, vecs["/b"]))
			i, ok := x.Lookup("/b")
			require.True(t, ok)
			assert.Equal(t, 1, i)
			assert.Equal(t, Entry{Path: "/b", Size: 9, ModTime: 9}, x.Entry(1))

			assert.True(t, x.Remove("/a"))
			assert.False(t, x.Remove("/a"))
			assert.Equal(t, 1, x.Retain(func(e Entry) bool { return e.Path != "/c" }))
			require.Equal(t, 2, x.Len())
			for i, p := range []string{"/b", "/d"} {
				assert.Equal(t, p, x.Entry(i).Path)
				j, ok := x.Lookup(p)
				require.True(t, ok)
				assert.Equal(t, i, j)
				got := x.Vector(i, nil)
				for k := range got {
					assert.InDelta(t, vecs[p][k], got[k], 0.01, "%s[%d]", p, k)
				}
			}
			_, ok = x.Lookup("/c")
			assert.False(t, ok)
		})
	}
}

func TestAddErrors(t *testing.T) {
	x, err := New(testModel, Int8)
	require.NoError(t, err)
	good := make([]float32, 8)
	nan := make([]float32, 8)
	nan[3] = float32(math.NaN())
	inf := make([]float32, 8)
	inf[0] = float32(math.Inf(-1))
	long := make([]byte, maxPathLen+1)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name string
		e    Entry
		v    []float32
		err  string
	}{
		{"short vector", Entry{Path: "/a"}, make([]float32, 7), "7 values"},
		{"empty path", Entry{}, good, "empty path"},
		{"long path", Entry{Path: string(long)}, good, "longer than"},
		{"nan", Entry{Path: "/a"}, nan, "non-finite"},
		{"inf", Entry{Path: "/a"}, inf, "non-finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, x.Add(tc.e, tc.v), tc.err)
			assert.Equal(t, 0, x.Len())
		})
	}
}

// The index's int8 vectors are exactly what package quant makes with one
// scale per row.
func TestQuantizeMatchesQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	v := unit(r, 512)
	m, err := quant.Quantize(v, 1, 512, 0)
	require.NoError(t, err)
	q := make([]int8, 512)
	s := quantize(q, v)
	assert.Equal(t, m.Scales[0], s)
	assert.Equal(t, m.Data, q)
	// All zeros: scale 0.
	assert.Equal(t, float32(0), quantize(q, make([]float32, 512)))
}

func TestF16(t *testing.T) {
	// Every finite half survives a round trip through float32.
	for h := range 1 << 16 {
		if h&0x7c00 == 0x7c00 {
			continue
		}
		f := quant.HalfToFloat(uint16(h))
		require.Equal(t, uint16(h), quant.FloatToHalf(f), "%#04x → %g", h, f)
	}
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e9, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {5.960464477539063e-08, 0x0001}, {2.9e-08, 0x0000}, {3.0e-08, 0x0001},
		{1 + 1.0/2048, 0x3c00},        // tie, rounds to even
		{1 + 3.0/2048, 0x3c02},        // tie, rounds to even (up)
		{1 + 1.0/2048 + 1e-7, 0x3c01}, // just above the tie
		{6.097555e-05, 0x03ff},        // largest subnormal
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, quant.FloatToHalf(tc.in), "%g", tc.in)
	}
	assert.True(t, math.IsNaN(float64(quant.HalfToFloat(quant.FloatToHalf(float32(math.NaN()))))))
}
