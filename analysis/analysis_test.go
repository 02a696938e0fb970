package analysis

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/npy"
)

// tol is the agreement required with the lecture's PyTorch code.
const tol = 1e-5

func readMatrix(t *testing.T, name string) [][]float32 {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".npy"))
	require.NoError(t, err)
	defer f.Close()
	data, shape, err := npy.ReadFloat32(f)
	require.NoError(t, err)
	require.Len(t, shape, 2)
	rows := make([][]float32, shape[0])
	for i := range rows {
		rows[i] = data[i*shape[1] : (i+1)*shape[1]]
	}
	return rows
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

type pairsExpected struct {
	Loss             map[string]float64 `json:"loss"`
	RecallT2I        map[string]float64 `json:"recall_t2i"`
	RecallI2T        map[string]float64 `json:"recall_i2t"`
	Matched          float64            `json:"matched_cosine"`
	Unmatched        float64            `json:"unmatched_cosine"`
	GapMagnitude     float64            `json:"gap_magnitude"`
	CentroidAngleDeg float64            `json:"centroid_angle_deg"`
	GapVector        []float64          `json:"gap_vector"`
	IntraInter       IntraInterStats    `json:"intra_inter"`
}

// TestAgainstSeed compares every analysis with the values the lecture's own
// PyTorch functions give on the same embeddings (analysis_ref.py).
func TestAgainstSeed(t *testing.T) {
	for _, name := range []string{"pairs", "seedlike"} {
		t.Run(name, func(t *testing.T) {
			text, image := readMatrix(t, name+"_text"), readMatrix(t, name+"_image")
			var want pairsExpected
			readJSON(t, name, &want)

			var temps []float64
			for k := range want.Loss {
				v, err := strconv.ParseFloat(k, 64)
				require.NoError(t, err)
				temps = append(temps, v)
			}
			ev, err := Evaluate(text, image, temps, []int{1, 5, 10})
			require.NoError(t, err)
			for k, w := range want.Loss {
				v, _ := strconv.ParseFloat(k, 64)
				got := ev.Loss[strconv.FormatFloat(v, 'g', -1, 64)]
				assert.InDelta(t, w, got, tol, "loss at T=%s", k)
				direct, err := CLIPLoss(text, image, v)
				require.NoError(t, err)
				assert.InDelta(t, w, direct, tol, "CLIPLoss at T=%s", k)
			}
			assert.Equal(t, want.RecallT2I, ev.RecallTextToImage)
			assert.Equal(t, want.RecallI2T, ev.RecallImageToText)
			assert.InDelta(t, want.Matched, ev.MatchedCosine, tol)
			assert.InDelta(t, want.Unmatched, ev.UnmatchedCosine, tol)

			gap, err := ModalityGap(text, image)
			require.NoError(t, err)
			assert.InDelta(t, want.GapMagnitude, gap.Magnitude, tol)
			assert.InDelta(t, want.CentroidAngleDeg, gap.CentroidAngleDeg, tol)
			require.Len(t, gap.Vector, len(want.GapVector))
			for i := range gap.Vector {
				assert.InDelta(t, want.GapVector[i], gap.Vector[i], tol, "gap_vector[%d]", i)
			}

			ii, err := IntraInter(text, image)
			require.NoError(t, err)
			assert.InDelta(t, want.IntraInter.IntraText, ii.IntraText, tol)
			assert.InDelta(t, want.IntraInter.IntraImage, ii.IntraImage, tol)
			assert.InDelta(t, want.IntraInter.InterMatched, ii.InterMatched, tol)
			assert.InDelta(t, want.IntraInter.InterUnmatched, ii.InterUnmatched, tol)
			t.Logf("%s: max |Go − seed| %.2g", name, maxDiff(want, ev, gap, ii))
		})
	}
}

// maxDiff reports the largest disagreement, for docs/RETRIEVAL.md.
func maxDiff(w pairsExpected, ev *Eval, g *Gap, ii *IntraInterStats) float64 {
	d := 0.0
	upd := func(a, b float64) { d = math.Max(d, math.Abs(a-b)) }
	for k, v := range w.Loss {
		f, _ := strconv.ParseFloat(k, 64)
		upd(v, ev.Loss[strconv.FormatFloat(f, 'g', -1, 64)])
	}
	upd(w.Matched, ev.MatchedCosine)
	upd(w.Unmatched, ev.UnmatchedCosine)
	upd(w.GapMagnitude, g.Magnitude)
	upd(w.CentroidAngleDeg, g.CentroidAngleDeg)
	for i := range g.Vector {
		upd(w.GapVector[i], g.Vector[i])
	}
	upd(w.IntraInter.IntraText, ii.IntraText)
	upd(w.IntraInter.IntraImage, ii.IntraImage)
	upd(w.IntraInter.InterMatched, ii.InterMatched)
	upd(w.IntraInter.InterUnmatched, ii.InterUnmatched)
	return d
}

type probeExpected struct {
	Classes  int          `json:"classes"`
	Epochs   int          `json:"epochs"`
	L2       float64      `json:"l2"`
	W        [][]float64  `json:"probe_w"`
	B        []float64    `json:"probe_b"`
	Loss     float64      `json:"probe_loss"`
	Domain   DomainResult `json:"domain"`
	SingleOK bool         `json:"feda_single_agrees"`
}

func TestProbeAgainstReference(t *testing.T) {
	x := readMatrix(t, "probe_x")
	meta := readMatrix(t, "probe_meta")
	wantFEDA := readMatrix(t, "probe_feda")
	var want probeExpected
	readJSON(t, "probe", &want)
	require.True(t, want.SingleOK)
	y, dom, train := make([]int, len(x)), make([]int, len(x)), make([]bool, len(x))
	for i, m := range meta {
		y[i], dom[i], train[i] = int(m[0]), int(m[1]), m[2] == 1
	}

	feda, err := FEDA(x, dom)
	require.NoError(t, err)
	assert.Equal(t, wantFEDA, feda, "FEDA equals the lecture's batch_feda_transform exactly")

	var tx [][]float32
	var ty []int
	for i := range x {
		if train[i] {
			tx, ty = append(tx, x[i]), append(ty, y[i])
		}
	}
	opt := ProbeOptions{Epochs: want.Epochs, L2: want.L2}
	p, err := TrainProbe(tx, ty, want.Classes, opt)
	require.NoError(t, err)
	assert.InDelta(t, want.Loss, p.Loss, tol)
	maxd := math.Abs(want.Loss - p.Loss)
	for c := range want.W {
		for j := range want.W[c] {
			maxd = math.Max(maxd, math.Abs(want.W[c][j]-p.W[c][j]))
		}
		maxd = math.Max(maxd, math.Abs(want.B[c]-p.B[c]))
	}
	t.Logf("probe: max |Go − reference| over loss, W, b: %.2g", maxd)
	for c := range want.W {
		for j := range want.W[c] {
			assert.InDelta(t, want.W[c][j], p.W[c][j], tol, "W[%d][%d]", c, j)
		}
		assert.InDelta(t, want.B[c], p.B[c], tol, "b[%d]", c)
	}

	res, err := DomainProbe(x, y, dom, train, want.Classes, opt)
	require.NoError(t, err)
	w := want.Domain
	assert.Equal(t, w.TrainRows, res.TrainRows)
	assert.Equal(t, w.TestRows, res.TestRows)
	assert.Equal(t, w.Plain.Accuracy, res.Plain.Accuracy)
	assert.InDelta(t, w.Plain.TrainLoss, res.Plain.TrainLoss, tol)
	require.NotNil(t, res.FEDA)
	assert.Equal(t, w.FEDA.Accuracy, res.FEDA.Accuracy)
	assert.InDelta(t, w.FEDA.TrainLoss, res.FEDA.TrainLoss, tol)
	require.NotNil(t, res.SourceOnly)
	assert.Equal(t, w.SourceOnly.Accuracy, res.SourceOnly.Accuracy)
	assert.InDelta(t, w.SourceOnly.TrainLoss, res.SourceOnly.TrainLoss, tol)
}
