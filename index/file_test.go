package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample(t testing.TB, dt DType, n int) *Index {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 9))
	x, err := New(testModel, dt)
	require.NoError(t, err)
	for i := range n {
		p := filepath.Join("/photos", string(rune('a'+i%26)), "ü"+string(rune('0'+i%10))+".jpg")
		if _, dup := x.Lookup(p); dup {
			p += "x"
		}
		require.NoError(t, x.Add(Entry{Path: p, Size: int64(i * 1000), ModTime: -int64(i)}, unit(r, testModel.Dim)))
	}
	return x
}

func TestEncodeDecode(t *testing.T) {
	for _, dt := range []DType{Int8, Float16} {
		for _, n := range []int{0, 1, 5, 30} {
			x := sample(t, dt, n)
			b, err := x.Encode()
			require.NoError(t, err)
			y, err := Decode(bytes.Clone(b))
			require.NoError(t, err, "%v n=%d", dt, n)
			assert.Equal(t, x.Model(), y.Model())
			assert.Equal(t, x.DType(), y.DType())
			require.Equal(t, x.Len(), y.Len())
			for i := range x.Len() {
				assert.Equal(t, x.Entry(i), y.Entry(i))
				assert.Equal(t, x.Vector(i, nil), y.Vector(i, nil))
			}
			// Encoding is deterministic.
			b2, err := y.Encode()
			require.NoError(t, err)
			assert.Equal(t, b, b2)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "photos.idx")
	x := sample(t, Int8, 7)
	require.NoError(t, x.Save(path))
	y, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, 7, y.Len())

	// A failing save leaves the old file and no temporary behind.
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if os.Getuid() != 0 { // root ignores permissions
		require.Error(t, sample(t, Int8, 3).Save(path))
		y, err = Load(path)
		require.NoError(t, err)
		assert.Equal(t, 7, y.Len())
	}
	require.NoError(t, os.Chmod(dir, 0o700))
	require.Error(t, x.Save(filepath.Join(dir, "missing", "x.idx")))
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, names, 1, "temporary files left behind")

	_, err = Load(filepath.Join(dir, "nope.idx"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// reseal recomputes the checksum after a deliberate change.
func reseal(b []byte) []byte {
	body := b[:len(b)-trailerLen]
	binary.LittleEndian.PutUint32(b[len(b)-trailerLen:], crc32.Checksum(body, castagnoli))
	return b
}

func TestDecodeCorrupt(t *testing.T) {
	good, err := sample(t, Int8, 4).Encode()
	require.NoError(t, err)
	goodF16, err := sample(t, Float16, 2).Encode()
	require.NoError(t, err)
	le := binary.LittleEndian
	metaLen := le.Uint64(good[32:])
	tests := []struct {
		name string
		edit func(b []byte) []byte
		err  string
	}{
		{"empty", func(b []byte) []byte { return nil }, "shorter"},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"version", func(b []byte) []byte { le.PutUint32(b[8:], 2); return reseal(b) }, "version 2"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-5] }, "truncated"},
		{"flipped bit", func(b []byte) []byte { b[len(b)-trailerLen-1] ^= 1; return b }, "checksum mismatch"},
		{"dtype", func(b []byte) []byte { le.PutUint32(b[12:], 9); return reseal(b) }, "unknown vector type"},
		{"dim zero", func(b []byte) []byte { le.PutUint32(b[16:], 0); return reseal(b) }, "dimension 0"},
		{"dim mismatch", func(b []byte) []byte { le.PutUint32(b[16:], 4); return reseal(b) }, "do not fill"},
		{"count huge", func(b []byte) []byte { le.PutUint64(b[24:], 1<<62); return reseal(b) }, "do not fill"},
		{"meta len huge", func(b []byte) []byte { le.PutUint64(b[32:], 1<<40); return reseal(b) }, "metadata of"},
		{"entries overrun", func(b []byte) []byte { le.PutUint64(b[40:], 1<<40); return reseal(b) }, "overrun"},
		{"vec off unaligned", func(b []byte) []byte { le.PutUint64(b[48:], le.Uint64(b[48:])+1); return reseal(b) }, "offset"},
		{"vec len", func(b []byte) []byte { le.PutUint64(b[56:], 3); return reseal(b) }, "remain"},
		{"bad json", func(b []byte) []byte { b[headerLen] = '['; return reseal(b) }, "metadata"},
		{"path length", func(b []byte) []byte { le.PutUint32(b[headerLen+metaLen:], 0); return reseal(b) }, "path length 0"},
		{"scale nan", func(b []byte) []byte {
			le.PutUint32(b[le.Uint64(b[48:]):], 0x7fc00000)
			return reseal(b)
		}, "scale"},
		{"minus 128", func(b []byte) []byte {
			b[le.Uint64(b[48:])+4*4] = 0x80
			return reseal(b)
		}, "-128"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.edit(bytes.Clone(good)))
			require.ErrorIs(t, err, ErrFormat)
			require.ErrorContains(t, err, tc.err)
		})
	}
	t.Run("f16 inf", func(t *testing.T) {
		b := bytes.Clone(goodF16)
		le.PutUint16(b[le.Uint64(b[48:]):], 0x7c00)
		_, err := Decode(reseal(b))
		require.ErrorContains(t, err, "non-finite")
	})
	t.Run("duplicate path", func(t *testing.T) {
		x := sample(t, Int8, 2)
		x.entries[1].Path = x.entries[0].Path
		b, err := x.Encode()
		require.NoError(t, err)
		_, err = Decode(b)
		require.ErrorContains(t, err, "twice")
	})
}

// FuzzDecode checks that no input makes Decode panic or read out of range,
// and that whatever it accepts encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, dt := range []DType{Int8, Float16} {
		for _, n := range []int{0, 1, 3} {
			b, err := sample(f, dt, n).Encode()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Decode(bytes.Clone(b))
		if err != nil && len(b) >= headerLen+trailerLen {
			// Most mutations only break the checksum: also try them with a
			// valid one, so the fuzzer reaches the structural checks.
			x, err = Decode(reseal(bytes.Clone(b)))
		}
		if err != nil {
			return
		}
		out, err := x.Encode()
		if err != nil {
			t.Fatal(err)
		}
		y, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded index does not decode: %v", err)
		}
		if y.Len() != x.Len() {
			t.Fatalf("length %d after round trip, want %d", y.Len(), x.Len())
		}
		if x.Len() > 0 {
			_, _ = x.Search(make([]float32, x.Dim()), 3, SearchOptions{Threads: 1})
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzDecode when
// CLIPINFER_WRITE_CORPUS=1 (the committed corpus came from it).
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CLIPINFER_WRITE_CORPUS") != "1" {
		t.Skip("set CLIPINFER_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	i := 0
	write := func(b []byte) {
		i++
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644))
	}
	for _, dt := range []DType{Int8, Float16} {
		for _, n := range []int{0, 1, 3} {
			b, err := sample(t, dt, n).Encode()
			require.NoError(t, err)
			write(b)
			write(b[:len(b)/2])
		}
	}
	write([]byte(magic))
}
