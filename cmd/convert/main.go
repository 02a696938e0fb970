// Command convert turns a trained CLIP checkpoint into a clipinfer weight
// file.
//
// Usage:
//
//	convert [-q q8|f16|f32] [-block N] [-act quick_gelu|gelu] [-tower both|text|vision] INPUT OUTPUT
//
// INPUT is a Hugging Face CLIPModel directory, a .safetensors file, or a
// PyTorch .pt/.bin state dict (OpenAI, OpenCLIP or the lecture's SimpleCLIP).
// The output is written atomically: a failed conversion leaves no file and
// never damages an existing one.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/internal/regfile"
	"github.com/clipinfer/clipinfer/internal/termtext"
)

func main() {
	os.Exit(exitCode(run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// exitCode prints err as one line and returns the exit status: 2 for a
// wrong command line, 1 for a failed conversion (as clipinfer does).
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "convert: %s; run 'convert -h'\n", termtext.Safe(ue.msg))
		return 2
	}
	fmt.Fprintln(stderr, "convert:", termtext.Safe(strings.Join(strings.Fields(err.Error()), " ")))
	return 1
}

// usageError is a command-line mistake explained in one line.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	q := fs.String("q", "q8", "weight type of the large matrices: q8, f16 or f32")
	block := fs.Int("block", 0, "q8 block size along the input dimension (0: one scale per row)")
	act := fs.String("act", "", "MLP activation for OpenAI/OpenCLIP state dicts: quick_gelu (OpenAI, the default) or gelu (most OpenCLIP/LAION weights)")
	tower := fs.String("tower", "both", "towers to keep: both, text or vision")
	vocab := fs.String("vocab", "", "SimpleCLIP only: word vocabulary file (one token per line) to pack")
	unk := fs.Int("unk", 1, "SimpleCLIP only: id that words missing from -vocab map to")
	brief := fs.Bool("brief", false, "summarise the quantisation error instead of listing every tensor")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convert [flags] INPUT OUTPUT")
		fmt.Fprintln(stderr, "\nINPUT: a Hugging Face CLIPModel directory, a .safetensors file, or a PyTorch .pt/.bin state dict.")
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return nil
		}
		return usagef("%s", err)
	}
	if fs.NArg() != 2 {
		return usagef("want INPUT and OUTPUT, got %d arguments (flags go before them)", fs.NArg())
	}
	in, out := fs.Arg(0), fs.Arg(1)
	opt := convert.Options{Quant: *q, Block: *block, Activation: *act, Tower: *tower, UnknownToken: *unk,
		Args: append([]string{"convert"}, args...)}
	if err := opt.Validate(); err != nil {
		return usagef("%s", err)
	}
	if *vocab != "" {
		b, err := regfile.ReadFile(*vocab, maxVocabFile)
		if err != nil {
			return err
		}
		opt.Vocab = b
	}
	if !*quiet {
		isTerm := false
		if f, ok := stderr.(*os.File); ok {
			isTerm = term.IsTerminal(int(f.Fd()))
		}
		if isTerm || sourceSize(in) > 256<<20 {
			opt.Progress = progress(stderr, isTerm)
		}
	}
	rep, err := convert.Convert(in, out, opt)
	if err != nil {
		return err
	}
	if !*quiet {
		describe(stdout, rep, !*brief)
	}
	return nil
}

// sourceSize returns the size of a file, or of the files in a directory.
func sourceSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if !st.IsDir() {
		return st.Size()
	}
	var n int64
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !info.IsDir() {
			n += info.Size()
		}
	}
	return n
}

// maxVocabFile bounds a -vocab word list.
const maxVocabFile = 64 << 20

// progress shows a one-line counter on a terminal, and a line every 10 % of
// the tensors otherwise.
func progress(w io.Writer, isTerm bool) func(done, total int, name string) {
	last := -1
	return func(done, total int, name string) {
		if isTerm {
			fmt.Fprintf(w, "\r\033[K[%d/%d] %s", done, total, name)
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
		if pct := done * 10 / total; pct != last {
			last = pct
			fmt.Fprintf(w, "converted %d/%d tensors\n", done, total)
		}
	}
}

func describe(w io.Writer, r *convert.Report, verbose bool) {
	m := r.Meta
	fmt.Fprintf(w, "source:     %s (%s), family %s\n", termtext.Safe(m.Provenance.Source), r.SourceFormat, r.Family)
	switch m.Architecture {
	case format.ArchCLIPViT:
		if v := m.Vision; v != nil {
			fmt.Fprintf(w, "vision:     ViT %d px, patch %d, width %d, %d layers, %d heads, mlp %d — %s params\n",
				v.ImageSize, v.PatchSize, v.Width, v.Layers, v.Heads, v.MLPDim, millions(r.Params["vision"]))
		}
		if t := m.Text; t != nil {
			fmt.Fprintf(w, "text:       context %d, vocab %d, width %d, %d layers, %d heads, mlp %d, pooling %s — %s params\n",
				t.ContextLength, t.VocabSize, t.Width, t.Layers, t.Heads, t.MLPDim, t.Pooling, millions(r.Params["text"]))
		}
		fmt.Fprintf(w, "activation: %s, layer norm eps %g\n", m.Activation, m.LayerNormEps)
	case format.ArchSimpleCLIP:
		s := m.SimpleCLIP
		fmt.Fprintf(w, "simpleclip: vocab %d, embedding %d, BiLSTM hidden %d; image MLP %d→%d→%d — %s params\n",
			s.VocabSize, s.EmbedDim, s.HiddenDim, s.ImageInputDim, s.ImageHiddenDim, s.OutputDim, millions(r.Params["simpleclip"]))
	}
	fmt.Fprintf(w, "embedding:  %d, logit scale %.4g\n", m.EmbedDim, m.LogitScale)
	var quantised []convert.TensorReport
	for _, t := range r.Tensors {
		if t.Error != nil {
			quantised = append(quantised, t)
		}
	}
	if len(quantised) > 0 {
		sort.Slice(quantised, func(i, j int) bool { return quantised[i].Error.Relative > quantised[j].Error.Relative })
		var sum float64
		for _, t := range quantised {
			sum += t.Error.Relative
		}
		fmt.Fprintf(w, "weights:    %d matrices as %s, relative error mean %.4f%%, worst %.4f%% (%s)\n",
			len(quantised), quantised[0].Type, 100*sum/float64(len(quantised)), 100*quantised[0].Error.Relative, quantised[0].Name)
		if verbose {
			fmt.Fprintf(w, "  %-40s %-14s %-4s %10s %8s\n", "tensor", "shape", "type", "rel.err", "SNR dB")
			for _, t := range quantised {
				fmt.Fprintf(w, "  %-40s %-14s %-4s %9.4f%% %8.1f\n", t.Name, shapeString(t.Shape), t.Type, 100*t.Error.Relative, t.Error.SNR)
			}
		}
	}
	fmt.Fprintf(w, "output:     %s, %s (%.1f%% of f32 %s)\n", mib(r.Bytes), m.Quant.Type, 100*float64(r.Bytes)/float64(r.F32Bytes), mib(r.F32Bytes))
}

func millions(n int) string { return fmt.Sprintf("%.2fM", float64(n)/1e6) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "×")
}
