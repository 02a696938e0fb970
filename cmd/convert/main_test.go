package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConvertPrintsWhatItFound(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.clip")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"../../testdata/models/openai-qgelu.pt", out}, &stdout, &stderr))
	s := stdout.String()
	for _, want := range []string{"family openai", "ViT 32 px, patch 8, width 128, 2 layers, 2 heads", "context 77, vocab 49408",
		"quick_gelu", "text.token_embed", "rel.err", "of f32"} {
		assert.Contains(t, s, want)
	}
	_, err := os.Stat(out)
	assert.NoError(t, err)
}

func TestConvertErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"only-one-arg"}, &stdout, &stderr)
	assert.ErrorContains(t, err, "want INPUT and OUTPUT")
	err = run([]string{"-q", "q3", "../../testdata/models/openai-qgelu.pt", filepath.Join(t.TempDir(), "x")}, &stdout, &stderr)
	assert.ErrorContains(t, err, "unknown quantisation")
	err = run([]string{"../../README.md", filepath.Join(t.TempDir(), "x")}, &stdout, &stderr)
	require.Error(t, err)
	assert.False(t, strings.Contains(err.Error(), "\n"), "one line: %q", err)
	assert.NoError(t, run([]string{"-h"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "usage: convert")
}
