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

// TestExitCodes: 2 and one line for a wrong command line, 1 for a failed
// conversion, as clipinfer does.
func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-no-such-flag", "a", "b"}, 2, "flag provided but not defined: -no-such-flag; run 'convert -h'"},
		{[]string{"-q", "q3", "a", "b"}, 2, "unknown quantisation"},
		{[]string{"-block", "x", "a", "b"}, 2, `invalid value "x" for flag -block`},
		{[]string{"a"}, 2, "want INPUT and OUTPUT"},
		{[]string{"../../README.md", filepath.Join(t.TempDir(), "x")}, 1, "convert: "},
		{[]string{"-h"}, 0, ""},
	} {
		var stdout, stderr, msg bytes.Buffer
		code := exitCode(run(c.args, &stdout, &stderr), &msg)
		assert.Equal(t, c.code, code, c.args)
		assert.Contains(t, msg.String(), c.want, c.args)
		if c.code != 0 {
			assert.Equal(t, 1, strings.Count(msg.String(), "\n"), "%v: %q", c.args, msg.String())
		}
	}
}
