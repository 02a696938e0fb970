//go:build !unix

package format

import (
	"fmt"
	"io"
	"math"
	"os"
)

// mapFile reads path into an aligned buffer: platforms without the unix
// mmap interface get a copy instead of a mapping.
func mapFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
	}
	if fi.Size() > math.MaxInt {
		return nil, nil, fmt.Errorf("file of %d bytes is too large to read on this platform", fi.Size())
	}
	b := alignedAlloc(int(fi.Size()))
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	return b, nil, nil
}

// syncDir is a no-op where directories cannot be synced.
func syncDir(string) error { return nil }
