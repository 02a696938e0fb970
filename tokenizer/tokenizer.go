// Package tokenizer is CLIP's byte-level BPE text tokenizer.
//
// It reproduces OpenAI's clip/simple_tokenizer.py SimpleTokenizer together
// with clip.tokenize(texts, context_length, truncate=True), as
// docs/DESIGN.md §1.3 and docs/TOKENIZERS.md describe:
//
//  1. ftfy.fix_text with ftfy 6.3's default configuration (package
//     tokenizer/ftfy: HTML entities, terminal escapes, mojibake repair,
//     C1 controls, ligatures, character width, curly quotes, line breaks,
//     control characters, NFC);
//  2. Python's html.unescape applied twice, strip, whitespace runs collapsed
//     to one space, Python str.lower;
//  3. the split pattern
//     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//     (case-insensitive, as the Python regex module runs it), each piece
//     mapped through GPT-2's byte-to-unicode table and merged by BPE with
//     "</w>" on its last symbol;
//  4. [SOT] + ids + [EOT], truncated with the last id forced to EOT and
//     zero-padded to the context length.
//
// The default vocabulary (bpe_simple_vocab_16e6.txt.gz, MIT licence, OpenAI;
// see LICENSE-openai-clip) is embedded. A Tokenizer is safe for concurrent
// use.
package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // for the default BPE vocabulary
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

const (
	// NumMerges is how many merge lines after the header CLIP uses
	// (49152 - 256 - 2); later lines of a merges file are ignored.
	NumMerges = 49152 - 256 - 2
	// ContextLength is the context length of every released CLIP model.
	ContextLength = 77

	sotText = "<|startoftext|>"
	eotText = "<|endoftext|>"
	endWord = "</w>"

	// maxVocabID bounds ids read from a vocab.json.
	maxVocabID = 1 << 24
)

//go:embed bpe_simple_vocab_16e6.txt.gz
var defaultBPE []byte

// Tokenizer turns text into CLIP token ids. The zero value is not usable:
// get one from Default or New.
type Tokenizer struct {
	bpe       bpeTable
	sot, eot  int32
	vocabSize int
	cache     wordCache

	// decoder maps an id to the raw bytes of its token (nil if unknown).
	// The default tokenizer builds it on first use (Decode is rare).
	decoder     [][]byte
	decoderOnce sync.Once
	lazyDecoder func() [][]byte
}

var (
	defaultMerges = sync.OnceValue(func() []byte {
		m, err := readMergeLines(defaultBPE)
		if err != nil {
			panic(fmt.Sprintf("tokenizer: embedded BPE vocabulary: %v", err))
		}
		return m
	})
	defaultTokenizer = sync.OnceValue(func() *Tokenizer {
		t, err := decodeTable(defaultTable)
		if err != nil {
			panic(fmt.Sprintf("tokenizer: embedded table: %v", err))
		}
		t.lazyDecoder = func() [][]byte {
			full, err := New(defaultMerges(), nil)
			if err != nil {
				panic(fmt.Sprintf("tokenizer: embedded BPE vocabulary: %v", err))
			}
			return full.decoder
		}
		return t
	})
)

// Default returns the tokenizer of the embedded CLIP vocabulary (49408 ids).
// It is built on first use and shared.
func Default() *Tokenizer { return defaultTokenizer() }

// DefaultMerges returns the merges text the default tokenizer uses: the
// header line of bpe_simple_vocab_16e6.txt followed by its first NumMerges
// merge lines, each ending in "\n". The caller owns the returned slice.
func DefaultMerges() []byte { return bytes.Clone(defaultMerges()) }

// readMergeLines returns the header and the first NumMerges lines of a
// gzip-compressed merges file.
func readMergeLines(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("open gzip: %w", err)
	}
	defer zr.Close()
	br := bufio.NewReader(zr)
	var out bytes.Buffer
	for i := 0; i <= NumMerges; i++ {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("read line %d: %w", i+1, err)
		}
		out.Write(line)
	}
	return out.Bytes(), nil
}

// New builds a tokenizer from the text of a merges file and, optionally, a
// Hugging Face vocab.json.
//
// merges is the BPE merge list with a header line first, as in
// bpe_simple_vocab_16e6.txt or a Hugging Face merges.txt ("#version: 0.2");
// the header is skipped without being checked, and at most NumMerges lines
// after it are used (as both OpenAI and Hugging Face do). Each line must hold
// two symbols or be blank.
//
// If vocabJSON is empty, ids are derived as OpenAI does: the 256 byte
// symbols, the same with "</w>", one id per merge line, then
// <|startoftext|> and <|endoftext|>. Like SimpleTokenizer, this gives a
// blank line among the used lines (such as the final newline of a file with
// fewer than NumMerges merges) an id of its own, for the empty word.
//
// Otherwise ids come from the vocab.json object (token -> id), which must
// contain both special tokens, all 512 byte symbols and the result of every
// merge; Tokenizer.VocabSize is then its largest id plus one.
func New(merges []byte, vocabJSON []byte) (*Tokenizer, error) {
	pairs, err := parseMerges(merges)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: merges: %w", err)
	}
	var encoder map[string]int32
	vocabSize := 0
	if len(vocabJSON) == 0 {
		encoder, vocabSize = derivedVocab(pairs)
	} else {
		encoder, vocabSize, err = parseVocab(vocabJSON)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: vocab.json: %w", err)
		}
	}
	t := &Tokenizer{vocabSize: vocabSize}
	if err := t.bpe.build(pairs, encoder); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var ok bool
	if t.sot, ok = encoder[sotText]; !ok {
		return nil, fmt.Errorf("tokenizer: vocabulary has no %s", sotText)
	}
	if t.eot, ok = encoder[eotText]; !ok {
		return nil, fmt.Errorf("tokenizer: vocabulary has no %s", eotText)
	}
	// One backing array for all decoded tokens.
	total := 0
	for word := range encoder {
		total += len(word)
	}
	buf := make([]byte, 0, total)
	t.decoder = make([][]byte, vocabSize)
	for word, id := range encoder {
		start := len(buf)
		buf = appendUnmapped(buf, word)
		t.decoder[id] = buf[start:len(buf):len(buf)]
	}
	t.cache.m = make(map[string][]int32)
	return t, nil
}

// parseMerges returns the merge pairs in rank order.
func parseMerges(text []byte) ([][2]string, error) {
	if !utf8.Valid(text) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	lines := strings.SplitN(string(text), "\n", NumMerges+2)[1:] // skip the header
	if len(lines) > NumMerges {
		lines = lines[:NumMerges]
	}
	pairs := make([][2]string, len(lines))
	for i, line := range lines {
		a, b, n := splitFields(line)
		if n != 2 && n != 0 {
			return nil, fmt.Errorf("line %d: want 2 symbols, got %d", i+2, n)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// splitFields splits line at runs of whitespace as Python's str.split()
// does and returns the first two fields and the number of fields.
func splitFields(line string) (first, second string, n int) {
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		if isPySpace(r) {
			i += size
			continue
		}
		j := i
		for j < len(line) {
			r, size := utf8.DecodeRuneInString(line[j:])
			if isPySpace(r) {
				break
			}
			j += size
		}
		switch n {
		case 0:
			first = line[i:j]
		case 1:
			second = line[i:j]
		}
		n++
		i = j
	}
	return first, second, n
}

// derivedVocab builds OpenAI's vocabulary from the merges. As in Python's
// dict(zip(vocab, range(len(vocab)))), a word listed twice keeps its last
// id, and the size counts every entry.
func derivedVocab(pairs [][2]string) (map[string]int32, int) {
	words := make([]string, 0, 512+len(pairs)+2)
	for _, b := range byteOrder {
		words = append(words, string(byteToRune[b]))
	}
	for _, b := range byteOrder {
		words = append(words, string(byteToRune[b])+endWord)
	}
	for _, p := range pairs {
		words = append(words, p[0]+p[1])
	}
	words = append(words, sotText, eotText)
	enc := make(map[string]int32, len(words))
	for i, w := range words {
		enc[w] = int32(i)
	}
	return enc, len(words)
}

// parseVocab reads a vocab.json object. The vocabulary size is the largest
// id plus one.
func parseVocab(data []byte) (map[string]int32, int, error) {
	var raw map[string]int64
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, 0, fmt.Errorf("decode: %w", err)
	}
	enc := make(map[string]int32, len(raw))
	size := 0
	for w, id := range raw {
		if id < 0 || id >= maxVocabID {
			return nil, 0, fmt.Errorf("token %q: id %d out of range [0, %d)", w, id, maxVocabID)
		}
		enc[w] = int32(id)
		size = max(size, int(id)+1)
	}
	return enc, size, nil
}

// SOT returns the id of <|startoftext|>.
func (t *Tokenizer) SOT() int32 { return t.sot }

// EOT returns the id of <|endoftext|>.
func (t *Tokenizer) EOT() int32 { return t.eot }

// VocabSize returns the number of ids (every id is below it).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// Encode returns the BPE ids of text, without <|startoftext|> and
// <|endoftext|> around them (SimpleTokenizer.encode). Invalid UTF-8 bytes
// are read as U+FFFD.
func (t *Tokenizer) Encode(text string) []int32 {
	return t.encode(text, -1)
}

// Tokenize returns one row of clip.tokenize(text, contextLength,
// truncate=True): <|startoftext|>, the ids of text, <|endoftext|>, cut to
// contextLength ids with the last one forced to <|endoftext|>, then zero
// padded. It stops encoding as soon as enough ids exist. As in Python, a
// context length of 1 gives [EOT]; zero or less gives an empty row.
func (t *Tokenizer) Tokenize(text string, contextLength int) []int32 {
	if contextLength <= 0 {
		return []int32{}
	}
	row := make([]int32, contextLength)
	if contextLength == 1 {
		row[0] = t.eot
		return row
	}
	ids := t.encode(text, contextLength-2)
	row[0] = t.sot
	n := copy(row[1:contextLength-1], ids)
	row[1+n] = t.eot
	return row
}

// encode returns the ids of text, stopping once it has at least limit ids
// (limit < 0: no limit).
func (t *Tokenizer) encode(text string, limit int) []int32 {
	if limit == 0 {
		return nil
	}
	clean := normalize(text)
	n := len(clean)/3 + 1
	if limit >= 0 {
		n = min(n, limit+8)
	}
	ids := make([]int32, 0, n)
	sp := splitter{s: clean}
	for limit < 0 || len(ids) < limit {
		piece, ok := sp.next()
		if !ok {
			break
		}
		switch piece {
		case sotText:
			ids = append(ids, t.sot)
		case eotText:
			ids = append(ids, t.eot)
		default:
			need := -1
			if limit >= 0 {
				need = limit - len(ids)
			}
			ids = t.appendWordFirst(ids, piece, need)
		}
	}
	return ids
}

// Decode turns ids back into text as SimpleTokenizer.decode does: token
// bytes joined, decoded as UTF-8 with each ill-formed sequence replaced by
// U+FFFD (Python's errors="replace"), and every "</w>" turned into a space.
// Ids the vocabulary does not have are skipped (Python raises KeyError).
func (t *Tokenizer) Decode(ids []int32) string {
	if t.lazyDecoder != nil {
		t.decoderOnce.Do(func() { t.decoder = t.lazyDecoder() })
	}
	var raw []byte
	for _, id := range ids {
		if id >= 0 && int(id) < len(t.decoder) {
			raw = append(raw, t.decoder[id]...)
		}
	}
	return strings.ReplaceAll(decodeUTF8Replace(raw), endWord, " ")
}
