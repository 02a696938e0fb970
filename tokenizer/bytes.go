package tokenizer

import "unicode/utf8"

// GPT-2's bytes_to_unicode: every byte gets a printable rune so that BPE
// symbols never contain whitespace or control characters. The printable
// Latin-1 bytes keep their own code point; the other 68 bytes get
// U+0100, U+0101, ... in byte order.
var (
	byteToRune [256]rune
	// byteOrder lists the bytes in bytes_to_unicode's order, which is the
	// order of the first 256 (and next 256) ids of the derived vocabulary.
	byteOrder [256]byte
	// runeToByte inverts byteToRune; -1 marks runes that are no byte symbol.
	runeToByte [256 + 68]int16
)

func init() {
	keep := func(b int) bool {
		return ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
	}
	for i := range runeToByte {
		runeToByte[i] = -1
	}
	n, extra := 0, 0
	for b := range 256 {
		if keep(b) {
			byteToRune[b] = rune(b)
			byteOrder[n] = byte(b)
			n++
		}
	}
	for b := range 256 {
		if !keep(b) {
			byteToRune[b] = rune(256 + extra)
			byteOrder[n] = byte(b)
			n++
			extra++
		}
	}
	for b, r := range byteToRune {
		runeToByte[r] = int16(b)
	}
}

// appendUnmapped appends the bytes a vocabulary word stands for. Runes that
// are no byte symbol (only possible in a foreign vocab.json) are kept as
// their UTF-8 encoding.
func appendUnmapped(out []byte, word string) []byte {
	for _, r := range word {
		if r >= 0 && int(r) < len(runeToByte) && runeToByte[r] >= 0 {
			out = append(out, byte(runeToByte[r]))
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

// decodeUTF8Replace decodes b like Python's bytes.decode("utf-8",
// errors="replace"): each maximal ill-formed subpart becomes one U+FFFD
// (Unicode's recommended practice, which Go's utf8.DecodeRune does not
// follow for truncated sequences).
func decodeUTF8Replace(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			out = append(out, c)
			i++
			continue
		}
		n, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case 0xC2 <= c && c <= 0xDF:
			n = 2
		case c == 0xE0:
			n, lo = 3, 0xA0
		case 0xE1 <= c && c <= 0xEC, c == 0xEE, c == 0xEF:
			n = 3
		case c == 0xED:
			n, hi = 3, 0x9F
		case c == 0xF0:
			n, lo = 4, 0x90
		case 0xF1 <= c && c <= 0xF3:
			n = 4
		case c == 0xF4:
			n, hi = 4, 0x8F
		}
		j := i + 1
		if n > 0 && j < len(b) && lo <= b[j] && b[j] <= hi {
			j++
			for j-i < n && j < len(b) && 0x80 <= b[j] && b[j] <= 0xBF {
				j++
			}
		}
		if n > 0 && j-i == n {
			out = append(out, b[i:j]...)
		} else {
			out = append(out, "\uFFFD"...)
		}
		i = j
	}
	return string(out)
}
