package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoRawControlCharactersReachTheTerminal names files with a colour
// escape, an OSC title sequence and a bidi override, and checks that the
// human-readable outputs (tables, warnings, errors) print them escaped
// while the JSON output keeps the exact name.
func TestNoRawControlCharactersReachTheTerminal(t *testing.T) {
	dir := t.TempDir()
	model := rtModel(t, dir, 1)
	photos := filepath.Join(dir, "photos")
	paths := rtImages(t, photos, 3, 1)
	hostile := filepath.Join(photos, "red\x1b[31m\x1b]0;pwned\x07\u202egnp.png")
	require.NoError(t, os.Rename(paths[0], hostile))
	broken := filepath.Join(photos, "bad\x1b[2J.jpg")
	require.NoError(t, os.WriteFile(broken, []byte("not a jpeg"), 0o644))
	t.Setenv(cacheDirEnv, filepath.Join(dir, "cache"))
	idx := filepath.Join(dir, "p.idx")

	raw := func(t *testing.T, s string) {
		t.Helper()
		assert.NotContains(t, s, "\x1b")
		assert.NotContains(t, s, "\x07")
		assert.NotContains(t, s, "\u202e")
	}
	code, out, errOut := rtRun("index", "-m", model, "-o", idx, photos)
	assert.Equal(t, exitSomeFailed, code)
	raw(t, errOut)
	assert.Contains(t, errOut, `bad\x1b[2J.jpg`)

	code, out, errOut = rtRun("search", "-m", model, "-index", idx, "-k", "3", "-table", "a \x1b[31mred\x1b[0m square")
	require.Equal(t, 0, code, errOut)
	raw(t, out)
	assert.Contains(t, out, `red\x1b[31m\x1b]0;pwned\x07\u202egnp.png`)
	code, out, errOut = rtRun("search", "-m", model, "-index", idx, "-k", "3", "red square")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "\x1b")
	assert.Contains(t, out, `red\u001b[31m\u001b]0;pwned\u0007`, "JSON keeps the exact name, in JSON escapes")

	code, out, errOut = rtRun("classify", "-m", model, "-labels", "cat,\x1b[5mdog", "-table", hostile, broken)
	raw(t, out)
	raw(t, errOut)
	assert.True(t, strings.Contains(out, `\x1b[5mdog`), out)
	_ = code

	code, _, errOut = rtRun("search", "-m", model, "-index", filepath.Join(dir, "no\x1b[31mne.idx"), "q")
	assert.Equal(t, 1, code)
	raw(t, errOut)
}
