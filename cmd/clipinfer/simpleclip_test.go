package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/npy"
)

// TestSimpleCLIPCommands: the lecture's SimpleCLIP works through info, embed,
// classify, eval and gap, with feature files standing in for images.
func TestSimpleCLIPCommands(t *testing.T) {
	dir := t.TempDir()
	vocab, err := os.ReadFile("../../testdata/simpleclip/vocab.txt")
	require.NoError(t, err)
	model := filepath.Join(dir, "simple.clip")
	_, err = convert.Convert("../../testdata/simpleclip/simpleclip.pt", model, convert.Options{Vocab: vocab, UnknownToken: 1})
	require.NoError(t, err)
	var feats []string
	for i := 0; i < 4; i++ {
		v := make([]float32, 64)
		for j := range v {
			v[j] = float32((i+1)*(j%7)) * 0.1
		}
		p := filepath.Join(dir, "img"+string(rune('a'+i))+".npy")
		f, err := os.Create(p)
		require.NoError(t, err)
		require.NoError(t, npy.WriteFloat32(f, v, []int{64}))
		require.NoError(t, f.Close())
		feats = append(feats, p)
	}

	code, stdout, stderr := cli("info", model)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "BiLSTM hidden 48")
	assert.Contains(t, stdout, "word vocabulary")

	code, stdout, stderr = cli("embed", "-m", model, "-text", "cat dog", "-tokens", "2 3 4", "-features", feats[0], "-image", feats[1])
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 4, strings.Count(stdout, "\n"))

	cache := filepath.Join(dir, "cache")
	t.Setenv(cacheDirEnv, cache)
	code, stdout, stderr = cli(append([]string{"classify", "-m", model, "-labels", "cat,dog", "-template", "{}"}, feats...)...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 4, strings.Count(stdout, "\n"))
	cached, err := os.ReadDir(cache)
	require.NoError(t, err)
	assert.Len(t, cached, 1, "the label embeddings are cached in the test's own folder")

	pairs := filepath.Join(dir, "pairs.tsv")
	var b strings.Builder
	for i, f := range feats {
		b.WriteString(f + "\t" + []string{"cat", "dog", "cat dog", "w5 w6"}[i] + "\n")
	}
	require.NoError(t, os.WriteFile(pairs, []byte(b.String()), 0o644))
	for _, cmd := range []string{"eval", "gap"} {
		code, stdout, stderr = cli(cmd, "-m", model, pairs)
		require.Equal(t, 0, code, "%s: %s", cmd, stderr)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(stdout), &v), cmd)
	}

	// Bad input: out-of-range token, wrong feature length.
	code, _, stderr = cli("embed", "-m", model, "-tokens", "5 1000")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "outside the vocabulary")
	short := filepath.Join(dir, "short.json")
	require.NoError(t, os.WriteFile(short, []byte("[1,2,3]"), 0o644))
	code, _, stderr = cli("embed", "-m", model, "-features", short)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "3 features, the model takes 64")
}
