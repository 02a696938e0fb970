package runtime

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/kernels"
)

// simpleCLIP is the lecture's SimpleCLIP (docs/DESIGN.md §1.4): a BiLSTM text encoder
// and an MLP over precomputed image features.
type simpleCLIP struct {
	cfg           format.SimpleCLIPConfig
	scale         float32
	words         map[string]int32 // word vocabulary, nil when not packed
	embed         matrix
	fwd, bwd      lstm
	proj          linear
	fc1, fc2, fc3 linear
}

// lstm is one direction of a one-layer LSTM, gates in PyTorch's order
// (input, forget, cell, output); bias is bias_ih + bias_hh.
type lstm struct {
	wih, whh linear // wih carries the bias
}

func init() { registerFamily(format.ArchSimpleCLIP, newSimpleCLIP) }

func newSimpleCLIP(l *loader, meta *format.Metadata, _ kernels.Kernels) (family, error) {
	s := l.simpleCLIP(meta)
	if t := meta.Tokenizer; t != nil && t.Kind == format.TokenizerWords {
		b, err := blob(l.f, t.Vocab)
		if err != nil {
			return nil, err
		}
		s.words = map[string]int32{}
		for i, w := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
			if i >= s.cfg.VocabSize {
				return nil, fmt.Errorf("word vocabulary has more than %d entries", s.cfg.VocabSize)
			}
			if _, dup := s.words[string(w)]; !dup {
				s.words[string(w)] = int32(i)
			}
		}
	}
	return s, nil
}

func (sc *simpleCLIP) hasVision() bool { return true }
func (sc *simpleCLIP) hasText() bool   { return true }

// pixels is nil: the image tower reads feature vectors (see ImageInput).
func (sc *simpleCLIP) pixels() *imageproc.Config { return nil }

// tokenCount: SimpleCLIP's texts are not padded.
func (sc *simpleCLIP) tokenCount(ids []int32) int { return len(ids) }

func (sc *simpleCLIP) score(cos []float32) Scores { return SoftmaxScores(cos, sc.scale) }

// tokenize gives one id per whitespace-separated word of the packed
// vocabulary.
func (sc *simpleCLIP) tokenize(text string) ([]int32, error) {
	if sc.words == nil {
		return nil, fmt.Errorf("model has no tokenizer: give token ids")
	}
	if sc.cfg.Lowercase {
		text = strings.ToLower(text)
	}
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return nil, fmt.Errorf("text has no words")
	}
	ids := make([]int32, len(fields))
	for i, w := range fields {
		id, ok := sc.words[w]
		if !ok {
			id = int32(sc.cfg.UnknownTokenID)
		}
		ids[i] = id
	}
	return ids, nil
}

func (l *loader) simpleCLIP(m *format.Metadata) *simpleCLIP {
	c := *m.SimpleCLIP
	s := &simpleCLIP{cfg: c, scale: m.LogitScale}
	s.embed = l.matrix("simple.text.embed", c.VocabSize, c.EmbedDim)
	for _, d := range []struct {
		name string
		dst  *lstm
	}{{"fwd", &s.fwd}, {"bwd", &s.bwd}} {
		p := "simple.text.lstm." + d.name
		d.dst.wih = linear{w: l.matrix(p+".wih", 4*c.HiddenDim, c.EmbedDim), b: l.vector(p+".bias", 4*c.HiddenDim)}
		d.dst.whh = linear{w: l.matrix(p+".whh", 4*c.HiddenDim, c.HiddenDim)}
	}
	s.proj = l.linear("simple.text.proj", c.OutputDim, 2*c.HiddenDim, true)
	s.fc1 = l.linear("simple.image.fc1", c.ImageHiddenDim, c.ImageInputDim, true)
	s.fc2 = l.linear("simple.image.fc2", c.ImageHiddenDim, c.ImageHiddenDim, true)
	s.fc3 = l.linear("simple.image.fc3", c.OutputDim, c.ImageHiddenDim, true)
	return s
}

// embedTexts embeds token sequences with the BiLSTM. Every given token is
// run in both directions (the lecture's code runs padded batches unpacked).
func (sc *simpleCLIP) embedTexts(e *engine, s *state, ids [][]int32, dst []float32) error {
	c := sc.cfg
	total := 0
	for i, seq := range ids {
		if len(seq) == 0 {
			return fmt.Errorf("text %d: no tokens", i)
		}
		for _, id := range seq {
			if id < 0 || int(id) >= c.VocabSize {
				return fmt.Errorf("text %d: token id %d outside the vocabulary [0,%d)", i, id, c.VocabSize)
			}
		}
		total += len(seq)
	}
	h := c.HiddenDim
	// Token embeddings of every position of every text, then the input
	// projections of both directions in two batched matmuls.
	s.in = grow(s.in, total*c.EmbedDim)
	s.spans = s.spans[:0]
	row := 0
	for _, seq := range ids {
		s.spans = append(s.spans, span{start: row, n: len(seq)})
		for _, id := range seq {
			sc.embed.row(s.in[row*c.EmbedDim:(row+1)*c.EmbedDim], int(id), e.k.F16ToF32)
			row++
		}
	}
	s.qkv = grow(s.qkv, 2*total*4*h) // forward then backward input projections
	xf, xb := s.qkv[:total*4*h], s.qkv[total*4*h:]
	e.linear(s, &sc.fwd.wih, s.in, total, xf, epiNone, nil)
	e.linear(s, &sc.bwd.wih, s.in, total, xb, epiNone, nil)
	b := len(ids)
	s.out = grow(s.out, b*2*h)
	s.h = grow(s.h, b*h)     // hidden state of the active sequences
	s.att = grow(s.att, b*h) // cell state
	s.tmp = grow(s.tmp, b*4*h)
	s.x = grow(s.x, b*h) // compacted hidden states fed to the recurrent matmul
	for dir, l := range []*lstm{&sc.fwd, &sc.bwd} {
		xp := xf
		if dir == 1 {
			xp = xb
		}
		clear(s.h[:b*h])
		clear(s.att[:b*h])
		maxLen := 0
		for _, sp := range s.spans {
			maxLen = max(maxLen, sp.n)
		}
		for step := 0; step < maxLen; step++ {
			if err := s.stopped("LSTM step", dir*maxLen+step, 2*maxLen); err != nil {
				return err
			}
			// Sequences still running at this step, compacted.
			act := s.active[:0]
			for i, sp := range s.spans {
				if step < sp.n {
					act = append(act, i)
				}
			}
			s.active = act
			for a, i := range act {
				copy(s.x[a*h:(a+1)*h], s.h[i*h:(i+1)*h])
			}
			e.linear(s, &l.whh, s.x, len(act), s.tmp, epiNone, nil)
			for a, i := range act {
				sp := s.spans[i]
				pos := step
				if dir == 1 {
					pos = sp.n - 1 - step
				}
				g := s.tmp[a*4*h : (a+1)*4*h]
				e.k.Add(g, xp[(sp.start+pos)*4*h:(sp.start+pos+1)*4*h])
				lstmCell(s.h[i*h:(i+1)*h], s.att[i*h:(i+1)*h], g, h)
			}
		}
		for i := 0; i < b; i++ {
			copy(s.out[i*2*h+dir*h:i*2*h+(dir+1)*h], s.h[i*h:(i+1)*h])
		}
	}
	e.linear(s, &sc.proj, s.out, b, dst, epiNone, nil)
	return nil
}

// lstmCell updates h and c from the pre-activation gates g = [i f g o].
func lstmCell(h, c, g []float32, n int) {
	for j := 0; j < n; j++ {
		ig := sigmoid(g[j])
		fg := sigmoid(g[n+j])
		gg := float32(math.Tanh(float64(g[2*n+j])))
		og := sigmoid(g[3*n+j])
		c[j] = fg*c[j] + ig*gg
		h[j] = og * float32(math.Tanh(float64(c[j])))
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// embedImages embeds image feature vectors with the MLP.
func (sc *simpleCLIP) embedImages(e *engine, s *state, feats [][]float32, dst []float32) error {
	in := sc.cfg.ImageInputDim
	b := len(feats)
	s.in = grow(s.in, b*in)
	for i, f := range feats {
		if len(f) != in {
			return fmt.Errorf("image %d: %d features, the model takes %d", i, len(f), in)
		}
		for _, v := range f {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("image %d: non-finite feature %v", i, v)
			}
		}
		copy(s.in[i*in:], f)
	}
	s.h = grow(s.h, b*sc.fc1.w.rows)
	s.mlp = grow(s.mlp, b*sc.fc2.w.rows)
	e.linear(s, &sc.fc1, s.in, b, s.h, epiReLU, nil)
	e.linear(s, &sc.fc2, s.h, b, s.mlp, epiReLU, nil)
	e.linear(s, &sc.fc3, s.mlp, b, dst, epiNone, nil)
	return nil
}
