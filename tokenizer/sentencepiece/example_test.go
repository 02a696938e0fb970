package sentencepiece_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/clipinfer/clipinfer/tokenizer/sentencepiece"
)

func Example() {
	// A SentencePiece .model file (here one of the test models, gzipped).
	f, err := os.Open("testdata/models/bpe_identity_bytefb.model.gz")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		panic(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}

	m, err := sentencepiece.Parse(data)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Size(), m.UNK(), m.BOS(), m.EOS(), m.PAD())
	// The walrus is not in the vocabulary: byte fallback spells its UTF-8.
	fmt.Println(m.EncodePieces("a photo of a cat 🦭"))
	fmt.Println(m.Encode("a photo of a cat 🦭"))
	// Output:
	// 800 0 1 2 -1
	// [▁a ▁p h o to ▁of ▁a ▁c at ▁ <0xF0> <0x9F> <0xA6> <0xAD>]
	// [259 267 452 443 369 309 259 266 271 438 243 162 169 176]
}
