// Package runtime runs CLIP models stored in clipinfer weight files: it
// computes L2-normalised image and text embeddings, zero-shot probabilities
// and similarities, on the fastest kernels the CPU supports.
//
// The package name shadows the standard library's runtime inside importing
// files; import it under another name if you need both:
//
//	import clip "github.com/clipinfer/clipinfer/runtime"
package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/kernels"
)

// Options configure Open. The zero value picks everything automatically.
type Options struct {
	// Kernel forces a kernel by name ("generic", "avx2", "neon",
	// "neondot"); empty picks the best the CPU supports, unless the
	// CLIPINFER_KERNEL environment variable names one.
	Kernel string
	// Threads is the number of goroutines one embedding call uses (a
	// batch is split between them by inputs, a single input by the
	// columns and rows of each product); 0 means one per CPU.
	Threads int
	// MaxPixels bounds the size of decoded images (width·height); 0 means
	// imageproc.DefaultMaxPixels.
	MaxPixels int64
	// VerifyData checks every tensor's checksum while opening (reading the
	// whole file once). The header, metadata and directory are always
	// checked.
	VerifyData bool
	// MaxBatch bounds how many images or texts one forward pass takes;
	// larger requests are split. 0 means 16 images or 64 texts.
	MaxBatch int
	// FastDecode decodes JPEG files at 1/2, 1/4 or 1/8 scale in the DCT
	// domain (Pillow's draft mode) before the usual resize; see
	// imageproc.LoadOptions.
	FastDecode bool
	// IgnoreEXIF embeds image files as stored, as OpenAI's pipeline does,
	// instead of turning them by their EXIF orientation first.
	IgnoreEXIF bool
	// ImageBudget, if set, bounds the decoded pixels of all image files
	// being read at once (see imageproc.Budget).
	ImageBudget *imageproc.Budget
}

// Model is a model of one family (CLIP, SimpleCLIP) opened from a weight
// file. Its methods are safe for
// concurrent use. Close it to release the mapping.
type Model struct {
	path      string
	file      *format.File
	meta      format.Metadata
	eng       engine
	serial    engine // eng's kernels on one thread, for passes run by splitJob
	fam       family
	maxPixels int64
	maxBatch  int
	load      imageproc.LoadOptions
	states    sync.Pool
	splits    sync.Pool // *splitJob, for batches split by inputs
	closed    atomic.Bool
}

// Open maps a weight file and prepares it for inference. Weights are used
// in place from the mapping; nothing is copied or repacked.
func Open(path string, opt Options) (*Model, error) {
	k, err := pickKernel(opt.Kernel)
	if err != nil {
		return nil, err
	}
	f, err := format.Open(path, format.OpenOptions{VerifyData: opt.VerifyData})
	if err != nil {
		return nil, err
	}
	m, err := newModel(f, k, opt)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.path = path
	return m, nil
}

func pickKernel(name string) (kernels.Kernels, error) {
	if name == "" {
		return kernels.Default()
	}
	return kernels.Get(name)
}

func newModel(f *format.File, k kernels.Kernels, opt Options) (*Model, error) {
	meta := f.Metadata()
	if meta == nil {
		return nil, errors.New("file has no metadata")
	}
	if err := meta.Validate(); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = goruntime.NumCPU()
	}
	threads = min(threads, 256)
	m := &Model{file: f, meta: *meta, maxPixels: opt.MaxPixels, maxBatch: opt.MaxBatch}
	if m.maxPixels <= 0 {
		m.maxPixels = imageproc.DefaultMaxPixels
	}
	m.load = imageproc.LoadOptions{MaxPixels: m.maxPixels, FastDecode: opt.FastDecode, EXIF: !opt.IgnoreEXIF, Budget: opt.ImageBudget}
	l := &loader{f: f}
	fam, err := openFamily(l, meta, k)
	if l.err != nil {
		return nil, l.err
	}
	if err != nil {
		return nil, err
	}
	m.fam = fam
	m.eng = engine{k: k, w: newWorkers(threads)}
	m.serial = engine{k: k, w: newWorkers(1)}
	m.states.New = func() any { return new(state) }
	m.splits.New = func() any { return new(splitJob) }
	return m, nil
}

// Close releases the model's workers and unmaps its file. Embeddings
// returned earlier stay valid; the model must not be used afterwards.
func (m *Model) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	m.eng.w.close()
	return m.file.Close()
}

// Metadata returns a copy of the model's metadata.
func (m *Model) Metadata() format.Metadata { return m.meta }

// Kernel returns the name of the kernel implementation in use.
func (m *Model) Kernel() string { return m.eng.k.Name() }

// Threads returns the number of goroutines one embedding call uses.
func (m *Model) Threads() int { return m.eng.w.threads }

// EmbedDim returns the length of every embedding.
func (m *Model) EmbedDim() int { return m.meta.EmbedDim }

// LogitScale returns the factor turning a cosine similarity into a logit
// (CLIP's exp(logit_scale)). Score applies it the family's way.
func (m *Model) LogitScale() float32 { return m.meta.LogitScale }

// HasVision reports whether the model has an image tower.
func (m *Model) HasVision() bool { return m.fam.hasVision() }

// HasText reports whether the model has a text tower.
func (m *Model) HasText() bool { return m.fam.hasText() }

// Fingerprint identifies the model's architecture and weights (see
// format.File.Fingerprint): embedding indexes and caches use it to refuse
// vectors made by another model.
func (m *Model) Fingerprint() (string, error) { return m.file.Fingerprint() }

// Size returns the size of the weight file in bytes.
func (m *Model) Size() int64 { return m.file.Size() }

// Params counts the model's parameters per tower ("vision" and "text").
func (m *Model) Params() map[string]int {
	out := map[string]int{}
	for _, t := range m.file.Tensors() {
		switch {
		case strings.HasPrefix(t.Name, "vision."), strings.HasPrefix(t.Name, "simple.image."):
			out["vision"] += t.NumElements()
		case strings.HasPrefix(t.Name, "text."), strings.HasPrefix(t.Name, "simple.text."):
			out["text"] += t.NumElements()
		}
	}
	return out
}

func (m *Model) state() *state { return m.states.Get().(*state) }
func (m *Model) release(s *state) {
	s.ctx = nil // the pool must not keep a caller's context alive
	m.states.Put(s)
}

func (m *Model) batch(def int) int {
	if m.maxBatch > 0 {
		return m.maxBatch
	}
	return def
}

// errClosed is returned by every method of a closed model.
var errClosed = errors.New("model is closed")
