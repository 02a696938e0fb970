package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/npy"
)

func npyBytes(t testing.TB, v []float32, shape []int) []byte {
	var b bytes.Buffer
	require.NoError(t, npy.WriteFloat32(&b, v, shape))
	return b.Bytes()
}

func TestReadFeatures(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, content string
		want          [][]float32
		err           string
	}{
		{name: "one.json", content: "[1, 2.5, -3]", want: [][]float32{{1, 2.5, -3}}},
		{name: "many.JSON", content: "[[1, 2], [3, 4]]", want: [][]float32{{1, 2}, {3, 4}}},
		{name: "bad.json", content: `{"x": 1}`, err: "bad.json: want a JSON array"},
		{name: "vec.npy", content: string(npyBytes(t, []float32{1, 2, 3}, []int{3})), want: [][]float32{{1, 2, 3}}},
		{name: "mat.npy", content: string(npyBytes(t, []float32{1, 2, 3, 4, 5, 6}, []int{2, 3})), want: [][]float32{{1, 2, 3}, {4, 5, 6}}},
		{name: "cube.npy", content: string(npyBytes(t, make([]float32, 8), []int{2, 2, 2})), err: "cube.npy: features must be [D] or [N,D]"},
		{name: "junk.npy", content: "not numpy", err: "junk.npy:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			require.NoError(t, os.WriteFile(p, []byte(c.content), 0o644))
			got, err := ReadFeatures(p)
			if c.err != "" {
				assert.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	_, err := ReadFeatures(filepath.Join(dir, "missing.npy"))
	assert.Error(t, err)
}

// FuzzParseFeatures: any bytes give vectors or an error, never a panic, and
// rows of an [N,D] file never overlap (appending to one must not write into
// the next).
func FuzzParseFeatures(f *testing.F) {
	f.Add([]byte("[[1,2],[3,4]]"), true)
	f.Add([]byte("[1e40, -0]"), true)
	f.Add(npyBytes(f, []float32{1, 2, 3, 4}, []int{2, 2}), false)
	f.Add(npyBytes(f, []float32{}, []int{0, 5}), false)
	f.Add(npyBytes(f, []float32{7}, []int{1}), false)
	f.Fuzz(func(t *testing.T, b []byte, isJSON bool) {
		rows, err := parseFeatures(b, isJSON)
		if err != nil {
			return
		}
		for _, r := range rows {
			if len(r) != cap(r) && !isJSON {
				t.Fatalf("row of length %d has capacity %d", len(r), cap(r))
			}
		}
	})
}
