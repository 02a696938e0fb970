package tokenizer

import (
	"strings"
	"testing"
)

// BenchmarkTokenize3000Captions tokenizes 3,000 plain English captions
// (sentences of Debian's AppStream descriptions, testdata/captions.txt.gz)
// per operation, text cleaning included.
func BenchmarkTokenize3000Captions(b *testing.B) {
	captions := strings.Split(strings.TrimSuffix(string(readTestdata(b, "captions.txt.gz")), "\n"), "\n")
	if len(captions) != 3000 {
		b.Fatalf("%d captions", len(captions))
	}
	tok := Default()
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range captions {
			tok.Tokenize(c, ContextLength)
		}
	}
}
