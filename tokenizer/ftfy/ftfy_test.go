package ftfy

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtures is testdata/fixtures.json.gz, written by
// tools/reference/ftfy_ref.py from the real python-ftfy.
type fixtures struct {
	Version string `json:"ftfy_version"`
	// Groups maps a corpus name to rows of [text, fix_text(text), CLIP ids].
	Groups map[string][][3]json.RawMessage `json:"groups"`
	Long   []struct {
		Piece  string `json:"piece"`
		Repeat int    `json:"repeat"`
		SHA256 string `json:"sha256"`
		Length int    `json:"length"`
	} `json:"long"`
	// Badness rows are [text, badness.is_bad(text), fix_text(text)].
	Badness [][3]json.RawMessage `json:"badness"`
}

var loadFixtures = sync.OnceValues(func() (*fixtures, error) {
	f, err := os.Open(filepath.Join("testdata", "fixtures.json.gz"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var fx fixtures
	if err := json.NewDecoder(zr).Decode(&fx); err != nil {
		return nil, err
	}
	return &fx, nil
})

func mustFixtures(t testing.TB) *fixtures {
	t.Helper()
	fx, err := loadFixtures()
	require.NoError(t, err)
	require.Equal(t, "6.3.1", fx.Version)
	return fx
}

// sampleStep is 1, or 8 in -short mode (the emulated ARM runs), where the
// corpus tests check every eighth row.
func sampleStep() int {
	if testing.Short() {
		return 8
	}
	return 1
}

func str(t testing.TB, raw json.RawMessage) string {
	var s string
	require.NoError(t, json.Unmarshal(raw, &s))
	return s
}

// TestFixTextMatchesFtfy compares FixText with the real ftfy.fix_text on
// every corpus of the fixture file.
func TestFixTextMatchesFtfy(t *testing.T) {
	fx := mustFixtures(t)
	total := 0
	for name, rows := range fx.Groups {
		require.NotEmpty(t, rows, name)
		diffs := 0
		for k := 0; k < len(rows); k += sampleStep() {
			row := rows[k]
			in, want := str(t, row[0]), str(t, row[1])
			if got := FixText(in); got != want {
				diffs++
				if diffs <= 10 {
					t.Errorf("%s: fix_text(%+q)\n got %+q\nwant %+q", name, in, got, want)
				}
			}
		}
		if diffs > 0 {
			t.Errorf("%s: %d of %d differ", name, diffs, len(rows))
		}
		total += (len(rows) + sampleStep() - 1) / sampleStep()
	}
	t.Logf("%d strings", total)
}

// TestBadnessMatchesFtfy checks the RE2 translation of BADNESS_RE (and the
// prefilter in front of it) against badness.is_bad on random strings over
// the characters of its classes.
func TestBadnessMatchesFtfy(t *testing.T) {
	fx := mustFixtures(t)
	require.NotEmpty(t, fx.Badness)
	bad, diffs, n := 0, 0, 0
	for k := 0; k < len(fx.Badness); k += sampleStep() {
		row := fx.Badness[k]
		n++
		in := str(t, row[0])
		var want bool
		require.NoError(t, json.Unmarshal(row[1], &want))
		if want {
			bad++
		}
		if isBad(in) != want {
			diffs++
			if diffs <= 10 {
				t.Errorf("is_bad(%+q) = %v, want %v", in, !want, want)
			}
		}
		if got, want := FixText(in), str(t, row[2]); got != want {
			diffs++
			if diffs <= 10 {
				t.Errorf("fix_text(%+q)\n got %+q\nwant %+q", in, got, want)
			}
		}
	}
	assert.Zero(t, diffs)
	assert.Greater(t, bad, n/10, "the corpus has bad strings")
	assert.Less(t, bad, n*9/10, "and good ones")
}

// TestLongTextSegments covers segments cut at MaxDecodeLength code points
// and "<" turning HTML unescaping off for the segments after it.
func TestLongTextSegments(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-megabyte texts")
	}
	fx := mustFixtures(t)
	require.NotEmpty(t, fx.Long)
	for _, c := range fx.Long {
		got := FixText(strings.Repeat(c.Piece, c.Repeat))
		sum := sha256.Sum256([]byte(got))
		assert.Equal(t, c.Length, utf8.RuneCountInString(got), "%.20q x %d", c.Piece, c.Repeat)
		assert.Equal(t, c.SHA256, hex.EncodeToString(sum[:]), "%.20q x %d", c.Piece, c.Repeat)
	}
}

// TestFtfyTestCases runs python-ftfy's tests/test_cases.json (copied to
// testdata): every case ftfy expects to pass must give its "fixed" text.
func TestFtfyTestCases(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "test_cases.json"))
	require.NoError(t, err)
	var cases []struct {
		Label, Original, Fixed, Expect string
	}
	require.NoError(t, json.Unmarshal(data, &cases))
	require.Len(t, cases, 161)
	pass := 0
	for _, c := range cases {
		if c.Expect != "pass" {
			continue
		}
		pass++
		assert.Equal(t, c.Fixed, FixText(c.Original), c.Label)
	}
	assert.Equal(t, 151, pass)
}

// The doctests of ftfy's fix_text, fix_encoding and the fixers it runs, as
// ftfy 6.3.1 states them.
func TestFtfyDoctests(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"fix_text", FixText, "âœ” No problems", "✔ No problems"},
		{"fix_text", FixText, "&macr;\\_(ã\u0083\u0084)_/&macr;", "¯\\_(ツ)_/¯"},
		// The docstring shows "...", but ftfy 6.3.1 returns "…" (checked).
		{"fix_text", FixText, "Broken text&hellip; it&#x2019;s ﬂubberiﬁc!", "Broken text… it's flubberific!"},
		{"fix_text", FixText, "ＬＯＵＤ　ＮＯＩＳＥＳ", "LOUD NOISES"},
		{"fix_encoding", fixEncoding, "sÃ³", "só"},
		{"fix_encoding", fixEncoding, "voilÃ le travail", "voilà le travail"},
		{"fix_encoding", fixEncoding, "Ã³", "ó"},
		{"fix_encoding", fixEncoding, "&ATILDE;&SUP3;", "&ATILDE;&SUP3;"},
		{"apply_plan", FixText, "schÃ¶n", "schön"},
		{"unescape_html", unescapeHTML, "&lt;tag&gt;", "<tag>"},
		{"unescape_html", unescapeHTML, "&Jscr;ohn &HilbertSpace;ancock", "𝒥ohn ℋancock"},
		{"unescape_html", unescapeHTML, "&checkmark;", "✓"},
		{"unescape_html", unescapeHTML, "P&eacute;rez", "Pérez"},
		{"unescape_html", unescapeHTML, "P&EACUTE;REZ", "PÉREZ"},
		{"unescape_html", unescapeHTML, "BUNDESSTRA&SZLIG;E", "BUNDESSTRASSE"},
		{"unescape_html", unescapeHTML, "&ntilde; &Ntilde; &NTILDE; &nTILDE;", "ñ Ñ Ñ &nTILDE;"},
		{"remove_terminal_escapes", removeTerminalEscapes, "\x1b[36;44mI'm blue, da ba dee da ba doo...\x1b[0m", "I'm blue, da ba dee da ba doo..."},
		{"uncurl_quotes", uncurlQuotes, "\u201chere\u2019s a test\u201d", "\"here's a test\""},
		{"fix_latin_ligatures", fixLatinLigatures, "ﬂuﬃeﬆ", "fluffiest"},
		{"fix_character_width", fixCharacterWidth, "ＬＯＵＤ　ＮＯＩＳＥＳ", "LOUD NOISES"},
		{"fix_character_width", fixCharacterWidth, "Ｕﾀｰﾝ", "Uターン"},
		{"fix_line_breaks", fixLineBreaks, "This string is made of two things:\u20291. Unicode\u20282. Spite", "This string is made of two things:\n1. Unicode\n2. Spite"},
		{"fix_line_breaks", fixLineBreaks, "Content-type: text/plain\r\n\r\nHi.", "Content-type: text/plain\n\nHi."},
		{"fix_line_breaks", fixLineBreaks, "This is how Microsoft \r trolls Mac users", "This is how Microsoft \n trolls Mac users"},
		{"fix_line_breaks", fixLineBreaks, "What is this \u0085 I don't even", "What is this \n I don't even"},
		{"utf-8-variants", func(s string) string {
			out, ok := decodeUTF8Variants([]byte(s))
			require.True(t, ok)
			return out
		}, "here comes a null! \xc0\x80", "here comes a null! \x00"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.fn(tc.in), "%s(%q)", tc.name, tc.in)
	}
}

// Rules of ftfy that the corpora hit only by chance, each stated once.
func TestFixTextRules(t *testing.T) {
	tests := []struct{ in, want, rule string }{
		{"a photo of a cat", "a photo of a cat", "clean ASCII is returned as it is"},
		{"it&#8217;s", "it's", "numeric reference, then the curly quote straightened"},
		{"&amp;amp;amp;", "&", "one layer of escaping per round, rounds until stable"},
		{"&#59;", "&#59;", "a decoded \";\" reads to ftfy as a partial decode"},
		{"a < b &amp;", "a < b &amp;", "\"<\" in the segment keeps entities"},
		{"&amp;\na < b\n&amp;", "&\na < b\n&amp;", "and in every segment after it"},
		{"\u0093hi\u0094", "\"hi\"", "C1 controls read as Windows-1252"},
		{"\u0085", "…", "U+0085 is an ellipsis, not a line break"},
		{"\u0081", "\u0081", "unassigned in Windows-1252: kept"},
		{"Ã©", "é", "Latin-1 mojibake"},
		{"\x1b[36mcolor\x1b[0m", "color", "terminal escapes"},
		{"\x1b[1;\u0663m!", "!", "any decimal digit in an escape"},
		{"\x1b[\U00011F50m!", "!", "Kawi digit: Nd in Unicode 15 (Go), unassigned in Python 3.11's Unicode 14"},
		{"\xff\xfe", "\ufffd\ufffd", "invalid UTF-8: one U+FFFD per byte"},
		{"Ã\n", "Ã\n", "no mojibake without a second character"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, FixText(tc.in), tc.rule)
	}
}
