package ftfy

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// nfcSlow must agree with x/text's NFC on every single code point (one
// code point never reaches the stream-safe limit).
func TestNFCSlowAllCodePoints(t *testing.T) {
	for r := rune(0); r <= 0x10FFFF; r++ {
		if 0xD800 <= r && r <= 0xDFFF {
			continue
		}
		s := string(r)
		if norm.NFC.String(s) != s || norm.NFD.String(s) != s {
			require.Equal(t, norm.NFC.String(s), nfcSlow(s), "U+%04X", r)
		}
	}
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
	got := NFC(long)
	assert.NotContains(t, got, "\u034f", "no stream-safe grapheme joiner")
	assert.Contains(t, norm.NFC.String(long), "\u034f", "x/text inserts one (why nfcSlow exists)")
	assert.Equal(t, norm.NFD.String(got), norm.NFD.String(nfcSlow(got)))
	assert.False(t, hasLongNonStarterRun("abc\u0301\u0302 def"))
}
