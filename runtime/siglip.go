package runtime

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/kernels"
	"github.com/clipinfer/clipinfer/tokenizer/sentencepiece"
	"github.com/clipinfer/clipinfer/tokenizer/siglip"
)

// sigLIP is the SigLIP family (SigLIP and the fixed-resolution SigLIP 2,
// Hugging Face SiglipModel): a ViT without class token or pre-LayerNorm,
// pooled by a multi-head attention "probe" head; a bidirectional text
// transformer over all ContextLength positions, pooled at the last one;
// tanh GELU; and a sigmoid per label on exp(logit_scale)·cos + logit_bias.
type sigLIP struct {
	vision      *siglipVision // nil when the file has no image tower
	text        *siglipText   // nil when the file has no text tower
	tok         *siglip.Tokenizer
	pad, eos    int32 // -1 when the model lacks the piece
	pre         imageproc.Config
	scale, bias float32
}

type siglipVision struct {
	cfg    format.VisionConfig
	grid   int
	patch  linear // with bias
	pos    []float32
	enc    encoder
	lnPost norm
	// The attention-pooling head: one learned query (probe) attends to
	// every patch, then a residual MLP.
	probe    []float32
	headAttn encoder // width and heads of the head's attention
	qkv, out linear
	ln       norm
	fc1, fc2 linear
	pixels   int
}

type siglipText struct {
	cfg    format.TextConfig
	token  matrix
	pos    []float32
	enc    encoder
	lnFin  norm
	head   linear // with bias
	f16row func([]float32, []uint16)
}

func init() { registerFamily(format.ArchSigLIP, newSigLIP) }

func newSigLIP(l *loader, meta *format.Metadata, k kernels.Kernels) (family, error) {
	g := &sigLIP{scale: meta.LogitScale, bias: meta.LogitBias}
	eps := meta.LayerNormEps
	if c := meta.Vision; c != nil {
		grid := c.ImageSize / c.PatchSize
		v := &siglipVision{cfg: *c, grid: grid, pixels: 3 * c.ImageSize * c.ImageSize}
		v.patch = l.linear("vision.patch_embed", c.Width, 3*c.PatchSize*c.PatchSize, true)
		v.pos = l.vector("vision.pos_embed", grid*grid, c.Width)
		v.enc = l.encoder("vision", c.Width, c.Heads, c.MLPDim, c.Layers, eps, meta.Activation, false)
		v.lnPost = l.norm("vision.ln_post", c.Width)
		v.probe = l.vector("vision.head.probe", c.Width)
		v.headAttn = encoder{width: c.Width, heads: c.Heads, eps: eps}
		v.qkv = l.linear("vision.head.attn.qkv", 3*c.Width, c.Width, true)
		v.out = l.linear("vision.head.attn.out", c.Width, c.Width, true)
		v.ln = l.norm("vision.head.ln", c.Width)
		v.fc1 = l.linear("vision.head.mlp.fc1", c.MLPDim, c.Width, true)
		v.fc2 = l.linear("vision.head.mlp.fc2", c.Width, c.MLPDim, true)
		g.vision = v
		g.pre = preprocessConfig(meta.Preprocess)
		g.pre.Mode = imageproc.SigLIP
	}
	if c := meta.Text; c != nil {
		t := &siglipText{cfg: *c, f16row: k.F16ToF32}
		t.token = l.matrix("text.token_embed", c.VocabSize, c.Width)
		t.pos = l.vector("text.pos_embed", c.ContextLength, c.Width)
		t.enc = l.encoder("text", c.Width, c.Heads, c.MLPDim, c.Layers, eps, meta.Activation, false)
		t.lnFin = l.norm("text.ln_final", c.Width)
		t.head = l.linear("text.head", meta.EmbedDim, c.Width, true)
		g.text = t
		if l.err != nil {
			return nil, l.err
		}
		var err error
		if g.tok, g.pad, g.eos, err = siglipTokenizer(l.f, meta); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// siglipTokenizer builds the packed SentencePiece tokenizer and returns it
// with its pad and end ids.
func siglipTokenizer(f *format.File, meta *format.Metadata) (tok *siglip.Tokenizer, pad, eos int32, err error) {
	var cfg siglip.Config
	if err := json.Unmarshal(meta.Tokenizer.Config, &cfg); err != nil {
		return nil, 0, 0, fmt.Errorf("tokenizer config: %w", err)
	}
	b, err := blob(f, meta.Tokenizer.Vocab)
	if err != nil {
		return nil, 0, 0, err
	}
	sp, err := sentencepiece.Parse(b)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("packed tokenizer: %w", err)
	}
	if sp.Size() > meta.Text.VocabSize {
		return nil, 0, 0, fmt.Errorf("packed tokenizer has %d pieces, the text tower only %d", sp.Size(), meta.Text.VocabSize)
	}
	if cfg.MaxLength > meta.Text.ContextLength {
		return nil, 0, 0, fmt.Errorf("tokenizer max_length %d exceeds the text context %d", cfg.MaxLength, meta.Text.ContextLength)
	}
	if tok, err = siglip.New(sp, cfg); err != nil {
		return nil, 0, 0, err
	}
	padTok, eosTok := "</s>", "</s>"
	if cfg.Kind == siglip.KindGemma {
		padTok, eosTok = "<pad>", "<eos>"
	}
	id := func(piece, def string) int32 {
		if piece == "" {
			piece = def
		}
		if v, ok := sp.PieceToID(piece); ok {
			return int32(v)
		}
		return -1
	}
	return tok, id(cfg.PadToken, padTok), id(cfg.EOSToken, eosTok), nil
}

func (g *sigLIP) hasVision() bool           { return g.vision != nil }
func (g *sigLIP) hasText() bool             { return g.text != nil }
func (g *sigLIP) pixels() *imageproc.Config { return &g.pre }

// tokenize gives exactly max_length ids, padded, as Hugging Face's
// tokenizer(text, padding="max_length", truncation=True).
func (g *sigLIP) tokenize(text string) ([]int32, error) { return g.tok.Encode(text), nil }

// tokenCount trims the padding; SigLIP pads with its end token, so the
// one end token the text has is counted back.
func (g *sigLIP) tokenCount(ids []int32) int {
	n := trimTrailing(ids, g.pad)
	if g.pad == g.eos && n < len(ids) {
		n++
	}
	return n
}

// score is SigLIP's rule: logit = exp(logit_scale)·cos + logit_bias, and
// each label's probability is sigmoid(logit), independent of the others.
func (g *sigLIP) score(cos []float32) Scores {
	sc := Scores{Kind: ScoreSigmoid, Cosine: cos, Logits: make([]float32, len(cos)), Probabilities: make([]float32, len(cos))}
	for i, c := range cos {
		sc.Logits[i] = g.scale*c + g.bias
		sc.Probabilities[i] = float32(1 / (1 + math.Exp(-float64(sc.Logits[i]))))
	}
	return sc
}

// embedTexts runs the text tower. There is no attention mask: every given
// position (all max_length of them for tokenized text) takes part, and
// the embedding is read at the last one, so only the last block's query
// for that row is computed (engine.forward's prune).
func (g *sigLIP) embedTexts(e *engine, s *state, ids [][]int32, dst []float32) error {
	t := g.text
	w := t.cfg.Width
	s.spans = s.spans[:0]
	rows := 0
	for i, seq := range ids {
		if len(seq) == 0 {
			return fmt.Errorf("text %d: no tokens", i)
		}
		if len(seq) > t.cfg.ContextLength {
			return fmt.Errorf("text %d: %d tokens, the model's context is %d", i, len(seq), t.cfg.ContextLength)
		}
		for _, id := range seq {
			if id < 0 || int(id) >= t.cfg.VocabSize {
				return fmt.Errorf("text %d: token id %d outside the vocabulary [0,%d)", i, id, t.cfg.VocabSize)
			}
		}
		s.spans = append(s.spans, span{start: rows, n: len(seq), pool: len(seq) - 1})
		rows += len(seq)
	}
	s.x = grow(s.x, rows*w)
	embedTokenSpans(e, s, ids, &t.token, t.pos, t.f16row, w)
	if err := e.forward(&t.enc, s, rows, true); err != nil {
		return err
	}
	s.out = grow(s.out, len(ids)*w)
	for i := range ids {
		e.k.LayerNorm(s.out[i*w:(i+1)*w], s.x[i*w:(i+1)*w], t.lnFin.g, t.lnFin.b, t.enc.eps)
	}
	e.linear(s, &t.head, s.out, len(ids), dst, epiNone, nil)
	return nil
}

// embedImages runs the image tower: patches (a convolution with bias) plus
// positions, the blocks over every patch, post-LayerNorm, then the head.
func (g *sigLIP) embedImages(e *engine, s *state, pix [][]float32, dst []float32) error {
	v := g.vision
	for i, p := range pix {
		if len(p) != v.pixels {
			return fmt.Errorf("image %d: %d values, the model takes 3×%d×%d = %d", i, len(p), v.cfg.ImageSize, v.cfg.ImageSize, v.pixels)
		}
	}
	b, w := len(pix), v.cfg.Width
	np := v.grid * v.grid
	rows := b * np
	s.in = im2col(s.in, pix, v.cfg.ImageSize, v.cfg.PatchSize)
	s.x = grow(s.x, rows*w)
	e.linear(s, &v.patch, s.in, rows, s.x, epiNone, nil)
	s.spans = s.spans[:0]
	for i := 0; i < b; i++ {
		e.k.Add(s.x[i*np*w:(i+1)*np*w], v.pos)
		s.spans = append(s.spans, span{start: i * np, n: np})
	}
	if err := e.blocks(&v.enc, s, rows, false); err != nil {
		return err
	}
	e.layerNorm(s, &v.lnPost, s.x, s.x, rows, w, v.enc.eps)

	// Head: keys and values of every patch, and the probe's query in
	// place of each image's first query row (pooled attention reads the
	// query of row pool = 0 only).
	s.out = grow(s.out, max(3, b)*w)
	e.linear(s, &v.qkv, v.probe, 1, s.out, epiNone, nil)
	e.linear(s, &v.qkv, s.x, rows, s.qkv, epiNone, nil)
	for i := 0; i < b; i++ {
		copy(s.qkv[i*np*3*w:i*np*3*w+w], s.out[:w])
	}
	e.attention(s, &v.headAttn, true) // compact: row i of s.att
	e.linear(s, &v.out, s.att, b, s.h, epiNone, nil)
	s.mlp = grow(s.mlp, b*v.fc1.w.rows)
	e.normLinear(s, &v.ln, v.enc.eps, s.h, s.tmp, &v.fc1, b, s.mlp, v.enc.act, nil)
	e.linear(s, &v.fc2, s.mlp, b, s.out, epiResidual, s.h)
	copy(dst[:b*w], s.h[:b*w])
	return nil
}
