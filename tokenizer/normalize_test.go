package tokenizer

import (
	"encoding/json"
	"testing"

	"github.com/clipinfer/clipinfer/tokenizer/ftfy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type normalizeFixture struct {
	Unescape [][2]string `json:"unescape"`
	FixText  [][2]string `json:"fix_text"`
	Clean    [][2]string `json:"clean"`
}

func loadNormalizeFixture(t *testing.T) normalizeFixture {
	var f normalizeFixture
	require.NoError(t, json.Unmarshal(readTestdata(t, "normalize.json"), &f))
	require.NotEmpty(t, f.Unescape)
	require.NotEmpty(t, f.FixText)
	require.NotEmpty(t, f.Clean)
	return f
}

func TestHTMLUnescapeMatchesPython(t *testing.T) {
	for _, c := range loadNormalizeFixture(t).Unescape {
		assert.Equal(t, c[1], htmlUnescape(c[0]), "html.unescape(%q)", c[0])
	}
}

func TestFixTextMatchesFtfy(t *testing.T) {
	for _, c := range loadNormalizeFixture(t).FixText {
		assert.Equal(t, c[1], ftfy.FixText(c[0]), "ftfy.fix_text(%q)", c[0])
	}
}

func TestNormalizeMatchesReference(t *testing.T) {
	for _, c := range loadNormalizeFixture(t).Clean {
		assert.Equal(t, c[1], normalize(c[0]), "clean(%q)", c[0])
	}
}

// Hand-checked cases; each states the rule it pins down.
func TestHTMLUnescapeRules(t *testing.T) {
	tests := []struct{ in, want, rule string }{
		{"&amp", "&", "legacy name without semicolon"},
		{"&ampx", "&x", "longest known prefix"},
		{"&notin", "¬in", "longest known prefix of a longer name"},
		{"&notin;", "∉", "exact name wins"},
		{"&#0;", "\uFFFD", "NUL becomes U+FFFD"},
		{"&#x80;", "€", "0x80-0x9F map as Windows-1252"},
		{"&#129;", "\u0081", "undefined Windows-1252 slot keeps the C1 control"},
		{"&#1;", "", "invalid code point is dropped"},
		{"&#xD800;", "\uFFFD", "surrogate"},
		{"&#99999999999999999999;", "\uFFFD", "huge number"},
		{"&#65", "A", "numeric without semicolon"},
		{"&#x;", "&#x;", "no digits: left alone"},
		{"&;", "&;", "empty name"},
		{"&ab\u00e9cd;", "&ab\u00e9cd;", "unknown name with non-ASCII"},
		{"&lt&gt", "<>", "two in a row"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, htmlUnescape(tc.in), tc.rule)
	}
}

func TestPyLowerRules(t *testing.T) {
	tests := []struct{ in, want, rule string }{
		{"İ", "i\u0307", "dotted capital I has a two-character lowercase"},
		{"ΟΔΟΣ", "οδος", "final sigma"},
		{"ΣΑΣ ΣΑΣ", "σας σας", "final sigma at each word end"},
		{"Σ", "σ", "no cased letter before"},
		{"ΑΣ'Β", "ασ'β", "case-ignorable apostrophe, then a cased letter"},
		{"ΑΣ.", "ας.", "not followed by a cased letter"},
		{"STRASSE ẞ", "strasse ß", "simple mapping"},
		{"ǅ", "ǆ", "title case"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, pyLower(tc.in), tc.rule)
	}
}

func TestDecodeUTF8Replace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"\xe2\x82", "\uFFFD"},                 // truncated sequence: one replacement
		{"\xe2\x82A", "\uFFFDA"},               // same, followed by ASCII
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate: ED A0 is not a valid prefix
		{"\xf0\x9f\x98", "\uFFFD"},             // truncated 4-byte
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD"}, // overlong
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"é\x80", "é\uFFFD"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, decodeUTF8Replace([]byte(tc.in)), "%q", tc.in)
	}
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"it's a dog's life", []string{"it", "'s", "a", "dog", "'s", "life"}},
		{"!!'s", []string{"!!'", "s"}},
		{"'sam", []string{"'s", "am"}},
		{"'ſ", []string{"'ſ"}},
		{"<|ſtartoftext|>", []string{"<|ſtartoftext|>"}},
		{"x<|endoftext|>y", []string{"x", "<|endoftext|>", "y"}},
		{"!<|endoftext|>", []string{"!<|", "endoftext", "|>"}},
		{"123abc", []string{"1", "2", "3", "abc"}},
		{"a\u0345b", []string{"a", "b"}},
		{"!\u0345?", []string{"!", "?"}},
		{"e\u0301", []string{"e", "\u0301"}},
		{"  ", nil},
	}
	for _, tc := range tests {
		sp := splitter{s: tc.in}
		var got []string
		for {
			p, ok := sp.next()
			if !ok {
				break
			}
			got = append(got, p)
		}
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}
