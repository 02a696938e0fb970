package runtime

import (
	"context"
	"fmt"
	"math"
)

// EmbedTokens returns the normalised text embeddings of token sequences
// (each at most the model's context length; padding after the end token is
// allowed and ignored).
func (m *Model) EmbedTokens(ids [][]int32) ([][]float32, error) {
	return m.EmbedTokensContext(context.Background(), ids)
}

// EmbedTokensContext is EmbedTokens stopping early when ctx ends: the
// towers check ctx before every transformer block (every LSTM step for
// SimpleCLIP), so a pass whose caller has gone stops within one layer and
// returns ctx's error, wrapped (errors.Is(err, context.Canceled) or
// context.DeadlineExceeded holds). A stopped call leaves the model as it
// was: later calls give the same results as if it had never run.
func (m *Model) EmbedTokensContext(ctx context.Context, ids [][]int32) ([][]float32, error) {
	flat := make([]float32, len(ids)*m.EmbedDim())
	if err := m.EmbedTokensIntoContext(ctx, flat, ids); err != nil {
		return nil, err
	}
	return split(flat, len(ids), m.EmbedDim()), nil
}

// EmbedTokensInto is EmbedTokens writing into dst (len(ids)·EmbedDim
// values). It allocates nothing once the model has warmed up.
func (m *Model) EmbedTokensInto(dst []float32, ids [][]int32) error {
	return m.EmbedTokensIntoContext(context.Background(), dst, ids)
}

// EmbedTokensIntoContext is EmbedTokensInto stopping early when ctx ends
// (see EmbedTokensContext); dst's contents are unspecified then. It
// allocates nothing once the model has warmed up unless ctx ends.
func (m *Model) EmbedTokensIntoContext(ctx context.Context, dst []float32, ids [][]int32) error {
	if m.closed.Load() {
		return errClosed
	}
	if !m.fam.hasText() {
		return fmt.Errorf("model has no text tower")
	}
	d := m.EmbedDim()
	if len(dst) < len(ids)*d {
		return fmt.Errorf("destination holds %d values, need %d", len(dst), len(ids)*d)
	}
	if err := m.embed(ctx, inputs{ids: ids}, dst); err != nil {
		return err
	}
	normalizeRows(dst[:len(ids)*d], d)
	return nil
}

// EmbedPixels returns the normalised image embeddings of image-tower
// inputs: for a ViT, preprocessed images, each a 3×S×S CHW tensor as
// Preprocess makes it; for SimpleCLIP, feature vectors (see ImageInput).
func (m *Model) EmbedPixels(pix [][]float32) ([][]float32, error) {
	return m.EmbedPixelsContext(context.Background(), pix)
}

// EmbedPixelsContext is EmbedPixels stopping early when ctx ends (see
// EmbedTokensContext).
func (m *Model) EmbedPixelsContext(ctx context.Context, pix [][]float32) ([][]float32, error) {
	flat := make([]float32, len(pix)*m.EmbedDim())
	if err := m.EmbedPixelsIntoContext(ctx, flat, pix); err != nil {
		return nil, err
	}
	return split(flat, len(pix), m.EmbedDim()), nil
}

// EmbedPixelsInto is EmbedPixels writing into dst (len(pix)·EmbedDim
// values). It allocates nothing once the model has warmed up.
func (m *Model) EmbedPixelsInto(dst []float32, pix [][]float32) error {
	return m.EmbedPixelsIntoContext(context.Background(), dst, pix)
}

// EmbedPixelsIntoContext is EmbedPixelsInto stopping early when ctx ends
// (see EmbedTokensContext); dst's contents are unspecified then.
func (m *Model) EmbedPixelsIntoContext(ctx context.Context, dst []float32, pix [][]float32) error {
	if m.closed.Load() {
		return errClosed
	}
	if !m.fam.hasVision() {
		return fmt.Errorf("model has no image tower")
	}
	d := m.EmbedDim()
	if len(dst) < len(pix)*d {
		return fmt.Errorf("destination holds %d values, need %d", len(dst), len(pix)*d)
	}
	if err := m.embed(ctx, inputs{pix: pix}, dst); err != nil {
		return err
	}
	normalizeRows(dst[:len(pix)*d], d)
	return nil
}

// inputs is what one embedding call brings to a tower: token sequences
// for the text tower, or image-tower inputs (pix).
type inputs struct {
	ids [][]int32
	pix [][]float32
}

func (in *inputs) len() int { return len(in.ids) + len(in.pix) }

// embed writes the unnormalised embeddings of in into dst, in forward
// passes of at most MaxBatch inputs.
//
// With several threads it parallelises one of two ways. A batch that can
// be cut into one contiguous share per thread, the shares' costs within a
// quarter of even (splitPlan), goes by inputs: each participant runs
// whole single-threaded passes over its share (splitJob), so the cores
// share nothing but the weights, as separate processes would. Otherwise
// (a single input, three images on two threads, a long caption beside a
// short one) every pass is split inside, by the columns and rows of each
// product. Splitting by inputs is preferred because a pass split inside
// hands its activations from core to core at every one of its dozens of
// steps per layer: on two cores it reaches 1.5–1.9× one core where
// splitting by inputs reaches 1.8–2× (docs/PERFORMANCE.md). Both give
// bit-identical embeddings: no input's arithmetic depends on which thread
// or batch it runs in.
func (m *Model) embed(ctx context.Context, in inputs, dst []float32) error {
	n := in.len()
	if n >= 2 && m.eng.w.threads > 1 {
		// The job carries one scratch state per participant, so a
		// pooled job that has run a batch of this shape runs the next
		// one without growing anything.
		j := m.splits.Get().(*splitJob)
		defer m.splits.Put(j)
		if j.bounds = m.splitPlan(in, j.bounds); j.bounds != nil {
			return j.embed(m, ctx, in, dst)
		}
	}
	s := m.state()
	defer m.release(s)
	s.ctx = ctx
	return m.embedRange(&m.eng, s, in, dst, 0, n)
}

// splitPlan cuts the inputs into one contiguous share per thread, share
// c being inputs [b[c], b[c+1]), with the shares' costs as even as
// contiguous cuts allow: an image costs 1, a text its token count (the
// towers cut a caption at its end token, so a pass's work grows with it).
// It returns nil, rather than a plan, when there are fewer inputs than
// threads or the costliest share exceeds the average by more than a
// quarter: a pass split inside then finishes first. b is reused when it
// has room.
func (m *Model) splitPlan(in inputs, b []int) []int {
	n, t := in.len(), m.eng.w.threads
	if t < 2 || n < t {
		return nil
	}
	cost := func(i int) int {
		if in.ids != nil {
			return max(1, m.fam.tokenCount(in.ids[i]))
		}
		return 1
	}
	total := 0
	for i := range n {
		total += cost(i)
	}
	b = grow(b, t+1)
	b[0], b[t] = 0, n
	i, sum := 0, 0 // inputs [0, i) are placed and cost sum
	most := 0      // the costliest share so far
	for c := 1; c < t; c++ {
		// Take inputs while that brings the cut nearer to c/t of the
		// total, leaving at least one input for each later share.
		target, start := total*c/t, sum
		for i < n-(t-c) {
			next := sum + cost(i)
			if i > b[c-1] && next-target > target-sum {
				break
			}
			sum, i = next, i+1
		}
		b[c] = i
		most = max(most, sum-start)
	}
	most = max(most, total-sum)
	if 4*most*t > 5*total {
		return nil
	}
	return b
}

// embedRange embeds inputs [lo, hi) of in on engine e, in passes of at
// most MaxBatch inputs.
func (m *Model) embedRange(e *engine, s *state, in inputs, dst []float32, lo, hi int) error {
	d := m.EmbedDim()
	what, bs := "image", m.batch(16)
	if in.ids != nil {
		what, bs = "text", m.batch(64)
	}
	for b0 := lo; b0 < hi; b0 += bs {
		b1 := min(b0+bs, hi)
		var err error
		if in.ids != nil {
			err = m.fam.embedTexts(e, s, in.ids[b0:b1], dst[b0*d:b1*d])
		} else {
			err = m.fam.embedImages(e, s, in.pix[b0:b1], dst[b0*d:b1*d])
		}
		if err != nil {
			if b0 > 0 {
				return fmt.Errorf("%s %d: %w", what, b0, err)
			}
			return err
		}
	}
	return nil
}

// splitJob embeds a batch by inputs. Its items are the shares of a
// splitPlan, share u being inputs [bounds[u], bounds[u+1]); participant c
// embeds the shares it runs alone, with its scratch states[c], on the
// model's one-thread engine (a participant done early takes a late one's
// whole share). The first error of each participant is kept in errs.
type splitJob struct {
	m      *Model
	ctx    context.Context
	in     inputs
	dst    []float32
	bounds []int
	errs   []error
	states []*state
	par    batch
}

// embed runs the batch by the plan in j.bounds and returns the first
// participant's error, if any.
func (j *splitJob) embed(m *Model, ctx context.Context, in inputs, dst []float32) error {
	t := m.eng.w.threads
	j.m, j.ctx, j.in, j.dst = m, ctx, in, dst
	j.errs = grow(j.errs, t)
	clear(j.errs)
	for len(j.states) < t {
		j.states = append(j.states, new(state))
	}
	m.eng.w.parallel(j, t, 1, &j.par)
	var err error
	for _, e := range j.errs {
		if e != nil {
			err = e // the first participant's: one error, one line
			break
		}
	}
	j.ctx, j.in, j.dst = nil, inputs{}, nil // the pool keeps no caller's data
	return err
}

func (j *splitJob) run(c, lo, hi int) {
	s := j.states[c]
	s.ctx = j.ctx
	for u := lo; u < hi; u++ {
		err := j.m.embedRange(&j.m.serial, s, j.in, j.dst, j.bounds[u], j.bounds[u+1])
		if err != nil && j.errs[c] == nil {
			j.errs[c] = err
		}
	}
	s.ctx = nil // the pooled job must not keep a caller's context alive
}

func split(flat []float32, n, d int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
	}
	return out
}

// normalizeRows scales each row of d values to unit L2 norm (rows of zeros
// stay zero).
func normalizeRows(v []float32, d int) {
	for i := 0; i+d <= len(v); i += d {
		Normalize(v[i : i+d])
	}
}

// Normalize scales v to unit L2 norm in place; a zero vector stays zero.
func Normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}

// Similarity returns the cosine similarity of two embeddings (their dot
// product, since embeddings are normalised).
func Similarity(a, b []float32) float32 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return float32(s)
}

// Logits, ZeroShot and Score take no context: they compare embeddings
// already computed (one dot product per label), far less work than one
// encoder layer.

// Logits returns the model's zero-shot logits of an image against text
// embeddings (CLIP: LogitScale·cosine; see Score).
func (m *Model) Logits(image []float32, texts [][]float32) []float32 {
	return m.Score(image, texts).Logits
}

// ZeroShot returns the probability of each label for an image, as Score
// computes them (a softmax over the labels for CLIP and SimpleCLIP). labels
// are text embeddings, one per label.
func (m *Model) ZeroShot(image []float32, labels [][]float32) []float32 {
	return m.Score(image, labels).Probabilities
}

// EmbedFeatures returns the normalised image embeddings of feature vectors
// (SimpleCLIP models, whose image tower reads precomputed features).
func (m *Model) EmbedFeatures(feats [][]float32) ([][]float32, error) {
	return m.EmbedFeaturesContext(context.Background(), feats)
}

// EmbedFeaturesContext is EmbedFeatures stopping early when ctx ends (see
// EmbedTokensContext).
func (m *Model) EmbedFeaturesContext(ctx context.Context, feats [][]float32) ([][]float32, error) {
	if m.closed.Load() {
		return nil, errClosed
	}
	if m.fam.pixels() != nil {
		return nil, fmt.Errorf("model's image tower takes images, not feature vectors")
	}
	return m.EmbedPixelsContext(ctx, feats)
}
