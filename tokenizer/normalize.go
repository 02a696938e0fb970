package tokenizer

import (
	"strings"
	"unicode/utf8"

	"github.com/clipinfer/clipinfer/internal/pystr"
	"github.com/clipinfer/clipinfer/tokenizer/ftfy"
)

// normalize is SimpleTokenizer.encode's text cleaning:
// whitespace_clean(basic_clean(text)).lower(), where basic_clean is
// ftfy.fix_text followed by html.unescape twice.
func normalize(text string) string {
	s := ftfy.FixText(text)
	s = htmlUnescape(htmlUnescape(s))
	s = strings.TrimFunc(s, isPySpace)
	s = collapseSpaces(s)
	s = strings.TrimFunc(s, isPySpace)
	return pyLower(s)
}

// ---------------------------------------------------------------------------
// Python's html.unescape
// ---------------------------------------------------------------------------

// htmlUnescape is Python 3's html.unescape. It differs from Go's
// html.UnescapeString: names are matched by longest known prefix over up to
// 32 characters, numeric references to invalid code points are dropped, NUL,
// CR and 0x80-0x9F map through ftfy.CharRef's table, and surrogates or values
// above U+10FFFF become U+FFFD.
func htmlUnescape(s string) string {
	amp := strings.IndexByte(s, '&')
	if amp < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:amp])
	for i := amp; i < len(s); {
		if s[i] != '&' {
			j := strings.IndexByte(s[i:], '&')
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		n := unescapeAt(&b, s[i:])
		if n == 0 {
			b.WriteByte('&')
			n = 1
		}
		i += n
	}
	return b.String()
}

// unescapeAt decodes the character reference at the start of s (which
// begins with '&'), writing its replacement, and returns how many bytes it
// consumed; 0 if Python's pattern does not match there.
func unescapeAt(b *strings.Builder, s string) int {
	if len(s) >= 2 && s[1] == '#' {
		return unescapeNumeric(b, s)
	}
	// [^\t\n\f <&#;]{1,32};?
	end, count := 1, 0
	for end < len(s) && count < 32 {
		r, size := utf8.DecodeRuneInString(s[end:])
		if r == '\t' || r == '\n' || r == '\f' || r == ' ' || r == '<' || r == '&' || r == '#' || r == ';' {
			break
		}
		end += size
		count++
	}
	if count == 0 {
		return 0
	}
	if end < len(s) && s[end] == ';' {
		end++
	}
	name := s[1:end]
	if v, ok := htmlEntities[name]; ok {
		b.WriteString(v)
		return end
	}
	// Longest prefix of at least two characters that is a known name.
	// Names are ASCII, so a prefix ending inside a multi-byte rune (or
	// containing one) never matches and byte prefixes are enough.
	for x := len(name) - 1; x >= 2; x-- {
		if v, ok := htmlEntities[name[:x]]; ok && utf8.RuneCountInString(name[:x]) == x {
			b.WriteString(v)
			b.WriteString(name[x:])
			return end
		}
	}
	b.WriteByte('&')
	b.WriteString(name)
	return end
}

// unescapeNumeric handles &#[0-9]+;? and &#[xX][0-9a-fA-F]+;?.
func unescapeNumeric(b *strings.Builder, s string) int {
	i, base := 2, 10
	if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
		i, base = 3, 16
	}
	num, n := ftfy.CharRefValue(s[i:], base)
	if n == 0 {
		return 0
	}
	i += n
	if i < len(s) && s[i] == ';' {
		i++
	}
	b.WriteString(ftfy.CharRef(num))
	return i
}

// ---------------------------------------------------------------------------
// whitespace and case
// ---------------------------------------------------------------------------

// isPySpace is Python's str.isspace (used by str.strip and str.split).
func isPySpace(r rune) bool { return pystr.IsSpace(r) }

// isRegexSpace is \s of the Python regex module on str patterns.
func isRegexSpace(r rune) bool {
	switch {
	case r <= 0x20:
		return r == ' ' || ('\t' <= r && r <= '\r')
	case r < 0x85:
		return false
	case r == 0x85, r == 0xA0, r == 0x1680, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	case 0x2000 <= r && r <= 0x200A:
		return true
	}
	return false
}

// collapseSpaces is re.sub(r'\s+', ' ', s).
func collapseSpaces(s string) string {
	if isSingleSpaced(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if isRegexSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteRune(r)
	}
	return b.String()
}

// isSingleSpaced reports whether s is ASCII whose only whitespace is single
// spaces, so that collapseSpaces leaves it as it is.
func isSingleSpaced(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('\t' <= c && c <= '\r') || (c == ' ' && i > 0 && s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// pyLower is Python's str.lower.
func pyLower(s string) string { return pystr.Lower(s) }

// isCased and isCaseIgnorable are the Unicode properties str.lower's
// final-sigma rule reads.
func isCased(r rune) bool         { return pystr.IsCased(r) }
func isCaseIgnorable(r rune) bool { return pystr.IsCaseIgnorable(r) }
