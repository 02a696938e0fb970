package sentencepiece

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Budgets for an untrusted model file. A real SentencePiece model is a few
// megabytes at most (Gemma's 256k-piece tokenizer.model is about 4 MiB);
// these limits leave room for larger vocabularies while keeping the memory a
// hostile file can claim bounded.
const (
	// MaxModelBytes bounds the size of a serialized model.
	MaxModelBytes = 64 << 20
	// MaxPieces bounds the number of vocabulary pieces.
	MaxPieces = 1 << 21
	// MaxPieceBytes bounds the length of one piece. Trained pieces are at
	// most 16 characters by default and user-defined ones rarely longer
	// than a tag; the bound also bounds the work per input byte, since
	// segmentation walks at most one piece's length from each position.
	MaxPieceBytes = 512
	// maxStringBytes bounds one string or bytes field.
	maxStringBytes = 32 << 20
)

// Piece types as sentencepiece_model.proto numbers them.
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// Model types as sentencepiece_model.proto numbers them.
const (
	modelUnigram = 1
	modelBPE     = 2
	modelWord    = 3
	modelChar    = 4
)

// protoPiece is ModelProto.SentencePiece.
type protoPiece struct {
	piece string
	score float32
	typ   int32
}

// trainerSpec holds the TrainerSpec fields that encoding depends on, with
// the proto's declared defaults.
type trainerSpec struct {
	modelType               int32
	vocabSize               int32
	byteFallback            bool
	treatWhitespaceAsSuffix bool
	splitDigits             bool
	unkID, bosID            int32
	eosID, padID            int32
	unkPiece, bosPiece      string
	eosPiece, padPiece      string
	unkSurface              string
}

// normalizerSpec is NormalizerSpec.
type normalizerSpec struct {
	name                   string
	precompiledCharsmap    []byte
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool
}

// modelProto is the part of ModelProto that encoding depends on.
type modelProto struct {
	pieces     []protoPiece
	trainer    trainerSpec
	normalizer normalizerSpec
}

func defaultModelProto() modelProto {
	return modelProto{
		trainer: trainerSpec{
			modelType: modelUnigram, vocabSize: 8000,
			unkID: 0, bosID: 1, eosID: 2, padID: -1,
			unkPiece: "<unk>", bosPiece: "<s>", eosPiece: "</s>", padPiece: "<pad>",
			unkSurface: " \u2047 ",
		},
		normalizer: defaultNormalizerSpec(),
	}
}

func defaultNormalizerSpec() normalizerSpec {
	return normalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true}
}

// Protocol buffer wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireStart   = 3
	wireEnd     = 4
	wireFixed32 = 5
)

// wireReader walks the fields of one serialized message.
type wireReader struct {
	buf []byte
	off int
	// what names the message in errors.
	what string
}

func (r *wireReader) errorf(format string, args ...any) error {
	return fmt.Errorf("sentencepiece: %s at byte %d: %s", r.what, r.off, fmt.Sprintf(format, args...))
}

func (r *wireReader) varint() (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		if r.off >= len(r.buf) {
			return 0, r.errorf("truncated varint")
		}
		b := r.buf[r.off]
		r.off++
		if i == 9 && b > 1 {
			return 0, r.errorf("varint overflows 64 bits")
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, r.errorf("varint longer than 10 bytes")
}

// field is one decoded field: its number, wire type and value (varint
// and fixed values in num, length-delimited payloads in data).
type field struct {
	num  int
	wire int
	val  uint64
	data []byte
}

// next decodes the next field; ok is false at the end of the message.
func (r *wireReader) next() (f field, ok bool, err error) {
	if r.off >= len(r.buf) {
		return f, false, nil
	}
	key, err := r.varint()
	if err != nil {
		return f, false, err
	}
	num := key >> 3
	if num == 0 || num > math.MaxInt32>>3 {
		return f, false, r.errorf("invalid field number %d", num)
	}
	f.num, f.wire = int(num), int(key&7)
	switch f.wire {
	case wireVarint:
		f.val, err = r.varint()
	case wireFixed64:
		if len(r.buf)-r.off < 8 {
			return f, false, r.errorf("truncated fixed64 field %d", f.num)
		}
		f.val = binary.LittleEndian.Uint64(r.buf[r.off:])
		r.off += 8
	case wireFixed32:
		if len(r.buf)-r.off < 4 {
			return f, false, r.errorf("truncated fixed32 field %d", f.num)
		}
		f.val = uint64(binary.LittleEndian.Uint32(r.buf[r.off:]))
		r.off += 4
	case wireBytes:
		var n uint64
		n, err = r.varint()
		if err != nil {
			return f, false, err
		}
		if n > uint64(len(r.buf)-r.off) {
			return f, false, r.errorf("field %d claims %d bytes, %d left", f.num, n, len(r.buf)-r.off)
		}
		f.data = r.buf[r.off : r.off+int(n)]
		r.off += int(n)
	default:
		// Groups (3, 4) are not used by sentencepiece_model.proto; 6 and 7
		// are not wire types at all.
		return f, false, r.errorf("unsupported wire type %d for field %d", f.wire, f.num)
	}
	if err != nil {
		return f, false, err
	}
	return f, true, nil
}

// boolOf, int32Of and the like convert a field the way protobuf does for
// the declared type; a field of the wrong wire type is an unknown field and
// left alone (ok false), as protobuf parsers treat it.
func int32Of(f field) (int32, bool) {
	if f.wire != wireVarint {
		return 0, false
	}
	return int32(f.val), true
}

func boolOf(f field) (bool, bool) {
	if f.wire != wireVarint {
		return false, false
	}
	return f.val != 0, true
}

func stringOf(f field) (string, bool, error) {
	if f.wire != wireBytes {
		return "", false, nil
	}
	if len(f.data) > maxStringBytes {
		return "", false, fmt.Errorf("sentencepiece: string field %d of %d bytes exceeds the %d-byte budget", f.num, len(f.data), maxStringBytes)
	}
	return string(f.data), true, nil
}

// parseModelProto decodes a serialized ModelProto. Repeated embedded
// messages merge as protobuf specifies (a later trainer_spec overrides the
// fields it sets), so a concatenation of two serialized models decodes as
// their merge, as it does in sentencepiece.
func parseModelProto(data []byte) (*modelProto, error) {
	if len(data) > MaxModelBytes {
		return nil, fmt.Errorf("sentencepiece: model of %d bytes exceeds the %d-byte budget", len(data), MaxModelBytes)
	}
	m := defaultModelProto()
	// Count the pieces first so that the slice is allocated once.
	count := 0
	for r := (wireReader{buf: data, what: "ModelProto"}); ; {
		f, ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if f.num == 1 && f.wire == wireBytes {
			count++
		}
	}
	if count > MaxPieces {
		return nil, fmt.Errorf("sentencepiece: %d pieces, more than %d", count, MaxPieces)
	}
	m.pieces = make([]protoPiece, 0, count)
	r := wireReader{buf: data, what: "ModelProto"}
	for {
		f, ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if f.wire != wireBytes {
			continue
		}
		switch f.num {
		case 1:
			if len(m.pieces) >= MaxPieces {
				return nil, fmt.Errorf("sentencepiece: more than %d pieces", MaxPieces)
			}
			p, err := parsePiece(f.data, len(m.pieces))
			if err != nil {
				return nil, err
			}
			m.pieces = append(m.pieces, p)
		case 2:
			if err := parseTrainerSpec(f.data, &m.trainer); err != nil {
				return nil, err
			}
		case 3:
			if err := parseNormalizerSpec(f.data, &m.normalizer); err != nil {
				return nil, err
			}
		}
		// self_test_data (4), denormalizer_spec (5) and unknown fields are
		// not needed for encoding; their framing was checked by next.
	}
	return &m, nil
}

func parsePiece(data []byte, index int) (protoPiece, error) {
	p := protoPiece{typ: typeNormal}
	r := wireReader{buf: data, what: fmt.Sprintf("piece %d", index)}
	for {
		f, ok, err := r.next()
		if err != nil {
			return p, err
		}
		if !ok {
			return p, nil
		}
		switch f.num {
		case 1:
			if f.wire != wireBytes {
				continue
			}
			if len(f.data) > MaxPieceBytes {
				return p, fmt.Errorf("sentencepiece: piece %d has %d bytes, more than the %d-byte budget", index, len(f.data), MaxPieceBytes)
			}
			p.piece = string(f.data)
		case 2:
			if f.wire == wireFixed32 {
				p.score = math.Float32frombits(uint32(f.val))
			}
		case 3:
			// An enum value the schema does not know is an unknown field
			// in proto2, leaving the type at its default.
			if v, ok := int32Of(f); ok && v >= typeNormal && v <= typeByte {
				p.typ = v
			}
		}
	}
}

func parseTrainerSpec(data []byte, t *trainerSpec) error {
	r := wireReader{buf: data, what: "TrainerSpec"}
	for {
		f, ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		var sOK bool
		var s string
		if f.wire == wireBytes {
			if s, sOK, err = stringOf(f); err != nil {
				return err
			}
		}
		switch f.num {
		case 3:
			if v, ok := int32Of(f); ok && v >= modelUnigram && v <= modelChar {
				t.modelType = v
			}
		case 4:
			if v, ok := int32Of(f); ok {
				t.vocabSize = v
			}
		case 35:
			if v, ok := boolOf(f); ok {
				t.byteFallback = v
			}
		case 24:
			if v, ok := boolOf(f); ok {
				t.treatWhitespaceAsSuffix = v
			}
		case 25:
			if v, ok := boolOf(f); ok {
				t.splitDigits = v
			}
		case 40, 41, 42, 43:
			if v, ok := int32Of(f); ok {
				*[]*int32{&t.unkID, &t.bosID, &t.eosID, &t.padID}[f.num-40] = v
			}
		case 44, 45, 46, 47, 48:
			if sOK {
				*[]*string{&t.unkSurface, &t.unkPiece, &t.bosPiece, &t.eosPiece, &t.padPiece}[f.num-44] = s
			}
		}
	}
}

func parseNormalizerSpec(data []byte, n *normalizerSpec) error {
	r := wireReader{buf: data, what: "NormalizerSpec"}
	for {
		f, ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch f.num {
		case 1:
			s, ok, err := stringOf(f)
			if err != nil {
				return err
			}
			if ok {
				n.name = s
			}
		case 2:
			if f.wire == wireBytes {
				if len(f.data) > maxStringBytes {
					return fmt.Errorf("sentencepiece: precompiled_charsmap of %d bytes exceeds the %d-byte budget", len(f.data), maxStringBytes)
				}
				n.precompiledCharsmap = f.data
			}
		case 3:
			if v, ok := boolOf(f); ok {
				n.addDummyPrefix = v
			}
		case 4:
			if v, ok := boolOf(f); ok {
				n.removeExtraWhitespaces = v
			}
		case 5:
			if v, ok := boolOf(f); ok {
				n.escapeWhitespaces = v
			}
		}
	}
}
