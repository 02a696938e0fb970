//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package index

import (
	"errors"
	"fmt"
	"os"
)

// lockFile creates path exclusively and removes it on unlock. Without a
// kernel lock a killed writer leaves the file behind, so the error names it.
func lockFile(path string) (func() error, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%w (remove %s if no update is running)", ErrLocked, path)
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	return func() error { return os.Remove(path) }, nil
}
