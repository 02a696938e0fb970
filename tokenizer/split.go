package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// splitter yields the matches of CLIP's pre-tokenizer pattern, as
// regex.findall(pat, text) with the Python regex module and IGNORECASE:
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// Alternatives are tried in order at each position; where none matches
// (whitespace, and U+0345, which case-insensitively is neither a letter nor
// outside the letters) findall moves on by one character.
type splitter struct {
	s string
	i int
}

type charClass uint8

const (
	classNone   charClass = iota // \s and U+0345: matched by no alternative
	classLetter                  // \p{L}
	classNumber                  // \p{N}
	classOther                   // [^\s\p{L}\p{N}]
)

func classify(r rune) charClass {
	switch {
	case r < utf8.RuneSelf:
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
			return classLetter
		case '0' <= r && r <= '9':
			return classNumber
		case isRegexSpace(r):
			return classNone
		}
		return classOther
	case isRegexSpace(r), r == 0x345:
		// U+0345 COMBINING GREEK YPOGEGRAMMENI case-folds to the letter ι,
		// so with IGNORECASE [\p{L}] does not match it and neither does
		// the negated class.
		return classNone
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

var contractions = [...]string{"s", "t", "re", "ve", "m", "ll", "d"}

// next returns the next piece, or false at the end of the text.
func (p *splitter) next() (string, bool) {
	s := p.s
	for p.i < len(s) {
		start := p.i
		r, size := utf8.DecodeRuneInString(s[start:])
		switch r {
		case '<':
			if n := foldPrefix(s[start:], sotText); n > 0 {
				p.i += n
				return s[start:p.i], true
			}
			if n := foldPrefix(s[start:], eotText); n > 0 {
				p.i += n
				return s[start:p.i], true
			}
		case '\'':
			for _, c := range contractions {
				if n := foldPrefix(s[start+1:], c); n > 0 {
					p.i += 1 + n
					return s[start:p.i], true
				}
			}
		}
		class := classify(r)
		p.i += size
		switch class {
		case classNone:
			continue
		case classNumber:
			return s[start:p.i], true
		}
		for p.i < len(s) {
			r, size := utf8.DecodeRuneInString(s[p.i:])
			if classify(r) != class {
				break
			}
			p.i += size
		}
		return s[start:p.i], true
	}
	return "", false
}

// foldPrefix reports how many bytes of s match the ASCII pattern pat under
// simple case folding (as the regex module's IGNORECASE does: 's' also
// matches 'S' and 'ſ'), or 0 if s does not start with it.
func foldPrefix(s, pat string) int {
	i := 0
	for j := 0; j < len(pat); j++ {
		if i >= len(s) {
			return 0
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !foldEqual(r, rune(pat[j])) {
			return 0
		}
		i += size
	}
	return i
}

// foldEqual reports whether r is in the case-folding orbit of c.
func foldEqual(r, c rune) bool {
	if r == c {
		return true
	}
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}
