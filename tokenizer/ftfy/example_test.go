package ftfy_test

import (
	"fmt"

	"github.com/clipinfer/clipinfer/tokenizer/ftfy"
)

func ExampleFixText() {
	for _, s := range []string{
		"sch\u00c3\u00b6n",          // UTF-8 read as Latin-1
		"it&#8217;s &amp;amp; more", // HTML references, nested
		"\u0093quoted\u0094 \u0085", // C1 controls as Windows-1252
		"\x1b[36mcolor\x1b[0m",      // terminal escapes
		"ＬＯＵＤ　ＮＯＩＳＥＳ ﬁne",           // full width, ligature
	} {
		fmt.Println(ftfy.FixText(s))
	}
	// Output:
	// schön
	// it's & more
	// "quoted" …
	// color
	// LOUD NOISES fine
}
