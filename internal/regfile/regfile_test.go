package regfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	require.NoError(t, os.WriteFile(p, []byte("hello"), 0o644))
	b, err := ReadFile(p, 0)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
	_, err = ReadFile(p, 4)
	assert.ErrorContains(t, err, "more than the 4 allowed")
	_, _, err = Open(dir)
	assert.ErrorIs(t, err, ErrNotRegular)
	assert.NoError(t, Check(dir))
}

// TestFIFORefusedAtOnce opens a FIFO nobody writes to: a plain open would
// block forever.
func TestFIFORefusedAtOnce(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no FIFOs on " + runtime.GOOS)
	}
	p := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, mkfifo(p))
	start := time.Now()
	_, err := ReadFile(p, 1<<20)
	assert.ErrorIs(t, err, ErrNotRegular)
	assert.ErrorContains(t, err, "a FIFO")
	assert.Less(t, time.Since(start), time.Second)
	assert.ErrorIs(t, Check(p), ErrNotRegular)
}
