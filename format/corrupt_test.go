package format

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlipHeaderMetadataDirectory flips every byte of the header, the
// metadata and the directory: each flip must make Open fail.
func TestFlipHeaderMetadataDirectory(t *testing.T) {
	base := sampleBytes(t)
	h := decodeHeader(base)
	var positions []int
	for i := range HeaderSize {
		positions = append(positions, i)
	}
	for i := h.metaOff; i < h.metaOff+h.metaSize; i++ {
		positions = append(positions, int(i))
	}
	for i := h.dirOff; i < h.dirOff+h.dirSize; i++ {
		positions = append(positions, int(i))
	}
	b := make([]byte, len(base))
	for _, pos := range positions {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			copy(b, base)
			b[pos] ^= mask
			f, err := OpenBytes(b)
			if !assert.Error(t, err, "flip %#x at %d", mask, pos) {
				f.Close()
				continue
			}
			assert.True(t, strings.HasPrefix(err.Error(), "format: open in-memory file: "), err.Error())
		}
	}
}

// TestFlipData flips bytes of every tensor part: Open succeeds (data is not
// read), Verify and VerifyData catch it and name the tensor.
func TestFlipData(t *testing.T) {
	base := sampleBytes(t)
	f, err := OpenBytes(base)
	require.NoError(t, err)
	type flip struct {
		tensor string
		pos    int
	}
	var flips []flip
	for _, tn := range f.Tensors() {
		for i := range tn.nparts {
			p := tn.parts[i]
			flips = append(flips, flip{tn.Name, p.off}, flip{tn.Name, p.off + p.size/2}, flip{tn.Name, p.off + p.size - 1})
		}
	}
	require.NoError(t, f.Close())
	for _, fl := range flips {
		b := append([]byte(nil), base...)
		b[fl.pos] ^= 0x10
		f, err := OpenBytes(b)
		require.NoError(t, err, "data is not checked without VerifyData")
		err = f.Verify()
		require.ErrorIs(t, err, ErrChecksum)
		assert.ErrorIs(t, err, ErrCorrupt)
		assert.ErrorContains(t, err, `tensor "`+fl.tensor+`": data checksum mismatch`)
		tn, terr := f.Tensor(fl.tensor)
		require.NoError(t, terr)
		assert.ErrorIs(t, tn.Verify(), ErrChecksum)
		require.NoError(t, f.Close())

		_, err = OpenBytes(b, OpenOptions{VerifyData: true})
		assert.ErrorIs(t, err, ErrChecksum, "at %d", fl.pos)
	}

	// Two bad tensors: the error counts the others.
	b := append([]byte(nil), base...)
	b[flips[0].pos] ^= 1
	b[flips[len(flips)-1].pos] ^= 1
	_, err = OpenBytes(b, OpenOptions{VerifyData: true})
	assert.ErrorContains(t, err, "and 1 more tensors")
}

// TestTruncate cuts the file at every length: all must fail, with
// ErrTruncated once the magic is there.
func TestTruncate(t *testing.T) {
	base := sampleBytes(t)
	for n := range len(base) {
		_, err := OpenBytes(base[:n:n])
		require.Error(t, err, "truncated to %d", n)
		if n >= len(Magic) {
			assert.ErrorIs(t, err, ErrTruncated, "truncated to %d", n)
			assert.ErrorIs(t, err, ErrCorrupt)
		} else {
			assert.ErrorIs(t, err, ErrBadMagic, "truncated to %d", n)
		}
	}
}

func TestMagicVersionAndTrailingBytes(t *testing.T) {
	base := sampleBytes(t)
	tests := []struct {
		name string
		edit func(b []byte) []byte
		is   error
		msg  string
	}{
		{"wrong magic", func(b []byte) []byte { copy(b, "GGUF\x03\x00\x00\x00"); return b }, ErrBadMagic, `magic "GGUF\x03\x00\x00\x00", want "CLIPINFR"`},
		{"text file", func([]byte) []byte { return []byte("hello\n") }, ErrBadMagic, "6 bytes"},
		{"version 2", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[offVersion:], 2); return b }, ErrUnsupportedVersion, "version 2 not supported"},
		{"version 0", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[offVersion:], 0); return b }, ErrUnsupportedVersion, "version 0 not supported"},
		{"trailing bytes", func(b []byte) []byte { return append(b, 0, 0, 0) }, ErrCorrupt, "3 unexpected trailing bytes"},
		{"bad header checksum", func(b []byte) []byte { b[checksumOffset] ^= 1; return b }, ErrChecksum, "header/metadata/directory checksum mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.edit(append([]byte(nil), base...))
			_, err := OpenBytes(b)
			require.ErrorIs(t, err, tc.is)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

// TestStructuralErrors builds files with a correct header checksum but an
// inconsistent structure: each must be refused with a precise message.
func TestStructuralErrors(t *testing.T) {
	base := sampleBytes(t)
	// Tensor indices in the sample: 0 f32.matrix [3,5], 1 f16.vector [7],
	// 2 q8.blocked [2,2,8] block 4, 3 q8.per_row [2,6], 4 tokenizer.merges,
	// 5 scalar.
	tests := []struct {
		name string
		edit func(l *layout)
		msg  string
	}{
		{"overlapping tensors", func(l *layout) { l.entries[1].parts[0].off = l.entries[0].parts[0].off },
			`tensor "f32.matrix" part 0 [64, 124) overlaps tensor "f16.vector" part 0 [64, 78)`},
		{"q8 parts overlap each other", func(l *layout) { l.entries[2].parts[1].off = l.entries[2].parts[0].off },
			`tensor "q8.blocked" part 1 [192, 224) overlaps tensor "q8.blocked" part 0`},
		{"part past end of file", func(l *layout) { l.entries[0].parts[0].off = 1 << 20 },
			"part 0 [1048576, +60) lies outside the data area"},
		{"part offset overflows", func(l *layout) { l.entries[0].parts[0].off = ^uint64(0) &^ 63 },
			"lies outside the data area"},
		{"part inside header", func(l *layout) { l.entries[0].parts[0].off = 0 },
			"part 0 [0, +60) lies outside the data area"},
		{"part over metadata", func(l *layout) {
			// Grow the body so the metadata starts at 576 = 9·64, then
			// point the merges there.
			l.body = append(l.body, make([]byte, 576-len(l.body))...)
			l.entries[4].parts[0].off = 576
		}, `the metadata [576, 1249) overlaps tensor "tokenizer.merges" part 0 [576, 584)`},
		{"misaligned part", func(l *layout) { l.entries[0].parts[0].off += 4 },
			"part 0 offset 68 is not 64-byte aligned"},
		{"part size does not match shape", func(l *layout) { l.entries[0].dims[0] = 4 },
			"part 0 is 60 bytes, f32 shape [4 5] needs 80"},
		{"scales size does not match", func(l *layout) { l.entries[2].parts[1].size = 16 },
			"part 1 is 16 bytes, q8 shape [2 2 8] needs 32"},
		{"shape product overflows", func(l *layout) { l.entries[0].dims = []uint64{1 << 32, 1 << 32, 1 << 32} },
			"shape [4294967296 4294967296 4294967296] has more elements than"},
		{"dimension overflows int", func(l *layout) { l.entries[0].dims = []uint64{^uint64(0)} },
			"has more elements than"},
		{"zero dimension", func(l *layout) { l.entries[0].dims[1] = 0 },
			"dimension 1 is zero"},
		{"block does not divide cols", func(l *layout) { l.entries[2].block = 3 },
			"q8 block 3 does not divide the 8 columns"},
		{"zero block", func(l *layout) { l.entries[3].block = 0 },
			"q8 block 0 does not divide the 6 columns"},
		{"block larger than cols", func(l *layout) { l.entries[3].block = 12 },
			"q8 block 12 does not divide the 6 columns"},
		{"block on f32", func(l *layout) { l.entries[0].block = 5 },
			"block 5 set on a f32 tensor"},
		{"unknown dtype", func(l *layout) { l.entries[1].dtype = 9 },
			"unknown dtype 9"},
		{"dtype zero", func(l *layout) { l.entries[1].dtype = 0 },
			"unknown dtype 0"},
		{"wrong part count", func(l *layout) { l.entries[0].parts = append(l.entries[0].parts, part{off: 0, size: 0}) },
			"f32 tensor with 2 data parts, want 1"},
		{"rank too large", func(l *layout) { l.entries[4].dims = []uint64{1, 1, 1, 1, 1, 1, 1, 1, 8} },
			"rank 9 exceeds the limit of 8"},
		{"duplicate name", func(l *layout) { l.entries[3].name = "f32.matrix" },
			`tensor 3: duplicate name "f32.matrix" (already used by tensor 0)`},
		{"empty name", func(l *layout) { l.entries[1].name = "" },
			"empty tensor name"},
		{"name too long", func(l *layout) { l.entries[1].name = strings.Repeat("x", MaxNameLen+1) },
			"name length 1025 exceeds the limit of 1024"},
		{"name not UTF-8", func(l *layout) { l.entries[1].name = "bad\xff" },
			"is not valid UTF-8"},
		{"too many tensors", func(l *layout) { l.fixup = func(h *header) { h.count = MaxTensors + 1 } },
			"65537 tensors, more than the limit of 65536"},
		{"fewer entries than count", func(l *layout) { l.fixup = func(h *header) { h.count++ } },
			"directory entry 6"},
		{"bytes after the entries", func(l *layout) {
			for i := range l.entries {
				l.rawDir = appendEntry(l.rawDir, &l.entries[i])
			}
			l.rawDir = append(l.rawDir, make([]byte, 8)...)
		}, "directory has 8 bytes left over after its 6 entries"},
		{"reserved entry bytes", func(l *layout) {
			for i := range l.entries {
				l.rawDir = appendEntry(l.rawDir, &l.entries[i])
			}
			l.rawDir[6] = 1
		}, "directory entry 0 (directory offset 0): reserved bytes 5..7 are 00 01 00, want zero"},
		{"name padding not zero", func(l *layout) {
			for i := range l.entries {
				l.rawDir = appendEntry(l.rawDir, &l.entries[i])
			}
			// Entry 0: 16 + 2 dims·8 + 16 + 10-byte name = 58, padded to 64.
			l.rawDir[60] = 'z'
		}, `tensor "f32.matrix": padding after the name is not zero`},
		{"directory too large for count", func(l *layout) {
			l.fixup = func(h *header) { h.dirSize = uint64(h.count)*maxEntrySize + 1 }
		}, "too large for 6 tensors"},
		{"metadata too large", func(l *layout) { l.fixup = func(h *header) { h.metaSize = MaxMetadataSize + 1 } },
			"metadata size 1048577 outside 1..1048576"},
		{"empty metadata", func(l *layout) { l.fixup = func(h *header) { h.metaSize = 0 } },
			"metadata size 0 outside"},
		{"metadata in header", func(l *layout) { l.fixup = func(h *header) { h.metaOff = 8 } },
			"metadata offset 8 lies inside the 64-byte header"},
		{"metadata past the end", func(l *layout) { l.fixup = func(h *header) { h.metaOff = h.fileSize - 4 } },
			"extends past the end"},
		{"directory past the end", func(l *layout) { l.fixup = func(h *header) { h.dirOff = h.fileSize + 8 } },
			"directory ["},
		{"directory overlaps metadata", func(l *layout) {
			l.fixup = func(h *header) { h.metaSize = h.dirOff - h.metaOff + 16 }
		}, "overlaps the directory"},
		{"header flags", func(l *layout) { l.fixup = func(h *header) { h.flags = 4 } },
			"header flags 0x4 set"},
		{"metadata not JSON", func(l *layout) { l.meta = []byte("{not json") },
			"metadata is not valid JSON"},
		{"metadata inconsistent", func(l *layout) {
			l.meta = []byte(strings.Replace(string(l.meta), `"heads":2`, `"heads":3`, 1))
		}, "metadata: vision.width 16 is not divisible by vision.heads 3"},
		{"tokenizer tensor missing", func(l *layout) { l.entries[4].name = "merges" },
			`metadata: tokenizer refers to tensor "tokenizer.merges", which the file does not have`},
		{"tokenizer tensor not u8", func(l *layout) {
			l.meta = []byte(strings.Replace(string(l.meta), `"merges":"tokenizer.merges"`, `"merges":"f32.matrix"`, 1))
		}, `metadata: tokenizer tensor "f32.matrix" is f32, want u8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := decodeLayout(t, base)
			tc.edit(l)
			_, err := OpenBytes(l.encode())
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, tc.msg)
			t.Log(err)
		})
	}

	// The unedited layout round-trips, so the failures above come from
	// the edits.
	b := decodeLayout(t, base).encode()
	assert.Equal(t, base, b)
	f, err := OpenBytes(b, OpenOptions{VerifyData: true})
	require.NoError(t, err)
	require.NoError(t, f.Close())
}
