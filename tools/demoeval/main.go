// Command demoeval scores clipinfer models on the demo model's held-out
// evaluation set — the images and labels tools/train/eval.py --export-dir
// writes — with the same metrics as eval.py, and compares a quantised model
// with its float reference on exactly the same inputs:
//
//	go run ./tools/demoeval -data DIR -ref models/emoji-clip-f32.clip models/emoji-clip-q8.clip
//
// For each model: zero-shot top-1/top-5 over all concept names, text→image
// recall@1/5/10, chance levels and the lecture's modality-gap figures. Against
// the reference: mean and minimum cosine of image and text embeddings and
// the zero-shot top-1 agreement. One JSON object on stdout.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clipinfer/clipinfer/analysis"
	clip "github.com/clipinfer/clipinfer/runtime"
)

type labelsFile struct {
	Prompt string `json:"prompt"`
	Images []struct {
		File string `json:"file"`
		Name string `json:"name"`
	} `json:"images"`
}

// scores are one model's metrics (percentages).
type scores struct {
	Model     string                 `json:"model"`
	N         int                    `json:"n"`
	Top1      float64                `json:"zero_shot_top1"`
	Top5      float64                `json:"zero_shot_top5"`
	R1        float64                `json:"text_to_image_R@1"`
	R5        float64                `json:"text_to_image_R@5"`
	R10       float64                `json:"text_to_image_R@10"`
	Chance1   float64                `json:"chance_top1"`
	Chance5   float64                `json:"chance_top5"`
	Chance10  float64                `json:"chance_R@10"`
	Gap       gapFigures             `json:"modality_gap"`
	Intra     any                    `json:"similarity"`
	VsRef     *agreement             `json:"vs_reference,omitempty"`
	Kernel    string                 `json:"kernel"`
	Predicted []int                  `json:"-"`
	Embs      map[string][][]float32 `json:"-"`
}

// gapFigures are compute_modality_gap's scalar results.
type gapFigures struct {
	Magnitude float64 `json:"gap_magnitude"`
	AngleDeg  float64 `json:"centroid_angle_deg"`
}

type agreement struct {
	Reference     string  `json:"reference"`
	ImageCosMean  float64 `json:"image_cosine_mean"`
	ImageCosMin   float64 `json:"image_cosine_min"`
	TextCosMean   float64 `json:"text_cosine_mean"`
	TextCosMin    float64 `json:"text_cosine_min"`
	Top1Agreement float64 `json:"zero_shot_top1_agreement"`
}

func main() {
	dataDir := flag.String("data", "", "folder with labels.json and the images (eval.py --export-dir)")
	ref := flag.String("ref", "", "reference model (e.g. the f32 file) the others are compared with")
	kernel := flag.String("kernel", "", "force a kernel")
	flag.Parse()
	if *dataDir == "" || (flag.NArg() == 0 && *ref == "") {
		fmt.Fprintln(os.Stderr, "usage: demoeval -data DIR [-ref MODEL] MODEL...")
		os.Exit(2)
	}
	if err := run(*dataDir, *ref, *kernel, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "demoeval:", err)
		os.Exit(1)
	}
}

func run(dir, ref, kernel string, models []string) error {
	b, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		return err
	}
	var lf labelsFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return fmt.Errorf("labels.json: %w", err)
	}
	if lf.Prompt == "" {
		lf.Prompt = "{}"
	}
	var paths, prompts []string
	for _, im := range lf.Images {
		paths = append(paths, filepath.Join(dir, im.File))
		prompts = append(prompts, strings.ReplaceAll(lf.Prompt, "{}", im.Name))
	}
	var out []*scores
	var reference *scores
	all := models
	if ref != "" {
		all = append([]string{ref}, models...)
	}
	for i, path := range all {
		s, err := score(path, kernel, paths, prompts)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if ref != "" && i == 0 {
			reference = s
		} else if reference != nil {
			s.VsRef = compare(reference, s)
		}
		out = append(out, s)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(map[string]any{"data": dir, "prompt": lf.Prompt, "models": out})
}

func score(path, kernel string, paths, prompts []string) (*scores, error) {
	m, err := clip.Open(path, clip.Options{Kernel: kernel})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	img, err := m.EmbedImageFiles(paths)
	if err != nil {
		return nil, err
	}
	txt, err := m.EmbedTexts(prompts)
	if err != nil {
		return nil, err
	}
	n := len(img)
	s := &scores{Model: path, N: n, Kernel: m.Kernel(), Embs: map[string][][]float32{"image": img, "text": txt},
		Chance1: 100 / float64(n), Chance5: 500 / float64(n), Chance10: 1000 / float64(n)}
	// Zero-shot = image→text recall, text→image = text→image recall, both
	// from analysis.Evaluate (ties in the pair's favour, as eval.py counts).
	ev, err := analysis.Evaluate(txt, img, nil, []int{1, 5, 10})
	if err != nil {
		return nil, err
	}
	pct := func(v float64) float64 { return round2(100 * v) }
	s.Top1, s.Top5 = pct(ev.RecallImageToText["1"]), pct(ev.RecallImageToText["5"])
	s.R1, s.R5, s.R10 = pct(ev.RecallTextToImage["1"]), pct(ev.RecallTextToImage["5"]), pct(ev.RecallTextToImage["10"])
	// Each image's predicted name, for the agreement between models.
	sim, err := analysis.CosineMatrix(txt, img) // [text][image]
	if err != nil {
		return nil, err
	}
	s.Predicted = make([]int, n)
	for i := range n {
		for t := range n {
			if sim[t][i] > sim[s.Predicted[i]][i] {
				s.Predicted[i] = t
			}
		}
	}
	g, err := analysis.ModalityGap(txt, img)
	if err != nil {
		return nil, err
	}
	s.Gap = gapFigures{g.Magnitude, g.CentroidAngleDeg}
	if s.Intra, err = analysis.IntraInter(txt, img); err != nil {
		return nil, err
	}
	return s, nil
}

func compare(ref, s *scores) *agreement {
	a := &agreement{Reference: ref.Model, ImageCosMin: 1, TextCosMin: 1}
	for _, kind := range []string{"image", "text"} {
		var sum, mn float64 = 0, 1
		for i, v := range s.Embs[kind] {
			c := float64(clip.Similarity(ref.Embs[kind][i], v))
			sum += c
			mn = min(mn, c)
		}
		mean := sum / float64(len(s.Embs[kind]))
		if kind == "image" {
			a.ImageCosMean, a.ImageCosMin = mean, mn
		} else {
			a.TextCosMean, a.TextCosMin = mean, mn
		}
	}
	same := 0
	for i, p := range s.Predicted {
		if ref.Predicted[i] == p {
			same++
		}
	}
	a.Top1Agreement = round2(100 * float64(same) / float64(len(s.Predicted)))
	return a
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
