package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/internal/termtext"
	"github.com/clipinfer/clipinfer/kernels"
)

func init() {
	register("info", command{
		summary: "Describe a model file and the kernel that runs it.",
		usage:   "[-json] [-verify] MODEL",
		run:     runInfo,
	})
}

func runInfo(e *env, args []string) error {
	fs := flags(e, "info")
	var mf modelFlags
	mf.add(fs, false, runsTowers)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 1 && mf.path == "" {
		mf.path = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usagef("give the model once: as -m MODEL or as the argument")
	}
	if mf.path == "" {
		// Without a model, say which kernels this CPU runs.
		return kernelInfo(e.stdout, *asJSON)
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	meta := m.Metadata()
	if *asJSON {
		out := struct {
			Path     string          `json:"path"`
			Bytes    int64           `json:"bytes"`
			Kernel   string          `json:"kernel"`
			Threads  int             `json:"threads"`
			Kernels  []kernelJSON    `json:"kernels"`
			Params   map[string]int  `json:"params"`
			Metadata format.Metadata `json:"metadata"`
			Verified bool            `json:"verified"`
		}{mf.path, m.Size(), m.Kernel(), m.Threads(), kernelList(), m.Params(), meta, mf.verify}
		enc := json.NewEncoder(e.stdout)
		return enc.Encode(out)
	}
	w := e.stdout
	fmt.Fprintf(w, "file:         %s (%.1f MiB%s)\n", termtext.Safe(mf.path), float64(m.Size())/(1<<20), map[bool]string{true: ", checksums verified"}[mf.verify])
	fmt.Fprintf(w, "architecture: %s (from %s weights), %s\n", meta.Architecture, meta.Family, describeQuant(meta.Quant))
	params := m.Params()
	switch meta.Architecture {
	case format.ArchSigLIP:
		if v := meta.Vision; v != nil {
			fmt.Fprintf(w, "image tower:  SigLIP ViT %d px, patch %d, width %d, %d layers, %d heads, MLP %d, attention-pooling head (%s parameters)\n",
				v.ImageSize, v.PatchSize, v.Width, v.Layers, v.Heads, v.MLPDim, millions(params["vision"]))
			p := meta.Preprocess
			filter := p.Resample
			if filter == "" {
				filter = format.ResampleBicubic
			}
			fmt.Fprintf(w, "preprocess:   %s pipeline: resize to %d×%d (%s, no crop), mean %v, std %v\n", p.Pipeline, p.Size, p.Size, filter, p.Mean, p.Std)
		}
		if t := meta.Text; t != nil {
			fmt.Fprintf(w, "text tower:   context %d (always padded to it), vocabulary %d, width %d, %d layers, %d heads, MLP %d, pooling %s (%s parameters)\n",
				t.ContextLength, t.VocabSize, t.Width, t.Layers, t.Heads, t.MLPDim, t.Pooling, millions(params["text"]))
			fmt.Fprintf(w, "tokenizer:    SentencePiece (packed from the source) %s\n", meta.Tokenizer.Config)
		}
		fmt.Fprintf(w, "activation:   %s, layer norm eps %g; logit bias %.4g, sigmoid per label\n", meta.Activation, meta.LayerNormEps, meta.LogitBias)
	case format.ArchCLIPViT:
		if v := meta.Vision; v != nil {
			fmt.Fprintf(w, "image tower:  ViT %d px, patch %d, width %d, %d layers, %d heads, MLP %d (%s parameters)\n",
				v.ImageSize, v.PatchSize, v.Width, v.Layers, v.Heads, v.MLPDim, millions(params["vision"]))
			p := meta.Preprocess
			fmt.Fprintf(w, "preprocess:   %s pipeline: shortest side → %d (bicubic), centre crop %d, mean %v, std %v\n",
				p.Pipeline, p.Size, p.Crop, p.Mean, p.Std)
		}
		if t := meta.Text; t != nil {
			fmt.Fprintf(w, "text tower:   context %d, vocabulary %d, width %d, %d layers, %d heads, MLP %d, pooling %s (%s parameters)\n",
				t.ContextLength, t.VocabSize, t.Width, t.Layers, t.Heads, t.MLPDim, t.Pooling, millions(params["text"]))
			tok := "CLIP BPE (built-in)"
			if meta.Tokenizer != nil && meta.Tokenizer.Merges != "" {
				tok = "CLIP BPE (packed from the source)"
			}
			fmt.Fprintf(w, "tokenizer:    %s\n", tok)
		}
		fmt.Fprintf(w, "activation:   %s, layer norm eps %g\n", meta.Activation, meta.LayerNormEps)
	case format.ArchSimpleCLIP:
		s := meta.SimpleCLIP
		fmt.Fprintf(w, "text tower:   embedding %d×%d → BiLSTM hidden %d ×2 → projection %d (%s parameters)\n",
			s.VocabSize, s.EmbedDim, s.HiddenDim, s.OutputDim, millions(params["text"]))
		fmt.Fprintf(w, "image tower:  features %d → MLP %d → %d → %d, ReLU (%s parameters)\n",
			s.ImageInputDim, s.ImageHiddenDim, s.ImageHiddenDim, s.OutputDim, millions(params["vision"]))
		tok := "none: give token ids (-tokens)"
		if meta.Tokenizer != nil {
			tok = fmt.Sprintf("word vocabulary, lower-cased, unknown words → %d", s.UnknownTokenID)
		}
		fmt.Fprintf(w, "tokenizer:    %s\n", tok)
	}
	fmt.Fprintf(w, "embedding:    %d dimensions, logit scale %.4g\n", meta.EmbedDim, meta.LogitScale)
	pv := meta.Provenance
	fmt.Fprintf(w, "source:       %s (%s)\n", termtext.Safe(pv.Source), termtext.Safe(pv.SourceFormat))
	if pv.SourceSHA256 != "" {
		fmt.Fprintf(w, "source sha256: %s\n", termtext.Safe(pv.SourceSHA256))
	}
	if len(pv.Args) > 0 {
		fmt.Fprintf(w, "converted by: %s\n", termtext.Safe(fmt.Sprintf("%s %s: %s", pv.Converter, pv.ConverterVersion, strings.Join(pv.Args, " "))))
	}
	fmt.Fprintf(w, "kernel:       %s, %d threads (this CPU: %s)\n", m.Kernel(), m.Threads(), availableNames())
	return nil
}

func describeQuant(q format.QuantInfo) string {
	switch {
	case q.Type != format.QuantQ8:
		return q.Type + " weights"
	case q.Block == 0:
		return "q8 weights (one scale per row)"
	}
	return fmt.Sprintf("q8 weights (one scale per %d inputs)", q.Block)
}

func millions(n int) string { return fmt.Sprintf("%.2fM", float64(n)/1e6) }

type kernelJSON struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Needs     string `json:"needs"`
	Why       string `json:"why,omitempty"`
}

func kernelList() []kernelJSON {
	var out []kernelJSON
	for _, im := range kernels.List() {
		out = append(out, kernelJSON{im.Name(), im.Available, im.Needs, im.Why})
	}
	return out
}

func availableNames() string {
	var names []string
	for _, k := range kernels.Available() {
		names = append(names, k.Name())
	}
	return strings.Join(names, ", ")
}

func kernelInfo(w io.Writer, asJSON bool) error {
	def, err := kernels.Default()
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(w).Encode(struct {
			Default string       `json:"default"`
			Kernels []kernelJSON `json:"kernels"`
		}{def.Name(), kernelList()})
	}
	fmt.Fprintf(w, "kernel in use: %s\n", def.Name())
	for _, k := range kernelList() {
		if k.Available {
			fmt.Fprintf(w, "  %-10s available        needs %s\n", k.Name, k.Needs)
			continue
		}
		fmt.Fprintf(w, "  %-10s not on this CPU  needs %s; lacks %s\n", k.Name, k.Needs, k.Why)
	}
	return nil
}
