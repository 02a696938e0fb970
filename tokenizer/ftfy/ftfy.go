// Package ftfy is python-ftfy 6.3's fix_text with its default configuration,
// the text repair OpenAI's CLIP tokenizer runs on every caption.
//
// FixText splits text into segments as ftfy does (after each "\n", and at
// most MaxDecodeLength code points) and repeats these fixes on each segment,
// in ftfy's order, until a whole round changes nothing:
//
//   - unescape_html: HTML entities ending in ";" (named, upper-case forms of
//     common lower-case names, decimal, hexadecimal), skipped from the first
//     segment that contains "<" on;
//   - fix_encoding: mojibake repair. While the text is not ASCII and the
//     badness heuristic finds a suspicious sequence, it is encoded in each
//     of latin-1, sloppy-windows-1252, -1251, -1250, -1253, -1254, -1257,
//     iso-8859-2, macroman and cp437 that can hold it, with restore_byte_a0
//     and (for the sloppy codecs) replace_lossy_sequences applied to the
//     bytes, and decoded as UTF-8 (or ftfy's utf-8-variants: CESU-8 pairs
//     and the two-byte NUL); failing that, decode_inconsistent_utf8 fixes
//     embedded mojibake, Latin-1 text is re-read as Windows-1252, and C1
//     controls are replaced;
//   - fix_c1_controls, fix_latin_ligatures, fix_character_width,
//     uncurl_quotes, fix_line_breaks, remove_terminal_escapes,
//     remove_control_chars, and NFC normalization.
//
// ftfy's fix_surrogates has nothing to do on Go strings: they cannot hold
// surrogate code points, and no step here produces one. Input that is not
// valid UTF-8 is read with each invalid byte as U+FFFD.
//
// The tables (codecs, entities, character classes, the badness expression)
// are generated from ftfy's own data by tools/ftfy/gen_tables.py. Where
// Go's Unicode data (Unicode 15) and Python 3.11's (Unicode 14) differ —
// NFC of characters new in Unicode 15, and the digits that may appear in a
// terminal escape — the Go side applies.
package ftfy

import (
	"strings"
	"unicode/utf8"
)

// MaxDecodeLength is ftfy's default max_decode_length: the most code points
// FixText fixes as one segment when there is no line break sooner.
const MaxDecodeLength = 1_000_000

// FixText is ftfy.fix_text(text) with ftfy 6.3's default configuration.
func FixText(text string) string {
	if isClean(text) {
		return text
	}
	if !utf8.ValidString(text) {
		text = string([]rune(text)) // each invalid byte becomes U+FFFD
	}
	if end := segmentEnd(text, 0); end == len(text) {
		return fixSegment(text, strings.IndexByte(text, '<') < 0)
	}
	var out strings.Builder
	out.Grow(len(text))
	unescape := true
	for pos := 0; pos < len(text); {
		end := segmentEnd(text, pos)
		seg := text[pos:end]
		if unescape && strings.IndexByte(seg, '<') >= 0 {
			unescape = false // ftfy keeps entities from here on
		}
		out.WriteString(fixSegment(seg, unescape))
		pos = end
	}
	return out.String()
}

// segmentEnd returns the end of the segment that starts at text[pos:]: just
// after the next "\n", but at most MaxDecodeLength code points on.
func segmentEnd(text string, pos int) int {
	end := len(text)
	if i := strings.IndexByte(text[pos:], '\n'); i >= 0 {
		end = pos + i + 1
	}
	if end-pos <= MaxDecodeLength {
		return end // fewer bytes than the limit: fewer code points too
	}
	n := 0
	for i := pos; i < end; {
		if n == MaxDecodeLength {
			return i
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
		n++
	}
	return end
}

// isClean reports whether every fix leaves text unchanged because it is
// ASCII without "&", escapes or control characters other than tab, newline
// and form feed.
func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if !cleanByte[s[i]] {
			return false
		}
	}
	return true
}

// cleanByte marks the bytes of text that FixText returns as it is.
var cleanByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7F; c++ {
		t[c] = c != '&'
	}
	t['\t'], t['\n'], t['\f'] = true, true, true
	return t
}()

// needsCharFixes reports whether any of the per-character fixers after
// fix_encoding (C1 controls, ligatures, width, quotes, line breaks,
// terminal escapes, control characters) can change text.
func needsCharFixes(text string) bool {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if c == 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\f') {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r <= 0x9F, // C1 controls, U+0085
			0x132 <= r && r <= 0x1F3, r == 0x2BC, // ligatures, apostrophe
			0x2018 <= r && r <= 0x201F, r == 0x2028, r == 0x2029, // quotes, breaks
			0x206A <= r && r <= 0x206F, r == 0x3000, 0xFB00 <= r && r <= 0xFB06,
			r == 0xFEFF, 0xFF01 <= r && r <= 0xFFEF, 0xFFF9 <= r && r <= 0xFFFC:
			return true
		}
	}
	return false
}

// fixSegment is ftfy's fix_and_explain loop without explanations: every
// fixer in order, repeated until a whole round changes nothing.
func fixSegment(text string, unescape bool) string {
	for {
		orig := text
		if unescape {
			text = unescapeHTML(text)
		}
		text = fixEncoding(text)
		if needsCharFixes(text) {
			text = fixC1Controls(text)
			text = fixLatinLigatures(text)
			text = fixCharacterWidth(text)
			text = uncurlQuotes(text)
			text = fixLineBreaks(text)
			text = removeTerminalEscapes(text)
			text = removeControlChars(text)
		}
		if !isASCII(text) {
			text = NFC(text)
		}
		if text == orig {
			return text
		}
	}
}
