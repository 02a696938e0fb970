package ftfy

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NFC is Python's unicodedata.normalize("NFC", s), the normalization
// fix_text applies last in each round.
//
// golang.org/x/text/unicode/norm follows the Stream-Safe Text Format: after
// 30 non-starters in a row it inserts U+034F COMBINING GRAPHEME JOINER and
// reorders each chunk on its own. Python does neither, so text with such
// long runs of combining marks ("zalgo" text) takes nfcSlow, a plain
// implementation of the standard algorithm on the same Unicode data.
func NFC(s string) string {
	if hasLongNonStarterRun(s) {
		return nfcSlow(s)
	}
	return norm.NFC.String(s)
}

// longRun is a conservative bound on the non-starters norm lets through
// without inserting a grapheme joiner (30).
const longRun = 20

// hasLongNonStarterRun reports whether s may contain more than longRun
// non-starters (counting those inside decompositions) after one starter.
func hasLongNonStarterRun(s string) bool {
	count := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			count = 0
			i++
			continue
		}
		p := norm.NFD.PropertiesString(s[i:])
		size := max(p.Size(), 1)
		if p.CCC() == 0 && p.LeadCCC() == 0 && p.TrailCCC() == 0 {
			count = 0
		} else {
			count += max(utf8.RuneCount(p.Decomposition()), 1)
			if count > longRun {
				return true
			}
		}
		i += size
	}
	return false
}

const (
	hangulBase  = 0xAC00
	hangulL     = 0x1100
	hangulV     = 0x1161
	hangulT     = 0x11A7
	hangulLN    = 19
	hangulVN    = 21
	hangulTN    = 28
	hangulNN    = hangulVN * hangulTN
	hangulCount = hangulLN * hangulNN
)

// nfcSlow is canonical decomposition, canonical ordering of every run of
// non-starters (however long), then canonical composition.
func nfcSlow(s string) string {
	var d []rune
	for _, r := range s {
		if hangulBase <= r && r < hangulBase+hangulCount {
			si := r - hangulBase
			d = append(d, hangulL+si/hangulNN, hangulV+(si%hangulNN)/hangulTN)
			if t := si % hangulTN; t != 0 {
				d = append(d, hangulT+t)
			}
			continue
		}
		if dec := norm.NFD.PropertiesString(string(r)).Decomposition(); dec != nil {
			for _, q := range string(dec) {
				d = append(d, q)
			}
			continue
		}
		d = append(d, r)
	}
	if len(d) == 0 {
		return ""
	}
	ccc := make([]uint8, len(d))
	for i, r := range d {
		ccc[i] = combiningClass(r)
	}
	// Stable insertion sort by class inside each run of non-starters.
	for i := 1; i < len(d); i++ {
		if ccc[i] == 0 {
			continue
		}
		for j := i; j > 0 && ccc[j-1] > ccc[j]; j-- {
			d[j-1], d[j] = d[j], d[j-1]
			ccc[j-1], ccc[j] = ccc[j], ccc[j-1]
		}
	}
	// Canonical composition (the sample algorithm of UAX #15).
	starter, out := 0, 1
	last := int(ccc[0])
	if last != 0 {
		last = 256 // a leading non-starter blocks everything after it
	}
	for i := 1; i < len(d); i++ {
		c, cl := d[i], int(ccc[i])
		if last < cl || last == 0 {
			if comp, ok := composePair(d[starter], c); ok {
				d[starter] = comp
				continue
			}
		}
		if cl == 0 {
			starter = out
		}
		last = cl
		d[out] = c
		out++
	}
	return string(d[:out])
}

func combiningClass(r rune) uint8 {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	return norm.NFD.Properties(buf[:n]).CCC()
}

// composePair returns the primary composite of a and b, if there is one.
func composePair(a, b rune) (rune, bool) {
	if hangulL <= a && a < hangulL+hangulLN && hangulV <= b && b < hangulV+hangulVN {
		return hangulBase + ((a-hangulL)*hangulVN+(b-hangulV))*hangulTN, true
	}
	if hangulBase <= a && a < hangulBase+hangulCount && (a-hangulBase)%hangulTN == 0 &&
		hangulT < b && b < hangulT+hangulTN {
		return a + (b - hangulT), true
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], b)
	if norm.NFC.Properties(buf[:n]).BoundaryBefore() {
		return 0, false // b never combines with what precedes it
	}
	// a is a starter (or composite) that b is not blocked from, so NFC of
	// the pair is a single rune exactly when they compose.
	c := norm.NFC.String(string([]rune{a, b}))
	if r, size := utf8.DecodeRuneInString(c); size == len(c) && r != utf8.RuneError {
		return r, true
	}
	return 0, false
}
