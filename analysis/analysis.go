// Package analysis implements the tools of the lecture on CLIP's geometry
// (docs/DESIGN.md §7) for looking at a joint embedding space, with the semantics of its PyTorch code blocks:
//
//   - 11_contrastive_loss.py: cosine_similarity_matrix and the symmetric
//     InfoNCE loss clip_loss at a temperature ([CosineMatrix], [CLIPLoss]),
//     plus the mean matched (diagonal) and unmatched (off-diagonal) cosine
//     it prints, and recall@k in both directions ([Evaluate]);
//   - 11_modality_gap.py: compute_modality_gap ([ModalityGap]) and
//     analyze_intra_inter_similarity ([IntraInter]);
//   - 11_feda.py: batch_feda_transform ([FEDA]), and a linear softmax probe
//     to use it with ([TrainProbe]);
//
// and the zero-shot classifier's prompt ensembling ([Ensemble]).
//
// Inputs are float32 embeddings (rows); everything is computed in float64.
// The lecture computes in float32, so results agree with it to float32
// rounding; tests check agreement within 1e-5 on fixtures made by the lecture's
// own code (tools/reference/analysis_ref.py).
package analysis

import (
	"errors"
	"fmt"
	"math"
)

// normEps is F.normalize's default eps: x / max(‖x‖, eps).
const normEps = 1e-12

// normalized returns the rows of m divided by max(‖row‖, 1e-12), as
// F.normalize(m, dim=-1) does, in float64.
func normalized(m [][]float32) [][]float64 {
	out := make([][]float64, len(m))
	for i, row := range m {
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		inv := 1 / math.Max(math.Sqrt(ss), normEps)
		r := make([]float64, len(row))
		for j, v := range row {
			r[j] = float64(v) * inv
		}
		out[i] = r
	}
	return out
}

// checkPairs validates two matrices of paired rows.
func checkPairs(text, image [][]float32, minRows int) (int, error) {
	if len(text) != len(image) {
		return 0, fmt.Errorf("analysis: %d texts but %d images", len(text), len(image))
	}
	if len(text) < minRows {
		return 0, fmt.Errorf("analysis: %d pairs, need at least %d", len(text), minRows)
	}
	d := len(text[0])
	if d == 0 {
		return 0, errors.New("analysis: empty embeddings")
	}
	for i := range text {
		if len(text[i]) != d || len(image[i]) != d {
			return 0, fmt.Errorf("analysis: pair %d: embeddings of %d and %d values, want %d", i, len(text[i]), len(image[i]), d)
		}
		for j := range d {
			if !finite(text[i][j]) || !finite(image[i][j]) {
				return 0, fmt.Errorf("analysis: pair %d has a non-finite value", i)
			}
		}
	}
	return d, nil
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// CosineMatrix is the lecture's cosine_similarity_matrix: after L2
// normalisation of every row, S[i][j] = text_i · image_j (texts are rows).
func CosineMatrix(text, image [][]float32) ([][]float64, error) {
	if _, err := checkPairs(text, image, 1); err != nil {
		return nil, err
	}
	return cosine(normalized(text), normalized(image)), nil
}

func cosine(t, im [][]float64) [][]float64 {
	s := make([][]float64, len(t))
	for i := range t {
		s[i] = make([]float64, len(im))
		for j := range im {
			s[i][j] = dot(t[i], im[j])
		}
	}
	return s
}

// CLIPLoss is the lecture's clip_loss: the symmetric InfoNCE loss of paired
// embeddings at a temperature. With logits = S/temperature (S from
// CosineMatrix), it is the mean of the cross-entropy of each text row
// against its own image and of each image column against its own text,
// the two averaged. A model's temperature is 1/LogitScale.
func CLIPLoss(text, image [][]float32, temperature float64) (float64, error) {
	if _, err := checkPairs(text, image, 1); err != nil {
		return 0, err
	}
	if !(temperature > 0) || math.IsInf(temperature, 0) {
		return 0, fmt.Errorf("analysis: temperature %v, want a positive number", temperature)
	}
	return lossFromSim(cosine(normalized(text), normalized(image)), temperature), nil
}

func lossFromSim(s [][]float64, temperature float64) float64 {
	n := len(s)
	var t2i, i2t float64
	row := make([]float64, n)
	for i := range n {
		for j := range n {
			row[j] = s[i][j] / temperature
		}
		t2i += logSumExp(row) - row[i]
		for j := range n {
			row[j] = s[j][i] / temperature
		}
		i2t += logSumExp(row) - row[i]
	}
	return (t2i/float64(n) + i2t/float64(n)) / 2
}

func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}
