package imageproc

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DisplayedSize, from the header alone, is the size DecodeFor's image
// reports (without a reduced scale), in every format that carries an
// orientation, with and without EXIF; and it refuses what is not an image.
func TestDisplayedSize(t *testing.T) {
	files := []string{"orient6_300x200.jpg", "orient3_300x200.jpg", "draft_480x360.jpg",
		"orient6_48x32.png", "orient8_48x32.webp", "orient5_48x32.tif"}
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(photoDir, name))
		require.NoError(t, err)
		for _, opt := range []LoadOptions{{}, {EXIF: true}} {
			img, _, err := DecodeFor(bytes.NewReader(data), DefaultConfig(), opt)
			require.NoError(t, err)
			w, h, err := DisplayedSize(data, opt)
			require.NoError(t, err)
			b := img.Bounds()
			assert.Equal(t, [2]int{b.Dx(), b.Dy()}, [2]int{w, h}, "%s %+v", name, opt)
		}
	}
	w, h, err := DisplayedSize(mustRead(t, filepath.Join(photoDir, "orient6_300x200.jpg")), LoadOptions{EXIF: true, FastDecode: true})
	require.NoError(t, err)
	assert.Equal(t, [2]int{200, 300}, [2]int{w, h}, "the stored size, turned, whatever the decoding scale")
	_, _, err = DisplayedSize([]byte("not an image"), LoadOptions{})
	assert.ErrorContains(t, err, "imageproc: ")
	_, _, err = DisplayedSize([]byte{0xff, 0xd8, 0xff}, LoadOptions{})
	assert.ErrorContains(t, err, "JPEG header")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
