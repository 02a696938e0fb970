package pystr

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Values from Python 3's str.lower and str.isspace; the tokenizer package
// checks every code point against Python's tables.
func TestLower(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"ABC def", "abc def"},
		{"ΟΔΟΣ", "οδος"},
		{"ΣΑΣ Σ", "σας σ"},
		{"Σ", "σ"},
		{"İstanbul", "i\u0307stanbul"},
		{"ǅ Ⅻ Ａ", "ǆ ⅻ ａ"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, Lower(tc.in), "%q", tc.in)
	}
}

func TestIsSpace(t *testing.T) {
	for _, r := range " \t\n\v\f\r\x1c\x1d\x1e\x1f\u0085\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000" {
		assert.True(t, IsSpace(r), "%U", r)
	}
	for _, r := range "a\x00\x1b\u200b\u2060\ufeff\u180e" {
		assert.False(t, IsSpace(r), "%U", r)
	}
}
