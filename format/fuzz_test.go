package format

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the FuzzOpenBytes seed corpus in testdata/fuzz")

const corpusDir = "testdata/fuzz/FuzzOpenBytes"

// FuzzOpenBytes feeds arbitrary bytes to OpenBytes, once as given and once
// with the header checksum recomputed so that the fuzzer also reaches the
// metadata and directory checks. Open must never panic or read out of
// range, and a file it accepts must give consistent, in-range views.
func FuzzOpenBytes(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		checkOpen(t, b)
		fixed := slices.Clone(b)
		fixChecksum(fixed)
		checkOpen(t, fixed)
	})
}

func checkOpen(t *testing.T, b []byte) {
	f, err := OpenBytes(b)
	if err != nil {
		require.Nil(t, f)
		return
	}
	defer f.Close()
	require.NoError(t, f.Metadata().Validate())
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(f.data)))
	hi := lo + uintptr(len(f.data))
	in := func(p unsafe.Pointer, n int) {
		require.True(t, uintptr(p) >= lo && uintptr(p)+uintptr(n) <= hi, "view outside the file")
	}
	for _, tn := range f.Tensors() {
		got, err := f.Tensor(tn.Name)
		require.NoError(t, err)
		require.Same(t, tn, got)
		n := tn.NumElements()
		require.Equal(t, n, tn.Rows()*tn.Cols())
		switch tn.DType {
		case F32:
			v, err := tn.F32()
			require.NoError(t, err)
			require.Len(t, v, n)
			in(unsafe.Pointer(unsafe.SliceData(v)), 4*n)
		case F16:
			v, err := tn.F16()
			require.NoError(t, err)
			require.Len(t, v, n)
			in(unsafe.Pointer(unsafe.SliceData(v)), 2*n)
		case Q8:
			q, s, err := tn.Q8()
			require.NoError(t, err)
			require.Len(t, q, n)
			require.Zero(t, tn.Cols()%tn.Block)
			require.Len(t, s, tn.Rows()*tn.Cols()/tn.Block)
			in(unsafe.Pointer(unsafe.SliceData(q)), n)
			in(unsafe.Pointer(unsafe.SliceData(s)), 4*len(s))
		case U8:
			v, err := tn.Bytes()
			require.NoError(t, err)
			require.Len(t, v, n)
			in(unsafe.Pointer(unsafe.SliceData(v)), n)
		default:
			t.Fatalf("accepted unknown dtype %v", tn.DType)
		}
	}
	_ = f.Verify() // may fail (data is not covered by the header checksum), must not panic
	_, _ = OpenBytes(b, OpenOptions{VerifyData: true})
}

// corpusSeeds returns the named seeds of the committed corpus: valid files
// (prefix "valid-") and damaged ones.
func corpusSeeds(t *testing.T) map[string][]byte {
	sample := sampleBytes(t)
	dir := t.TempDir()

	simple := filepath.Join(dir, "simple.cif")
	w, err := Create(simple)
	require.NoError(t, err)
	w.SetMetadata(simpleMeta())
	require.NoError(t, w.AddBytes("vocab", []byte("<pad>\n<unk>\nphoto\ndog\n")))
	require.NoError(t, w.AddF32("image_encoder.encoder.0.bias", []int{6}, []float32{1, 2, 3, 4, 5, 6}))
	require.NoError(t, w.AddQ8("image_encoder.encoder.0.weight", []int{6, 8}, make([]int8, 48), []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 4))
	require.NoError(t, w.Commit())
	simpleBytes, err := os.ReadFile(simple)
	require.NoError(t, err)

	textOnly := filepath.Join(dir, "text.cif")
	w, err = Create(textOnly)
	require.NoError(t, err)
	m := clipMeta()
	m.Vision, m.Preprocess, m.Tokenizer.Merges = nil, nil, ""
	m.Quant = QuantInfo{Type: QuantF16}
	w.SetMetadata(m)
	require.NoError(t, w.AddF16("token_embedding.weight", []int{2, 3}, []uint16{0x3c00, 0, 0xbc00, 1, 2, 3}))
	require.NoError(t, w.Commit())
	textBytes, err := os.ReadFile(textOnly)
	require.NoError(t, err)

	overlap := decodeLayout(t, sample)
	overlap.entries[1].parts[0].off = overlap.entries[0].parts[0].off
	badBlock := decodeLayout(t, sample)
	badBlock.entries[2].block = 3
	hugeShape := decodeLayout(t, sample)
	hugeShape.entries[0].dims = []uint64{1 << 32, 1 << 32, 1 << 32}
	truncated := sample[:len(sample)-10]
	dataFlip := slices.Clone(sample)
	dataFlip[HeaderSize] ^= 1

	return map[string][]byte{
		"valid-clip-q8":        sample,
		"valid-simpleclip":     simpleBytes,
		"valid-text-only-f16":  textBytes,
		"bad-overlap":          overlap.encode(),
		"bad-q8-block":         badBlock.encode(),
		"bad-huge-shape":       hugeShape.encode(),
		"bad-truncated":        truncated,
		"bad-data-checksum":    dataFlip,
		"bad-magic":            []byte("GGUF\x03\x00\x00\x00"),
		"bad-header-only":      sample[:HeaderSize],
		"bad-empty":            {},
		"bad-version-2":        append([]byte(Magic+"\x02\x00\x00\x00"), sample[12:]...),
		"bad-metadata-garbage": append(slices.Clone(sample[:HeaderSize]), []byte("{\"architecture\":")...),
	}
}

// TestFuzzCorpus keeps the committed seed corpus in step with the format:
// valid seeds must open and verify, the others must fail. Run with
// -update-corpus to rewrite it.
func TestFuzzCorpus(t *testing.T) {
	seeds := corpusSeeds(t)
	if *updateCorpus {
		require.NoError(t, os.RemoveAll(corpusDir))
		require.NoError(t, os.MkdirAll(corpusDir, 0o755))
		for name, b := range seeds {
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			require.NoError(t, os.WriteFile(filepath.Join(corpusDir, name), []byte(content), 0o644))
		}
	}
	for name, want := range seeds {
		raw, err := os.ReadFile(filepath.Join(corpusDir, name))
		require.NoError(t, err, "seed missing: run go test -run TestFuzzCorpus -update-corpus")
		text := strings.TrimSuffix(strings.TrimPrefix(string(raw), "go test fuzz v1\n[]byte("), ")\n")
		got, err := strconv.Unquote(text)
		require.NoError(t, err, name)
		require.Equal(t, want, []byte(got), "seed %s is stale: run go test -run TestFuzzCorpus -update-corpus", name)
		f, err := OpenBytes(want, OpenOptions{VerifyData: true})
		if strings.HasPrefix(name, "valid-") {
			require.NoError(t, err, name)
			require.NoError(t, f.Close())
		} else {
			require.Error(t, err, name)
		}
	}
}
