package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	require.NoError(t, Write(p, func(w io.Writer) error { _, err := io.WriteString(w, "one"); return err }))
	b, _ := os.ReadFile(p)
	assert.Equal(t, "one", string(b))

	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	assert.ErrorIs(t, err, boom)
	b, _ = os.ReadFile(p)
	assert.Equal(t, "one", string(b), "the old content survives a failed write")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left")
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	assert.Error(t, Write(filepath.Join(dir, "missing", "f"), func(io.Writer) error { return nil }))
}
