// Package sentencepiece reads SentencePiece model files (the serialized
// ModelProto of a `.model`, such as T5's and SigLIP's spiece.model or
// Gemma's tokenizer.model) and encodes text to ids exactly as the
// sentencepiece library's SentencePieceProcessor.Encode does with default
// options: the model's normalisation (its precompiled character map, dummy
// prefix, whitespace handling, user-defined pieces), then the unigram
// model's Viterbi segmentation or the BPE model's score-ordered merges,
// unknown runs merged into one unknown id or spelled as byte pieces under
// byte fallback.
//
// Encoding is linear in the input for the unigram model (each position
// tries at most as many pieces as the longest piece has bytes, at most
// MaxPieceBytes) and at worst O(n log n) for BPE (a heap of candidate
// merges per stretch of mergeable text), with memory linear in the input;
// the package reads the whole text at once, so callers that accept
// untrusted text bound its length before encoding.
package sentencepiece

import (
	"fmt"
	"math"

	"github.com/clipinfer/clipinfer/internal/bytetrie"
)

// Model is a parsed SentencePiece model. It is immutable and safe for
// concurrent use.
type Model struct {
	pieces []string
	scores []float32
	types  []uint8

	bpe          bool
	byteFallback bool
	// trie holds the normal, user-defined and unused pieces (the ones the
	// segmentation can produce); reserved the control, unknown and byte
	// pieces, which PieceToID also finds.
	trie     *bytetrie.Trie
	reserved map[string]int32
	// unkID is the unknown piece the segmentation emits; unkAPI the id
	// UNK reports, looked up by the trainer's unknown piece name as
	// sentencepiece's unk_id() does (the two agree in every real model).
	unkID   int32
	unkAPI  int32
	bosID   int32
	eosID   int32
	padID   int32
	byteIDs [256]int32

	// minScore and maxScore are over the normal pieces, starting from
	// FLT_MAX and FLT_MIN as the unigram model does.
	minScore float32
	maxScore float32
	// pairs holds the byte pairs inside pieces, where BPE may merge.
	pairs *bytePairs

	norm normalizer
}

// Parse decodes and validates a serialized SentencePiece model. It accepts
// the unigram and BPE model types and rejects files sentencepiece itself
// refuses to load (no unknown piece, a repeated piece, byte pieces without
// byte fallback or an incomplete set of them), with a one-line error.
func Parse(data []byte) (*Model, error) {
	p, err := parseModelProto(data)
	if err != nil {
		return nil, err
	}
	return newModel(p)
}

func newModel(p *modelProto) (*Model, error) {
	switch p.trainer.modelType {
	case modelUnigram, modelBPE:
	case modelWord:
		return nil, fmt.Errorf("sentencepiece: the word model type is not supported")
	case modelChar:
		return nil, fmt.Errorf("sentencepiece: the char model type is not supported")
	}
	if len(p.pieces) == 0 {
		return nil, fmt.Errorf("sentencepiece: the model has no pieces")
	}
	m := &Model{
		pieces:       make([]string, len(p.pieces)),
		scores:       make([]float32, len(p.pieces)),
		types:        make([]uint8, len(p.pieces)),
		bpe:          p.trainer.modelType == modelBPE,
		byteFallback: p.trainer.byteFallback,
		reserved:     map[string]int32{},
		unkID:        -1,
		minScore:     math.MaxFloat32,
		maxScore:     math.SmallestNonzeroFloat32 * (1 << 23), // FLT_MIN, the smallest normal float32
	}
	for i := range m.byteIDs {
		m.byteIDs[i] = -1
	}
	keys := make([]string, 0, len(p.pieces))
	ids := make([]int32, 0, len(p.pieces))
	var user []string
	seen := make(map[string]struct{}, len(p.pieces))
	for i, sp := range p.pieces {
		if sp.piece == "" {
			return nil, fmt.Errorf("sentencepiece: piece %d is empty", i)
		}
		if _, dup := seen[sp.piece]; dup {
			return nil, fmt.Errorf("sentencepiece: piece %q is defined twice", sp.piece)
		}
		seen[sp.piece] = struct{}{}
		m.pieces[i], m.scores[i], m.types[i] = sp.piece, sp.score, uint8(sp.typ)
		switch sp.typ {
		case typeNormal, typeUserDefined, typeUnused:
			keys = append(keys, sp.piece)
			ids = append(ids, int32(i))
		default:
			m.reserved[sp.piece] = int32(i)
		}
		switch sp.typ {
		case typeNormal:
			m.minScore = min(m.minScore, sp.score)
			m.maxScore = max(m.maxScore, sp.score)
		case typeUserDefined:
			user = append(user, sp.piece)
		case typeUnknown:
			if m.unkID >= 0 {
				return nil, fmt.Errorf("sentencepiece: more than one unknown piece (%d and %d)", m.unkID, i)
			}
			m.unkID = int32(i)
		case typeByte:
			if !p.trainer.byteFallback {
				return nil, fmt.Errorf("sentencepiece: byte piece %q found although byte_fallback is false", sp.piece)
			}
			b, ok := pieceToByte(sp.piece)
			if !ok {
				return nil, fmt.Errorf("sentencepiece: byte piece %q is invalid", sp.piece)
			}
			m.byteIDs[b] = int32(i)
		}
	}
	if m.unkID < 0 {
		return nil, fmt.Errorf("sentencepiece: the model defines no unknown piece")
	}
	if m.byteFallback {
		for b, id := range m.byteIDs {
			if id < 0 {
				return nil, fmt.Errorf("sentencepiece: byte_fallback is set but byte piece <0x%02X> is missing", b)
			}
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("sentencepiece: the model has no normal pieces")
	}
	m.trie = bytetrie.New(keys, ids)
	if m.bpe {
		m.pairs = new(bytePairs)
		for _, k := range keys {
			for i := 1; i < len(k); i++ {
				m.pairs.add(k[i-1], k[i])
			}
		}
	}

	m.norm = normalizer{spec: p.normalizer, suffix: p.trainer.treatWhitespaceAsSuffix}
	if len(p.normalizer.precompiledCharsmap) > 0 {
		cm, err := parseCharsMap(p.normalizer.precompiledCharsmap)
		if err != nil {
			return nil, err
		}
		m.norm.chars = cm
	}
	if len(user) > 0 {
		uids := make([]int32, len(user))
		m.norm.user = bytetrie.New(user, uids)
	}

	m.bosID = m.specialID(p.trainer.bosPiece, typeControl)
	m.eosID = m.specialID(p.trainer.eosPiece, typeControl)
	m.padID = m.specialID(p.trainer.padPiece, typeControl)
	m.unkAPI = m.specialID(p.trainer.unkPiece, typeUnknown)
	return m, nil
}

// specialID is the id of piece when it has type typ, else -1, as
// SentencePieceProcessor's bos_id, eos_id, pad_id and unk_id are.
func (m *Model) specialID(piece string, typ uint8) int32 {
	id, ok := m.PieceToID(piece)
	if !ok || m.types[id] != typ {
		return -1
	}
	return int32(id)
}

// pieceToByte parses a byte piece "<0xXX>" (upper-case hex digits).
func pieceToByte(p string) (byte, bool) {
	if len(p) != 6 || p[:3] != "<0x" || p[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(p[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// Size returns the number of pieces.
func (m *Model) Size() int { return len(m.pieces) }

// BOS returns the id of the begin-of-sentence control piece, or -1.
func (m *Model) BOS() int { return int(m.bosID) }

// EOS returns the id of the end-of-sentence control piece, or -1.
func (m *Model) EOS() int { return int(m.eosID) }

// PAD returns the id of the padding control piece, or -1.
func (m *Model) PAD() int { return int(m.padID) }

// UNK returns the id of the unknown piece, or -1.
func (m *Model) UNK() int { return int(m.unkAPI) }

// IsControl reports whether id is a control piece (such as <s> and </s>),
// which encoding never produces from text.
func (m *Model) IsControl(id int) bool { return m.typeOf(id) == typeControl }

// IsUnknown reports whether id is the unknown piece.
func (m *Model) IsUnknown(id int) bool { return m.typeOf(id) == typeUnknown }

// IsByte reports whether id is a byte piece (<0x00>..<0xFF>).
func (m *Model) IsByte(id int) bool { return m.typeOf(id) == typeByte }

func (m *Model) typeOf(id int) uint8 {
	if id < 0 || id >= len(m.types) {
		return 0
	}
	return m.types[id]
}

// IDToPiece returns the piece with the given id, or "" when id is out of
// range.
func (m *Model) IDToPiece(id int) string {
	if id < 0 || id >= len(m.pieces) {
		return ""
	}
	return m.pieces[id]
}

// PieceToID returns the id of piece and whether the model has it
// (sentencepiece answers the unknown id for a missing piece; ok tells the
// two apart).
func (m *Model) PieceToID(piece string) (int, bool) {
	if id, ok := m.reserved[piece]; ok {
		return int(id), true
	}
	if id := m.trie.Lookup(piece); id >= 0 {
		return int(id), true
	}
	return int(m.unkID), false
}

// pieceID is PieceToID without the flag.
func (m *Model) pieceID(piece string) int32 {
	id, _ := m.PieceToID(piece)
	return int32(id)
}

// segment is one piece of a segmentation: a span of the normalised text
// and its id.
type segment struct {
	begin, end int32
	id         int32
}

// Token is one piece of an encoding and its id.
type Token struct {
	ID    int
	Piece string
}

// Encode returns the ids of text, as SentencePieceProcessor.encode(text)
// does with default options (no BOS or EOS added).
func (m *Model) Encode(text string) []int {
	norm := m.norm.normalize(text)
	segs := m.segment(norm)
	ids := make([]int, 0, len(segs))
	m.each(norm, segs, func(id, _, _ int32, extend bool) {
		if !extend {
			ids = append(ids, int(id))
		}
	})
	return ids
}

// EncodePieces returns the pieces of text, as
// SentencePieceProcessor.encode(text, out_type=str) does.
func (m *Model) EncodePieces(text string) []string {
	toks := m.EncodeTokens(text)
	pieces := make([]string, len(toks))
	for i, t := range toks {
		pieces[i] = t.Piece
	}
	return pieces
}

// EncodeTokens returns the pieces of text with their ids.
func (m *Model) EncodeTokens(text string) []Token {
	norm := m.norm.normalize(text)
	segs := m.segment(norm)
	toks := make([]Token, 0, len(segs))
	m.each(norm, segs, func(id, begin, end int32, extend bool) {
		switch {
		case extend:
			toks[len(toks)-1].Piece += norm[begin:end]
		case m.types[id] == typeByte:
			toks = append(toks, Token{ID: int(id), Piece: m.pieces[id]})
		default:
			toks = append(toks, Token{ID: int(id), Piece: norm[begin:end]})
		}
	})
	return toks
}

// each turns a segmentation into output tokens as sentencepiece does,
// calling f with each token's id and the span of norm it covers: a run of
// unknown pieces is one unknown token (f sees the later pieces with extend
// set), and under byte fallback an unknown piece is one byte piece per
// byte.
func (m *Model) each(norm string, segs []segment, f func(id, begin, end int32, extend bool)) {
	prevUnk := false
	for _, s := range segs {
		unk := m.types[s.id] == typeUnknown
		switch {
		case unk && m.byteFallback:
			for i := s.begin; i < s.end; i++ {
				f(m.byteIDs[norm[i]], i, i+1, false)
			}
		default:
			f(s.id, s.begin, s.end, unk && prevUnk)
		}
		prevUnk = unk
	}
}

// WithAddDummyPrefix returns a copy of m whose normaliser adds the dummy
// prefix space or not, as setting normalizer_spec.add_dummy_prefix in the
// model file would (Hugging Face's SiglipTokenizer turns it off).
func (m *Model) WithAddDummyPrefix(on bool) *Model {
	c := *m
	c.norm.spec.addDummyPrefix = on
	return &c
}

// Normalize returns text as the model's normaliser rewrites it before
// segmentation (spaces as U+2581 when the model escapes them).
func (m *Model) Normalize(text string) string { return m.norm.normalize(text) }

func (m *Model) segment(norm string) []segment {
	if norm == "" {
		return nil
	}
	if m.bpe {
		return m.encodeBPE(norm)
	}
	return m.encodeUnigram(norm)
}
