package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/kernels"
	clip "github.com/clipinfer/clipinfer/runtime"
)

// modelUse says what a command does with its model, and so which model
// flags its -h lists.
type modelUse uint8

const (
	// runsTowers: the command runs forward passes (-kernel, -threads).
	runsTowers modelUse = 1 << iota
	// readsImages: the command decodes image files (-max-pixels).
	readsImages
)

// defaultMaxPixels bounds decoded images unless -max-pixels says otherwise.
const defaultMaxPixels = 100_000_000

// modelFlags are the flags of the commands that open a model.
type modelFlags struct {
	path      string
	kernel    string
	threads   int
	maxPixels int64
	verify    bool
	fast      bool
	exif      bool
	budget    *imageproc.Budget
}

// add registers -m and -verify, plus the flags of what the command does
// with the model (all of them when uses is empty).
func (m *modelFlags) add(fs *flag.FlagSet, needModel bool, uses ...modelUse) {
	use := runsTowers | readsImages
	if len(uses) > 0 {
		use = 0
		for _, u := range uses {
			use |= u
		}
	}
	m.maxPixels, m.exif = defaultMaxPixels, true
	help := "model file (.clip) made by convert or clipinfer pull"
	if !needModel {
		help += " (optional)"
	}
	fs.StringVar(&m.path, "m", "", help)
	fs.BoolVar(&m.verify, "verify", false, "check every tensor checksum while opening the model")
	if use&runsTowers != 0 {
		fs.StringVar(&m.kernel, "kernel", "", "force a kernel: "+strings.Join(buildKernels(), ", ")+" (default: the best this CPU runs, or $"+kernels.EnvVar+")")
		fs.IntVar(&m.threads, "threads", 0, "goroutines per embedding call: a batch is split between them by inputs, one input inside its pass (default: number of CPUs)")
	}
	if use&readsImages != 0 {
		fs.Int64Var(&m.maxPixels, "max-pixels", defaultMaxPixels, "refuse images with more pixels than this (decompression bombs)")
		fs.BoolVar(&m.fast, "fast-decode", false, "decode JPEGs at 1/2, 1/4 or 1/8 scale in the DCT domain (Pillow's draft mode; faster, embeddings differ slightly)")
		fs.BoolVar(&m.exif, "exif", true, "turn image files by their EXIF orientation (false: as stored, OpenAI's raw pipeline)")
	}
}

// buildKernels names the kernels compiled into this binary, best first.
func buildKernels() []string {
	var names []string
	for _, im := range kernels.List() {
		names = append(names, im.Name())
	}
	return names
}

// kernelArch names the architecture of kernels other builds have.
var kernelArch = map[string]string{"avx2": "amd64", "avxvnni": "amd64", "avx512vnni": "amd64", "neon": "arm64", "neondot": "arm64", "neoni8mm": "arm64"}

func (m *modelFlags) open() (*clip.Model, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	model, err := clip.Open(m.path, m.options())
	if errors.Is(err, format.ErrBadMagic) {
		if what := checkpointKind(m.path); what != "" {
			return nil, fmt.Errorf("model %s is %s, not a .clip file: convert it first (convert %s MODEL.clip)", m.path, what, m.path)
		}
	}
	return model, err
}

// check explains the usual mistakes before opening: no -m, a -kernel this
// binary cannot use, a missing file, a folder.
func (m *modelFlags) check() error {
	if m.path == "" {
		return usagef("missing -m MODEL (a .clip file made by convert or clipinfer pull)")
	}
	if err := m.checkKernel(); err != nil {
		return err
	}
	st, err := os.Stat(m.path)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("model %s: %w", m.path, pe.Err)
	case err != nil:
		return fmt.Errorf("model %s: %w", m.path, err)
	case st.IsDir():
		return fmt.Errorf("model %s is a folder, not a .clip file: a Hugging Face checkpoint folder must be converted first (convert %s MODEL.clip)", m.path, m.path)
	}
	return nil
}

// checkKernel explains a -kernel this binary cannot use.
func (m *modelFlags) checkKernel() error {
	name := strings.ToLower(strings.TrimSpace(m.kernel))
	if name == "" || name == "auto" {
		return nil
	}
	for _, im := range kernels.List() {
		if im.Name() == name {
			if !im.Available && im.Why != "" {
				return fmt.Errorf("-kernel %s needs %s; this machine lacks %s (it runs: %s)", name, im.Needs, im.Why, strings.Join(availableKernels(), ", "))
			}
			if !im.Available {
				return fmt.Errorf("-kernel %s needs %s, which this CPU does not have (it runs: %s)", name, im.Needs, strings.Join(availableKernels(), ", "))
			}
			return nil
		}
	}
	if arch, ok := kernelArch[name]; ok {
		return usagef("-kernel %s is for %s CPUs; this %s build has: %s", name, arch, runtime.GOARCH, strings.Join(buildKernels(), ", "))
	}
	return usagef("unknown -kernel %q; this build has: %s", m.kernel, strings.Join(buildKernels(), ", "))
}

func availableKernels() []string {
	var names []string
	for _, k := range kernels.Available() {
		names = append(names, k.Name())
	}
	return names
}

// checkpointKind recognises a training checkpoint given where a .clip file
// belongs, from its first bytes; "" when it is none of them.
func checkpointKind(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := f.Read(head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "a PyTorch checkpoint (zip)"
	case bytes.HasPrefix(head, []byte{0x80}) && n > 1 && head[1] >= 2 && head[1] <= 5:
		return "a PyTorch checkpoint (pickle)"
	case n >= 9 && head[8] == '{':
		return "a safetensors file"
	}
	return ""
}

func (m *modelFlags) options() clip.Options {
	return clip.Options{Kernel: m.kernel, Threads: m.threads, MaxPixels: m.maxPixels, VerifyData: m.verify,
		FastDecode: m.fast, IgnoreEXIF: !m.exif, ImageBudget: m.budget}
}
