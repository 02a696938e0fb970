package main

import (
	"flag"
	"fmt"

	clip "github.com/clipinfer/clipinfer/runtime"
)

// modelFlags are the flags every model-using command shares.
type modelFlags struct {
	path      string
	kernel    string
	threads   int
	maxPixels int64
	verify    bool
}

func (m *modelFlags) add(fs *flag.FlagSet, needModel bool) {
	help := "model file (.clip) made by convert"
	if !needModel {
		help += " (optional)"
	}
	fs.StringVar(&m.path, "m", "", help)
	fs.StringVar(&m.kernel, "kernel", "", "force a kernel: generic, avx2, avxvnni, avx512vnni, neon, neondot, neoni8mm (default: the best this CPU runs, or $CLIPINFER_KERNEL; clipinfer info lists them)")
	fs.IntVar(&m.threads, "threads", 0, "goroutines per forward pass (default: number of CPUs)")
	fs.Int64Var(&m.maxPixels, "max-pixels", 100_000_000, "refuse images with more pixels than this (decompression bombs)")
	fs.BoolVar(&m.verify, "verify", false, "check every tensor checksum while opening the model")
}

func (m *modelFlags) open() (*clip.Model, error) {
	if m.path == "" {
		return nil, fmt.Errorf("no model: give -m MODEL")
	}
	return clip.Open(m.path, m.options())
}

func (m *modelFlags) options() clip.Options {
	return clip.Options{Kernel: m.kernel, Threads: m.threads, MaxPixels: m.maxPixels, VerifyData: m.verify}
}
