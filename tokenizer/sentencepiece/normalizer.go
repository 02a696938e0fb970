package sentencepiece

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/clipinfer/clipinfer/internal/bytetrie"
)

// spaceSymbol (U+2581 LOWER ONE EIGHTH BLOCK) stands for a space in pieces.
const spaceSymbol = "\u2581"

// charsMap is a decoded precompiled_charsmap: a darts-clone double-array
// trie over the UTF-8 source strings of the normalisation rules, whose values
// are offsets of NUL-terminated replacement strings in normalized. The
// sentencepiece trainer compiles every rule set (nmt_nfkc, nfkc_cf, a
// custom TSV) into this form, so one lookup serves them all.
type charsMap struct {
	units      []uint32
	normalized string
}

// parseCharsMap decodes <uint32 trie size><trie units><normalized strings>
// (little-endian), as sentencepiece's DecodePrecompiledCharsMap does.
func parseCharsMap(blob []byte) (*charsMap, error) {
	if len(blob) <= 4 {
		return nil, fmt.Errorf("sentencepiece: precompiled_charsmap of %d bytes is broken", len(blob))
	}
	n := binary.LittleEndian.Uint32(blob)
	if uint64(n) >= uint64(len(blob)) || uint64(n) > uint64(len(blob)-4) {
		return nil, fmt.Errorf("sentencepiece: precompiled_charsmap trie of %d bytes exceeds its %d-byte blob", n, len(blob))
	}
	trie := blob[4 : 4+n]
	units := make([]uint32, len(trie)/4)
	for i := range units {
		units[i] = binary.LittleEndian.Uint32(trie[4*i:])
	}
	if len(units) == 0 {
		return nil, fmt.Errorf("sentencepiece: precompiled_charsmap has an empty trie")
	}
	return &charsMap{units: units, normalized: string(blob[4+n:])}, nil
}

// maxRuleBytes bounds the source of a normalisation rule. The rule sets
// sentencepiece compiles have sources of a few code points; the bound
// keeps a crafted map whose trie never ends from making normalisation
// quadratic in the text.
const maxRuleBytes = 256

// longest returns the replacement for the longest rule whose source is a
// prefix of s and that source's length, or n == 0 when no rule applies.
// It walks the double array as darts-clone's commonPrefixSearch does; a
// transition or value outside the arrays ends the walk (a well-formed map
// never has one), so a corrupt map cannot read out of bounds.
func (c *charsMap) longest(s string) (repl string, n int) {
	units := c.units
	pos := uint32(0)
	u := units[0]
	pos ^= unitOffset(u)
	for i := 0; i < len(s) && i < maxRuleBytes; i++ {
		b := uint32(s[i])
		pos ^= b
		if pos >= uint32(len(units)) {
			break
		}
		u = units[pos]
		if u&(1<<31|0xff) != b { // label
			break
		}
		pos ^= unitOffset(u)
		if (u>>8)&1 == 1 { // has a leaf
			if pos >= uint32(len(units)) {
				break
			}
			v := units[pos] & (1<<31 - 1)
			if r, ok := c.replacement(v); ok {
				repl, n = r, i+1
			}
		}
	}
	return repl, n
}

func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// maxReplacementBytes bounds a rule's replacement (the longest NFKC
// expansion, U+FDFA, is 18 code points), so that a crafted map without
// terminators cannot make each lookup scan the whole blob.
const maxReplacementBytes = 1024

// replacement returns the NUL-terminated string at offset v.
func (c *charsMap) replacement(v uint32) (string, bool) {
	if uint64(v) >= uint64(len(c.normalized)) {
		return "", false
	}
	rest := c.normalized[v:]
	end := strings.IndexByte(rest[:min(len(rest), maxReplacementBytes+1)], 0)
	if end < 0 {
		if len(rest) > maxReplacementBytes {
			return "", false
		}
		end = len(rest)
	}
	return rest[:end], true
}

// normalizer applies a NormalizerSpec as sentencepiece's Normalizer does.
type normalizer struct {
	spec normalizerSpec
	// suffix puts the dummy space after the text (treat_whitespace_as_suffix).
	suffix bool
	chars  *charsMap
	// user holds the user-defined pieces, which pass through unnormalised.
	user *bytetrie.Trie
}

// prefix normalises the first character (or rule source, or user-defined
// piece) of s, returning its replacement and how many bytes of s it consumed.
func (n *normalizer) prefix(s string) (string, int) {
	if n.user != nil {
		if l := n.user.LongestPrefix(s); l > 0 {
			return s[:l], l
		}
	}
	if n.chars != nil {
		if r, l := n.chars.longest(s); l > 0 {
			return r, l
		}
	}
	l, ok := decodeUTF8(s)
	if !ok {
		// A malformed byte becomes U+FFFD and consumes one byte.
		return "\uFFFD", 1
	}
	return s[:l], l
}

// normalize returns the normalised text. The work is linear in len(text):
// every step consumes at least one input byte, a rule lookup reads at most
// the rule's source length, and the output grows by a bounded replacement.
func (n *normalizer) normalize(text string) string {
	if text == "" {
		return ""
	}
	spec := &n.spec
	if spec.removeExtraWhitespaces {
		for text != "" {
			r, l := n.prefix(text)
			if r != " " {
				break
			}
			text = text[l:]
		}
	}
	if text == "" {
		return ""
	}
	var out strings.Builder
	out.Grow(len(text) * 3)
	addSpace := func() {
		if spec.escapeWhitespaces {
			out.WriteString(spaceSymbol)
		} else {
			out.WriteByte(' ')
		}
	}
	if !n.suffix && spec.addDummyPrefix {
		addSpace()
	}
	prevSpace := spec.removeExtraWhitespaces
	for text != "" {
		r, l := n.prefix(text)
		for prevSpace && strings.HasPrefix(r, " ") {
			r = r[1:]
		}
		if r != "" {
			for i := 0; i < len(r); i++ {
				if spec.escapeWhitespaces && r[i] == ' ' {
					out.WriteString(spaceSymbol)
				} else {
					out.WriteByte(r[i])
				}
			}
			prevSpace = strings.HasSuffix(r, " ")
		}
		text = text[l:]
		if !spec.removeExtraWhitespaces {
			prevSpace = false
		}
	}
	s := out.String()
	if spec.removeExtraWhitespaces {
		space := " "
		if spec.escapeWhitespaces {
			space = spaceSymbol
		}
		for strings.HasSuffix(s, space) {
			s = s[:len(s)-len(space)]
		}
	}
	if n.suffix && spec.addDummyPrefix {
		if spec.escapeWhitespaces {
			s += spaceSymbol
		} else {
			s += " "
		}
	}
	return s
}

// oneCharLen is the length of the UTF-8 sequence that starts with byte b,
// judged by its lead byte alone as sentencepiece's OneCharLen does.
func oneCharLen(b byte) int {
	return int("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x02\x02\x03\x04"[b>>4])
}

// decodeUTF8 reports the length of the character at the start of s and
// whether it is valid UTF-8, with sentencepiece's rules (surrogates and
// overlong forms are invalid; a literal U+FFFD is valid).
func decodeUTF8(s string) (int, bool) {
	b0 := s[0]
	trail := func(b byte) bool { return b&0xc0 == 0x80 }
	switch {
	case b0 < 0x80:
		return 1, true
	case len(s) >= 2 && b0&0xe0 == 0xc0:
		cp := rune(b0&0x1f)<<6 | rune(s[1]&0x3f)
		if trail(s[1]) && cp >= 0x80 {
			return 2, true
		}
	case len(s) >= 3 && b0&0xf0 == 0xe0:
		cp := rune(b0&0x0f)<<12 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f)
		if trail(s[1]) && trail(s[2]) && cp >= 0x800 && (cp < 0xd800 || cp >= 0xe000) {
			return 3, true
		}
	case len(s) >= 4 && b0&0xf8 == 0xf0:
		cp := rune(b0&0x07)<<18 | rune(s[1]&0x3f)<<12 | rune(s[2]&0x3f)<<6 | rune(s[3]&0x3f)
		if trail(s[1]) && trail(s[2]) && trail(s[3]) && cp >= 0x10000 && cp <= 0x10ffff {
			return 4, true
		}
	}
	return 1, false
}
