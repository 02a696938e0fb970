package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/clipinfer/clipinfer/analysis"
	clip "github.com/clipinfer/clipinfer/runtime"
)

func init() {
	register("eval", command{
		summary: "Score a model on image-caption pairs: the lecture's symmetric InfoNCE loss (at the model's temperature and at -temperature), recall@k both ways, mean matched and unmatched cosine. One JSON object.",
		usage:   "-m MODEL [-temperature T]... [-k 1,5,10] PAIRS   (PAIRS: one image-path<TAB>caption per line)",
		run:     runEval,
	})
}

// evalResult is the JSON object clipinfer eval prints.
type evalResult struct {
	Pairs            int                `json:"pairs"`
	ModelTemperature float64            `json:"model_temperature"`
	LossModel        float64            `json:"loss_at_model_temperature"`
	Loss             map[string]float64 `json:"loss"`
	RecallT2I        map[string]float64 `json:"recall_t2i"`
	RecallI2T        map[string]float64 `json:"recall_i2t"`
	MatchedCosine    float64            `json:"matched_cosine"`
	UnmatchedCosine  float64            `json:"unmatched_cosine"`
}

// floatList collects a repeatable float flag.
type floatList []float64

func (l *floatList) String() string { return fmt.Sprint(*l) }
func (l *floatList) Set(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) {
		return fmt.Errorf("%q is not a positive number", v)
	}
	*l = append(*l, f)
	return nil
}

func runEval(e *env, args []string) error {
	fs := flags(e, "eval")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	var temps floatList
	fs.Var(&temps, "temperature", "also compute the loss at this temperature (repeatable)")
	ksFlag := fs.String("k", "1,5,10", "recall@k cut-offs, comma-separated")
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
	ks, err := intList(*ksFlag)
	if err != nil {
		return fmt.Errorf("-k: %w", err)
	}
	text, image, scale, err := embedPairs(e, &mf, fs.Arg(0))
	if err != nil {
		return err
	}
	if !(scale > 0) {
		return fmt.Errorf("model has logit scale %v: no temperature to evaluate at", scale)
	}
	modelT := 1 / float64(scale)
	ev, err := analysis.Evaluate(text, image, append([]float64{modelT}, temps...), ks)
	if err != nil {
		return err
	}
	res := evalResult{
		Pairs: ev.N, ModelTemperature: modelT, Loss: map[string]float64{},
		RecallT2I: ev.RecallTextToImage, RecallI2T: ev.RecallImageToText,
		MatchedCosine: ev.MatchedCosine, UnmatchedCosine: ev.UnmatchedCosine,
	}
	res.LossModel = ev.Loss[strconv.FormatFloat(modelT, 'g', -1, 64)]
	for _, t := range temps {
		k := strconv.FormatFloat(t, 'g', -1, 64)
		res.Loss[k] = ev.Loss[k]
	}
	return printJSON(e.stdout, res)
}

// maxLine bounds one line of a pairs or labels file.
const maxLine = 1 << 20

// readTSV reads a tab-separated file: blank lines and lines starting with
// '#' are skipped; each other line must have between minCols and maxCols
// fields. Relative paths in the first column are resolved against the
// file's folder.
func readTSV(path string, minCols, maxCols int) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := parseTSV(f, minCols, maxCols)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	for _, r := range rows {
		if !filepath.IsAbs(r[0]) {
			r[0] = filepath.Join(dir, r[0])
		}
	}
	return rows, nil
}

// parseTSV is readTSV's parser.
func parseTSV(r io.Reader, minCols, maxCols int) ([][]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var rows [][]string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < minCols || len(cols) > maxCols {
			return nil, fmt.Errorf("line %d: %d tab-separated fields, want %s", n, len(cols), colsWanted(minCols, maxCols))
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
			if cols[i] == "" && i < minCols {
				return nil, fmt.Errorf("line %d: field %d is empty", n, i+1)
			}
		}
		rows = append(rows, cols)
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("a line is longer than %d bytes", maxLine)
		}
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no entries")
	}
	return rows, nil
}

func colsWanted(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// embedPairs reads a pairs file and embeds its captions and images; it
// also returns the model's logit scale.
func embedPairs(e *env, mf *modelFlags, path string) (text, image [][]float32, scale float32, err error) {
	rows, err := readTSV(path, 2, 2)
	if err != nil {
		return nil, nil, 0, err
	}
	m, err := mf.open()
	if err != nil {
		return nil, nil, 0, err
	}
	defer m.Close()
	paths := make([]string, len(rows))
	captions := make([]string, len(rows))
	for i, r := range rows {
		paths[i], captions[i] = r[0], r[1]
	}
	image, errs := embedImagePaths(context.Background(), m, paths, newProgress(e, "images", len(paths)))
	for i, err := range errs {
		if err != nil {
			return nil, nil, 0, fmt.Errorf("pair %d: %w", i+1, err)
		}
	}
	text, err = m.EmbedTexts(captions)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("captions: %w", err)
	}
	return text, image, m.LogitScale(), nil
}

// embedImagePaths decodes image files on two goroutines while the model
// embeds the previous batch, and returns one embedding or one error per
// path, in order. It stops early (leaving later entries nil with ctx's
// error) when ctx is cancelled.
func embedImagePaths(ctx context.Context, m *clip.Model, paths []string, p *progress) ([][]float32, []error) {
	const batch = 16
	out := make([][]float32, len(paths))
	errs := make([]error, len(paths))
	type decoded struct {
		lo  int
		pix [][]float32
	}
	ready := make(chan decoded, 1)
	go func() {
		defer close(ready)
		for lo := 0; lo < len(paths); lo += batch {
			if ctx.Err() != nil {
				return
			}
			hi := min(lo+batch, len(paths))
			pix := make([][]float32, hi-lo)
			var wg sync.WaitGroup
			sem := make(chan struct{}, 2)
			for i := lo; i < hi; i++ {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					var err error
					pix[i-lo], err = m.ImageInput(paths[i])
					errs[i] = err
				}()
			}
			wg.Wait()
			select {
			case ready <- decoded{lo, pix}:
			case <-ctx.Done():
				return
			}
		}
	}()
	done := 0
	for d := range ready {
		var ok [][]float32
		var idx []int
		for i, px := range d.pix {
			if errs[d.lo+i] == nil {
				ok = append(ok, px)
				idx = append(idx, d.lo+i)
			}
		}
		if len(ok) > 0 {
			embs, err := m.EmbedPixels(ok)
			for j, i := range idx {
				if err != nil {
					errs[i] = err
				} else {
					out[i] = embs[j]
				}
			}
		}
		done += len(d.pix)
		p.update(done, 0)
	}
	p.finish()
	if err := ctx.Err(); err != nil {
		for i := range paths {
			if out[i] == nil && errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return out, errs
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
