package main

import (
	"github.com/clipinfer/clipinfer/analysis"
)

func init() {
	register("gap", command{
		summary: "Measure the modality gap on image-caption pairs as the lecture defines it: compute_modality_gap (gap magnitude, centroid angle) and analyze_intra_inter_similarity. One JSON object.",
		usage:   "-m MODEL [-vector] PAIRS   (PAIRS: one image-path<TAB>caption per line)",
		run:     runGap,
	})
}

// gapResult is the JSON object clipinfer gap prints.
type gapResult struct {
	Pairs            int       `json:"pairs"`
	GapMagnitude     float64   `json:"gap_magnitude"`
	CentroidAngleDeg float64   `json:"centroid_angle_deg"`
	GapVector        []float64 `json:"gap_vector,omitempty"`
	analysis.IntraInterStats
}

func runGap(e *env, args []string) error {
	fs := flags(e, "gap")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	vector := fs.Bool("vector", false, "also print the gap vector (text centroid − image centroid)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFlagOrder(fs); err != nil {
		return err
	}
	if err := required(fs, "m"); err != nil {
		return err
	}
	if err := nargs(fs, 1, 1, "PAIRS"); err != nil {
		return err
	}
	text, image, _, err := embedPairs(e, &mf, fs.Arg(0))
	if err != nil {
		return err
	}
	g, err := analysis.ModalityGap(text, image)
	if err != nil {
		return err
	}
	ii, err := analysis.IntraInter(text, image)
	if err != nil {
		return err
	}
	res := gapResult{Pairs: len(text), GapMagnitude: g.Magnitude, CentroidAngleDeg: g.CentroidAngleDeg, IntraInterStats: *ii}
	if *vector {
		res.GapVector = g.Vector
	}
	return printJSON(e.stdout, res)
}
