// Package regfile opens files that must be regular files: model checkpoints,
// configuration, vocabularies and images named by a user. A FIFO, a device or
// a socket in their place would block a reader forever or feed it without
// end, so such paths are refused at once instead of being read.
package regfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular is wrapped by the error for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading if it is a regular file (symbolic links are
// followed). The open itself does not block on a FIFO: the type is checked
// on the opened descriptor, so a file swapped after a Stat cannot slip
// through.
func Open(path string) (*os.File, os.FileInfo, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, kind(st.Mode()))
	}
	return f, st, nil
}

// Check returns an error wrapping ErrNotRegular when path exists and is
// neither a regular file nor a directory. It does not open the path.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if m := st.Mode(); !m.IsRegular() && !m.IsDir() {
		return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, kind(m))
	}
	return nil
}

// ReadFile reads the regular file at path, refusing one larger than limit
// bytes (limit <= 0 means no limit).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if limit > 0 && st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", path, st.Size(), limit)
	}
	var r io.Reader = f
	if limit > 0 {
		r = io.LimitReader(f, limit+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if limit > 0 && int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past the %d bytes allowed while being read", path, limit)
	}
	return b, nil
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "mode " + m.String()
}
