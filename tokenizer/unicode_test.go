package tokenizer

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
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
		got, slow := nfc(s), want
		if want != s || norm.NFD.String(s) != s {
			slow = nfcSlow(s) // the slow path only matters where NFC does something
		}
		if got != want || slow != want {
			if versionGap(r, unassigned[cp]) {
				gap++
				continue
			}
			t.Errorf("U+%04X: NFC %q, slow path %q, Python %q", cp, got, slow, want)
		}
	}
	t.Logf("Python %s vs x/text %s: %d code points differ only by version", u.PythonUnicodeVersion, norm.Version, gap)
}

// nfcSlow must agree with x/text's NFC wherever the latter does not insert
// grapheme joiners: random mixes of starters, combining marks, Hangul and
// characters with decompositions.
func TestNFCSlowMatchesNorm(t *testing.T) {
	pool := []rune{
		'a', 'e', 'o', 'u', 'A', 'E', 'O', 'U', 'i', 'n', 'z', 'α', 'ω', 'Ι', 'ε',
		0x300, 0x301, 0x302, 0x303, 0x308, 0x304, 0x30A, 0x323, 0x327, 0x328,
		0x316, 0x345, 0x313, 0x314, 0x342, 0x34F, 0x05B0, 0x0591, 0x093C, 0x0BCD,
		0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0x0B47, 0x0B3E, 0x0B57, 0x0CCA,
		0x1E69, 0x1EAD, 0x01D6, 0x212B, 0x2126, 0x0340, 0x0344, 0x0F73, 0x0F75,
		0x1F80, 0x3099, 0x309A, 0x304B, 0x30AB, 0xFF76, 0x1D15E, 0x1D165, 0x2ADC,
		' ', '!', 'ſ', 'ǅ', 0x0958,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		rs := make([]rune, 1+rng.IntN(12))
		for i := range rs {
			rs[i] = pool[rng.IntN(len(pool))]
		}
		s := string(rs)
		require.Equal(t, norm.NFC.String(s), nfcSlow(s), "%+q", s)
	}
}

func TestNFCLongCombiningRuns(t *testing.T) {
	long := "a" + string(make([]rune, 0)) // built below
	for i := range 40 {
		long += string(rune(0x300 + i%0x30))
	}
	assert.True(t, hasLongNonStarterRun(long))
	got := nfc(long)
	assert.NotContains(t, got, "\u034f", "no stream-safe grapheme joiner")
	assert.Contains(t, norm.NFC.String(long), "\u034f", "x/text inserts one (why nfcSlow exists)")
	assert.Equal(t, norm.NFD.String(got), norm.NFD.String(nfcSlow(got)))
	assert.False(t, hasLongNonStarterRun("abc\u0301\u0302 def"))
}
