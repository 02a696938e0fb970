package siglip

import "testing"

func benchmarkEncode(b *testing.B, model string, cfg Config) {
	tok, err := New(loadModel(b, model), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Encode("This is a photo of a Pallas cat sitting on a rock.")
	}
}

func BenchmarkEncodeSiglip(b *testing.B) {
	benchmarkEncode(b, "unigram_t5like", Config{Kind: KindSiglip, MaxLength: 64, Lowercase: true})
}

func BenchmarkEncodeGemma(b *testing.B) {
	benchmarkEncode(b, "bpe_gemmalike", Config{Kind: KindGemma, MaxLength: 64, Lowercase: true, AddEOS: true})
}
