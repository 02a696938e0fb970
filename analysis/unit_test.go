package analysis

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrors(t *testing.T) {
	good := [][]float32{{1, 0}, {0, 1}}
	nan := [][]float32{{1, float32(math.NaN())}, {0, 1}}
	tests := []struct {
		name string
		run  func() error
		err  string
	}{
		{"loss unpaired", func() error { _, err := CLIPLoss(good, good[:1], 1); return err }, "2 texts but 1 images"},
		{"loss temperature", func() error { _, err := CLIPLoss(good, good, 0); return err }, "temperature"},
		{"loss nan", func() error { _, err := CLIPLoss(nan, good, 1); return err }, "non-finite"},
		{"loss ragged", func() error { _, err := CLIPLoss([][]float32{{1, 0}, {1}}, good, 1); return err }, "want 2"},
		{"eval one pair", func() error { _, err := Evaluate(good[:1], good[:1], nil, nil); return err }, "at least 2"},
		{"eval k", func() error { _, err := Evaluate(good, good, nil, []int{0}); return err }, "recall@0"},
		{"eval temperature", func() error { _, err := Evaluate(good, good, []float64{math.Inf(1)}, nil); return err }, "temperature"},
		{"gap empty", func() error { _, err := ModalityGap(nil, good); return err }, "at least one"},
		{"gap dims", func() error { _, err := ModalityGap(good, [][]float32{{1, 2, 3}}); return err }, "want 2"},
		{"intra one", func() error { _, err := IntraInter(good[:1], good[:1]); return err }, "at least 2"},
		{"feda domain", func() error { _, err := FEDA(good, []int{0, 2}); return err }, "domain 2"},
		{"feda count", func() error { _, err := FEDA(good, []int{0}); return err }, "2 feature rows but 1"},
		{"probe classes", func() error { _, err := TrainProbe(good, []int{0, 0}, 1, ProbeOptions{}); return err }, "at least 2"},
		{"probe label", func() error { _, err := TrainProbe(good, []int{0, 5}, 2, ProbeOptions{}); return err }, "label 5"},
		{"probe rows", func() error { _, err := TrainProbe(nil, nil, 2, ProbeOptions{}); return err }, "no training rows"},
		{"probe nan", func() error { _, err := TrainProbe(nan, []int{0, 1}, 2, ProbeOptions{}); return err }, "non-finite"},
		{"domain no test", func() error {
			_, err := DomainProbe(good, []int{0, 1}, []int{0, 1}, []bool{true, true}, 2, ProbeOptions{Epochs: 1})
			return err
		}, "no test rows"},
		{"prompts none", func() error { _, err := Prompts(nil, nil); return err }, "no labels"},
		{"prompts empty label", func() error { _, err := Prompts([]string{" "}, nil); return err }, "empty label"},
		{"ensemble groups", func() error { _, err := Ensemble(good, 3); return err }, "groups of 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.run(), tc.err)
		})
	}
}

func TestPerfectPairs(t *testing.T) {
	// Orthogonal, perfectly matched pairs: cosine 1 on the diagonal, 0
	// elsewhere, so the loss at T is log(1 + (n-1)·e^(-1/T)).
	n := 4
	e := make([][]float32, n)
	for i := range e {
		e[i] = make([]float32, n)
		e[i][i] = float32(i + 1) // norms differ: normalisation must remove them
	}
	ev, err := Evaluate(e, e, []float64{0.5}, []int{1})
	require.NoError(t, err)
	assert.InDelta(t, math.Log(1+3*math.Exp(-2)), ev.Loss["0.5"], 1e-12)
	assert.Equal(t, 1.0, ev.RecallTextToImage["1"])
	assert.Equal(t, 1.0, ev.RecallImageToText["1"])
	assert.InDelta(t, 1, ev.MatchedCosine, 1e-12)
	assert.InDelta(t, 0, ev.UnmatchedCosine, 1e-12)
	g, err := ModalityGap(e, e)
	require.NoError(t, err)
	assert.Zero(t, g.Magnitude)
	assert.Zero(t, g.CentroidAngleDeg, "cosine 1 → 0°, where the lecture's acos may give NaN")
}

func TestRecallTies(t *testing.T) {
	// Every image is equally similar to every text: ties count in favour.
	e := [][]float32{{1, 0}, {1, 0}, {1, 0}}
	ev, err := Evaluate(e, e, nil, []int{1})
	require.NoError(t, err)
	assert.Equal(t, 1.0, ev.RecallTextToImage["1"])
}

func TestProbeLearns(t *testing.T) {
	x := [][]float32{{1, 0}, {0.9, 0.1}, {0, 1}, {0.1, 0.9}, {-1, 0}, {-0.9, -0.1}}
	y := []int{0, 0, 1, 1, 2, 2}
	p, err := TrainProbe(x, y, 3, ProbeOptions{Epochs: 300})
	require.NoError(t, err)
	acc, err := p.Accuracy(x, y)
	require.NoError(t, err)
	assert.Equal(t, 1.0, acc)
	assert.InDelta(t, 1, sum(p.Probabilities(x[0])), 1e-12)
	q, err := TrainProbe(x, y, 3, ProbeOptions{Epochs: 300})
	require.NoError(t, err)
	assert.Equal(t, p, q, "training is deterministic")
	_, err = p.Accuracy([][]float32{{1, 2, 3}}, []int{0})
	assert.Error(t, err)
	// More epochs never increase the objective (step 1/L).
	prev := math.Inf(1)
	for _, ep := range []int{1, 5, 20, 100} {
		p, err := TrainProbe(x, y, 3, ProbeOptions{Epochs: ep})
		require.NoError(t, err)
		assert.Less(t, p.Loss, prev)
		prev = p.Loss
	}
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func TestDomainProbeWithoutDomains(t *testing.T) {
	x := [][]float32{{1, 0}, {0, 1}, {0.9, 0.1}, {0.2, 0.8}}
	res, err := DomainProbe(x, []int{0, 1, 0, 1}, nil, []bool{true, true, false, false}, 2, ProbeOptions{Epochs: 200})
	require.NoError(t, err)
	assert.Equal(t, 2, res.TrainRows)
	assert.Equal(t, 2, res.TestRows)
	assert.Equal(t, 1.0, res.Plain.Accuracy)
	assert.Nil(t, res.FEDA)
}

func TestPromptsEnsemble(t *testing.T) {
	p, err := Prompts([]string{"cat", "dog"}, []string{"a photo of a {}.", "{} and {}", "art:"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a photo of a cat.", "cat and cat", "art: cat", "a photo of a dog.", "dog and dog", "art: dog"}, p)
	p, err = Prompts([]string{"cat"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a photo of a cat."}, p)

	embs := [][]float32{{2, 0}, {0, 1}, {0, -3}, {0, 5}}
	got, err := Ensemble(embs, 2)
	require.NoError(t, err)
	s := float32(1 / math.Sqrt2)
	assert.InDeltaSlice(t, []float32{s, s}, got[0], 1e-7)
	assert.Equal(t, []float32{0, 0}, got[1], "opposite prompts cancel to zero, not NaN")

	calls := 0
	le, err := LabelEmbeddings(func(texts []string) ([][]float32, error) {
		calls++
		out := make([][]float32, len(texts))
		for i := range texts {
			out[i] = []float32{float32(len(texts[i])), 1}
		}
		return out, nil
	}, []string{"a", "bb"}, []string{"{}", "x {}"})
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Len(t, le, 2)
	_, err = LabelEmbeddings(func([]string) ([][]float32, error) { return nil, errors.New("boom") }, []string{"a"}, nil)
	assert.ErrorContains(t, err, "boom")
}

func TestTopK(t *testing.T) {
	v := []float32{0.1, 0.5, 0.5, 0.2}
	assert.Equal(t, []int{1, 2}, TopK(v, 2))
	assert.Equal(t, []int{1, 2, 3, 0}, TopK(v, 10))
	assert.Empty(t, TopK(v, 0))
}
