package analysis

import (
	"fmt"
	"math"
	"strconv"
)

// Eval summarises how well paired text and image embeddings match.
type Eval struct {
	// N is the number of pairs.
	N int `json:"n"`
	// Loss maps each temperature (formatted with %g) to CLIPLoss there.
	Loss map[string]float64 `json:"loss"`
	// RecallTextToImage maps k (as a string) to the fraction of texts whose
	// own image is among the k most similar images; RecallImageToText is
	// the same for images finding their text. Ties count in the pair's
	// favour: the rank of the true match is the number of others scoring
	// strictly higher.
	RecallTextToImage map[string]float64 `json:"recall_t2i"`
	RecallImageToText map[string]float64 `json:"recall_i2t"`
	// MatchedCosine is the mean cosine of true pairs (the diagonal of
	// CosineMatrix); UnmatchedCosine the mean of the other n(n-1) entries,
	// as the lecture's 11_contrastive_loss.py prints them.
	MatchedCosine   float64 `json:"matched_cosine"`
	UnmatchedCosine float64 `json:"unmatched_cosine"`
}

// Evaluate computes CLIPLoss at each temperature, recall@k in both
// directions for each k, and the mean matched and unmatched cosines of n ≥ 2
// pairs (text[i] describes image[i]).
func Evaluate(text, image [][]float32, temperatures []float64, ks []int) (*Eval, error) {
	n := len(text)
	if _, err := checkPairs(text, image, 2); err != nil {
		return nil, err
	}
	for _, t := range temperatures {
		if !(t > 0) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("analysis: temperature %v, want a positive number", t)
		}
	}
	for _, k := range ks {
		if k < 1 {
			return nil, fmt.Errorf("analysis: recall@%d, want k ≥ 1", k)
		}
	}
	s := cosine(normalized(text), normalized(image))
	ev := &Eval{N: n, Loss: map[string]float64{}, RecallTextToImage: map[string]float64{}, RecallImageToText: map[string]float64{}}
	for _, t := range temperatures {
		ev.Loss[strconv.FormatFloat(t, 'g', -1, 64)] = lossFromSim(s, t)
	}
	t2i, i2t := ranks(s)
	for _, k := range ks {
		key := strconv.Itoa(k)
		ev.RecallTextToImage[key] = recall(t2i, k)
		ev.RecallImageToText[key] = recall(i2t, k)
	}
	var diag, all float64
	for i := range n {
		diag += s[i][i]
		for j := range n {
			all += s[i][j]
		}
	}
	ev.MatchedCosine = diag / float64(n)
	ev.UnmatchedCosine = (all - diag) / float64(n*(n-1))
	return ev, nil
}

// ranks returns, for each text, the number of images more similar to it
// than its own, and for each image the number of texts more similar to it
// than its own.
func ranks(s [][]float64) (t2i, i2t []int) {
	n := len(s)
	t2i, i2t = make([]int, n), make([]int, n)
	for i := range n {
		for j := range n {
			if s[i][j] > s[i][i] {
				t2i[i]++
			}
			if s[j][i] > s[i][i] {
				i2t[i]++
			}
		}
	}
	return t2i, i2t
}

func recall(ranks []int, k int) float64 {
	hit := 0
	for _, r := range ranks {
		if r < k {
			hit++
		}
	}
	return float64(hit) / float64(len(ranks))
}

// Gap is the result of compute_modality_gap.
type Gap struct {
	// Vector is the text centroid minus the image centroid of the
	// normalised embeddings.
	Vector []float64 `json:"gap_vector,omitempty"`
	// Magnitude is ‖Vector‖.
	Magnitude float64 `json:"gap_magnitude"`
	// CentroidAngleDeg is the angle between the two centroids in degrees,
	// computed as the lecture does: the cosine rounded to float32, acos in
	// float32, then ·180/3.14159 (the lecture's value of π).
	CentroidAngleDeg float64 `json:"centroid_angle_deg"`
}

// ModalityGap is the lecture's compute_modality_gap: the gap between the
// centroids of the L2-normalised text and image embeddings (Liang et al.
// 2022), as a vector, its length and the angle between the centroids. The
// two sets need not be paired, but must have the same dimension.
//
// One deliberate difference: where rounding makes the centroids' cosine
// exceed 1 in magnitude, torch.acos returns NaN and this returns 0° or
// 180°.
func ModalityGap(text, image [][]float32) (*Gap, error) {
	if len(text) == 0 || len(image) == 0 {
		return nil, fmt.Errorf("analysis: %d texts and %d images, need at least one of each", len(text), len(image))
	}
	d := len(text[0])
	for _, set := range [][][]float32{text, image} {
		for i, r := range set {
			if len(r) != d || d == 0 {
				return nil, fmt.Errorf("analysis: embedding %d has %d values, want %d", i, len(r), d)
			}
			for _, v := range r {
				if !finite(v) {
					return nil, fmt.Errorf("analysis: embedding %d has a non-finite value", i)
				}
			}
		}
	}
	tc, ic := centroid(normalized(text)), centroid(normalized(image))
	g := &Gap{Vector: make([]float64, d)}
	for j := range d {
		g.Vector[j] = tc[j] - ic[j]
	}
	g.Magnitude = math.Sqrt(dot(g.Vector, g.Vector))
	tn := 1 / math.Max(math.Sqrt(dot(tc, tc)), normEps)
	in := 1 / math.Max(math.Sqrt(dot(ic, ic)), normEps)
	cos := float32(dot(tc, ic) * tn * in)
	cos = max(-1, min(1, cos))
	angle := float32(math.Acos(float64(cos)))
	g.CentroidAngleDeg = float64(angle) * 180 / 3.14159
	return g, nil
}

func centroid(m [][]float64) []float64 {
	c := make([]float64, len(m[0]))
	for _, r := range m {
		for j, v := range r {
			c[j] += v
		}
	}
	for j := range c {
		c[j] /= float64(len(m))
	}
	return c
}

// IntraInterStats is the result of analyze_intra_inter_similarity.
type IntraInterStats struct {
	// IntraText and IntraImage are the mean cosine between different
	// embeddings of one modality (off-diagonal entries).
	IntraText  float64 `json:"intra_text_similarity"`
	IntraImage float64 `json:"intra_image_similarity"`
	// InterMatched is the mean cosine of true pairs, InterUnmatched of all
	// other text-image combinations.
	InterMatched   float64 `json:"inter_matched_similarity"`
	InterUnmatched float64 `json:"inter_unmatched_similarity"`
}

// IntraInter is the lecture's analyze_intra_inter_similarity over n ≥ 2 pairs.
func IntraInter(text, image [][]float32) (*IntraInterStats, error) {
	n := len(text)
	if _, err := checkPairs(text, image, 2); err != nil {
		return nil, err
	}
	t, im := normalized(text), normalized(image)
	off := func(a, b [][]float64) (diag, rest float64) {
		for i := range a {
			for j := range b {
				if i == j {
					diag += dot(a[i], b[j])
				} else {
					rest += dot(a[i], b[j])
				}
			}
		}
		return diag / float64(n), rest / float64(n*(n-1))
	}
	st := &IntraInterStats{}
	_, st.IntraText = off(t, t)
	_, st.IntraImage = off(im, im)
	st.InterMatched, st.InterUnmatched = off(t, im)
	return st, nil
}
