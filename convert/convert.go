// Package convert turns trained CLIP checkpoints (OpenAI and OpenCLIP state
// dicts, Hugging Face CLIPModel directories, the lecture's SimpleCLIP) into
// clipinfer weight files.
//
// A source is read with package checkpoint, recognised by its keys, mapped
// to clipinfer's canonical tensor names (docs/FORMAT.md), and written with
// package format: large matrices as q8, f16 or f32, everything else f32.
package convert

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clipinfer/clipinfer/checkpoint"
	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/quant"
)

// Version is recorded in every file's provenance.
const Version = "0.1.0"

// Towers selects what a conversion keeps.
const (
	TowerBoth   = "both"
	TowerText   = "text"
	TowerVision = "vision"
)

// Options configure Convert. The zero value converts both towers to q8 with
// one scale per row.
type Options struct {
	// Quant is "q8" (default), "f16" or "f32".
	Quant string
	// Block is the q8 block size along the input dimension; 0 means one
	// scale per row. Matrices whose width it does not divide get one
	// scale per row.
	Block int
	// Activation overrides the MLP activation ("quick_gelu" or "gelu").
	// OpenAI/OpenCLIP state dicts do not say which they use: empty means
	// quick_gelu (OpenAI weights); Hugging Face configs say it themselves.
	Activation string
	// Tower is "both" (default), "text" or "vision".
	Tower string
	// Vocab is a word-per-line vocabulary packed into SimpleCLIP files.
	Vocab []byte
	// UnknownToken is the id unknown words map to (SimpleCLIP vocabularies).
	UnknownToken int
	// Args is recorded in the provenance (the command line).
	Args []string
	// Log receives a human-readable account of what was found and written;
	// nil discards it.
	Log io.Writer
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
}

// TensorReport describes one written tensor.
type TensorReport struct {
	Name   string
	Shape  []int
	Type   string
	Params int
	// Error is the quantisation error (q8 and f16 only).
	Error *quant.Error
}

// Report summarises a conversion.
type Report struct {
	Family       string
	SourceFormat string
	Meta         format.Metadata
	Tensors      []TensorReport
	// Params counts parameters per tower ("vision", "text", "simpleclip").
	Params map[string]int
	// Bytes is the size of the written file; F32Bytes what the same
	// tensors take as f32.
	Bytes, F32Bytes int64
}

// Convert reads the checkpoint at input (a Hugging Face directory, a
// .safetensors file or a PyTorch .pt/.bin) and writes a clipinfer file to
// output atomically.
func Convert(input, output string, opt Options) (*Report, error) {
	if err := opt.normalise(); err != nil {
		return nil, err
	}
	src, err := openSource(input, opt)
	if err != nil {
		return nil, err
	}
	defer src.close()
	plan, err := src.plan()
	if err != nil {
		return nil, err
	}
	plan.meta.Provenance = format.Provenance{
		Source:           input,
		SourceFormat:     src.format,
		Converter:        "clipinfer convert",
		ConverterVersion: Version,
		Args:             opt.Args,
	}
	if sum, err := sha256File(input); err == nil {
		plan.meta.Provenance.SourceSHA256 = sum
	}
	return write(plan, output, opt)
}

// Validate reports an option Convert would refuse (an unknown quantisation,
// activation or tower, a bad block size) before any file is read.
func (o Options) Validate() error { return o.normalise() }

func (o *Options) normalise() error {
	switch o.Quant {
	case "":
		o.Quant = format.QuantQ8
	case format.QuantQ8, format.QuantF16, format.QuantF32:
	default:
		return fmt.Errorf("unknown quantisation %q (want q8, f16 or f32)", o.Quant)
	}
	if o.Block < 0 {
		return fmt.Errorf("block size %d is negative", o.Block)
	}
	if o.Quant != format.QuantQ8 && o.Block != 0 {
		return fmt.Errorf("block size given for %s (only q8 has blocks)", o.Quant)
	}
	switch o.Activation {
	case "", format.ActQuickGELU, format.ActGELU:
	default:
		return fmt.Errorf("unknown activation %q (want quick_gelu or gelu)", o.Activation)
	}
	switch o.Tower {
	case "":
		o.Tower = TowerBoth
	case TowerBoth, TowerText, TowerVision:
	default:
		return fmt.Errorf("unknown tower %q (want both, text or vision)", o.Tower)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// kind says how a planned tensor is stored.
type kind int

const (
	keepF32 kind = iota // vectors, embeddings, layer norms: always f32
	weight              // a matrix stored in the requested type (q8/f16/f32)
	blob                // raw bytes
)

// planned is one output tensor: where it comes from and how to store it.
type planned struct {
	name  string
	shape []int
	kind  kind
	tower string
	// load returns the tensor's values in the output layout.
	load func() ([]float32, error)
	data []byte // blobs
}

// plan is the whole output file before anything is written.
type plan struct {
	meta    format.Metadata
	tensors []planned
	family  string
}

func write(p *plan, output string, opt Options) (*Report, error) {
	p.meta.Quant = format.QuantInfo{Type: opt.Quant, Block: opt.Block}
	if err := p.meta.Validate(); err != nil {
		return nil, fmt.Errorf("inferred metadata is inconsistent: %w", err)
	}
	if err := checkRuntimeAccepts(p); err != nil {
		return nil, err
	}
	rep := &Report{Family: p.family, SourceFormat: p.meta.Provenance.SourceFormat, Meta: p.meta, Params: map[string]int{}}
	w, err := format.Create(output)
	if err != nil {
		return nil, err
	}
	meta := p.meta
	w.SetMetadata(&meta)
	fail := func(err error) (*Report, error) {
		w.Abort()
		return nil, err
	}
	for i, t := range p.tensors {
		tr := TensorReport{Name: t.name, Shape: t.shape, Type: "f32"}
		if t.kind == blob {
			tr.Type = "u8"
			if err := w.AddBytes(t.name, t.data); err != nil {
				return fail(err)
			}
			rep.F32Bytes += int64(len(t.data))
		} else {
			v, err := t.load()
			if err != nil {
				return fail(fmt.Errorf("%s: %w", t.name, err))
			}
			if n := numel(t.shape); len(v) != n {
				return fail(fmt.Errorf("%s: %d values for shape %v", t.name, len(v), t.shape))
			}
			for j, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return fail(fmt.Errorf("%s: non-finite value %v at index %d", t.name, x, j))
				}
			}
			tr.Params = len(v)
			rep.Params[t.tower] += len(v)
			rep.F32Bytes += int64(4 * len(v))
			typ := format.QuantF32
			if t.kind == weight {
				typ = opt.Quant
			}
			tr.Type = typ
			if err := addTensor(w, t, v, typ, opt.Block, &tr); err != nil {
				return fail(fmt.Errorf("%s: %w", t.name, err))
			}
		}
		rep.Tensors = append(rep.Tensors, tr)
		if opt.Progress != nil {
			opt.Progress(i+1, len(p.tensors), t.name)
		}
	}
	if err := w.Commit(); err != nil {
		return nil, err
	}
	if st, err := os.Stat(output); err == nil {
		rep.Bytes = st.Size()
	}
	return rep, nil
}

func addTensor(w *format.Writer, t planned, v []float32, typ string, block int, tr *TensorReport) error {
	switch typ {
	case format.QuantQ8:
		rows, cols := t.shape[0], numel(t.shape[1:])
		m, err := quant.Quantize(v, rows, cols, block)
		if err != nil {
			return err
		}
		e := quant.Measure(v, m)
		tr.Error = &e
		return w.AddQ8(t.name, t.shape, m.Data, m.Scales, m.Block)
	case format.QuantF16:
		h := make([]uint16, len(v))
		var num, den float64
		for i, x := range v {
			h[i] = quant.FloatToHalf(x)
			d := float64(x) - float64(quant.HalfToFloat(h[i]))
			num += d * d
			den += float64(x) * float64(x)
		}
		e := quant.Error{}
		if den > 0 {
			e.Relative = math.Sqrt(num / den)
		}
		if num > 0 {
			e.SNR = 10 * math.Log10(den/num)
		}
		tr.Error = &e
		return w.AddF16(t.name, t.shape, h)
	}
	return w.AddF32(t.name, t.shape, v)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// source is an opened checkpoint of any family.
type source struct {
	format string
	sd     *checkpoint.StateDict
	hf     *checkpoint.HFModel // Hugging Face CLIPModel directories
	// dir and modelType are set for every Hugging Face directory; only
	// CLIP ones are opened through checkpoint.OpenHF (hf), the others
	// read their own files from dir.
	dir, modelType string
	opt            Options
	used           map[string]bool
}

func openSource(input string, opt Options) (*source, error) {
	st, err := os.Stat(input)
	if err != nil {
		return nil, err
	}
	s := &source{opt: opt, used: map[string]bool{}}
	if st.IsDir() {
		if s.modelType, err = hfModelType(input); err != nil {
			return nil, err
		}
		s.dir = input
		if s.modelType == "siglip" || s.modelType == "siglip2" {
			sd, err := checkpoint.Open(filepath.Join(input, "model.safetensors"))
			if err != nil {
				return nil, fmt.Errorf("hf model %s: %w", input, err)
			}
			s.sd, s.format = sd, "hf:"+sd.Format
			return s, nil
		}
		hf, err := checkpoint.OpenHF(input)
		if err != nil {
			return nil, err
		}
		s.hf, s.sd, s.format = hf, hf.Weights, "hf:"+hf.Weights.Format
		return s, nil
	}
	sd, err := checkpoint.Open(input)
	if err != nil {
		return nil, err
	}
	s.sd, s.format = sd, sd.Format
	return s, nil
}

// maxConfigBytes bounds config.json and the other small JSON files of a
// Hugging Face directory.
const maxConfigBytes = 4 << 20

// readSmallFile reads a file of at most maxConfigBytes.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxConfigBytes)
	}
	return b, nil
}

// hfModelType returns config.json's model_type ("" when absent).
func hfModelType(dir string) (string, error) {
	b, err := readSmallFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", fmt.Errorf("hf model %s: %w", dir, err)
	}
	var c struct {
		ModelType string `json:"model_type"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return "", fmt.Errorf("hf model %s: config.json: %w", dir, err)
	}
	return c.ModelType, nil
}

func (s *source) close() {
	if s.hf != nil {
		s.hf.Close()
	} else if s.sd != nil {
		s.sd.Close()
	}
}

// has reports whether the source has a tensor.
func (s *source) has(name string) bool { _, ok := s.sd.Tensors[name]; return ok }

// shape returns a source tensor's shape, or nil.
func (s *source) shape(name string) []int {
	if t, ok := s.sd.Tensors[name]; ok {
		return t.Shape
	}
	return nil
}

// values returns a loader of a source tensor's float32 values, marking it used.
func (s *source) values(name string) func() ([]float32, error) {
	s.used[name] = true
	return func() ([]float32, error) {
		t, ok := s.sd.Tensors[name]
		if !ok {
			return nil, fmt.Errorf("source has no tensor %s", name)
		}
		return t.Float32()
	}
}

// sourceFamily is one family of source checkpoints: how it is recognised
// and how it maps to a clipinfer file. Each family registers itself from
// its own file. The first family whose detector accepts a source reads it
// (registration order: file order, then order within a file).
type sourceFamily struct {
	name string
	// detect reports whether an opened source belongs to the family.
	detect func(s *source) bool
	// plan builds the output plan (or explains why it cannot).
	plan func(s *source) (*plan, error)
}

var sourceFamilies []sourceFamily

func registerFamily(f sourceFamily) { sourceFamilies = append(sourceFamilies, f) }

// plan recognises the family from the keys and builds the output plan.
func (s *source) plan() (*plan, error) {
	var fam *sourceFamily
	for i := range sourceFamilies {
		if sourceFamilies[i].detect(s) {
			fam = &sourceFamilies[i]
			break
		}
	}
	if fam == nil {
		return nil, fmt.Errorf("unsupported checkpoint layout: %d tensors, none of the keys of a known family (found %s)", len(s.sd.Tensors), sampleKeys(s.sd.Names(), 6))
	}
	p, err := fam.plan(s)
	if err != nil {
		return nil, err
	}
	if err := s.checkUnused(); err != nil {
		return nil, err
	}
	return p, nil
}

// ignorable are source keys that carry nothing the runtime needs.
func ignorable(name string) bool {
	return strings.HasSuffix(name, "position_ids") || strings.HasSuffix(name, "attn_mask") ||
		name == "input_resolution" || name == "context_length" || name == "vocab_size"
}

// checkUnused refuses sources with tensors the plan did not consume: they
// would change the model's meaning (layer scales, attention pooling, ...).
func (s *source) checkUnused() error {
	var left []string
	for _, n := range s.sd.Names() {
		if s.used[n] || ignorable(n) {
			continue
		}
		if s.opt.Tower != TowerBoth && s.dropped(n) {
			continue
		}
		left = append(left, n)
	}
	if len(left) > 0 {
		return fmt.Errorf("unsupported layout: %d tensors this converter does not understand (%s)", len(left), sampleKeys(left, 6))
	}
	return nil
}

// dropped reports whether a source tensor belongs to the tower -tower drops.
func (s *source) dropped(n string) bool {
	vision := strings.HasPrefix(n, "visual.") || strings.HasPrefix(n, "vision_model.") || strings.HasPrefix(n, "visual_projection")
	if s.opt.Tower == TowerText {
		return vision
	}
	return !vision && n != "logit_scale"
}

func sampleKeys(keys []string, n int) string {
	sort.Strings(keys)
	if len(keys) > n {
		return strings.Join(keys[:n], ", ") + fmt.Sprintf(", … %d more", len(keys)-n)
	}
	return strings.Join(keys, ", ")
}
