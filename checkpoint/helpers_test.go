package checkpoint

import (
	"archive/zip"
	"bytes"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// zipOf builds a zip archive with the given entries stored uncompressed, in
// name order.
func zipOf(t testing.TB, entries map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := w.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		require.NoError(t, err)
		_, err = f.Write([]byte(entries[n]))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}
