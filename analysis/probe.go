package analysis

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Domains for FEDA, as in the lecture's batch_feda_transform.
const (
	Source = 0
	Target = 1
)

// FEDA is the lecture's batch_feda_transform (Daumé 2007): each feature row x
// becomes [x; x; 0] for the source domain (0) and [x; 0; x] for the target
// domain (1). Any other domain is an error.
func FEDA(features [][]float32, domains []int) ([][]float32, error) {
	if len(features) != len(domains) {
		return nil, fmt.Errorf("analysis: %d feature rows but %d domain labels", len(features), len(domains))
	}
	out := make([][]float32, len(features))
	for i, x := range features {
		d := len(x)
		r := make([]float32, 3*d)
		copy(r, x)
		switch domains[i] {
		case Source:
			copy(r[d:], x)
		case Target:
			copy(r[2*d:], x)
		default:
			return nil, fmt.Errorf("analysis: row %d: domain %d, want 0 (source) or 1 (target)", i, domains[i])
		}
		out[i] = r
	}
	return out, nil
}

// ProbeOptions tune TrainProbe. Zero values pick the defaults.
type ProbeOptions struct {
	// Epochs is the number of full-batch gradient steps (default 500).
	Epochs int
	// L2 is the weight decay λ on W (not on the bias): the objective is
	// mean cross-entropy + λ/2·‖W‖² (default 1e-3; negative means 0).
	L2 float64
	// LearningRate is the step size; 0 means 1/L with
	// L = max‖[x;1]‖²/2 + λ, a bound on the objective's curvature, so that
	// gradient descent decreases the objective at every step.
	LearningRate float64
}

// Probe is a linear softmax classifier: logits = W·x + b.
type Probe struct {
	// W holds one row of weights per class; B one bias per class.
	W [][]float64
	B []float64
	// Loss is the training objective after the last step.
	Loss float64
	// LearningRate is the step size used.
	LearningRate float64
}

// rowBlocks is the fixed number of row blocks the gradient is split into;
// the partial sums are added in block order, so results do not depend on
// the number of CPUs.
const rowBlocks = 16

// TrainProbe fits a linear softmax probe to features x with labels y in
// [0, classes) by full-batch gradient descent from zero weights: each step
// w ← w − η·∇(mean CE + λ/2‖W‖²). It is deterministic: the same inputs give
// the same probe on every machine.
func TrainProbe(x [][]float32, y []int, classes int, opt ProbeOptions) (*Probe, error) {
	n := len(x)
	if n == 0 {
		return nil, errors.New("analysis: no training rows")
	}
	if len(y) != n {
		return nil, fmt.Errorf("analysis: %d rows but %d labels", n, len(y))
	}
	if classes < 2 {
		return nil, fmt.Errorf("analysis: %d classes, need at least 2", classes)
	}
	d := len(x[0])
	if d == 0 {
		return nil, errors.New("analysis: empty feature rows")
	}
	var maxSq float64
	for i, r := range x {
		if len(r) != d {
			return nil, fmt.Errorf("analysis: row %d has %d values, want %d", i, len(r), d)
		}
		if y[i] < 0 || y[i] >= classes {
			return nil, fmt.Errorf("analysis: row %d: label %d outside [0, %d)", i, y[i], classes)
		}
		var ss float64 = 1
		for _, v := range r {
			if !finite(v) {
				return nil, fmt.Errorf("analysis: row %d has a non-finite value", i)
			}
			ss += float64(v) * float64(v)
		}
		maxSq = math.Max(maxSq, ss)
	}
	epochs := opt.Epochs
	if epochs <= 0 {
		epochs = 500
	}
	lambda := opt.L2
	if lambda == 0 {
		lambda = 1e-3
	}
	lambda = math.Max(lambda, 0)
	lr := opt.LearningRate
	if lr <= 0 {
		lr = 1 / (maxSq/2 + lambda)
	}

	xf := make([][]float64, n)
	for i, r := range x {
		xf[i] = make([]float64, d)
		for j, v := range r {
			xf[i][j] = float64(v)
		}
	}
	p := &Probe{W: make([][]float64, classes), B: make([]float64, classes), LearningRate: lr}
	for c := range p.W {
		p.W[c] = make([]float64, d)
	}
	type partial struct {
		gw   [][]float64
		gb   []float64
		loss float64
	}
	blocks := make([]partial, min(rowBlocks, n))
	for b := range blocks {
		blocks[b].gw = make([][]float64, classes)
		for c := range classes {
			blocks[b].gw[c] = make([]float64, d)
		}
		blocks[b].gb = make([]float64, classes)
	}
	workers := min(runtime.GOMAXPROCS(0), len(blocks))
	gradient := func() float64 {
		var wg sync.WaitGroup
		next := make(chan int, len(blocks))
		for b := range blocks {
			next <- b
		}
		close(next)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				z := make([]float64, classes)
				for b := range next {
					pb := &blocks[b]
					for c := range classes {
						clear(pb.gw[c])
					}
					clear(pb.gb)
					pb.loss = 0
					lo, hi := b*n/len(blocks), (b+1)*n/len(blocks)
					for i := lo; i < hi; i++ {
						p.logits(z, xf[i])
						lse := logSumExp(z)
						pb.loss += lse - z[y[i]]
						for c := range classes {
							g := math.Exp(z[c] - lse)
							if c == y[i] {
								g--
							}
							pb.gb[c] += g
							gw := pb.gw[c]
							for j, v := range xf[i] {
								gw[j] += g * v
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		var loss, reg float64
		for _, pb := range blocks {
			loss += pb.loss
		}
		for c := range classes {
			reg += dot(p.W[c], p.W[c])
		}
		return loss/float64(n) + lambda/2*reg
	}
	step := func() {
		inv := 1 / float64(n)
		for c := range classes {
			var gb float64
			for _, pb := range blocks {
				gb += pb.gb[c]
			}
			w := p.W[c]
			for j := range d {
				var g float64
				for _, pb := range blocks {
					g += pb.gw[c][j]
				}
				w[j] -= lr * (g*inv + lambda*w[j])
			}
			p.B[c] -= lr * gb * inv
		}
	}
	for range epochs {
		gradient()
		step()
	}
	p.Loss = gradient()
	return p, nil
}

func (p *Probe) logits(z []float64, x []float64) {
	for c := range p.W {
		z[c] = dot(p.W[c], x) + p.B[c]
	}
}

// Probabilities returns the softmax of W·x + b.
func (p *Probe) Probabilities(x []float32) []float64 {
	xf := make([]float64, len(x))
	for j, v := range x {
		xf[j] = float64(v)
	}
	z := make([]float64, len(p.W))
	p.logits(z, xf)
	lse := logSumExp(z)
	for c := range z {
		z[c] = math.Exp(z[c] - lse)
	}
	return z
}

// Predict returns the most probable class (the lowest on ties).
func (p *Probe) Predict(x []float32) int {
	best, arg := math.Inf(-1), 0
	for c, v := range p.Probabilities(x) {
		if v > best {
			best, arg = v, c
		}
	}
	return arg
}

// Accuracy returns the fraction of rows whose predicted class is their
// label.
func (p *Probe) Accuracy(x [][]float32, y []int) (float64, error) {
	if len(x) != len(y) || len(x) == 0 {
		return 0, fmt.Errorf("analysis: %d rows and %d labels", len(x), len(y))
	}
	hit := 0
	for i := range x {
		if len(x[i]) != len(p.W[0]) {
			return 0, fmt.Errorf("analysis: row %d has %d values, the probe takes %d", i, len(x[i]), len(p.W[0]))
		}
		if p.Predict(x[i]) == y[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(x)), nil
}

// ProbeScore is one probe's result.
type ProbeScore struct {
	// Accuracy is measured on the test rows.
	Accuracy float64 `json:"accuracy"`
	// TrainLoss is the training objective at the end.
	TrainLoss float64 `json:"train_loss"`
}

// DomainResult compares probes on a domain-adaptation split.
type DomainResult struct {
	// TrainRows and TestRows count the rows used.
	TrainRows int `json:"train_rows"`
	TestRows  int `json:"test_rows"`
	// Plain is the probe trained on the raw features of every training
	// row.
	Plain ProbeScore `json:"plain"`
	// FEDA is the probe trained on FEDA-augmented features of the same
	// rows (nil without domains).
	FEDA *ProbeScore `json:"feda,omitempty"`
	// SourceOnly is the plain probe trained on the source training rows
	// alone (nil without domains or without source rows).
	SourceOnly *ProbeScore `json:"source_only,omitempty"`
}

// DomainProbe trains linear probes on the rows with train[i] set and
// measures them on the others. With domains (0 source, 1 target) the test
// rows are the target rows not used for training, and the probe is trained
// twice, on raw and on FEDA-augmented features (source rows [x; x; 0],
// target rows [x; 0; x]), plus once on the source rows alone; without
// domains (nil) every row not used for training is a test row.
func DomainProbe(x [][]float32, y []int, domains []int, train []bool, classes int, opt ProbeOptions) (*DomainResult, error) {
	if len(y) != len(x) || len(train) != len(x) || (domains != nil && len(domains) != len(x)) {
		return nil, fmt.Errorf("analysis: %d rows, %d labels, %d domains, %d split flags", len(x), len(y), len(domains), len(train))
	}
	var feda [][]float32
	if domains != nil {
		var err error
		if feda, err = FEDA(x, domains); err != nil {
			return nil, err
		}
	}
	pick := func(m [][]float32, keep func(i int) bool) ([][]float32, []int) {
		var rows [][]float32
		var labels []int
		for i := range m {
			if keep(i) {
				rows = append(rows, m[i])
				labels = append(labels, y[i])
			}
		}
		return rows, labels
	}
	isTrain := func(i int) bool { return train[i] }
	isTest := func(i int) bool { return !train[i] && (domains == nil || domains[i] == Target) }
	score := func(m [][]float32, trainRow func(int) bool) (*ProbeScore, int, int, error) {
		tx, ty := pick(m, trainRow)
		vx, vy := pick(m, isTest)
		if len(vx) == 0 {
			return nil, 0, 0, errors.New("analysis: no test rows (target rows outside the training split)")
		}
		p, err := TrainProbe(tx, ty, classes, opt)
		if err != nil {
			return nil, 0, 0, err
		}
		acc, err := p.Accuracy(vx, vy)
		if err != nil {
			return nil, 0, 0, err
		}
		return &ProbeScore{Accuracy: acc, TrainLoss: p.Loss}, len(tx), len(vx), nil
	}
	plain, ntr, nte, err := score(x, isTrain)
	if err != nil {
		return nil, err
	}
	res := &DomainResult{TrainRows: ntr, TestRows: nte, Plain: *plain}
	if domains == nil {
		return res, nil
	}
	if res.FEDA, _, _, err = score(feda, isTrain); err != nil {
		return nil, fmt.Errorf("FEDA probe: %w", err)
	}
	hasSource := false
	for i := range x {
		hasSource = hasSource || (train[i] && domains[i] == Source)
	}
	if hasSource {
		if res.SourceOnly, _, _, err = score(x, func(i int) bool { return train[i] && domains[i] == Source }); err != nil {
			return nil, fmt.Errorf("source-only probe: %w", err)
		}
	}
	return res, nil
}
