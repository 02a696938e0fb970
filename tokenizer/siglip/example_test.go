package siglip_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/clipinfer/clipinfer/tokenizer/sentencepiece"
	"github.com/clipinfer/clipinfer/tokenizer/siglip"
)

func Example() {
	// A Gemma-style SentencePiece model from the tests; a real SigLIP 2
	// folder gives its configuration and tokenizer.model through
	// siglip.ConfigFromHF.
	f, err := os.Open("../sentencepiece/testdata/models/bpe_gemmalike.model.gz")
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
	sp, err := sentencepiece.Parse(data)
	if err != nil {
		panic(err)
	}
	tok, err := siglip.New(sp, siglip.Config{Kind: siglip.KindGemma, MaxLength: 12, Lowercase: true, AddEOS: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Encode("A photo of a Cat"))
	// Output:
	// [692 276 536 361 318 266 673 1 0 0 0 0]
}
