package runtime

import (
	"fmt"
	"math"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/kernels"
)

// family is one model family: its towers, how text and images become their
// inputs, and how an image is scored against labels. A Model holds exactly
// one, chosen from the file's metadata; everything that differs between
// families lives behind this interface, in the family's own file.
type family interface {
	// hasVision and hasText report which towers the file holds.
	hasVision() bool
	hasText() bool
	// tokenize turns valid UTF-8 text of bounded length into token ids.
	tokenize(text string) ([]int32, error)
	// tokenCount is the number of ids before the padding tokenize adds.
	tokenCount(ids []int32) int
	// pixels is how images become the image tower's input; nil when the
	// tower reads precomputed feature vectors instead.
	pixels() *imageproc.Config
	// embedTexts and embedImages run one batch through a tower and write
	// unnormalised embeddings (len(input)×EmbedDim) into dst.
	embedTexts(e *engine, s *state, ids [][]int32, dst []float32) error
	embedImages(e *engine, s *state, in [][]float32, dst []float32) error
	// score turns the cosine similarities of one image with each label
	// into the family's logits and probabilities.
	score(cos []float32) Scores
}

// newFamily builds a family from an opened file; l collects tensor errors.
type newFamily func(l *loader, meta *format.Metadata, k kernels.Kernels) (family, error)

// families maps format.Metadata.Architecture to the family's constructor.
// Each family registers itself from its own file.
var families = map[string]newFamily{}

func registerFamily(arch string, f newFamily) { families[arch] = f }

func openFamily(l *loader, meta *format.Metadata, k kernels.Kernels) (family, error) {
	f, ok := families[meta.Architecture]
	if !ok {
		return nil, fmt.Errorf("architecture %q is not supported by this runtime", meta.Architecture)
	}
	return f(l, meta, k)
}

// ScoreKind says how the zero-shot probabilities of one image relate to
// each other.
type ScoreKind string

const (
	// ScoreSoftmax: a softmax over the labels (CLIP, SimpleCLIP); the
	// probabilities sum to one and each depends on the other labels.
	ScoreSoftmax ScoreKind = "softmax"
	// ScoreSigmoid: an independent sigmoid per label (SigLIP); each is
	// the probability that that label matches, whatever the others are.
	ScoreSigmoid ScoreKind = "sigmoid"
)

// Scores is the zero-shot classification of one image against labels, one
// value per label in the labels' order.
type Scores struct {
	// Kind says whether Probabilities is a softmax over the labels or
	// independent per-label sigmoids.
	Kind ScoreKind
	// Cosine is the cosine similarity of the image with each label.
	Cosine []float32
	// Logits are the family's logits (CLIP: LogitScale·cosine).
	Logits []float32
	// Probabilities are the zero-shot probabilities (see Kind).
	Probabilities []float32
}

// Score classifies an image embedding against label embeddings (one per
// label, as EmbedTexts makes them) the way the model's family was trained
// to: see Scores.Kind.
func (m *Model) Score(image []float32, labels [][]float32) Scores {
	return m.fam.score(Cosines(image, labels))
}

// Cosines returns the cosine similarity of an embedding with each of
// others.
func Cosines(image []float32, labels [][]float32) []float32 {
	cos := make([]float32, len(labels))
	for i, l := range labels {
		cos[i] = Similarity(image, l)
	}
	return cos
}

// SoftmaxScores is CLIP's zero-shot rule: logits = scale·cosine,
// probabilities their softmax over the labels.
func SoftmaxScores(cos []float32, scale float32) Scores {
	sc := Scores{Kind: ScoreSoftmax, Cosine: cos, Logits: make([]float32, len(cos))}
	for i, c := range cos {
		sc.Logits[i] = scale * c
	}
	sc.Probabilities = append([]float32(nil), sc.Logits...)
	Softmax(sc.Probabilities)
	return sc
}

// Softmax replaces x by its softmax, computed in float64.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v - mx))
	}
	for i, v := range x {
		x[i] = float32(math.Exp(float64(v-mx)) / sum)
	}
}

// TokenCount returns how many of ids are the text's tokens (special tokens
// included) rather than the padding Tokenize adds: what usage statistics
// count.
func (m *Model) TokenCount(ids []int32) int { return m.fam.tokenCount(ids) }

// trimTrailing is len(ids) without the trailing run of pad.
func trimTrailing(ids []int32, pad int32) int {
	n := len(ids)
	for n > 0 && ids[n-1] == pad {
		n--
	}
	return n
}
