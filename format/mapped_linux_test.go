package format

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// assertMapped checks in /proc/self/maps that the file's memory is a
// mapping of path.
func assertMapped(t *testing.T, f *File, path string) {
	t.Helper()
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	abs, err = filepath.EvalSymlinks(abs)
	require.NoError(t, err)
	m, err := os.Open("/proc/self/maps")
	require.NoError(t, err)
	defer m.Close()
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(f.data)))
	sc := bufio.NewScanner(m)
	for sc.Scan() {
		var lo, hi uintptr
		var rest string
		line := sc.Text()
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err != nil {
			continue
		}
		if addr >= lo && addr < hi {
			fields := strings.Fields(line)
			rest = fields[len(fields)-1]
			require.Equal(t, abs, rest, "memory at %#x is not a mapping of the file: %s", addr, line)
			require.True(t, strings.HasPrefix(fields[1], "r--s"), "mapping is not read-only shared: %s", line)
			return
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("address %#x is in no mapping", addr)
}
