package runtime

import (
	"fmt"

	"github.com/clipinfer/clipinfer/format"
)

// textTower is the causal transformer text encoder (docs/DESIGN.md §1.1).
type textTower struct {
	cfg    format.TextConfig
	token  matrix
	pos    []float32
	enc    encoder
	lnFin  norm
	proj   linear
	embed  int
	f16row func([]float32, []uint16)
}

func (l *loader) text(m *format.Metadata) *textTower {
	c := *m.Text
	t := &textTower{cfg: c, embed: m.EmbedDim}
	t.token = l.matrix("text.token_embed", c.VocabSize, c.Width)
	t.pos = l.vector("text.pos_embed", c.ContextLength, c.Width)
	t.enc = l.encoder("text", c.Width, c.Heads, c.MLPDim, c.Layers, m.LayerNormEps, m.Activation, true)
	t.lnFin = l.norm("text.ln_final", c.Width)
	t.proj = l.linear("text.proj", m.EmbedDim, c.Width, false)
	return t
}

// poolIndex returns the row whose output is the text's embedding: the
// first position of the largest id (OpenAI's argmax), or the first
// EOSTokenID (Hugging Face's newer configs; position 0 if absent, as
// Hugging Face does).
func (t *textTower) poolIndex(ids []int32) int {
	if t.cfg.Pooling == format.PoolEOS {
		for i, id := range ids {
			if int(id) == t.cfg.EOSTokenID {
				return i
			}
		}
		return 0
	}
	best := 0
	for i, id := range ids {
		if id > ids[best] {
			best = i
		}
	}
	return best
}

// checkIDs validates one token sequence.
func (t *textTower) checkIDs(i int, ids []int32) error {
	if len(ids) == 0 {
		return fmt.Errorf("text %d: no tokens", i)
	}
	if len(ids) > t.cfg.ContextLength {
		return fmt.Errorf("text %d: %d tokens, the model's context is %d", i, len(ids), t.cfg.ContextLength)
	}
	for _, id := range ids {
		if id < 0 || int(id) >= t.cfg.VocabSize {
			return fmt.Errorf("text %d: token id %d outside the vocabulary [0,%d)", i, id, t.cfg.VocabSize)
		}
	}
	return nil
}

// embedTexts runs the tower on token sequences and writes their
// unnormalised embeddings into out (len(ids)×embed). Because the mask is
// causal, the pooled row depends only on the tokens up to it: each sequence
// is cut right after its pooled token, and the batch is run ragged.
//
// cut = false runs every given token through every layer (the reference
// the tests compare with).
func (e *engine) embedTexts(t *textTower, s *state, ids [][]int32, out []float32, cut bool) error {
	w := t.cfg.Width
	s.spans = s.spans[:0]
	rows := 0
	for i, seq := range ids {
		if err := t.checkIDs(i, seq); err != nil {
			return err
		}
		p := t.poolIndex(seq)
		n := len(seq)
		if cut {
			n = p + 1
		}
		s.spans = append(s.spans, span{start: rows, n: n, pool: p})
		rows += n
	}
	s.x = grow(s.x, rows*w)
	embedTokenSpans(e, s, ids, &t.token, t.pos, t.f16row, w)
	if err := e.forward(&t.enc, s, rows, cut); err != nil {
		return err
	}
	s.out = grow(s.out, len(ids)*w)
	for i := range ids {
		e.k.LayerNorm(s.out[i*w:(i+1)*w], s.x[i*w:(i+1)*w], t.lnFin.g, t.lnFin.b, t.enc.eps)
	}
	e.linear(s, &t.proj, s.out, len(ids), out, epiNone, nil)
	return nil
}

// embedTokenSpans writes into s.x, for every span of s, the token
// embeddings of its ids plus the position embeddings (rows of width w):
// the input of a text tower's blocks.
func embedTokenSpans(e *engine, s *state, ids [][]int32, token *matrix, pos []float32, f16row func([]float32, []uint16), w int) {
	for i, sp := range s.spans {
		for p := 0; p < sp.n; p++ {
			x := s.x[(sp.start+p)*w : (sp.start+p+1)*w]
			token.row(x, int(ids[i][p]), f16row)
			e.k.Add(x, pos[p*w:(p+1)*w])
		}
	}
}
