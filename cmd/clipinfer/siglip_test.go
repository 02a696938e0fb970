package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
)

// TestSigLIPCommands: a converted SigLIP folder works through info,
// classify (independent sigmoid probabilities, labelled so) and bench
// (the text tower always runs its whole padded context).
func TestSigLIPCommands(t *testing.T) {
	model := filepath.Join(t.TempDir(), "siglip.clip")
	_, err := convert.Convert("../../testdata/models/siglip-tiny", model, convert.Options{})
	require.NoError(t, err)
	img := "../../testdata/images/noise-33x40.png"

	code, stdout, stderr := cli("info", model)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "attention-pooling head")
	assert.Contains(t, stdout, "sigmoid per label")

	code, stdout, stderr = cli("classify", "-m", model, "-labels", "cat,dog,snow", "-k", "3", "-no-cache", img)
	require.Equal(t, 0, code, stderr)
	var c classified
	require.NoError(t, json.Unmarshal([]byte(stdout), &c))
	assert.Equal(t, "sigmoid", c.Scoring)
	require.Len(t, c.Labels, 3)
	var sum float32
	for _, l := range c.Labels {
		assert.True(t, l.Probability > 0 && l.Probability < 1, "%+v", l)
		sum += l.Probability
	}
	assert.Greater(t, math.Abs(float64(sum)-1), 1e-3, "sigmoid probabilities are not a distribution over labels")

	code, stdout, stderr = cli("classify", "-m", model, "-labels", "cat,dog", "-table", "-no-cache", img)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "independent sigmoid per label")

	code, stdout, stderr = cli("bench", "-m", model, "-runs", "1", "-tokens", "7", "-threads-list", "1", "-kernel", "generic")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 2)
	var text benchResult
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &text))
	assert.Equal(t, "text", text.Tower)
	assert.Equal(t, 64, text.Positions)
}
