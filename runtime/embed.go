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
	s := m.state()
	defer m.release(s)
	s.ctx = ctx
	bs := m.batch(64)
	for lo := 0; lo < len(ids); lo += bs {
		hi := min(lo+bs, len(ids))
		if err := m.fam.embedTexts(&m.eng, s, ids[lo:hi], dst[lo*d:hi*d]); err != nil {
			if lo > 0 {
				return fmt.Errorf("text %d: %w", lo, err)
			}
			return err
		}
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
	s := m.state()
	defer m.release(s)
	s.ctx = ctx
	bs := m.batch(16)
	for lo := 0; lo < len(pix); lo += bs {
		hi := min(lo+bs, len(pix))
		if err := m.fam.embedImages(&m.eng, s, pix[lo:hi], dst[lo*d:hi*d]); err != nil {
			if lo > 0 {
				return fmt.Errorf("image %d: %w", lo, err)
			}
			return err
		}
	}
	normalizeRows(dst[:len(pix)*d], d)
	return nil
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
