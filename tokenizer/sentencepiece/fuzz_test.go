package sentencepiece

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must return a model or an
// error, never panic, and a model it accepts must encode text to ids of
// its own vocabulary.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"synthetic_unigram_ties", "synthetic_bpe_unused", "unigram_identity_bytefb", "bpe_user_rules"} {
		f.Add(modelBytes(f, name, false))
	}
	f.Add(pbModel(modelBPE, false, basicPieces...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if m != nil {
				t.Fatal("model and error")
			}
			return
		}
		for _, text := range []string{"", "ab c", "\u2581x<sep>日本 \xff", string(data[:min(len(data), 64)])} {
			checkEncoding(t, m, text)
		}
	})
}

// FuzzEncode encodes arbitrary text with trained models of both types and
// checks the encoding: ids in range, no unknown id under byte fallback, and
// the pieces (byte pieces as their bytes) spelling the normalised text.
func FuzzEncode(f *testing.F) {
	var models []*Model
	for _, name := range []string{"unigram_identity_bytefb", "bpe_identity_bytefb", "bpe_gemmalike", "unigram_user_rules", "bpe_nfkc_1k"} {
		models = append(models, loadModel(f, name))
	}
	for _, s := range []string{"", " ", "hello world", "a\u0301 ﬁ ＡＢＣ", "😀👍🏽", "<sep>[MASK]<start_of_turn>", "\x00\xff\xfe", "  \n\n  x  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range models {
			checkEncoding(t, m, text)
		}
	})
}

func checkEncoding(t *testing.T, m *Model, text string) {
	t.Helper()
	toks := m.EncodeTokens(text)
	ids := m.Encode(text)
	if len(ids) != len(toks) {
		t.Fatalf("%q: %d ids, %d tokens", text, len(ids), len(toks))
	}
	var spelled strings.Builder
	for i, tok := range toks {
		if tok.ID != ids[i] || tok.ID < 0 || tok.ID >= m.Size() {
			t.Fatalf("%q: token %d id %d (Encode %d) outside [0,%d)", text, i, tok.ID, ids[i], m.Size())
		}
		if m.byteFallback && m.IsUnknown(tok.ID) {
			t.Fatalf("%q: unknown id under byte fallback", text)
		}
		if m.IsByte(tok.ID) {
			b, ok := pieceToByte(tok.Piece)
			if !ok {
				t.Fatalf("%q: byte id %d has piece %q", text, tok.ID, tok.Piece)
			}
			spelled.WriteByte(b)
		} else {
			spelled.WriteString(tok.Piece)
		}
	}
	if norm := m.Normalize(text); spelled.String() != norm {
		t.Fatalf("%q: pieces spell %q, normalised text is %q", text, spelled.String(), norm)
	}
}
