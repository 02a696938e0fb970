package index

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/internal/randclip"
)

// tinyModels converts random tiny CLIPs: seed 1 twice (different names and
// provenance), seed 2, and seed 1 with f16 weights.
func tinyModels(t *testing.T) (a, aCopy, b, aF16 string) {
	t.Helper()
	dir := t.TempDir()
	src1, src2 := filepath.Join(dir, "one.safetensors"), filepath.Join(dir, "two.safetensors")
	require.NoError(t, randclip.WriteSafetensors(src1, randclip.Tiny, 1))
	require.NoError(t, randclip.WriteSafetensors(src2, randclip.Tiny, 2))
	src1b := filepath.Join(dir, "renamed.safetensors")
	b1, err := os.ReadFile(src1)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(src1b, b1, 0o644))
	conv := func(src, name, q string) string {
		out := filepath.Join(dir, name)
		_, err := convert.Convert(src, out, convert.Options{Quant: q})
		require.NoError(t, err)
		return out
	}
	return conv(src1, "a.clip", "q8"), conv(src1b, "a-copy.clip", "q8"), conv(src2, "b.clip", "q8"), conv(src1, "a16.clip", "f16")
}

func TestFingerprint(t *testing.T) {
	a, aCopy, b, aF16 := tinyModels(t)
	fa, err := Fingerprint(a)
	require.NoError(t, err)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, fa)
	fa2, err := Fingerprint(aCopy)
	require.NoError(t, err)
	assert.Equal(t, fa, fa2, "same weights converted from a differently named source")
	fb, err := Fingerprint(b)
	require.NoError(t, err)
	assert.NotEqual(t, fa, fb)
	f16, err := Fingerprint(aF16)
	require.NoError(t, err)
	assert.NotEqual(t, fa, f16, "different storage computes different embeddings")

	x, err := New(ModelInfo{Fingerprint: fa, Dim: randclip.Tiny.Embed}, Int8)
	require.NoError(t, err)
	assert.NoError(t, x.CheckModel(fa2))
	assert.ErrorIs(t, x.CheckModel(fb), ErrModelMismatch)

	_, err = Fingerprint(filepath.Join(t.TempDir(), "missing.clip"))
	assert.Error(t, err)
}
