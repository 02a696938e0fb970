// Package siglip is the text side of SigLIP and SigLIP 2 as Hugging Face
// transformers tokenizes it, on top of the SentencePiece model in
// tokenizer/sentencepiece.
//
// Two kinds are supported:
//
//   - "siglip": SiglipTokenizer (tokenization_siglip.py). The text gets a
//     leading "▁" (U+2581 in the text becomes a space), is lower-cased
//     character by character outside the special tokens (do_lower_case),
//     is split around the special tokens (which eat the whitespace beside
//     them), and every other part is canonicalised — ASCII punctuation
//     removed, whitespace runs collapsed to one space, the ends stripped —
//     and encoded with the model's dummy prefix turned off. "</s>" follows
//     the ids.
//   - "gemma": the Gemma SentencePiece tokenizer SigLIP 2 uses: the text is
//     split around the model's control pieces, every other part lower-cased
//     (Config.Lowercase, Python's str.lower) and encoded as the model says
//     (Gemma's model adds no dummy prefix and keeps whitespace), with
//     "<bos>" and "<eos>" added as configured (SigLIP 2's converted
//     checkpoints add "<eos>" only). SigLIP 2 was trained on lower-cased
//     text: transformers' Siglip2Tokenizer lower-cases with a normaliser,
//     and with the older GemmaTokenizer the documentation asks callers to
//     lower-case; ConfigFromHF turns Lowercase on for both.
//
// Both truncate to MaxLength ids, keeping the final special token, and pad
// with the pad id to exactly MaxLength, as
// tokenizer(text, padding="max_length", max_length=64, truncation=True)
// does.
package siglip

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/clipinfer/clipinfer/internal/bytetrie"
	"github.com/clipinfer/clipinfer/internal/pystr"
	"github.com/clipinfer/clipinfer/tokenizer/sentencepiece"
)

// Kinds of tokenizer.
const (
	KindSiglip = "siglip"
	KindGemma  = "gemma"
)

// maxLengthLimit bounds Config.MaxLength. Encoding reads the whole text
// (the unigram model's best path depends on all of it), in time linear in
// its length; callers bound untrusted text before encoding it.
const maxLengthLimit = 4096

// maxAdded bounds the number of added tokens (Gemma's vocabulary has a few
// hundred control pieces).
const maxAdded = 1 << 16

// AddedToken is a token matched in the raw text before SentencePiece sees
// it (Hugging Face's added tokens): its content and id, and whether it
// strips the whitespace to its left and right.
type AddedToken struct {
	Content string `json:"content"`
	ID      int    `json:"id"`
	LStrip  bool   `json:"lstrip,omitempty"`
	RStrip  bool   `json:"rstrip,omitempty"`
}

// Config describes a tokenizer. It is JSON-serialisable so that a
// converted model file can carry it; the SentencePiece model travels
// beside it.
type Config struct {
	// Kind is KindSiglip or KindGemma.
	Kind string `json:"kind"`
	// MaxLength is the number of ids Encode returns (64 for SigLIP).
	MaxLength int `json:"max_length"`
	// Lowercase lower-cases the text first (see the package comment).
	Lowercase bool `json:"lowercase"`
	// AddBOS and AddEOS add the begin and end tokens (Gemma only; SigLIP
	// always appends EOS).
	AddBOS bool `json:"add_bos,omitempty"`
	AddEOS bool `json:"add_eos,omitempty"`
	// BOSToken, EOSToken, PadToken and UNKToken name the special pieces;
	// empty means the kind's default.
	BOSToken string `json:"bos_token,omitempty"`
	EOSToken string `json:"eos_token,omitempty"`
	PadToken string `json:"pad_token,omitempty"`
	UNKToken string `json:"unk_token,omitempty"`
	// Added lists the tokens split off the raw text, in the order Hugging
	// Face tries them. Empty means the kind's default: the EOS, UNK and
	// pad tokens stripping whitespace on both sides for SigLIP, every
	// control and unknown piece of the model for Gemma.
	Added []AddedToken `json:"added,omitempty"`
}

// Tokenizer encodes text to a fixed number of ids. It is safe for
// concurrent use.
type Tokenizer struct {
	cfg   Config
	sp    *sentencepiece.Model
	added []AddedToken
	// byContent maps an added token's content to its index in added (the
	// first, when a content repeats); trie finds them in text.
	byContent map[string]int
	trie      *bytetrie.Trie

	bos, eos, pad int32
	unk           string // SigLIP encodes unk+text and drops unk's pieces
	unkPieces     int
}

// New builds a tokenizer of the given configuration over sp. It checks
// that the special tokens exist in the model.
func New(sp *sentencepiece.Model, cfg Config) (*Tokenizer, error) {
	if sp == nil {
		return nil, fmt.Errorf("siglip: no SentencePiece model")
	}
	if cfg.MaxLength < 1 || cfg.MaxLength > maxLengthLimit {
		return nil, fmt.Errorf("siglip: max_length %d outside 1..%d", cfg.MaxLength, maxLengthLimit)
	}
	t := &Tokenizer{cfg: cfg, sp: sp, bos: -1, eos: -1, pad: -1, byContent: map[string]int{}}
	id := func(what, piece string) (int32, error) {
		v, ok := sp.PieceToID(piece)
		if !ok {
			return -1, fmt.Errorf("siglip: the %s token %q is not in the SentencePiece model", what, piece)
		}
		return int32(v), nil
	}
	var err error
	switch cfg.Kind {
	case KindSiglip:
		eosTok := or(cfg.EOSToken, "</s>")
		padTok := or(cfg.PadToken, "</s>")
		t.unk = or(cfg.UNKToken, "<unk>")
		if t.eos, err = id("eos", eosTok); err != nil {
			return nil, err
		}
		if t.pad, err = id("pad", padTok); err != nil {
			return nil, err
		}
		// Hugging Face loads the model with add_dummy_prefix off and
		// supplies the leading "▁" itself.
		t.sp = sp.WithAddDummyPrefix(false)
		t.unkPieces = len(t.sp.EncodeTokens(t.unk))
		t.added = cfg.Added
		if len(t.added) == 0 {
			for _, c := range []string{eosTok, t.unk, padTok} {
				v, _ := sp.PieceToID(c)
				t.added = append(t.added, AddedToken{Content: c, ID: v, LStrip: true, RStrip: true})
			}
		}
	case KindGemma:
		if cfg.AddBOS {
			if t.bos, err = id("bos", or(cfg.BOSToken, "<bos>")); err != nil {
				return nil, err
			}
		}
		if cfg.AddEOS {
			if t.eos, err = id("eos", or(cfg.EOSToken, "<eos>")); err != nil {
				return nil, err
			}
		}
		if t.pad, err = id("pad", or(cfg.PadToken, "<pad>")); err != nil {
			return nil, err
		}
		t.added = cfg.Added
		if len(t.added) == 0 {
			for i := 0; i < sp.Size(); i++ {
				if sp.IsControl(i) || sp.IsUnknown(i) {
					t.added = append(t.added, AddedToken{Content: sp.IDToPiece(i), ID: i})
				}
			}
		}
	default:
		return nil, fmt.Errorf("siglip: unknown tokenizer kind %q", cfg.Kind)
	}
	if len(t.added) > maxAdded {
		return nil, fmt.Errorf("siglip: %d added tokens, more than %d", len(t.added), maxAdded)
	}
	var keys []string
	var idx []int32
	for i, a := range t.added {
		if a.Content == "" {
			return nil, fmt.Errorf("siglip: added token %d is empty", i)
		}
		if len(a.Content) > sentencepiece.MaxPieceBytes {
			return nil, fmt.Errorf("siglip: added token %d has %d bytes, more than %d", i, len(a.Content), sentencepiece.MaxPieceBytes)
		}
		if a.ID < 0 || a.ID >= sp.Size() {
			return nil, fmt.Errorf("siglip: added token %q has id %d outside the %d-piece vocabulary", a.Content, a.ID, sp.Size())
		}
		if _, dup := t.byContent[a.Content]; !dup {
			t.byContent[a.Content] = i
			keys = append(keys, a.Content)
			idx = append(idx, int32(i))
		}
	}
	t.trie = bytetrie.New(keys, idx)
	return t, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Config returns the tokenizer's configuration.
func (t *Tokenizer) Config() Config { return t.cfg }

// Encode returns exactly MaxLength ids for text.
func (t *Tokenizer) Encode(text string) []int32 {
	var ids []int32
	n := t.cfg.MaxLength
	if t.cfg.Kind == KindSiglip {
		ids = t.siglipIDs(text)
		// Truncate so that EOS fits, then append it unless the ids
		// already end with it (T5's _add_eos_if_not_present).
		if len(ids)+1 > n {
			ids = ids[:n-1]
		}
		if len(ids) == 0 || ids[len(ids)-1] != t.eos {
			ids = append(ids, t.eos)
		}
	} else {
		ids = t.gemmaIDs(text)
		special := 0
		if t.bos >= 0 {
			special++
		}
		if t.eos >= 0 {
			special++
		}
		if len(ids)+special > n {
			ids = ids[:max(n-special, 0)]
		}
		if t.bos >= 0 {
			ids = append([]int32{t.bos}, ids...)
		}
		if t.eos >= 0 {
			ids = append(ids, t.eos)
		}
		ids = ids[:min(len(ids), n)]
	}
	for len(ids) < n {
		ids = append(ids, t.pad)
	}
	return ids
}

// chunk is a part of the text: an added token (added >= 0) or text.
type chunk struct {
	text  string
	added int
}

// split cuts text around the added tokens, leftmost-longest as Hugging
// Face's trie does, then lets each token strip the whitespace beside it.
func (t *Tokenizer) split(text string) []chunk {
	var out []chunk
	start := 0
	for i := 0; i < len(text); {
		best := t.match(text[i:], true)
		if best < 0 {
			i++
			continue
		}
		if start < i {
			out = append(out, chunk{text: text[start:i], added: -1})
		}
		l := len(t.added[best].Content)
		out = append(out, chunk{text: text[i : i+l], added: best})
		i += l
		start = i
	}
	if start < len(text) {
		out = append(out, chunk{text: text[start:], added: -1})
	}
	for i, c := range out {
		if c.added < 0 {
			continue
		}
		a := t.added[c.added]
		if a.RStrip && i+1 < len(out) && out[i+1].text != "" {
			out[i+1].text = strings.TrimLeftFunc(out[i+1].text, pystr.IsSpace)
		}
		if a.LStrip && i > 0 && out[i-1].text != "" {
			out[i-1].text = strings.TrimRightFunc(out[i-1].text, pystr.IsSpace)
		}
	}
	return out
}

// gemmaIDs splits the raw text around the added tokens and encodes the
// rest, lower-cased first when configured (Siglip2Tokenizer's Lowercase
// normaliser, which sees the text between the special tokens).
func (t *Tokenizer) gemmaIDs(text string) []int32 {
	var ids []int32
	for _, c := range t.split(text) {
		switch {
		case c.added >= 0:
			ids = append(ids, int32(t.added[c.added].ID))
		case c.text != "":
			part := c.text
			if t.cfg.Lowercase {
				part = pystr.Lower(part)
			}
			for _, id := range t.sp.Encode(part) {
				ids = append(ids, int32(id))
			}
		}
	}
	return ids
}

// siglipIDs is SiglipTokenizer.tokenize followed by convert_tokens_to_ids.
func (t *Tokenizer) siglipIDs(text string) []int32 {
	text = "\u2581" + strings.ReplaceAll(text, "\u2581", " ")
	if t.cfg.Lowercase {
		text = t.lowerOutsideAdded(text)
	}
	type tok struct {
		piece string
		added bool
	}
	var toks []tok
	for _, c := range t.split(text) {
		switch {
		case c.text == "":
		case c.added >= 0:
			toks = append(toks, tok{piece: c.text, added: true})
		default:
			for _, p := range t.siglipPieces(c.text) {
				toks = append(toks, tok{piece: p})
			}
		}
	}
	if len(toks) > 1 && toks[0].piece == "\u2581" && t.isSpecial(toks[1].piece) {
		toks = toks[1:]
	}
	ids := make([]int32, len(toks))
	for i, k := range toks {
		// Tokens become ids by their text: an added token's id, else the
		// model's (unknown text gives the unknown id).
		if j, ok := t.byContent[k.piece]; ok {
			ids[i] = int32(t.added[j].ID)
		} else {
			id, _ := t.sp.PieceToID(k.piece)
			ids[i] = int32(id)
		}
	}
	return ids
}

func (t *Tokenizer) isSpecial(s string) bool {
	_, ok := t.byContent[s]
	return ok
}

// siglipPieces is SiglipTokenizer._tokenize: canonicalise, encode behind
// the unknown token's text and drop that text's pieces.
func (t *Tokenizer) siglipPieces(text string) []string {
	text = canonicalize(text)
	toks := t.sp.EncodeTokens(t.unk + text)
	if len(toks) >= t.unkPieces {
		toks = toks[t.unkPieces:]
	}
	out := make([]string, len(toks))
	for i, k := range toks {
		out[i] = k.Piece
	}
	return out
}

// canonicalize removes ASCII punctuation (Python's string.punctuation),
// collapses whitespace runs to one space and strips the ends, as
// SiglipTokenizer.canonicalize_text (after big_vision) does.
func canonicalize(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		switch {
		case r < 0x80 && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r):
		case pystr.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
		default:
			b.WriteRune(r)
			space = false
		}
	}
	return strings.TrimFunc(b.String(), pystr.IsSpace)
}

// match returns the index of the added token at the start of s, or -1:
// the longest one, or else the first in the configured order (as a regex
// alternation picks). The walk is at most MaxPieceBytes long.
func (t *Tokenizer) match(s string, longest bool) int {
	best := -1
	n := int32(0)
	for i := 0; i < len(s); i++ {
		if n = t.trie.Child(n, s[i]); n < 0 {
			break
		}
		if v := int(t.trie.Value(n)); v >= 0 && (longest || best < 0 || v < best) {
			best = v
		}
	}
	return best
}

// lowerOutsideAdded lower-cases text one character at a time, leaving the
// added tokens' text as it is, as PreTrainedTokenizer.tokenize does with
// re.sub("(tok1|tok2|...)|(.+?)", ...): an added token is tried first, in
// order, at every position; "." does not match a newline, which stays.
func (t *Tokenizer) lowerOutsideAdded(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); {
		if k := t.match(text[i:], false); k >= 0 {
			b.WriteString(t.added[k].Content)
			i += len(t.added[k].Content)
			continue
		}
		if c := text[i]; c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c) // a newline is not matched by "." and stays, as it would anyway
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		b.WriteString(pystr.Lower(string(r)))
		i += size
	}
	return b.String()
}
