package siglip

import "testing"

// FuzzEncode tokenizes arbitrary text with a SigLIP and a SigLIP 2 style
// tokenizer: exactly MaxLength ids, all in the vocabulary, ending in EOS
// (or padding after it) for SigLIP.
func FuzzEncode(f *testing.F) {
	type tk struct {
		tok  *Tokenizer
		size int
	}
	var toks []tk
	for _, c := range []struct {
		model string
		cfg   Config
	}{
		{"unigram_t5like", Config{Kind: KindSiglip, MaxLength: 16, Lowercase: true}},
		{"bpe_gemmalike", Config{Kind: KindGemma, MaxLength: 16, Lowercase: true, AddBOS: true, AddEOS: true}},
	} {
		sp := loadModel(f, c.model)
		tok, err := New(sp, c.cfg)
		if err != nil {
			f.Fatal(err)
		}
		toks = append(toks, tk{tok, sp.Size()})
	}
	for _, s := range []string{"", "a photo of a cat", "</s> <unk>\u2581 x", "<bos><eos><pad>", "ΟΔΟΣ İ", "\xff\xfe", "  \t\n  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, k := range toks {
			ids := k.tok.Encode(text)
			if len(ids) != k.tok.cfg.MaxLength {
				t.Fatalf("%q: %d ids", text, len(ids))
			}
			for _, id := range ids {
				if id < 0 || int(id) >= k.size {
					t.Fatalf("%q: id %d outside [0,%d)", text, id, k.size)
				}
			}
			if k.tok.cfg.Kind == KindSiglip {
				last := len(ids) - 1
				for last > 0 && ids[last] == k.tok.pad && ids[last-1] == k.tok.pad {
					last--
				}
				if ids[last] != k.tok.eos {
					t.Fatalf("%q: no EOS before the padding: %v", text, ids)
				}
			}
		}
	})
}
