package tokenizer

import (
	"encoding/json"
	"strconv"
	"testing"
	"unicode"

	"github.com/clipinfer/clipinfer/tokenizer/ftfy"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// unicodeTables is tokenizer/testdata/unicode.json.gz: what Python (str
// methods, unicodedata, the regex module) says about every code point.
type unicodeTables struct {
	PythonUnicodeVersion string            `json:"python_unicode_version"`
	RegexVersion         string            `json:"regex_version"`
	SplitClass           [][2]any          `json:"split_class"`
	SigmaClass           [][2]any          `json:"sigma_class"`
	PythonUnassigned     [][2]any          `json:"python_unassigned"`
	Lower                map[string]string `json:"lower"`
	NFC                  map[string]string `json:"nfc"`
	IsSpace              []rune            `json:"isspace"`
}

// expand turns [[start, value], ...] runs of one-character values (or 0/1
// numbers) into one byte per code point.
func expand(t *testing.T, runs [][2]any) []byte {
	out := make([]byte, 0, unicode.MaxRune+1)
	for i, r := range runs {
		end := int(unicode.MaxRune) + 1
		if i+1 < len(runs) {
			end = int(runs[i+1][0].(float64))
		}
		var v byte
		switch x := r[1].(type) {
		case string:
			require.Len(t, x, 1)
			v = x[0]
		case float64:
			v = '0' + byte(x)
		}
		for cp := int(r[0].(float64)); cp < end; cp++ {
			out = append(out, v)
		}
	}
	require.Len(t, out, unicode.MaxRune+1)
	return out
}

func loadUnicodeTables(t *testing.T) unicodeTables {
	if testing.Short() {
		t.Skip("exhaustive Unicode check skipped in -short mode")
	}
	var u unicodeTables
	require.NoError(t, json.Unmarshal(readTestdata(t, "unicode.json.gz"), &u))
	return u
}

// goAssigned reports whether r is assigned in Go's Unicode tables
// (surrogates and private use count as assigned).
func goAssigned(r rune) bool { return !unicode.Is(unicode.Cn, r) }

func isSurrogate(cp int) bool { return 0xD800 <= cp && cp <= 0xDFFF }

// The split classes must agree with the regex module for every code point
// Go's Unicode version knows (the regex module may know a newer version).
func TestSplitClassesAllUnicode(t *testing.T) {
	u := loadUnicodeTables(t)
	classes := expand(t, u.SplitClass)
	names := map[charClass]string{classLetter: "L", classNumber: "N", classOther: "P"}
	checked, newer := 0, 0
	for cp, want := range classes {
		if isSurrogate(cp) {
			continue
		}
		r := rune(cp)
		got := names[classify(r)]
		if got == "" {
			got = "X"
			if isRegexSpace(r) {
				got = "S"
			}
		}
		if got != string(want) {
			if !goAssigned(r) {
				newer++ // assigned after Unicode 15.0
				continue
			}
			t.Errorf("U+%04X: class %s, regex module says %c", cp, got, want)
			continue
		}
		checked++
	}
	t.Logf("regex %s: %d code points agree, %d differ only because Go has Unicode %s",
		u.RegexVersion, checked, newer, unicode.Version)
}

func TestPySpaceAllUnicode(t *testing.T) {
	u := loadUnicodeTables(t)
	want := map[rune]bool{}
	for _, r := range u.IsSpace {
		want[r] = true
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isPySpace(r) != want[r] {
			t.Errorf("U+%04X: isPySpace %v, str.isspace %v", r, isPySpace(r), want[r])
		}
	}
}

// versionGap reports code points one side does not know.
func versionGap(r rune, pyUnassigned byte) bool {
	return !goAssigned(r) || pyUnassigned == '1'
}

func TestLowerAllUnicode(t *testing.T) {
	u := loadUnicodeTables(t)
	unassigned := expand(t, u.PythonUnassigned)
	gap := 0
	for cp := range unassigned {
		if isSurrogate(cp) {
			continue
		}
		r := rune(cp)
		want, ok := u.Lower[strconv.Itoa(cp)]
		if !ok {
			want = string(r)
		}
		if got := pyLower(string(r)); got != want {
			if versionGap(r, unassigned[cp]) {
				gap++
				continue
			}
			t.Errorf("U+%04X: lower %q, Python %q", cp, got, want)
		}
	}
	t.Logf("Python %s vs Go %s: %d code points differ only by version", u.PythonUnicodeVersion, unicode.Version, gap)
}

func TestSigmaContextAllUnicode(t *testing.T) {
	u := loadUnicodeTables(t)
	unassigned := expand(t, u.PythonUnassigned)
	sigma := expand(t, u.SigmaClass)
	gap := 0
	for cp, want := range sigma {
		if isSurrogate(cp) {
			continue
		}
		r := rune(cp)
		got := byte('O')
		switch {
		case isCaseIgnorable(r):
			got = 'I'
		case isCased(r):
			got = 'C'
		}
		if got != want {
			if versionGap(r, unassigned[cp]) {
				gap++
				continue
			}
			t.Errorf("U+%04X: sigma context class %c, Python %c", cp, got, want)
		}
	}
	t.Logf("%d code points differ only by version", gap)
}

func TestNFCAllUnicode(t *testing.T) {
	u := loadUnicodeTables(t)
	unassigned := expand(t, u.PythonUnassigned)
	gap := 0
	for cp := range unassigned {
		if isSurrogate(cp) {
			continue
		}
		r := rune(cp)
		want, ok := u.NFC[strconv.Itoa(cp)]
		if !ok {
			want = string(r)
		}
		s := string(r)
		if got := ftfy.NFC(s); got != want {
			if versionGap(r, unassigned[cp]) {
				gap++
				continue
			}
			t.Errorf("U+%04X: NFC %q, Python %q", cp, got, want)
		}
	}
	t.Logf("Python %s vs x/text %s: %d code points differ only by version", u.PythonUnicodeVersion, norm.Version, gap)
}
