// Package pystr holds Python's str semantics that the tokenizers reproduce:
// str.lower (with its full mapping of U+0130 and the final-sigma rule) and
// str.isspace, which is also what \s matches in Python's re module.
package pystr

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsSpace is Python's str.isspace, the whitespace of str.strip, str.split
// and \s in Python's re module on str patterns.
func IsSpace(r rune) bool {
	switch {
	case r <= 0x20:
		return r == ' ' || ('\t' <= r && r <= '\r') || (0x1C <= r && r <= 0x1F)
	case r < 0x85:
		return false
	case r == 0x85, r == 0xA0, r == 0x1680, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	case 0x2000 <= r && r <= 0x200A:
		return true
	}
	return false
}

// Lower is Python's str.lower: the simple lowercase mapping, except that
// U+0130 becomes "i\u0307" (its only unconditional full mapping) and a
// capital sigma in final position (cased letter before it, none after it,
// case-ignorable characters skipped both ways) becomes final sigma ς.
func Lower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range s {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3A3:
			if finalSigma(s, i, i+len("Σ")) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the sigma at s[start:end] is in the Unicode
// Final_Sigma context: \p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
func finalSigma(s string, start, end int) bool {
	before := false
	for i := start; i > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
		if !IsCaseIgnorable(r) {
			before = IsCased(r)
			break
		}
	}
	if !before {
		return false
	}
	for i := end; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if !IsCaseIgnorable(r) {
			return !IsCased(r)
		}
	}
	return true
}

// IsCased is the Unicode Cased property: Lowercase, Uppercase or Lt.
func IsCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// IsCaseIgnorable is the Unicode Case_Ignorable property: Mn, Me, Cf, Lm,
// Sk, and the Word_Break classes MidLetter, MidNumLet and Single_Quote.
func IsCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024,
		0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
