package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/clipinfer/clipinfer/analysis"
	"github.com/clipinfer/clipinfer/internal/atomicfile"
	"github.com/clipinfer/clipinfer/internal/termtext"
	clip "github.com/clipinfer/clipinfer/runtime"
)

func init() {
	register("classify", command{
		summary: "Zero-shot classify images: labels become prompts through templates (\"{}\" marks the label; several templates are ensembled), one JSON line per image with the top-k labels and probabilities (\"scoring\": softmax over the labels for CLIP, an independent sigmoid per label for SigLIP).",
		usage:   "-m MODEL (-labels a,b,c | -labels-file FILE) [-template T]... [-k 5] [-no-cache] [-table] IMAGE...",
		run:     runClassify,
	})
}

// classified is one JSON line of clipinfer classify.
type classified struct {
	Image string `json:"image"`
	// Scoring is "softmax" (probabilities over the labels, CLIP) or
	// "sigmoid" (an independent probability per label, SigLIP).
	Scoring string        `json:"scoring"`
	Labels  []labelResult `json:"labels"`
}

type labelResult struct {
	Label       string  `json:"label"`
	Probability float32 `json:"probability"`
	Cosine      float32 `json:"cosine"`
}

// CacheDirEnv overrides where label embeddings are cached.
const cacheDirEnv = "CLIPINFER_CACHE_DIR"

func runClassify(e *env, args []string) error {
	fs := flags(e, "classify")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	labelsF := fs.String("labels", "", "labels, comma-separated")
	labelsFile := fs.String("labels-file", "", "file with one label per line")
	var templates listFlag
	fs.Var(&templates, "template", "prompt template, \"{}\" is replaced by the label (repeatable; several are ensembled; default \""+analysis.DefaultTemplate+"\")")
	k := fs.Int("k", 5, "labels per image")
	noCache := fs.Bool("no-cache", false, "do not read or write the label-embedding cache")
	table := fs.Bool("table", false, "print a readable table instead of JSON lines")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFlagOrder(fs); err != nil {
		return err
	}
	if err := required(fs, "m"); err != nil {
		return err
	}
	if (*labelsF == "") == (*labelsFile == "") {
		return usagef("give the labels with exactly one of -labels a,b,c and -labels-file FILE")
	}
	if err := nargs(fs, 1, -1, "IMAGE"); err != nil {
		return err
	}
	if *k < 1 {
		return usagef("-k must be at least 1")
	}
	labels, err := readLabels(*labelsF, *labelsFile)
	if err != nil {
		return err
	}
	if len(labels) < 2 {
		return fmt.Errorf("give at least two labels")
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	embed := m.EmbedTexts
	if !*noCache {
		fp, err := m.Fingerprint()
		if err != nil {
			return err
		}
		c := &textCache{fingerprint: fp, dim: m.EmbedDim(), embed: m.EmbedTexts, warn: e.stderr}
		embed = c.embedTexts
	}
	labelEmbs, err := analysis.LabelEmbeddings(embed, labels, templates)
	if err != nil {
		return err
	}

	paths := fs.Args()
	embs, errs := embedImagePaths(context.Background(), m, paths, newProgress(e, "images", len(paths)))
	failed := 0
	for i, p := range paths {
		if errs[i] != nil {
			failed++
			fmt.Fprintf(e.stderr, "warning: skipped %s: %s\n", termtext.Safe(p), skipReason(p, errs[i]))
			continue
		}
		sc := m.Score(embs[i], labelEmbs)
		out := classified{Image: p, Scoring: string(sc.Kind)}
		for _, j := range analysis.TopK(sc.Probabilities, *k) {
			out.Labels = append(out.Labels, labelResult{labels[j], sc.Probabilities[j], sc.Cosine[j]})
		}
		if *table {
			if sc.Kind == clip.ScoreSigmoid {
				fmt.Fprintf(e.stdout, "%s  (independent sigmoid per label)\n", termtext.Safe(p))
			} else {
				fmt.Fprintf(e.stdout, "%s\n", termtext.Safe(p))
			}
			for _, l := range out.Labels {
				fmt.Fprintf(e.stdout, "  %6.1f%%  %-30s cos %+.3f\n", 100*l.Probability, termtext.Safe(l.Label), l.Cosine)
			}
			continue
		}
		if err := printJSON(e.stdout, out); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images could not be read", failed, len(paths))
	}
	return nil
}

// readLabels returns the labels of -labels or -labels-file, trimmed, in
// order, without empty ones.
func readLabels(list, file string) ([]string, error) {
	var raw []string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		raw = strings.Split(string(b), "\n")
	} else {
		raw = strings.Split(list, ",")
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range raw {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") && file != "" {
			continue
		}
		if seen[l] {
			return nil, fmt.Errorf("label %q appears twice", l)
		}
		seen[l] = true
		out = append(out, l)
	}
	return out, nil
}

// textCache keeps text embeddings on disk, one file per model fingerprint
// in the user cache folder, so labels and templates are embedded once per
// model. A missing or unreadable cache only costs time.
type textCache struct {
	fingerprint string
	dim         int
	embed       func([]string) ([][]float32, error)
	warn        io.Writer
}

// cacheFile is the on-disk form.
type cacheFile struct {
	Fingerprint string               `json:"fingerprint"`
	Dim         int                  `json:"dim"`
	Texts       map[string][]float32 `json:"texts"`
}

// maxCachedTexts bounds a cache file; past it the cache starts afresh.
const maxCachedTexts = 50_000

func (c *textCache) path() (string, error) {
	dir := os.Getenv(cacheDirEnv)
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, "clipinfer", "text-embeddings")
	}
	name := strings.TrimPrefix(c.fingerprint, "sha256:")
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return "", fmt.Errorf("bad fingerprint %q", c.fingerprint)
	}
	return filepath.Join(dir, name+".json"), nil
}

func (c *textCache) load(path string) map[string][]float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		return map[string][]float32{}
	}
	var f cacheFile
	if err := json.Unmarshal(b, &f); err != nil || f.Fingerprint != c.fingerprint || f.Dim != c.dim || f.Texts == nil {
		fmt.Fprintf(c.warn, "warning: ignoring unreadable label cache %s\n", termtext.Safe(path))
		return map[string][]float32{}
	}
	for t, v := range f.Texts {
		if len(v) != c.dim {
			delete(f.Texts, t)
		}
	}
	return f.Texts
}

// embedTexts returns cached embeddings and computes (and stores) the rest.
func (c *textCache) embedTexts(texts []string) ([][]float32, error) {
	path, err := c.path()
	if err != nil {
		fmt.Fprintf(c.warn, "warning: no label cache: %s\n", termtext.Safe(err.Error()))
		return c.embed(texts)
	}
	have := c.load(path)
	var missing []string
	for _, t := range texts {
		if _, ok := have[t]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		embs, err := c.embed(missing)
		if err != nil {
			return nil, err
		}
		if len(have)+len(missing) > maxCachedTexts {
			have = map[string][]float32{}
		}
		for i, t := range missing {
			have[t] = embs[i]
		}
		err = os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = atomicfile.Write(path, func(w io.Writer) error {
				return json.NewEncoder(w).Encode(cacheFile{Fingerprint: c.fingerprint, Dim: c.dim, Texts: have})
			})
		}
		if err != nil && !errors.Is(err, os.ErrPermission) {
			fmt.Fprintf(c.warn, "warning: cannot write label cache: %s\n", termtext.Safe(err.Error()))
		}
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = have[t]
	}
	return out, nil
}
