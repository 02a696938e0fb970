package tokenizer

import (
	"compress/gzip"
	"encoding/json"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFirstIDsMatchWholeWord checks the prefix encoding against BPE of the
// whole word on random words over small alphabets (where merges chain the
// most) and on repeated patterns.
func TestFirstIDsMatchWholeWord(t *testing.T) {
	tok := Default()
	r := rand.New(rand.NewSource(7))
	alphabets := []string{"abcdefghijklmnopqrstuvwxyz", "ab", "aeiou", "est", "!?.-_*", "01", "ぁあいぃう"}
	var words []string
	for _, a := range alphabets {
		letters := []rune(a)
		for range 4 {
			var b strings.Builder
			for b.Len() < 6000+r.Intn(6000) {
				b.WriteRune(letters[r.Intn(len(letters))])
			}
			words = append(words, b.String())
		}
	}
	for _, p := range []string{"a", "ab", "aab", "photo", "the", "xyzzy", "ing"} {
		words = append(words, strings.Repeat(p, 9000/len(p)))
	}
	settled := 0
	for _, w := range words {
		full := tok.bpe.appendIDs(nil, w)
		for _, need := range []int{1, 10, 75} {
			ids, ok := tok.bpe.firstIDs(w, need)
			if !ok {
				continue
			}
			settled++
			require.GreaterOrEqual(t, len(ids), need)
			require.Equal(t, full[:need], ids[:need], "word %.20q… need %d", w, need)
		}
	}
	// The prefix must settle for (nearly) all of them, or the bound is moot.
	assert.GreaterOrEqual(t, settled, 3*len(words)*9/10)
}

// TestLongWordsMatchReference compares Tokenize on words of 5 KB to 10 MB
// with rows longword_ref.py computed by BPE of the whole word.
func TestLongWordsMatchReference(t *testing.T) {
	f, err := os.Open("testdata/longwords.json.gz")
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var cases []struct {
		Word    string  `json:"word"`
		Pattern string  `json:"pattern"`
		Bytes   int     `json:"bytes"`
		Tokens  []int32 `json:"tokens"`
	}
	require.NoError(t, json.NewDecoder(zr).Decode(&cases))
	require.NotEmpty(t, cases)
	tok := Default()
	for _, c := range cases {
		w := c.Word
		if w == "" {
			w = strings.Repeat(c.Pattern, c.Bytes/len(c.Pattern))
		}
		start := time.Now()
		got := tok.Tokenize(w, ContextLength)
		elapsed := time.Since(start)
		assert.Equal(t, c.Tokens, got, "%d-byte word %.20q…", len(w), w)
		// Generous for a shared CI machine; docs/SECURITY.md has the
		// measured time.
		assert.Less(t, elapsed, 5*time.Second, "%d-byte word", len(w))
	}
}
