//go:build !unix

package regfile

import "os"

// openNonBlocking opens path; platforms without O_NONBLOCK have no FIFOs
// that block an open for reading in the same way.
func openNonBlocking(path string) (*os.File, error) {
	return os.Open(path)
}
