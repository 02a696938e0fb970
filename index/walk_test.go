package index

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A folder given through a symbolic link, and links to folders inside it,
// are followed; links back to an enclosing folder are reported as loops,
// not walked; a folder reached twice is indexed once.
func TestUpdateFollowsFolderLinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "disk", "photos", "a.jpg"), "A")
	writeFile(t, filepath.Join(dir, "disk", "photos", "trip", "b.png"), "B")
	writeFile(t, filepath.Join(dir, "other", "c.jpg"), "C")
	pics := filepath.Join(dir, "Pictures")
	require.NoError(t, os.Symlink(filepath.Join(dir, "disk", "photos"), pics))                                // the root is a link
	require.NoError(t, os.Symlink(filepath.Join(dir, "other"), filepath.Join(dir, "disk", "photos", "more"))) // a link inside
	require.NoError(t, os.Symlink("..", filepath.Join(dir, "disk", "photos", "trip", "up")))                  // loop
	require.NoError(t, os.Symlink(".", filepath.Join(dir, "disk", "photos", "self")))                         // loop
	require.NoError(t, os.Symlink(filepath.Join(dir, "other"), filepath.Join(dir, "disk", "photos", "again")))

	x, err := New(testModel, Int8)
	require.NoError(t, err)
	var mu sync.Mutex
	var loops []string
	st, err := Update(context.Background(), x, []string{pics}, UpdateOptions{
		Embedder: &fakeEmbedder{dim: testModel.Dim},
		Warn: func(path string, err error) {
			mu.Lock()
			defer mu.Unlock()
			assert.ErrorIs(t, err, ErrLinkLoop)
			loops = append(loops, filepath.Base(path))
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 3, st.Found)
	assert.Equal(t, 3, st.Added)
	assert.Equal(t, 2, st.Loops)
	assert.Equal(t, 1, st.Links, "other/ is followed once, under the first link that reaches it")
	assert.Zero(t, st.Failed)
	assert.ElementsMatch(t, []string{"up", "self"}, loops)
	for _, p := range []string{"a.jpg", "trip/b.png", "again/c.jpg"} {
		_, ok := x.Lookup(filepath.Join(pics, p))
		assert.True(t, ok, p)
	}
}
