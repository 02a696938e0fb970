package sentencepiece

import (
	"strings"
	"testing"
)

func benchmarkEncode(b *testing.B, name, unit string) {
	m := loadModel(b, name)
	text := strings.Repeat(unit, (1<<20)/len(unit))
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Encode(text)
	}
}

func BenchmarkEncodeUnigramEnglish(b *testing.B) {
	benchmarkEncode(b, "unigram_nfkc_1k", "the quick brown fox ")
}

func BenchmarkEncodeUnigramRepeatedChar(b *testing.B) {
	benchmarkEncode(b, "unigram_nfkc_1k", "a")
}

func BenchmarkEncodeBPEEnglish(b *testing.B) {
	benchmarkEncode(b, "bpe_identity_bytefb", "the quick brown fox ")
}
