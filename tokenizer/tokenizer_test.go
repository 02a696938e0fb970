package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fixtures are written by tools/reference/tokenizer_ref.py.

type fixtureCase struct {
	Text   string  `json:"text"`
	Encode []int32 `json:"encode"`
	Tokens []int32 `json:"tokens"`
}

type fixtureFile struct {
	ContextLength int           `json:"context_length"`
	Cases         []fixtureCase `json:"cases"`
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		data, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	return data
}

func loadCases(t testing.TB, name string) fixtureFile {
	t.Helper()
	var f fixtureFile
	require.NoError(t, json.Unmarshal(readTestdata(t, name), &f))
	require.NotEmpty(t, f.Cases)
	return f
}

// checkCases compares Encode and Tokenize with the reference and returns
// how many cases matched.
func checkCases(t *testing.T, tok *Tokenizer, f fixtureFile) int {
	t.Helper()
	ok := 0
	for i, c := range f.Cases {
		enc := tok.Encode(c.Text)
		row := tok.Tokenize(c.Text, f.ContextLength)
		if assert.Equal(t, c.Encode, nonNil(enc), "case %d Encode(%q)", i, c.Text) &&
			assert.Equal(t, c.Tokens, row, "case %d Tokenize(%q)", i, c.Text) {
			ok++
		}
	}
	return ok
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

func TestCuratedMatchesReference(t *testing.T) {
	f := loadCases(t, "tokens.json")
	require.GreaterOrEqual(t, len(f.Cases), 300)
	ok := checkCases(t, Default(), f)
	t.Logf("curated: %d/%d strings match the Python reference", ok, len(f.Cases))
}

func TestCorpusMatchesReference(t *testing.T) {
	f := loadCases(t, "corpus.json.gz")
	ok := checkCases(t, Default(), f)
	t.Logf("random corpus: %d/%d strings match the Python reference", ok, len(f.Cases))
}

type decodeFixture struct {
	Decode []struct {
		IDs  []int32 `json:"ids"`
		Text string  `json:"text"`
	} `json:"decode"`
	ShortContext []struct {
		Text          string  `json:"text"`
		ContextLength int     `json:"context_length"`
		Tokens        []int32 `json:"tokens"`
	} `json:"short_context"`
}

func loadDecodeFixture(t *testing.T) decodeFixture {
	var f decodeFixture
	require.NoError(t, json.Unmarshal(readTestdata(t, "decode.json"), &f))
	require.NotEmpty(t, f.Decode)
	require.NotEmpty(t, f.ShortContext)
	return f
}

func TestDecodeMatchesReference(t *testing.T) {
	tok := Default()
	for i, c := range loadDecodeFixture(t).Decode {
		assert.Equal(t, c.Text, tok.Decode(c.IDs), "case %d ids %v", i, c.IDs)
	}
}

func TestShortContextMatchesReference(t *testing.T) {
	tok := Default()
	for _, c := range loadDecodeFixture(t).ShortContext {
		assert.Equal(t, c.Tokens, tok.Tokenize(c.Text, c.ContextLength), "%q at %d", c.Text, c.ContextLength)
	}
}

func TestTokenizeNonPositiveContext(t *testing.T) {
	for _, n := range []int{0, -1, -77} {
		assert.Empty(t, Default().Tokenize("a photo", n))
	}
}

func TestDecodeUnknownIDsSkipped(t *testing.T) {
	tok := Default()
	cat := tok.Encode("cat")
	ids := append([]int32{-5, int32(tok.VocabSize()), 1 << 30}, cat...)
	assert.Equal(t, tok.Decode(cat), tok.Decode(ids))
	assert.Equal(t, "cat ", tok.Decode(cat))
}

func TestDefaultVocabulary(t *testing.T) {
	tok := Default()
	assert.Same(t, tok, Default())
	assert.Equal(t, 49408, tok.VocabSize())
	assert.Equal(t, int32(49406), tok.SOT())
	assert.Equal(t, int32(49407), tok.EOT())

	m := DefaultMerges()
	lines := strings.Split(strings.TrimSuffix(string(m), "\n"), "\n")
	require.Len(t, lines, NumMerges+1)
	assert.Equal(t, "\"bpe_simple_vocab_16e6.txt#version: 0.2", lines[0])
	assert.Equal(t, "i n", lines[1])
	assert.Equal(t, "jeky ll</w>", lines[NumMerges])
	m[0] = 'X' // the caller owns the copy
	assert.Equal(t, byte('"'), DefaultMerges()[0])
}

// loadHF reads the Hugging Face style files the reference derives from the
// same BPE.
func loadHF(t testing.TB) (merges, vocab []byte) {
	return readTestdata(t, "hf/merges.txt.gz"), readTestdata(t, "hf/vocab.json.gz")
}

func TestNewHuggingFaceFilesGiveIdenticalIDs(t *testing.T) {
	merges, vocab := loadHF(t)
	require.True(t, bytes.HasPrefix(merges, []byte("#version: 0.2\n")))
	hf, err := New(merges, vocab)
	require.NoError(t, err)
	def := Default()
	assert.Equal(t, def.VocabSize(), hf.VocabSize())
	assert.Equal(t, def.SOT(), hf.SOT())
	assert.Equal(t, def.EOT(), hf.EOT())
	n := 0
	for _, name := range []string{"tokens.json", "corpus.json.gz"} {
		n += checkCases(t, hf, loadCases(t, name))
	}
	t.Logf("vocab.json + merges.txt: %d strings match the Python reference", n)
}

// A vocab.json with other ids must be followed: permute the derived ids and
// check that every id maps through the permutation.
func TestNewVocabJSONIDsAreUsed(t *testing.T) {
	merges, vocab := loadHF(t)
	var words map[string]int
	require.NoError(t, json.Unmarshal(vocab, &words))
	size := len(words)
	perm := func(id int32) int32 { return int32((int(id)*7919 + 13) % size) } // 7919 is prime, size is not a multiple
	shuffled := make(map[string]int32, size)
	for w, id := range words {
		shuffled[w] = perm(int32(id))
	}
	data, err := json.Marshal(shuffled)
	require.NoError(t, err)
	tok, err := New(merges, data)
	require.NoError(t, err)
	def := Default()
	assert.Equal(t, perm(def.SOT()), tok.SOT())
	assert.Equal(t, perm(def.EOT()), tok.EOT())
	for _, c := range loadCases(t, "tokens.json").Cases[:100] {
		want := def.Encode(c.Text)
		got := tok.Encode(c.Text)
		require.Len(t, got, len(want))
		for i := range want {
			assert.Equal(t, perm(want[i]), got[i], "%q", c.Text)
		}
		assert.Equal(t, def.Decode(want), tok.Decode(got))
	}
}

func TestNewFromDefaultMerges(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(defaultBPE))
	require.NoError(t, err)
	whole, err := io.ReadAll(zr) // all 262,145 lines; only the first NumMerges count
	require.NoError(t, err)
	for name, merges := range map[string][]byte{"DefaultMerges": DefaultMerges(), "whole file": whole} {
		tok, err := New(merges, nil)
		require.NoError(t, err, name)
		assert.Equal(t, Default().VocabSize(), tok.VocabSize(), name)
		for _, text := range []string{"a photo of a cat", "jekyll habib", "supercalifragilistic"} {
			assert.Equal(t, Default().Tokenize(text, 77), tok.Tokenize(text, 77), name)
		}
	}
}

// Expected values from tools/reference/tokenizer_ref.py's ClipTokenizer
// (SimpleTokenizer semantics) on the same merges text.
func TestNewSmallMerges(t *testing.T) {
	tests := []struct {
		name      string
		merges    string
		vocabSize int
		sot, eot  int32
		text      string
		ids       []int32
		decoded   string
	}{
		{
			// Trailing blank lines each take an id (for the empty word).
			name:      "three merges and blank lines",
			merges:    "#version: 0.2\na b\nab c</w>\nq ZZ\r\n\n\n",
			vocabSize: 520, sot: 518, eot: 519,
			text: "abc ab", ids: []int32{513, 64, 321}, decoded: "abc ab ",
		},
		{
			name:      "blank line between merges",
			merges:    "#v\na b\n\nb c\n",
			vocabSize: 518, sot: 516, eot: 517,
			text: "abc bc", ids: []int32{512, 322, 65, 322}, decoded: "abc bc ",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := New([]byte(tc.merges), nil)
			require.NoError(t, err)
			assert.Equal(t, tc.vocabSize, tok.VocabSize())
			assert.Equal(t, tc.sot, tok.SOT())
			assert.Equal(t, tc.eot, tok.EOT())
			ids := tok.Encode(tc.text)
			assert.Equal(t, tc.ids, ids)
			assert.Equal(t, tc.decoded, tok.Decode(ids))
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		merges  string
		vocab   string
		wantErr string
	}{
		{"three symbols", "#v\na b c\n", "", "line 2: want 2 symbols, got 3"},
		{"one symbol", "#v\na b\nab\n", "", "line 3: want 2 symbols, got 1"},
		{"invalid UTF-8", "#v\na \xff\n", "", "not valid UTF-8"},
		{"bad json", "#v\n", "{", "vocab.json: decode"},
		{"json not an object", "#v\n", "[1,2]", "vocab.json: decode"},
		{"negative id", "#v\n", `{"a": -1}`, "out of range"},
		{"huge id", "#v\n", `{"a": 99999999999}`, "out of range"},
		{"fractional id", "#v\n", `{"a": 1.5}`, "vocab.json: decode"},
		{"missing byte symbol", "#v\n", `{"a": 1}`, "no token \"\u0100\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New([]byte(tc.merges), []byte(tc.vocab))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestNewVocabMissingPieces(t *testing.T) {
	base := map[string]int{}
	for i, b := range byteOrder {
		base[string(byteToRune[b])] = i
		base[string(byteToRune[b])+endWord] = 256 + i
	}
	withSpecial := func(extra map[string]int) []byte {
		m := map[string]int{sotText: 600, eotText: 601}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		data, err := json.Marshal(m)
		require.NoError(t, err)
		return data
	}
	_, err := New([]byte("#v\na b\n"), withSpecial(nil))
	assert.ErrorContains(t, err, `no token "ab"`)
	_, err = New([]byte("#v\na b\n"), withSpecial(map[string]int{"ab": 512}))
	assert.NoError(t, err)

	noEOT := map[string]int{sotText: 600}
	for k, v := range base {
		noEOT[k] = v
	}
	data, err := json.Marshal(noEOT)
	require.NoError(t, err)
	_, err = New([]byte("#v\n"), data)
	assert.ErrorContains(t, err, "no <|endoftext|>")
}

func TestLongWordIsFast(t *testing.T) {
	tok := Default()
	for _, word := range []string{
		strings.Repeat("a", 10000),
		strings.Repeat("ab", 5000),
		strings.Repeat("abcdefghijklmnopqrstuvwxyz", 400),
		strings.Repeat("日本", 2000),
	} {
		start := time.Now()
		ids := tok.Encode(word)
		elapsed := time.Since(start)
		require.NotEmpty(t, ids)
		// Generous bound: a quadratic merge loop takes seconds here.
		assert.Less(t, elapsed, 2*time.Second, "%d-byte word took %v", len(word), elapsed)
		// The BPE result must be a segmentation of the word.
		assert.Equal(t, word+" ", tok.Decode(ids))
	}
}

func TestTokenizeStopsEarly(t *testing.T) {
	tok := Default()
	long := strings.Repeat("a photo of a dog running in the park. ", 5000)
	row := tok.Tokenize(long, 77)
	assert.Equal(t, tok.Tokenize(long[:2000], 77), row)
	full := tok.Encode(long)
	assert.Greater(t, len(full), 40000)
	assert.Equal(t, full[:75], row[1:76])

	// Words after the first 75 ids are never run through BPE.
	fresh, err := New(DefaultMerges(), nil)
	require.NoError(t, err)
	fresh.Tokenize(strings.Repeat("a photo ", 100)+"zzqqxyzzy", 77)
	_, seen := fresh.cache.get("photo")
	assert.True(t, seen)
	_, seen = fresh.cache.get("zzqqxyzzy")
	assert.False(t, seen)
	fresh.Encode(strings.Repeat("a photo ", 100) + "zzqqxyzzy")
	_, seen = fresh.cache.get("zzqqxyzzy")
	assert.True(t, seen)
}

func TestConcurrentUse(t *testing.T) {
	tok := Default()
	f := loadCases(t, "tokens.json")
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range f.Cases {
				c := f.Cases[(i+g*37)%len(f.Cases)]
				if got := tok.Tokenize(c.Text, f.ContextLength); fmt.Sprint(got) != fmt.Sprint(c.Tokens) {
					errs <- c.Text
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent Tokenize(%q) differs", e)
	}
}

func TestWordCacheIsBounded(t *testing.T) {
	tok, err := New(DefaultMerges(), nil)
	require.NoError(t, err)
	for i := range maxCacheEntries * 2 {
		tok.Encode(fmt.Sprintf("w%dx", i))
	}
	tok.cache.mu.RLock()
	n := len(tok.cache.m)
	tok.cache.mu.RUnlock()
	assert.LessOrEqual(t, n, maxCacheEntries)
	assert.Positive(t, n)
	// Long words are not cached.
	tok.Encode(strings.Repeat("z", maxCachedWord+1))
	_, ok := tok.cache.get(strings.Repeat("z", maxCachedWord+1))
	assert.False(t, ok)
}

func BenchmarkTokenizeCaption(b *testing.B) {
	tok := Default()
	text := "a photo of a large red double-decker bus driving through London at night"
	tok.Tokenize(text, ContextLength)
	b.ReportAllocs()
	for b.Loop() {
		tok.Tokenize(text, ContextLength)
	}
}

// The words repeat, so after the first call they come from the cache.
func BenchmarkTokenize10000Chars(b *testing.B) {
	tok := Default()
	text := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 180)[:10000]
	b.ReportAllocs()
	for b.Loop() {
		tok.Tokenize(text, ContextLength)
	}
}

// A single 10,000-letter word: no cache, the heap BPE does all the work.
func BenchmarkEncode10000LetterWord(b *testing.B) {
	tok := Default()
	text := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 385)[:10000]
	b.ReportAllocs()
	for b.Loop() {
		tok.Encode(text)
	}
}

func BenchmarkTokenize10000LetterWord(b *testing.B) {
	tok := Default()
	text := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 385)[:10000]
	b.ReportAllocs()
	for b.Loop() {
		tok.Tokenize(text, ContextLength)
	}
}

func BenchmarkDefaultBuild(b *testing.B) {
	merges := DefaultMerges()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(merges, nil); err != nil {
			b.Fatal(err)
		}
	}
}
