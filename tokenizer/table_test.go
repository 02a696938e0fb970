package tokenizer

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite default_table.bin from the embedded merges")

// TestDefaultTableIsCurrent rebuilds the precomputed default table from the
// merges text and requires it to be identical to the embedded one.
func TestDefaultTableIsCurrent(t *testing.T) {
	built, err := New(defaultMerges(), nil)
	require.NoError(t, err)
	want := encodeTable(built)
	if *update {
		require.NoError(t, os.WriteFile("default_table.bin", want, 0o644))
		return
	}
	require.True(t, bytes.Equal(want, defaultTable), "default_table.bin is stale: run go test ./tokenizer -run DefaultTable -update")
	loaded, err := decodeTable(defaultTable)
	require.NoError(t, err)
	assert.Equal(t, built.bpe.merges, loaded.bpe.merges)
	assert.Equal(t, built.bpe.symVocab, loaded.bpe.symVocab)
	assert.Equal(t, built.vocabSize, loaded.vocabSize)
	assert.Equal(t, built.sot, loaded.sot)
	assert.Equal(t, built.eot, loaded.eot)
}

func TestDecodeTableRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("CLIPBPE1"), []byte("XXXXXXXX" + string(make([]byte, 40))), defaultTable[:len(defaultTable)-1]} {
		_, err := decodeTable(b)
		assert.Error(t, err)
	}
}

// BenchmarkDefaultLoad is what the first use of Default costs: loading the
// precomputed table (compare BenchmarkDefaultBuild, building from merges).
func BenchmarkDefaultLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeTable(defaultTable); err != nil {
			b.Fatal(err)
		}
	}
}
