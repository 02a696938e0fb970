// Command weightsonly splits q8's error into its weight and activation
// parts. It writes an f32 model whose weight matrices are those of a q8
// conversion of the same checkpoint, dequantised (q·s), and every other
// tensor unchanged: running it gives q8's weight rounding with exact fp32
// activations. Compare it with the f32 and q8 files (tools/demoeval) to see
// how much of q8's disagreement the weights alone cause.
//
//	go run ./tools/weightsonly [-match REGEXP] F32.clip Q8.clip OUT.clip
//
// -match limits the swap to the weight tensors whose names match (e.g.
// token_embed), to find which tensors matter.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/quant"
)

func main() {
	match := flag.String("match", "", "only swap the q8 tensors whose names match this regular expression")
	flag.Parse()
	if flag.NArg() != 3 {
		fmt.Fprintln(os.Stderr, "usage: weightsonly [-match REGEXP] F32.clip Q8.clip OUT.clip")
		os.Exit(2)
	}
	re, err := regexp.Compile(*match)
	if err == nil {
		err = run(flag.Arg(0), flag.Arg(1), flag.Arg(2), re)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "weightsonly:", err)
		os.Exit(1)
	}
}

func run(f32Path, q8Path, out string, re *regexp.Regexp) error {
	ref, err := format.Open(f32Path)
	if err != nil {
		return err
	}
	defer ref.Close()
	if t := ref.Metadata().Quant.Type; t != format.QuantF32 {
		return fmt.Errorf("%s: want an f32 model, got %s", f32Path, t)
	}
	q, err := format.Open(q8Path)
	if err != nil {
		return err
	}
	defer q.Close()
	w, err := format.Create(out)
	if err != nil {
		return err
	}
	meta := *ref.Metadata()
	w.SetMetadata(&meta)
	swapped := 0
	for _, t := range ref.Tensors() {
		v, fromQ8, err := tensorValues(t, q, re)
		if err != nil {
			return errors.Join(fmt.Errorf("%s: %w", t.Name, err), w.Abort())
		}
		if fromQ8 {
			swapped++
		}
		if err := w.AddF32(t.Name, t.Shape, v); err != nil {
			return errors.Join(err, w.Abort())
		}
	}
	if err := w.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d weight matrices from %s, the rest from %s\n", out, swapped, q8Path, f32Path)
	return nil
}

// tensorValues returns t's values, or (fromQ8 true) the dequantised q8
// tensor of the same name when q holds one that re matches.
func tensorValues(t *format.Tensor, q *format.File, re *regexp.Regexp) (v []float32, fromQ8 bool, err error) {
	if qt, err := q.Tensor(t.Name); err == nil && qt.DType == format.Q8 && re.MatchString(t.Name) {
		data, scales, err := qt.Q8()
		if err != nil {
			return nil, false, err
		}
		m := &quant.Matrix{Rows: qt.Rows(), Cols: qt.Cols(), Block: qt.Block, Data: data, Scales: scales}
		if err := m.Validate(); err != nil {
			return nil, false, err
		}
		if m.Rows*m.Cols != t.NumElements() {
			return nil, false, fmt.Errorf("q8 tensor has %d values, f32 has %d", m.Rows*m.Cols, t.NumElements())
		}
		return m.Dequantize(), true, nil
	}
	if t.DType != format.F32 {
		return nil, false, fmt.Errorf("not f32 (%s)", t.DType)
	}
	v, err = t.F32()
	return v, false, err
}
