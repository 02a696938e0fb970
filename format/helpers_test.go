package format

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// clipMeta returns valid metadata for a tiny CLIP model whose tokenizer
// merges are packed in the tensor "tokenizer.merges".
func clipMeta() *Metadata {
	return &Metadata{
		Architecture: ArchCLIPViT,
		Family:       FamilyOpenAI,
		EmbedDim:     8,
		LogitScale:   100,
		Activation:   ActQuickGELU,
		LayerNormEps: 1e-5,
		Vision:       &VisionConfig{ImageSize: 32, PatchSize: 16, Width: 16, Layers: 1, Heads: 2, MLPDim: 64},
		Text: &TextConfig{ContextLength: 77, VocabSize: 49408, Width: 16, Layers: 1, Heads: 2, MLPDim: 64,
			Pooling: PoolArgmax, EOSTokenID: 49407, BOSTokenID: 49406},
		Preprocess: &Preprocess{Size: 32, Crop: 32, Mean: [3]float32{0.48145466, 0.4578275, 0.40821073},
			Std: [3]float32{0.26862954, 0.26130258, 0.27577711}, Pipeline: PipelineOpenAI},
		Tokenizer:  &TokenizerInfo{Kind: TokenizerCLIPBPE, Merges: "tokenizer.merges"},
		Quant:      QuantInfo{Type: QuantQ8, Block: 0},
		Provenance: Provenance{Source: "test", Converter: "format_test", Args: []string{"-q", "q8"}},
	}
}

// simpleMeta returns valid metadata for a tiny SimpleCLIP model.
func simpleMeta() *Metadata {
	return &Metadata{
		Architecture: ArchSimpleCLIP,
		Family:       FamilySimpleCLIP,
		EmbedDim:     4,
		LogitScale:   float32(1 / math.Exp(-2.659)),
		Activation:   ActReLU,
		SimpleCLIP: &SimpleCLIPConfig{VocabSize: 10, EmbedDim: 4, HiddenDim: 4, ImageInputDim: 8,
			ImageHiddenDim: 6, OutputDim: 4, UnknownTokenID: 1, Lowercase: true},
		Tokenizer: &TokenizerInfo{Kind: TokenizerWords, Vocab: "vocab"},
		Quant:     QuantInfo{Type: QuantF32},
	}
}

// sample holds the tensors of the sample file, to compare after reading.
type sample struct {
	f32    []float32
	f16    []uint16
	q      []int8
	scales []float32
	qrow   []int8
	srow   []float32
	blob   []byte
	scalar []float32
}

func newSample() *sample {
	s := &sample{}
	for i := range 3 * 5 {
		s.f32 = append(s.f32, float32(i)*0.25-1.5)
	}
	for i := range 7 {
		s.f16 = append(s.f16, uint16(0x3c00+i)) // 1.0 and the next halves
	}
	for i := range 4 * 8 {
		s.q = append(s.q, int8(i*9-127))
	}
	for i := range 4 * 2 {
		s.scales = append(s.scales, 0.01*float32(i+1))
	}
	for i := range 2 * 6 {
		s.qrow = append(s.qrow, int8(-i))
	}
	s.srow = []float32{0.5, 0.25}
	s.blob = []byte("a b\nc d\n")
	s.scalar = []float32{4.6052}
	return s
}

// write adds the sample tensors to w in a fixed order.
func (s *sample) write(t testing.TB, w *Writer) {
	t.Helper()
	require.NoError(t, w.AddF32("f32.matrix", []int{3, 5}, s.f32))
	require.NoError(t, w.AddF16("f16.vector", []int{7}, s.f16))
	require.NoError(t, w.AddQ8("q8.blocked", []int{2, 2, 8}, s.q, s.scales, 4))
	require.NoError(t, w.AddQ8("q8.per_row", []int{2, 6}, s.qrow, s.srow, 0))
	require.NoError(t, w.AddBytes("tokenizer.merges", s.blob))
	require.NoError(t, w.AddF32("scalar", nil, s.scalar))
}

// writeSampleFile writes the sample model to dir/name and returns its path.
func writeSampleFile(t testing.TB, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	w, err := Create(path)
	require.NoError(t, err)
	w.SetMetadata(clipMeta())
	newSample().write(t, w)
	require.NoError(t, w.Commit())
	return path
}

// sampleBytes returns the bytes of the sample model.
func sampleBytes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(writeSampleFile(t, t.TempDir(), "sample.cif"))
	require.NoError(t, err)
	return b
}

// layout is a decoded file that tests edit and re-encode with rebuild.
type layout struct {
	h       header
	body    []byte  // the bytes before the metadata (header and tensor data)
	meta    []byte  // metadata JSON
	entries []entry // directory
	rawDir  []byte  // if set, used instead of encoding entries
	fixup   func(h *header)
}

// decodeLayout splits a valid file made by Writer into its sections.
func decodeLayout(t testing.TB, b []byte) *layout {
	t.Helper()
	h := decodeHeader(b)
	l := &layout{h: h, body: slices.Clone(b[:h.metaOff]), meta: append([]byte(nil), b[h.metaOff:h.metaOff+h.metaSize]...)}
	dir := b[h.dirOff : h.dirOff+h.dirSize]
	for pos := 0; pos < len(dir); {
		e, n, err := decodeEntry(dir[pos:])
		require.NoError(t, err)
		l.entries = append(l.entries, e)
		pos += n
	}
	return l
}

// encode lays the file out as Writer does (body, metadata, directory, each
// section 8-aligned) with a correct header checksum, after applying fixup.
func (l *layout) encode() []byte {
	out := append([]byte(nil), l.body...)
	for len(out)%sectionAlign != 0 {
		out = append(out, 0)
	}
	h := l.h
	h.metaOff, h.metaSize = uint64(len(out)), uint64(len(l.meta))
	out = append(out, l.meta...)
	for len(out)%sectionAlign != 0 {
		out = append(out, 0)
	}
	dir := l.rawDir
	if dir == nil {
		for i := range l.entries {
			dir = appendEntry(dir, &l.entries[i])
		}
	}
	h.dirOff, h.dirSize = uint64(len(out)), uint64(len(dir))
	out = append(out, dir...)
	h.fileSize = uint64(len(out))
	h.count = uint32(len(l.entries))
	if l.fixup != nil {
		l.fixup(&h)
	}
	copy(out, h.encode())
	fixChecksum(out)
	return out
}

// fixChecksum recomputes the header checksum of b if its sections lie in
// b, so that tests and the fuzzer reach the checks behind the checksum.
func fixChecksum(b []byte) {
	if len(b) < HeaderSize {
		return
	}
	h := decodeHeader(b)
	size := uint64(len(b))
	if h.metaOff > size || h.metaSize > size-h.metaOff || h.dirOff > size || h.dirSize > size-h.dirOff {
		return
	}
	sum := headerChecksum(b, b[h.metaOff:h.metaOff+h.metaSize], b[h.dirOff:h.dirOff+h.dirSize])
	binary.LittleEndian.PutUint32(b[checksumOffset:], sum)
}
