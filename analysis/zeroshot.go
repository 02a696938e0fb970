package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// DefaultTemplate is the prompt template used when none is given.
const DefaultTemplate = "a photo of a {}."

// Prompts fills every template with every label ("{}" marks where the
// label goes; a template without it is used as a prefix: "template label").
// The result is label-major: the prompts of label i are
// [i·len(templates), (i+1)·len(templates)).
func Prompts(labels, templates []string) ([]string, error) {
	if len(labels) == 0 {
		return nil, errors.New("analysis: no labels")
	}
	if len(templates) == 0 {
		templates = []string{DefaultTemplate}
	}
	out := make([]string, 0, len(labels)*len(templates))
	for _, l := range labels {
		if strings.TrimSpace(l) == "" {
			return nil, errors.New("analysis: empty label")
		}
		for _, t := range templates {
			if strings.Contains(t, "{}") {
				out = append(out, strings.ReplaceAll(t, "{}", l))
			} else {
				out = append(out, strings.TrimSpace(t+" "+l))
			}
		}
	}
	return out, nil
}

// Ensemble averages, for each label, the L2-normalised embeddings of its
// prompts (label-major, perLabel each, as Prompts orders them) and
// normalises the mean: OpenCLIP's prompt ensembling for zero-shot
// classification.
func Ensemble(embs [][]float32, perLabel int) ([][]float32, error) {
	if perLabel < 1 || len(embs) == 0 || len(embs)%perLabel != 0 {
		return nil, fmt.Errorf("analysis: %d embeddings do not split into groups of %d", len(embs), perLabel)
	}
	d := len(embs[0])
	out := make([][]float32, len(embs)/perLabel)
	for l := range out {
		acc := make([]float64, d)
		for _, e := range embs[l*perLabel : (l+1)*perLabel] {
			if len(e) != d {
				return nil, fmt.Errorf("analysis: embeddings of %d and %d values", len(e), d)
			}
			var ss float64
			for _, v := range e {
				ss += float64(v) * float64(v)
			}
			inv := 1 / math.Max(math.Sqrt(ss), normEps)
			for j, v := range e {
				acc[j] += float64(float64(v) * inv) // no fused multiply-add: same sums on every architecture
			}
		}
		var ss float64
		for _, v := range acc {
			ss += v * v
		}
		inv := 1 / math.Max(math.Sqrt(ss), normEps)
		r := make([]float32, d)
		for j, v := range acc {
			r[j] = float32(v * inv)
		}
		out[l] = r
	}
	return out, nil
}

// LabelEmbeddings embeds every label with every template and ensembles
// them: one normalised text embedding per label.
func LabelEmbeddings(embed func([]string) ([][]float32, error), labels, templates []string) ([][]float32, error) {
	prompts, err := Prompts(labels, templates)
	if err != nil {
		return nil, err
	}
	embs, err := embed(prompts)
	if err != nil {
		return nil, err
	}
	if len(embs) != len(prompts) {
		return nil, fmt.Errorf("analysis: %d embeddings for %d prompts", len(embs), len(prompts))
	}
	return Ensemble(embs, len(prompts)/len(labels))
}

// TopK returns the indices of the k largest values, largest first (the
// lower index first among equal values).
func TopK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
	return idx[:max(0, min(k, len(idx)))]
}
