package tokenizer_test

import (
	"fmt"

	"github.com/clipinfer/clipinfer/tokenizer"
)

func ExampleDefault() {
	tok := tokenizer.Default()
	fmt.Println(tok.VocabSize(), tok.SOT(), tok.EOT())
	// Output: 49408 49406 49407
}

func ExampleTokenizer_Tokenize() {
	tok := tokenizer.Default()
	row := tok.Tokenize("A photo of a cat.", tokenizer.ContextLength)
	fmt.Println(len(row), row[:9])
	// Output: 77 [49406 320 1125 539 320 2368 269 49407 0]
}

func ExampleTokenizer_Tokenize_truncate() {
	tok := tokenizer.Default()
	// Too long for 8 ids: cut, and the last id becomes <|endoftext|>.
	fmt.Println(tok.Tokenize("a photo of a very very very long caption", 8))
	// Output: [49406 320 1125 539 320 1070 1070 49407]
}

func ExampleTokenizer_Encode() {
	tok := tokenizer.Default()
	ids := tok.Encode("It’s a &quot;ﬁne&quot; day!")
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids))
	// Output:
	// [585 568 320 257 3797 257 575 256]
	// "it 's a \" fine \" day ! "
}

func ExampleTokenizer_Decode() {
	tok := tokenizer.Default()
	fmt.Printf("%q\n", tok.Decode([]int32{320, 1125, 539, 320, 2368, 269}))
	// Output: "a photo of a cat . "
}

func ExampleNew() {
	// A tiny vocabulary with ids derived as OpenAI does: the 256 byte
	// symbols twice, two merges, the empty word that SimpleTokenizer makes
	// of the final blank line, and the two special tokens.
	tok, err := tokenizer.New([]byte("#version: 0.2\nl o\nlo w</w>\n"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.VocabSize(), tok.Encode("low lot"))
	// Output: 517 [513 512 339]
}
