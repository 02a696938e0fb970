package ftfy

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Indexes into charmapNames that the code refers to.
const (
	latin1     = 0
	sloppy1252 = 1
	macroman   = 8
)

// charmap is one single-byte codec: its decoding table and the inverse.
type charmap struct {
	decode *[256]rune
	encode map[rune]byte // runes >= 0x80 and U+FFFD (sloppy: byte 0x1A)
	// sloppy codecs decode byte 0x1A as U+FFFD, so they cannot hold
	// U+001A itself.
	sloppy bool
}

var charmaps = sync.OnceValue(func() []charmap {
	out := make([]charmap, len(charmapNames))
	for i := range charmapNames {
		dec := &charmapDecode[i]
		cm := charmap{decode: dec, encode: make(map[rune]byte, 130), sloppy: dec[0x1A] != 0x1A}
		for b := 0x80; b < 0x100; b++ {
			cm.encode[dec[b]] = byte(b)
		}
		if cm.sloppy {
			cm.encode[dec[0x1A]] = 0x1A
		}
		out[i] = cm
	}
	return out
})

// encodeText is text.encode(codec); ok is false when a rune has no byte
// (ftfy's possible_encoding is false).
func (cm *charmap) encodeText(text string) (out []byte, ok bool) {
	out = make([]byte, 0, len(text))
	for _, r := range text {
		switch {
		case r < 0x80 && !(r == 0x1A && cm.sloppy):
			out = append(out, byte(r))
		default:
			b, found := cm.encode[r]
			if !found {
				return nil, false
			}
			out = append(out, b)
		}
	}
	return out, true
}

// fixEncoding is ftfy.fix_encoding: one step of mojibake repair repeated
// until it changes nothing.
func fixEncoding(text string) string {
	for {
		fixed := fixEncodingStep(text)
		if fixed == text {
			return text
		}
		text = fixed
	}
}

// fixEncodingStep is ftfy's _fix_encoding_one_step_and_explain.
func fixEncodingStep(text string) string {
	if isASCII(text) || !isBad(text) {
		return text
	}
	cms := charmaps()
	latin1Possible := false
	for i := range cms {
		cm := &cms[i]
		encoded, ok := cm.encodeText(text)
		if !ok {
			continue
		}
		if i == latin1 {
			latin1Possible = true
		}
		if i != macroman && hasAlteredUTF8(encoded) {
			encoded = restoreByteA0(encoded)
		}
		if cm.sloppy {
			encoded = replaceLossySequences(encoded)
		}
		if bytes.IndexByte(encoded, 0xED) >= 0 || bytes.IndexByte(encoded, 0xC0) >= 0 {
			if fixed, ok := decodeUTF8Variants(encoded); ok {
				return fixed
			}
		} else if utf8.Valid(encoded) {
			return string(encoded)
		}
	}
	if fixed := decodeInconsistentUTF8(text); fixed != text {
		return fixed
	}
	if latin1Possible {
		if fixed, ok := latin1AsWindows1252(text); ok && fixed != text {
			return fixed
		}
	}
	return fixC1Controls(text)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// latin1AsWindows1252 is text.encode("latin-1").decode("windows-1252") for
// text that Latin-1 can hold; ok is false when a byte is undefined in
// Windows-1252.
func latin1AsWindows1252(text string) (string, bool) {
	out := make([]rune, 0, len(text))
	for _, r := range text {
		if 0x80 <= r && r <= 0x9F {
			r = cp1252Strict[r-0x80]
			if r < 0 {
				return "", false
			}
		}
		out = append(out, r)
	}
	return string(out), true
}

// ---------------------------------------------------------------------------
// badness
// ---------------------------------------------------------------------------

// badnessREs are BADNESS_RE whole (for text from its start, where "^"
// applies) and without its anchored alternatives (for text from elsewhere).
var badnessREs = sync.OnceValue(func() [2]*regexp.Regexp {
	var inner []string
	for _, a := range badnessAlternatives {
		if !strings.HasPrefix(a, "^") {
			inner = append(inner, a)
		}
	}
	return [2]*regexp.Regexp{
		regexp.MustCompile(strings.Join(badnessAlternatives, "|")),
		regexp.MustCompile(strings.Join(inner, "|")),
	}
})

var badnessSet = sync.OnceValue(func() map[rune]bool {
	m := make(map[rune]bool, len(badnessRunes))
	for _, r := range badnessRunes {
		m[r] = true
	}
	return m
})

// isBad is ftfy.badness.is_bad: whether BADNESS_RE matches anywhere in text.
//
// Every match holds one of badnessRunes and spans at most badnessMaxWidth
// code points, so the expression only runs on the windows of
// badnessMaxWidth-1 code points either side of those runes (overlapping
// windows merged). Clean text and long text with little mojibake are thus
// checked in time proportional to their length with a small constant.
func isBad(text string) bool {
	const reach = badnessMaxWidth - 1
	set := badnessSet()
	var offsets [reach + 1]int // byte offsets of the last runes, a ring
	winStart, lastHit := -1, 0 // open window: byte start, rune index of its last badness rune
	n := 0
	for i, r := range text {
		if winStart >= 0 && n > lastHit+reach {
			if matchWindow(text, winStart, i) {
				return true
			}
			winStart = -1
		}
		if r >= 0x80 && set[r] {
			if winStart < 0 {
				winStart = offsets[max(n-reach, 0)%(reach+1)]
			}
			lastHit = n
		}
		offsets[n%(reach+1)] = i
		n++
	}
	return winStart >= 0 && matchWindow(text, winStart, len(text))
}

func matchWindow(text string, start, end int) bool {
	res := badnessREs()
	if start == 0 {
		return res[0].MatchString(text[:end])
	}
	return res[1].MatchString(text[start:end])
}

// ---------------------------------------------------------------------------
// byte-level transcoders
// ---------------------------------------------------------------------------

func inRange(c, lo, hi byte) bool { return lo <= c && c <= hi }

// isCont3 is [\x80-\x84\x86-\x9f\xa1-\xbf]: a continuation byte other than
// 0x85 and 0xA0.
func isCont3(c byte) bool { return inRange(c, 0x80, 0xBF) && c != 0x85 && c != 0xA0 }

func isCont(c byte) bool { return inRange(c, 0x80, 0xBF) }

// alteredUTF8At returns the length of the match of ftfy's ALTERED_UTF8_RE
// at b[i:] (its alternatives tried in order), or 0.
func alteredUTF8At(b []byte, i int) int {
	at := func(k int) byte {
		if i+k < len(b) {
			return b[i+k]
		}
		return 0
	}
	c0, c1, c2, c3 := at(0), at(1), at(2), at(3)
	switch {
	case (c0 == 0xC2 || c0 == 0xC3 || c0 == 0xC5 || c0 == 0xCE || c0 == 0xD0 || c0 == 0xD9) && c1 == ' ':
		return 2
	case (c0 == 0xE2 || c0 == 0xE3) && c1 == ' ' && isCont3(c2):
		return 3
	case inRange(c0, 0xE0, 0xE3) && isCont3(c1) && c2 == ' ':
		return 3
	case c0 == 0xF0 && c1 == ' ' && isCont(c2) && isCont(c3):
		return 4
	case c0 == 0xF0 && isCont(c1) && c2 == ' ' && isCont(c3):
		return 4
	case c0 == 0xF0 && isCont(c1) && isCont(c2) && c3 == ' ':
		return 4
	}
	return 0
}

func hasAlteredUTF8(b []byte) bool {
	for i := range b {
		if alteredUTF8At(b, i) > 0 {
			return true
		}
	}
	return false
}

// restoreByteA0 is ftfy's restore_byte_a0: "\xc3 " (unless followed by
// " ", "quele", "quela", "quilo" or "s ") becomes "\xc3\xa0 ", then the
// spaces inside each ALTERED_UTF8_RE match become 0xA0.
func restoreByteA0(b []byte) []byte {
	var aGrave []byte
	for i := 0; i < len(b); i++ {
		if b[i] == 0xC3 && i+1 < len(b) && b[i+1] == ' ' && !aGraveException(b[i+2:]) {
			aGrave = append(aGrave, 0xC3, 0xA0, ' ')
			i++
			continue
		}
		aGrave = append(aGrave, b[i])
	}
	out := make([]byte, 0, len(aGrave))
	for i := 0; i < len(aGrave); {
		n := alteredUTF8At(aGrave, i)
		if n == 0 {
			out = append(out, aGrave[i])
			i++
			continue
		}
		for _, c := range aGrave[i : i+n] {
			if c == ' ' {
				c = 0xA0
			}
			out = append(out, c)
		}
		i += n
	}
	return out
}

func aGraveException(rest []byte) bool {
	for _, w := range []string{" ", "quele", "quela", "quilo", "s "} {
		if bytes.HasPrefix(rest, []byte(w)) {
			return true
		}
	}
	return false
}

// lossyAt returns the length of the match of ftfy's LOSSY_UTF8_RE at b[i:]
// (alternatives in order), or 0. Byte 0x1A stands for a character the
// sloppy codec read as U+FFFD.
func lossyAt(b []byte, i int) int {
	at := func(k int) int {
		if i+k < len(b) {
			return int(b[i+k])
		}
		return -1
	}
	sub := func(c int) bool { return c == 0x1A }
	subQ := func(c int) bool { return c == 0x1A || c == '?' }
	subC := func(c int) bool { return c == 0x1A || (c >= 0x80 && c <= 0xBF) }
	subQC := func(c int) bool { return subQ(c) || (c >= 0x80 && c <= 0xBF) }
	in := func(c, lo, hi int) bool { return lo <= c && c <= hi }
	c0, c1, c2, c3, c4, c5 := at(0), at(1), at(2), at(3), at(4), at(5)
	switch {
	case in(c0, 0xC2, 0xDF) && sub(c1):
		return 2
	case in(c0, 0xC2, 0xC3) && c1 == '?':
		return 2
	case c0 == 0xED && in(c1, 0xA0, 0xAF) && subQ(c2) && c3 == 0xED && in(c4, 0xB0, 0xBF) && subQC(c5):
		return 6
	case c0 == 0xED && in(c1, 0xA0, 0xAF) && subQC(c2) && c3 == 0xED && in(c4, 0xB0, 0xBF) && subQ(c5):
		return 6
	case in(c0, 0xE0, 0xEF) && subQ(c1) && subC(c2):
		return 3
	case in(c0, 0xE0, 0xEF) && subC(c1) && subQ(c2):
		return 3
	case in(c0, 0xF0, 0xF4) && subQ(c1) && subC(c2) && subC(c3):
		return 4
	case in(c0, 0xF0, 0xF4) && subC(c1) && subQ(c2) && subC(c3):
		return 4
	case in(c0, 0xF0, 0xF4) && subC(c1) && subC(c2) && subQ(c3):
		return 4
	case sub(c0):
		return 1
	}
	return 0
}

// replaceLossySequences is ftfy's replace_lossy_sequences: each
// LOSSY_UTF8_RE match becomes the UTF-8 of U+FFFD.
func replaceLossySequences(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		n := lossyAt(b, i)
		if n == 0 {
			i++
			continue
		}
		out = append(out, b[last:i]...)
		out = append(out, "\uFFFD"...)
		i += n
		last = i
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// atEnd is Python's "$" in a bytes pattern: the end of b, or just before a
// final "\n".
func atEnd(b []byte, p int) bool {
	return p == len(b) || (p == len(b)-1 && b[p] == '\n')
}

// specialAt reports whether ftfy's utf-8-variants SPECIAL_BYTES_RE matches
// at b[p:]: a Java-style NUL (C0 80) or a CESU-8 surrogate.
func specialAt(b []byte, p int) bool {
	switch b[p] {
	case 0xC0:
		return atEnd(b, p+1) || b[p+1] == 0x80
	case 0xED:
		if atEnd(b, p+1) {
			return true
		}
		return inRange(b[p+1], 0xA0, 0xBF) && (atEnd(b, p+2) || isCont(b[p+2]))
	}
	return false
}

// decodeUTF8Variants is bytes.decode("utf-8-variants") with ftfy's decoder:
// UTF-8 in which C0 80 (even C0 followed by a final "\n") is U+0000 and a
// CESU-8 surrogate pair is one supplementary character. ok is false where
// Python raises UnicodeDecodeError.
func decodeUTF8Variants(b []byte) (string, bool) {
	out := make([]byte, 0, len(b))
	pos := 0
	for pos < len(b) {
		cut := -1
		for p := pos; p < len(b); p++ {
			if specialAt(b, p) {
				cut = p
				break
			}
		}
		if cut < 0 {
			if !utf8.Valid(b[pos:]) {
				return "", false
			}
			out = append(out, b[pos:]...)
			break
		}
		if cut > pos {
			if !utf8.Valid(b[pos:cut]) {
				return "", false
			}
			out = append(out, b[pos:cut]...)
			pos = cut
		}
		rest := b[pos:]
		if rest[0] == 0xC0 {
			if len(rest) < 2 {
				return "", false
			}
			out = append(out, 0)
			pos += 2
			continue
		}
		// A surrogate: only a whole CESU-8 pair decodes.
		if len(rest) < 6 || !inRange(rest[1], 0xA0, 0xAF) || !isCont(rest[2]) ||
			rest[3] != 0xED || !inRange(rest[4], 0xB0, 0xBF) ||
			!(isCont(rest[5]) || (len(rest) == 6 && rest[5] == '\n')) {
			return "", false
		}
		cp := rune(rest[1]&0x0F)<<16 + rune(rest[2]&0x3F)<<10 +
			rune(rest[4]&0x0F)<<6 + rune(rest[5]&0x3F) + 0x10000
		out = utf8.AppendRune(out, cp)
		pos += 6
	}
	return string(out), true
}

// ---------------------------------------------------------------------------
// decode_inconsistent_utf8
// ---------------------------------------------------------------------------

const (
	clue2 = 1 << iota
	clue3
	clue4
	clueCont
	clueStrict
)

var clueClasses = sync.OnceValue(func() map[rune]uint8 {
	m := make(map[rune]uint8)
	for _, set := range []struct {
		runes []rune
		bit   uint8
	}{
		{clueFirstOf2, clue2}, {clueFirstOf3, clue3}, {clueFirstOf4, clue4},
		{clueContinuation, clueCont}, {clueContinuationStrict, clueStrict},
	} {
		for _, r := range set.runes {
			m[r] |= set.bit
		}
	}
	return m
})

// decodeInconsistentUTF8 is ftfy's decode_inconsistent_utf8: every match of
// UTF8_DETECTOR_RE,
//
//	(?<![strict]) ([first2][cont] | [first3][cont]{2} | [first4][cont]{3})+
//
// that is shorter than the text and looks bad is replaced by its
// fix_encoding. RE2 has no lookbehind, so this scans the runes directly.
func decodeInconsistentUTF8(text string) string {
	if isASCII(text) {
		return text
	}
	cls := clueClasses()
	runes := []rune(text)
	class := make([]uint8, len(runes))
	any := false
	for i, r := range runes {
		class[i] = cls[r]
		any = any || class[i]&(clue2|clue3|clue4) != 0
	}
	if !any {
		return text
	}
	var out []rune
	changed := false
	last := 0
	for i := 0; i < len(runes); {
		if i > 0 && class[i-1]&clueStrict != 0 {
			i++
			continue
		}
		j := detectorEnd(class, i)
		if j == i {
			i++
			continue
		}
		sub := string(runes[i:j])
		if j-i < len(runes) && isBad(sub) {
			if fixed := fixEncoding(sub); fixed != sub {
				out = append(out, runes[last:i]...)
				out = append(out, []rune(fixed)...)
				last = j
				changed = true
			}
		}
		i = j
	}
	if !changed {
		return text
	}
	out = append(out, runes[last:]...)
	return string(out)
}

// detectorEnd returns the end of the greedy (A|B|C)+ match at position i of
// the clue classes, or i.
func detectorEnd(class []uint8, i int) int {
	cont := func(k, n int) bool {
		if k+n > len(class) {
			return false
		}
		for _, c := range class[k : k+n] {
			if c&clueCont == 0 {
				return false
			}
		}
		return true
	}
	for i < len(class) {
		c := class[i]
		switch {
		case c&clue2 != 0 && cont(i+1, 1):
			i += 2
		case c&clue3 != 0 && cont(i+1, 2):
			i += 3
		case c&clue4 != 0 && cont(i+1, 3):
			i += 4
		default:
			return i
		}
	}
	return i
}
