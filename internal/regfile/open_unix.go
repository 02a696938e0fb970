//go:build unix

package regfile

import (
	"os"
	"syscall"
)

// openNonBlocking opens with O_NONBLOCK so that opening a FIFO without a
// writer returns at once; reads of regular files ignore the flag.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
