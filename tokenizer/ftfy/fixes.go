package ftfy

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// mapRunes returns text with each rune r for which keep(r) is false
// replaced by repl(r), or text itself when keep holds for every rune.
func mapRunes(text string, keep func(rune) bool, repl func(rune) string) string {
	for i, r := range text {
		if keep(r) {
			continue
		}
		var b strings.Builder
		b.Grow(len(text) + 8)
		b.WriteString(text[:i])
		for _, q := range text[i:] {
			if keep(q) {
				b.WriteRune(q)
			} else {
				b.WriteString(repl(q))
			}
		}
		return b.String()
	}
	return text
}

// fixC1Controls is ftfy's fix_c1_controls: U+0080-U+009F read as
// sloppy-windows-1252 bytes (the five unassigned ones stay as they are).
func fixC1Controls(text string) string {
	return mapRunes(text, func(r rune) bool { return r < 0x80 || r > 0x9F },
		func(r rune) string { return string(charmapDecode[sloppy1252][r]) })
}

// fixLatinLigatures is ftfy's fix_latin_ligatures.
func fixLatinLigatures(text string) string {
	return mapRunes(text, func(r rune) bool {
		if r < 0x132 || (r > 0x1F3 && r < 0xFB00) || r > 0xFB06 {
			return true
		}
		_, ok := ligatures[r]
		return !ok
	}, func(r rune) string { return ligatures[r] })
}

// fixCharacterWidth is ftfy's fix_character_width.
func fixCharacterWidth(text string) string {
	return mapRunes(text, func(r rune) bool {
		if r < 0x3000 || (r > 0x3000 && r < 0xFF01) || r > 0xFFEF {
			return true
		}
		_, ok := widthMap[r]
		return !ok
	}, func(r rune) string { return widthMap[r] })
}

// uncurlQuotes is ftfy's uncurl_quotes.
func uncurlQuotes(text string) string {
	return mapRunes(text, func(r rune) bool {
		return r != 0x2BC && (r < 0x2018 || r > 0x201F)
	}, func(r rune) string {
		if r >= 0x201C {
			return `"`
		}
		return "'"
	})
}

// fixLineBreaks is ftfy's fix_line_breaks: "\r\n", "\r", U+2028, U+2029
// and U+0085 each become "\n".
func fixLineBreaks(text string) string {
	if !strings.ContainsAny(text, "\r\u2028\u2029\u0085") {
		return text
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.NewReplacer("\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u0085", "\n").Replace(text)
}

var controlSet = sync.OnceValue(func() map[rune]bool {
	m := make(map[rune]bool, len(controlChars))
	for _, r := range controlChars {
		m[r] = true
	}
	return m
})

// removeControlChars is ftfy's remove_control_chars.
func removeControlChars(text string) string {
	set := controlSet()
	return mapRunes(text, func(r rune) bool {
		if r >= 0x20 && r < 0x7F || (r >= 0x80 && r < 0x206A) {
			return true
		}
		return !set[r]
	}, func(rune) string { return "" })
}

// removeTerminalEscapes is ftfy's remove_terminal_escapes: it deletes every
// match of "\x1b\[(?:\d|;)*[a-zA-Z]" (\d being any decimal digit, Nd).
func removeTerminalEscapes(text string) string {
	i := strings.IndexByte(text, 0x1B)
	if i < 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for i >= 0 {
		i += last
		end := terminalEscapeEnd(text, i)
		if end > i {
			b.WriteString(text[last:i])
			last = end
		} else {
			b.WriteString(text[last : i+1])
			last = i + 1
		}
		i = strings.IndexByte(text[last:], 0x1B)
	}
	b.WriteString(text[last:])
	return b.String()
}

// terminalEscapeEnd returns the end of the escape sequence at text[i:], or
// i if none starts there.
func terminalEscapeEnd(text string, i int) int {
	j := i + 1
	if j >= len(text) || text[j] != '[' {
		return i
	}
	j++
	for j < len(text) {
		r, size := utf8.DecodeRuneInString(text[j:])
		if r != ';' && !unicode.IsDigit(r) {
			break
		}
		j += size
	}
	if j < len(text) && ('a' <= text[j] && text[j] <= 'z' || 'A' <= text[j] && text[j] <= 'Z') {
		return j + 1
	}
	return i
}

// unescapeHTML is ftfy's unescape_html: each match of
// "&#?[0-9A-Za-z]{1,24};" that is a name of HTML_ENTITIES, or a numeric
// reference that html.unescape decodes completely, is replaced.
func unescapeHTML(text string) string {
	i := strings.IndexByte(text, '&')
	for i >= 0 && entityEnd(text, i) == i {
		j := strings.IndexByte(text[i+1:], '&')
		if j < 0 {
			return text // no reference-shaped match at all
		}
		i += 1 + j
	}
	if i < 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for i >= 0 {
		i += last
		end := entityEnd(text, i)
		if end == i {
			b.WriteString(text[last : i+1])
			last = i + 1
		} else {
			b.WriteString(text[last:i])
			b.WriteString(decodeEntity(text[i:end]))
			last = end
		}
		i = strings.IndexByte(text[last:], '&')
	}
	b.WriteString(text[last:])
	return b.String()
}

// entityEnd returns the end of the match of "&#?[0-9A-Za-z]{1,24};" at
// text[i:] (which starts with "&"), or i if there is none.
func entityEnd(text string, i int) int {
	j := i + 1
	if j < len(text) && text[j] == '#' {
		j++
	}
	start := j
	for j < len(text) && isASCIIAlnum(text[j]) {
		j++
	}
	if n := j - start; n < 1 || n > 24 || j >= len(text) || text[j] != ';' {
		return i
	}
	return j + 1
}

func isASCIIAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// decodeEntity is ftfy's _unescape_fixup for one match m.
func decodeEntity(m string) string {
	if v, ok := htmlEntities[m]; ok {
		return v
	}
	if !strings.HasPrefix(m, "&#") {
		return m
	}
	digits, base := m[2:len(m)-1], 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	if digits == "" {
		return m
	}
	num, n := CharRefValue(digits, base)
	if n < len(digits) {
		return m // html.unescape stops before the ";": ftfy keeps m
	}
	v := CharRef(num)
	if strings.Contains(v, ";") {
		return m // "&#59;": ftfy takes a ";" in the result for a partial decode
	}
	return v
}

// CharRef is what Python's html.unescape makes of the numeric character
// reference with value num (any value above U+10FFFF may be passed as
// 0x110000): HTML5's replacements for NUL, CR and 0x80-0x9F, U+FFFD for
// surrogates and values beyond Unicode, nothing for the code points HTML5
// drops, and the code point itself otherwise. The CLIP tokenizer's own
// html.unescape passes use it too.
func CharRef(num int) string {
	switch {
	case htmlInvalidCharrefs[num] != "":
		return htmlInvalidCharrefs[num]
	case (0xD800 <= num && num <= 0xDFFF) || num > 0x10FFFF:
		return "\uFFFD"
	case htmlInvalidCodepoints[num]:
		return ""
	}
	return string(rune(num))
}

// CharRefValue reads the digits (base 10 or 16) at the start of s, as
// html.unescape reads a numeric character reference, and returns their
// value for CharRef — saturated at 0x110000, since every larger value
// decodes as that one does — and how many bytes they take (0: none).
func CharRefValue(s string, base int) (num, n int) {
	const big = 0x110000
	for ; n < len(s); n++ {
		d := digitValue(s[n], base)
		if d < 0 {
			break
		}
		if num < big {
			num = num*base + d
		}
	}
	return num, n
}

func digitValue(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
