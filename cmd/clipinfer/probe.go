package main

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/clipinfer/clipinfer/analysis"
)

func init() {
	register("probe", command{
		summary: "Train a linear softmax probe on image embeddings and report test accuracy; with a domain column, also with the lecture's FEDA augmentation ([x;x;0] source, [x;0;x] target) and source-only, on the target test rows. One JSON object.",
		usage:   "-m MODEL [-epochs 500] [-l2 0.001] [-train-fraction 0.5] LABELS   (LABELS: image-path<TAB>label[<TAB>source|target[<TAB>train|test]] per line)",
		run:     runProbe,
	})
}

// probeResult is the JSON object clipinfer probe prints.
type probeResult struct {
	Rows    int      `json:"rows"`
	Classes []string `json:"classes"`
	Dim     int      `json:"dim"`
	Epochs  int      `json:"epochs"`
	L2      float64  `json:"l2"`
	Trainer string   `json:"trainer"`
	analysis.DomainResult
}

// probeRows is a parsed labels file.
type probeRows struct {
	paths   []string
	labels  []int
	classes []string
	domains []int // nil without a domain column
	train   []bool
}

// parseProbeRows interprets the columns of a labels file. Rows without a
// split column are split by file order: in each label (and, with domains,
// among target rows only; source rows always train) the first
// ⌊fraction·count⌋ rows train and the rest test.
func parseProbeRows(rows [][]string, fraction float64) (*probeRows, error) {
	if !(fraction >= 0 && fraction <= 1) {
		return nil, fmt.Errorf("train fraction %v outside [0, 1]", fraction)
	}
	p := &probeRows{}
	class := map[string]int{}
	hasDomain := len(rows[0]) >= 3 && rows[0][2] != ""
	if hasDomain {
		p.domains = make([]int, len(rows))
	}
	split := make([]string, len(rows))
	for i, r := range rows {
		p.paths = append(p.paths, r[0])
		c, ok := class[r[1]]
		if !ok {
			c = len(p.classes)
			class[r[1]] = c
			p.classes = append(p.classes, r[1])
		}
		p.labels = append(p.labels, c)
		dom := ""
		if len(r) >= 3 {
			dom = strings.ToLower(r[2])
		}
		if (dom != "") != hasDomain {
			return nil, fmt.Errorf("row %d: give a domain on every row or on none", i+1)
		}
		switch dom {
		case "":
		case "source", "s", "0":
			p.domains[i] = analysis.Source
		case "target", "t", "1":
			p.domains[i] = analysis.Target
		default:
			return nil, fmt.Errorf("row %d: domain %q, want source or target", i+1, r[2])
		}
		if len(r) >= 4 {
			split[i] = strings.ToLower(r[3])
			if split[i] != "train" && split[i] != "test" && split[i] != "" {
				return nil, fmt.Errorf("row %d: split %q, want train or test", i+1, r[3])
			}
		}
	}
	if len(p.classes) < 2 {
		return nil, fmt.Errorf("%d label(s): a probe needs at least two", len(p.classes))
	}
	// Automatic split per group, in file order.
	count := map[int]int{}
	for i := range rows {
		if split[i] == "" && (!hasDomain || p.domains[i] == analysis.Target) {
			count[p.labels[i]]++
		}
	}
	seen := map[int]int{}
	p.train = make([]bool, len(rows))
	for i := range rows {
		switch {
		case split[i] != "":
			p.train[i] = split[i] == "train"
		case hasDomain && p.domains[i] == analysis.Source:
			p.train[i] = true
		default:
			c := p.labels[i]
			p.train[i] = seen[c] < int(math.Floor(fraction*float64(count[c])))
			seen[c]++
		}
	}
	return p, nil
}

func runProbe(e *env, args []string) error {
	fs := flags(e, "probe")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	epochs := fs.Int("epochs", 500, "full-batch gradient steps")
	l2 := fs.Float64("l2", 1e-3, "weight decay λ on the weights (objective: mean cross-entropy + λ/2·‖W‖²)")
	lr := fs.Float64("lr", 0, "step size (default 1/L, L a bound on the objective's curvature)")
	fraction := fs.Float64("train-fraction", 0.5, "for rows without a split column: the fraction of each label's (target) rows, in file order, used for training")
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
	if *epochs < 1 {
		return fmt.Errorf("-epochs must be at least 1")
	}
	rows, err := readTSV(fs.Arg(0), 2, 4)
	if err != nil {
		return err
	}
	pr, err := parseProbeRows(rows, *fraction)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	embs, errs := embedImagePaths(context.Background(), m, pr.paths, newProgress(e, "images", len(pr.paths)))
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	opt := analysis.ProbeOptions{Epochs: *epochs, L2: *l2, LearningRate: *lr}
	if *l2 == 0 {
		opt.L2 = -1 // ProbeOptions reads 0 as "default"
	}
	res, err := analysis.DomainProbe(embs, pr.labels, pr.domains, pr.train, len(pr.classes), opt)
	if err != nil {
		return err
	}
	return printJSON(e.stdout, probeResult{
		Rows: len(pr.paths), Classes: pr.classes, Dim: m.EmbedDim(), Epochs: *epochs, L2: *l2,
		Trainer:      "full-batch gradient descent from zero weights (deterministic)",
		DomainResult: *res,
	})
}
