package sentencepiece

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Protocol buffer builders for hand-made models.

func pbVarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func pbKey(num, wire int) []byte { return pbVarint(uint64(num<<3 | wire)) }

func pbBytes(num int, b []byte) []byte {
	out := append(pbKey(num, wireBytes), pbVarint(uint64(len(b)))...)
	return append(out, b...)
}

func pbInt(num int, v int64) []byte { return append(pbKey(num, wireVarint), pbVarint(uint64(v))...) }

func pbFloat(num int, v float32) []byte {
	return binary.LittleEndian.AppendUint32(pbKey(num, wireFixed32), math.Float32bits(v))
}

type testPiece struct {
	piece string
	score float32
	typ   int
}

func pbPiece(p testPiece) []byte {
	var b []byte
	b = append(b, pbBytes(1, []byte(p.piece))...)
	b = append(b, pbFloat(2, p.score)...)
	b = append(b, pbInt(3, int64(p.typ))...)
	return pbBytes(1, b)
}

// pbModel builds a ModelProto with an identity normaliser.
func pbModel(modelType int, byteFallback bool, pieces ...testPiece) []byte {
	var b []byte
	for _, p := range pieces {
		b = append(b, pbPiece(p)...)
	}
	fb := int64(0)
	if byteFallback {
		fb = 1
	}
	b = append(b, pbBytes(2, append(pbInt(3, int64(modelType)), pbInt(35, fb)...))...)
	b = append(b, pbBytes(3, pbBytes(1, []byte("identity")))...)
	return b
}

var basicPieces = []testPiece{
	{"<unk>", 0, typeUnknown}, {"<s>", 0, typeControl}, {"</s>", 0, typeControl},
	{"\u2581", -1, typeNormal}, {"a", -2, typeNormal}, {"b", -2, typeNormal},
	{"\u2581ab", -1, typeNormal}, {"<sep>", 0, typeUserDefined},
}

func bytePieces() []testPiece {
	var ps []testPiece
	for i := 0; i < 256; i++ {
		ps = append(ps, testPiece{"<0x" + strings.ToUpper(hex2(byte(i))) + ">", 0, typeByte})
	}
	return ps
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

func TestParseErrors(t *testing.T) {
	valid := pbModel(modelUnigram, false, basicPieces...)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated varint", []byte{0x0a, 0x80}, "truncated varint"},
		{"overlong varint", append([]byte{0x20}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "varint"},
		{"field zero", []byte{0x00, 0x00}, "invalid field number 0"},
		{"length past end", []byte{0x0a, 0x10, 0x01}, "claims 16 bytes"},
		{"group wire type", []byte{0x0b}, "unsupported wire type 3"},
		{"truncated fixed32", append(pbKey(9, wireFixed32), 1, 2), "truncated fixed32"},
		{"broken piece", pbBytes(1, []byte{0x0a, 0x05, 'a'}), "piece 0"},
		{"no pieces", pbModel(modelUnigram, false), "no pieces"},
		{"empty piece", pbModel(modelUnigram, false, testPiece{"<unk>", 0, typeUnknown}, testPiece{"", 0, typeNormal}), "piece 1 is empty"},
		{"duplicate piece", pbModel(modelUnigram, false, testPiece{"<unk>", 0, typeUnknown}, testPiece{"a", 0, typeNormal}, testPiece{"a", 0, typeNormal}), `"a" is defined twice`},
		{"no unknown", pbModel(modelUnigram, false, testPiece{"a", 0, typeNormal}), "no unknown piece"},
		{"two unknowns", pbModel(modelUnigram, false, testPiece{"<unk>", 0, typeUnknown}, testPiece{"<unk2>", 0, typeUnknown}), "more than one unknown"},
		{"byte piece without fallback", pbModel(modelUnigram, false, testPiece{"<unk>", 0, typeUnknown}, testPiece{"<0x41>", 0, typeByte}), "byte_fallback is false"},
		{"invalid byte piece", pbModel(modelUnigram, true, testPiece{"<unk>", 0, typeUnknown}, testPiece{"<0x4g>", 0, typeByte}), "is invalid"},
		{"missing byte pieces", pbModel(modelBPE, true, testPiece{"<unk>", 0, typeUnknown}, testPiece{"<0x41>", 0, typeByte}, testPiece{"a", 0, typeNormal}), "<0x00> is missing"},
		{"only reserved pieces", pbModel(modelUnigram, false, testPiece{"<unk>", 0, typeUnknown}, testPiece{"<s>", 0, typeControl}), "no normal pieces"},
		{"word model", pbModel(modelWord, false, basicPieces...), "word model type is not supported"},
		{"char model", pbModel(modelChar, false, basicPieces...), "char model type is not supported"},
		{"broken charsmap", append(append([]byte{}, valid...), pbBytes(3, pbBytes(2, []byte{1, 2, 3}))...), "precompiled_charsmap"},
		{"charsmap trie too long", append(append([]byte{}, valid...), pbBytes(3, pbBytes(2, []byte{0xff, 0, 0, 0, 1, 2}))...), "exceeds"},
		{"piece too long", pbModel(modelUnigram, false, testPiece{"<unk>", 0, typeUnknown}, testPiece{strings.Repeat("x", MaxPieceBytes+1), 0, typeNormal}), "budget"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.data)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n", "one-line error")
		})
	}
	_, err := Parse(valid)
	require.NoError(t, err)
	_, err = Parse(make([]byte, MaxModelBytes+1))
	require.ErrorContains(t, err, "budget")
}

func TestParseUnknownFieldsAndDefaults(t *testing.T) {
	// Unknown fields of every wire type are skipped; a known field with the
	// wrong wire type is an unknown field, as protobuf treats it; an enum
	// value outside the schema leaves the default (NORMAL).
	var b []byte
	b = append(b, pbInt(99, 7)...)
	b = append(b, binary.LittleEndian.AppendUint64(pbKey(98, wireFixed64), 1)...)
	b = append(b, pbBytes(97, []byte("ignored"))...)
	b = append(b, pbModel(modelUnigram, false, basicPieces...)...)
	b = append(b, pbBytes(1, append(pbBytes(1, []byte("zz")), pbInt(3, 42)...))...)
	b = append(b, pbBytes(2, pbBytes(3, []byte{1}))...) // model_type as bytes: ignored
	m, err := Parse(b)
	require.NoError(t, err)
	id, ok := m.PieceToID("zz")
	require.True(t, ok)
	assert.Equal(t, []int{id}, m.Encode("zz")[1:], "zz is a normal piece")
	assert.False(t, m.bpe)
}

func TestAccessors(t *testing.T) {
	m, err := Parse(pbModel(modelUnigram, false, basicPieces...))
	require.NoError(t, err)
	assert.Equal(t, len(basicPieces), m.Size())
	assert.Equal(t, 0, m.UNK())
	assert.Equal(t, 1, m.BOS())
	assert.Equal(t, 2, m.EOS())
	assert.Equal(t, -1, m.PAD(), "no <pad> piece")
	for i, p := range basicPieces {
		assert.Equal(t, p.piece, m.IDToPiece(i))
		id, ok := m.PieceToID(p.piece)
		assert.True(t, ok)
		assert.Equal(t, i, id)
	}
	id, ok := m.PieceToID("missing")
	assert.False(t, ok)
	assert.Equal(t, m.UNK(), id)
	assert.Equal(t, "", m.IDToPiece(-1))
	assert.Equal(t, "", m.IDToPiece(m.Size()))
	assert.True(t, m.IsControl(1))
	assert.True(t, m.IsUnknown(0))
	assert.False(t, m.IsByte(3))
	assert.False(t, m.IsControl(-5))
}

func TestEncodeTable(t *testing.T) {
	uni, err := Parse(pbModel(modelUnigram, false, basicPieces...))
	require.NoError(t, err)
	bpe, err := Parse(pbModel(modelBPE, true, append(append([]testPiece{}, basicPieces...), bytePieces()...)...))
	require.NoError(t, err)
	cases := []struct {
		name   string
		m      *Model
		text   string
		pieces []string
	}{
		{"unigram empty", uni, "", []string{}},
		{"unigram spaces only", uni, "   ", []string{}},
		{"unigram dummy prefix", uni, "ab", []string{"\u2581ab"}},
		{"unigram collapses spaces", uni, "  ab   ab ", []string{"\u2581ab", "\u2581ab"}},
		{"unigram unknown run merged", uni, "xyz", []string{"\u2581", "xyz"}},
		{"unigram user-defined kept whole", uni, "a<sep>b", []string{"\u2581", "a", "<sep>", "b"}},
		{"unigram malformed UTF-8", uni, "a\xffb", []string{"\u2581", "a", "\uFFFD", "b"}},
		{"bpe byte fallback", bpe, "a\u00e9", []string{"\u2581", "a", "<0xC3>", "<0xA9>"}},
		{"bpe merges only through pieces", bpe, "ab", []string{"\u2581", "a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.m.EncodePieces(tc.text)
			if len(got) == 0 {
				got = []string{}
			}
			assert.Equal(t, tc.pieces, got)
			ids := tc.m.Encode(tc.text)
			require.Len(t, ids, len(tc.pieces))
		})
	}
}
