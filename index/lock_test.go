package index

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockWriterExcludesASecondWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "photos.idx")
	unlock, err := LockWriter(path)
	require.NoError(t, err)
	_, err = LockWriter(path)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "photos.idx.lock is held")
	require.NoError(t, unlock())
	unlock, err = LockWriter(path)
	require.NoError(t, err, "the lock is free again once released")
	require.NoError(t, unlock())
}
