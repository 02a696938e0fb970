package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// Seeds beyond the committed corpus in testdata/fuzz/FuzzTokenize.
var fuzzSeeds = []string{
	"", " ", "a photo of a cat", "IT'S <|endoftext|> &amp;lt;",
	"z\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030b\u030c\u030d\u030e\u030f\u0310\u0311\u0312\u0313\u0314\u0315\u0316\u0317\u0318\u0319\u031a\u031b\u031c\u031d\u031e\u031f\u0320",
	"ΟΔΟΣ İstanbul Straße", "👨\u200d👩\u200d👧 ﬁ ＡＢＣ", "\xff\xfe invalid \xe2\x82",
	"&#x80;&#0;&notin&#99999999999;", "\r\n\x00\u2028\u0085",
}

// FuzzTokenize checks the shape of every row and that Tokenize (which stops
// early) agrees with the truncated full Encode.
func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, 77)
	}
	tok := Default()
	f.Fuzz(func(t *testing.T, text string, n int) {
		ctx := 2 + int(uint(n)%200)
		row := tok.Tokenize(text, ctx)
		require.Len(t, row, ctx)
		require.Equal(t, tok.SOT(), row[0])
		require.Contains(t, row, tok.EOT())
		for _, id := range row {
			require.True(t, id >= 0 && int(id) < tok.VocabSize(), "id %d", id)
		}
		ids := tok.Encode(text)
		want := make([]int32, ctx)
		want[0] = tok.SOT()
		k := copy(want[1:ctx-1], ids)
		want[1+k] = tok.EOT()
		require.Equal(t, want, row)
		require.True(t, utf8.ValidString(tok.Decode(ids)))
	})
}

// FuzzNew feeds arbitrary merges and vocab.json text to New: an error or a
// working tokenizer, never a panic.
func FuzzNew(f *testing.F) {
	f.Add([]byte("#version: 0.2\na b\nab c</w>\n"), []byte(nil), "abc ab")
	f.Add([]byte("#v\ni n\n"), []byte(`{"a": 1}`), "in")
	f.Add([]byte("x"), []byte("{"), "")
	f.Fuzz(func(t *testing.T, merges, vocab []byte, text string) {
		if len(merges) > 4096 || len(vocab) > 4096 {
			return
		}
		tok, err := New(merges, vocab)
		if err != nil {
			return
		}
		for _, id := range tok.Tokenize(text, 16) {
			require.True(t, id >= 0 && int(id) < tok.VocabSize())
		}
		tok.Decode(tok.Encode(text))
	})
}

// naiveBPE is SimpleTokenizer.bpe written plainly: merge every occurrence
// of the lowest-ranked adjacent pair, left to right, until none is ranked.
func naiveBPE(t *bpeTable, word string) []int32 {
	syms := make([]int32, len(word))
	for i := range len(word) {
		syms[i] = int32(word[i])
	}
	syms[len(syms)-1] += endWordSym
	for len(syms) > 1 {
		best, found := merge{}, false
		for i := 0; i+1 < len(syms); i++ {
			if m, ok := t.merges[pairKey(syms[i], syms[i+1])]; ok && (!found || m.rank < best.rank) {
				best, found = m, true
			}
		}
		if !found {
			break
		}
		out := syms[:0:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) {
				if m, ok := t.merges[pairKey(syms[i], syms[i+1])]; ok && m.rank == best.rank {
					out = append(out, m.result)
					i++
					continue
				}
			}
			out = append(out, syms[i])
		}
		syms = out
	}
	ids := make([]int32, len(syms))
	for i, s := range syms {
		ids[i] = t.symVocab[s]
	}
	return ids
}

func FuzzBPEMatchesNaive(f *testing.F) {
	for _, s := range []string{"a", "photo", "aaaaaaa", "abababab", "supercalifragilistic", "日本語", "\xff\x00"} {
		f.Add(s)
	}
	tok := Default()
	f.Fuzz(func(t *testing.T, word string) {
		if word == "" || len(word) > 300 {
			return
		}
		require.Equal(t, naiveBPE(&tok.bpe, word), tok.bpe.appendIDs(nil, word))
	})
}

// Random small merge lists over a three-letter alphabet, with merges of
// built symbols ranked before the merges that build them. The heap BPE must
// still follow the reference loop (this is what the held-back pairs in
// appendIDs are for).
func TestBPEMatchesNaiveOnRandomMerges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		symbols := []string{"a", "b", "c", "a</w>", "b</w>", "c</w>"}
		var lines []string
		seen := map[string]bool{}
		for len(lines) < 2+rng.IntN(12) {
			x, y := symbols[rng.IntN(len(symbols))], symbols[rng.IntN(len(symbols))]
			if strings.HasSuffix(x, endWord) || seen[x+" "+y] {
				continue
			}
			seen[x+" "+y] = true
			lines = append(lines, x+" "+y)
			symbols = append(symbols, x+y)
		}
		rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		tok, err := New([]byte("#v\n"+strings.Join(lines, "\n")), nil)
		require.NoError(t, err)
		for range 30 {
			var w strings.Builder
			for range 1 + rng.IntN(24) {
				w.WriteByte("abc"[rng.IntN(3)])
			}
			word := w.String()
			require.Equal(t, naiveBPE(&tok.bpe, word), tok.bpe.appendIDs(nil, word),
				fmt.Sprintf("trial %d merges %q word %q", trial, lines, word))
		}
	}
}
