package main

import (
	"io"

	"github.com/clipinfer/clipinfer/internal/atomicfile"
)

// writeAtomic writes a file so that readers never see a partial file and a
// failure leaves any existing file untouched (see package atomicfile).
func writeAtomic(path string, write func(w io.Writer) error) error {
	return atomicfile.Write(path, write)
}
