package termtext

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSafe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"photo.jpg", "photo.jpg"},
		{"写真/猫.png", "写真/猫.png"},
		{"red\x1b[31m.jpg", `red\x1b[31m.jpg`},
		{"title\x1b]0;pwned\x07.png", `title\x1b]0;pwned\x07.png`},
		{"a\nb\rc\td", `a\x0ab\x0dc\x09d`},
		{"c1\u009b31m", `c1\x9b31m`},
		{"del\x7f", `del\x7f`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"gpj.\u202eexe", `gpj.\u202eexe`},
		{"", ""},
	} {
		got := Safe(c.in)
		assert.Equal(t, c.want, got, "%q", c.in)
		for _, r := range got {
			assert.False(t, r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0), "%q left a control character", c.in)
		}
	}
}

func ExampleSafe() {
	// A file name with an escape sequence prints as text.
	fmt.Println(Safe("holiday\x1b[2J.jpg"))
	// Output: holiday\x1b[2J.jpg
}
