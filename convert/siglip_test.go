package convert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// siglipCopy copies the tiny SigLIP fixture folder and lets edit change it.
func siglipCopy(t *testing.T, edit func(dir string)) string {
	t.Helper()
	src := "../testdata/models/siglip-tiny"
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	edit(dir)
	return dir
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
}

func TestSigLIPConvertAndRefusals(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.clip")
	rep, err := Convert("../testdata/models/siglip-tiny", out, Options{Quant: "f16"})
	require.NoError(t, err)
	assert.Equal(t, "siglip", rep.Meta.Architecture)
	assert.Equal(t, "gelu_tanh", rep.Meta.Activation)
	assert.InDelta(t, 10, rep.Meta.LogitScale, 1e-4)
	assert.InDelta(t, -2.5, rep.Meta.LogitBias, 1e-6)
	assert.Equal(t, "sentencepiece", rep.Meta.Tokenizer.Kind)
	assert.Equal(t, "siglip", rep.Meta.Preprocess.Pipeline)

	for _, c := range []struct {
		name string
		edit func(dir string)
		want string
	}{
		{"NaFlex SigLIP 2", func(d string) {
			replaceIn(t, filepath.Join(d, "config.json"), `"model_type": "siglip"`, `"model_type": "siglip2"`)
		}, "NaFlex"},
		{"nearest resize", func(d string) {
			replaceIn(t, filepath.Join(d, "preprocessor_config.json"), `"resample": 3`, `"resample": 0`)
		}, "resample 0"},
		{"other size", func(d string) {
			replaceIn(t, filepath.Join(d, "preprocessor_config.json"), `"height": 32`, `"height": 48`)
		}, "differs from the model's"},
		{"erf GELU", func(d string) { replaceIn(t, filepath.Join(d, "config.json"), `"gelu_pytorch_tanh"`, `"gelu"`) }, "hidden_act \"gelu\""},
		{"no tokenizer", func(d string) {
			require.NoError(t, os.Remove(filepath.Join(d, "spiece.model")))
			require.NoError(t, os.Remove(filepath.Join(d, "tokenizer_config.json")))
		}, "tokenizer"},
		{"wrong layer count", func(d string) {
			replaceIn(t, filepath.Join(d, "config.json"), `"num_hidden_layers": 2`, `"num_hidden_layers": 3`)
		}, "missing tensor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := siglipCopy(t, c.edit)
			_, err := Convert(dir, filepath.Join(t.TempDir(), "x.clip"), Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	// The text tower alone needs no preprocessor; the image tower alone no
	// tokenizer.
	dir := siglipCopy(t, func(d string) {
		require.NoError(t, os.Remove(filepath.Join(d, "spiece.model")))
		require.NoError(t, os.Remove(filepath.Join(d, "tokenizer_config.json")))
	})
	_, err = Convert(dir, filepath.Join(t.TempDir(), "v.clip"), Options{Tower: TowerVision})
	require.NoError(t, err)
}
