package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/npy"
)

var (
	modelOnce sync.Once
	modelPath string
	modelErr  error
)

// testModel converts the small random fixture once per test binary.
func testModel(t *testing.T) string {
	t.Helper()
	modelOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clipinfer-cli-test-")
		if err != nil {
			modelErr = err
			return
		}
		modelPath = filepath.Join(dir, "model.clip")
		_, modelErr = convert.Convert("../../testdata/models/openai-qgelu.pt", modelPath, convert.Options{})
	})
	require.NoError(t, modelErr)
	return modelPath
}

// TestMain points every cache (XDG_CACHE_HOME, HOME, the label cache) at a
// temporary folder, so the tests never write into the user's home.
func TestMain(m *testing.M) {
	if os.Getenv(asCommandEnv) == "1" {
		main() // the test binary started as a clipinfer process (see startProcess)
	}
	home, err := os.MkdirTemp("", "clipinfer-cli-home-")
	if err != nil {
		panic(err)
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	os.Unsetenv(cacheDirEnv)
	os.Unsetenv(mirrorEnv)
	code := m.Run()
	stopTestDB()
	if modelPath != "" {
		os.RemoveAll(filepath.Dir(modelPath))
	}
	os.RemoveAll(home)
	os.Exit(code)
}

// cli runs one command line in-process.
func cli(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &env{stdout: &out, stderr: &errb, stdin: strings.NewReader("")})
	return code, out.String(), errb.String()
}

const testImage = "../../testdata/images/gradient-64x48.png"

func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		code, _, stderr := cli(name, "-h")
		assert.Equal(t, 0, code, name)
		assert.Contains(t, stderr, "usage: clipinfer "+name, name)
	}
	code, stdout, _ := cli("help")
	assert.Equal(t, 0, code)
	for name := range commands {
		assert.Contains(t, stdout, name)
	}
}

func TestUnknownCommandAndBadFlags(t *testing.T) {
	code, _, stderr := cli("frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "unknown command")
	code, _, stderr = cli("embed", "-no-such-flag")
	assert.Equal(t, 2, code)
	assert.Equal(t, "clipinfer embed: flag provided but not defined: -no-such-flag; run 'clipinfer embed -h'\n", stderr)
}

// TestUsageErrorsAreOneLine: a missing or invalid flag or argument is one
// line on stderr naming it, and exit status 2.
func TestUsageErrorsAreOneLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"index", "-m", "M", "photos/"}, "missing -o"},
		{[]string{"index", "-o", "x.idx", "photos/"}, "missing -m"},
		{[]string{"index", "-m", "M", "-o", "x.idx"}, "missing PATH argument"},
		{[]string{"search", "-m", "M", "cat"}, "missing -index"},
		{[]string{"search", "-m", "M", "-index", "x.idx"}, "nothing to search for"},
		{[]string{"preprocess", "-m", "M", "x.png"}, "missing -o"},
		{[]string{"preprocess", "-m", "M", "-o", "x.npy"}, "missing IMAGE argument"},
		{[]string{"classify", "-m", "M", "x.png"}, "exactly one of -labels"},
		{[]string{"classify", "-m", "M", "-labels", "a,b", "-k", "0", "x.png"}, "-k must be at least 1"},
		{[]string{"classify", "-m", "M", "-labels", "a,b", "-k", "two", "x.png"}, `invalid value "two" for flag -k`},
		{[]string{"embed", "-m", "M"}, "nothing to embed"},
		{[]string{"embed", "-text", "a"}, "missing -m"},
		{[]string{"embed", "-m", "M", "-text", "a", "stray"}, `unexpected argument "stray"`},
		{[]string{"embed", "-m", "M", "-text", "a", "-kernel", "z80"}, `unknown -kernel "z80"`},
		{[]string{"eval", "-m", "M"}, "missing PAIRS argument"},
		{[]string{"bench"}, "missing -m"},
		{[]string{"serve"}, "missing -m"},
		{[]string{"tokenize"}, "missing TEXT argument"},
		{[]string{"tokenize", "-threads", "2", "a"}, "flag provided but not defined: -threads"},
		{[]string{"version", "extra"}, "unexpected argument"},
		{[]string{"index", "export"}, "missing INDEX argument"},
	} {
		code, stdout, stderr := cli(c.args...)
		assert.Equal(t, 2, code, c.args)
		assert.Empty(t, stdout, c.args)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "%v: one line, got %q", c.args, stderr)
		assert.Contains(t, stderr, c.want, c.args)
		assert.True(t, strings.HasPrefix(stderr, "clipinfer "+c.args[0]+": "), stderr)
		assert.Contains(t, stderr, "run 'clipinfer "+c.args[0]+" -h'", c.args)
	}
}

// TestHelpListsOnlyFlagsThatApply: model flags appear in the -h of the
// commands that use them and nowhere else.
func TestHelpListsOnlyFlagsThatApply(t *testing.T) {
	for name, want := range map[string]struct{ has, hasNot []string }{
		"tokenize":   {[]string{"-m"}, []string{"-kernel", "-threads", "-max-pixels"}},
		"preprocess": {[]string{"-m", "-max-pixels"}, []string{"-kernel", "-threads"}},
		"bench":      {[]string{"-m", "-kernel", "-threads"}, []string{"-max-pixels"}},
		"info":       {[]string{"-kernel", "-verify"}, []string{"-max-pixels"}},
		"embed":      {[]string{"-m", "-kernel", "-threads", "-max-pixels"}, nil},
		"version":    {nil, []string{"-m", "-kernel"}},
	} {
		code, _, stderr := cli(name, "-h")
		require.Equal(t, 0, code, name)
		for _, f := range want.has {
			assert.True(t, helpLists(stderr, f), "%s -h lists %s", name, f)
		}
		for _, f := range want.hasNot {
			assert.False(t, helpLists(stderr, f), "%s -h does not list %s", name, f)
		}
	}
}

// TestModelErrorsSayWhatToDo: the usual mistakes with -m get a message that
// names the remedy.
func TestModelErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := cli("embed", "-m", filepath.Join(dir, "nope.clip"), "-text", "a")
	assert.Equal(t, 1, code)
	assert.Equal(t, "clipinfer embed: model "+filepath.Join(dir, "nope.clip")+": no such file or directory\n", stderr)
	code, _, stderr = cli("embed", "-m", "../../testdata/models/openai-qgelu.pt", "-text", "a")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "is a PyTorch checkpoint")
	assert.Contains(t, stderr, "convert it first")
	code, _, stderr = cli("info", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "is a folder")
	other := map[string]string{"amd64": "neon", "arm64": "avx2"}[runtime.GOARCH]
	if other != "" {
		code, _, stderr = cli("embed", "-m", testModel(t), "-kernel", other, "-text", "a")
		assert.Equal(t, 2, code)
		assert.Contains(t, stderr, "-kernel "+other+" is for ")
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := cli("version")
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{"clipinfer ", "revision:", "go:        go1.", "kernel:"} {
		assert.Contains(t, stdout, want)
	}
}

func TestTokenize(t *testing.T) {
	code, stdout, _ := cli("tokenize", "a photo of a cat", "")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 2)
	var ids []int32
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &ids))
	assert.Len(t, ids, 77)
	assert.Equal(t, []int32{49406, 320, 1125, 539, 320, 2368, 49407, 0}, ids[:8])
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &ids))
	assert.Equal(t, []int32{49406, 49407, 0}, ids[:3], "empty text is SOT, EOT")

	// 10,000 characters: truncated to 77 with EOT last, quickly.
	code, stdout, _ = cli("tokenize", "-m", testModel(t), strings.Repeat("lorem ipsum ", 834))
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal([]byte(stdout), &ids))
	assert.Len(t, ids, 77)
	assert.Equal(t, int32(49407), ids[76])
}

func TestEmbedJSONLines(t *testing.T) {
	m := testModel(t)
	code, stdout, stderr := cli("embed", "-m", m, "-text", "a cat", "-image", testImage, "-text", "")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 3)
	var rows []embedded
	for _, l := range lines {
		var r embedded
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		rows = append(rows, r)
		var n float64
		for _, v := range r.Embedding {
			n += float64(v) * float64(v)
		}
		assert.InDelta(t, 1, n, 1e-5, "embeddings are unit vectors")
	}
	assert.Equal(t, []string{"text", "image", "text"}, []string{rows[0].Type, rows[1].Type, rows[2].Type}, "order of the command line")
	assert.Equal(t, testImage, rows[1].Input)
}

func TestEmbedNpyWithSidecar(t *testing.T) {
	m := testModel(t)
	out := filepath.Join(t.TempDir(), "e.npy")
	code, _, stderr := cli("embed", "-m", m, "-format", "npy", "-o", out, "-text", "a", "-text", "b", "-tokens", "49406 320 49407")
	require.Equal(t, 0, code, stderr)
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	_, shape, err := npy.ReadFloat32(f)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 64}, shape)
	side, err := os.ReadFile(filepath.Join(filepath.Dir(out), "e.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(side), "\n"))
}

func TestPreprocess(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.npy")
	code, _, stderr := cli("preprocess", "-m", testModel(t), "-o", out, testImage)
	require.Equal(t, 0, code, stderr)
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	_, shape, err := npy.ReadFloat32(f)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 32, 32}, shape)
}

func TestInfo(t *testing.T) {
	code, stdout, _ := cli("info", testModel(t))
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "kernel:")
	assert.Contains(t, stdout, "ViT 32 px, patch 8")
	code, stdout, _ = cli("info", "-json", testModel(t))
	require.Equal(t, 0, code)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	assert.NotEmpty(t, v["kernel"])
	code, stdout, _ = cli("info")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "generic")
}

func TestBench(t *testing.T) {
	code, stdout, stderr := cli("bench", "-m", testModel(t), "-runs", "2", "-warmup", "0", "-tokens", "7", "-startup")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 3)
	var r benchResult
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &r))
	assert.Equal(t, "image", r.Tower)
	assert.Greater(t, r.MedianMS, 0.0)
}

// hostileFiles writes model files a user might feed by mistake or malice.
func hostileFiles(t *testing.T) map[string]string {
	t.Helper()
	good, err := os.ReadFile(testModel(t))
	require.NoError(t, err)
	dir := t.TempDir()
	files := map[string][]byte{
		"empty":          {},
		"wrong magic":    append([]byte("NOTACLIP"), good[8:]...),
		"truncated":      good[:len(good)/2],
		"header only":    good[:64],
		"flipped header": flip(good, 20),
		"a png":          mustRead(t, testImage),
		"huge offsets":   hugeOffsets(good),
	}
	out := map[string]string{}
	for name, b := range files {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".clip")
		require.NoError(t, os.WriteFile(p, b, 0o644))
		out[name] = p
	}
	out["missing"] = filepath.Join(dir, "does-not-exist.clip")
	out["a directory"] = dir
	return out
}

func flip(b []byte, at int) []byte {
	c := bytes.Clone(b)
	c[at] ^= 0xff
	return c
}

// hugeOffsets sets the metadata offset and size to absurd values and fixes
// the header checksum, so only the range checks can catch it.
func hugeOffsets(b []byte) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint64(c[24:], 1<<62)
	binary.LittleEndian.PutUint64(c[32:], 1<<62)
	binary.LittleEndian.PutUint32(c[60:], crc32.Checksum(c[:60], crc32.MakeTable(crc32.Castagnoli)))
	return c
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func TestHostileModelFilesGiveOneLineErrors(t *testing.T) {
	for name, p := range hostileFiles(t) {
		for _, args := range [][]string{{"info", p}, {"embed", "-m", p, "-text", "x"}} {
			code, stdout, stderr := cli(args...)
			assert.Equal(t, 1, code, "%s %v", name, args)
			assert.Empty(t, stdout, name)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "%s: one line, got %q", name, stderr)
			assert.True(t, strings.HasPrefix(stderr, "clipinfer "+args[0]+": "), "%s: %q", name, stderr)
		}
	}
}

func TestHostileImagesGiveOneLineErrors(t *testing.T) {
	m := testModel(t)
	dir := t.TempDir()
	png := mustRead(t, testImage)
	bomb := bytes.Clone(png[:33]) // signature + IHDR claiming 100000×100000
	binary.BigEndian.PutUint32(bomb[16:], 100000)
	binary.BigEndian.PutUint32(bomb[20:], 100000)
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29]))
	cases := map[string][]byte{
		"truncated.png": png[:len(png)/2],
		"garbage.jpg":   []byte("this is not an image"),
		"empty.png":     {},
		"bomb.png":      bomb,
	}
	for name, b := range cases {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		code, _, stderr := cli("embed", "-m", m, "-image", p)
		assert.Equal(t, 1, code, name)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "%s: %q", name, stderr)
		assert.Contains(t, stderr, name, "the error names the file")
	}
	code, _, stderr := cli("embed", "-m", m, "-max-pixels", "100", "-image", testImage)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "pixels")
}

func TestOutputIsAtomic(t *testing.T) {
	m := testModel(t)
	out := filepath.Join(t.TempDir(), "keep.jsonl")
	require.NoError(t, os.WriteFile(out, []byte("precious\n"), 0o644))
	code, _, _ := cli("embed", "-m", m, "-o", out, "-image", "/does/not/exist.png")
	assert.Equal(t, 1, code)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "precious\n", string(b), "a failed run leaves the old file untouched")
	entries, _ := os.ReadDir(filepath.Dir(out))
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestSearchContactSheetAndClassifyTable(t *testing.T) {
	m := testModel(t)
	dir := t.TempDir()
	idx := filepath.Join(dir, "t.idx")
	code, _, stderr := cli("index", "-m", m, "-o", idx, "../../testdata/images")
	require.Equal(t, 0, code, stderr)
	sheet := filepath.Join(dir, "sheet.png")
	code, _, stderr = cli("search", "-m", m, "-index", idx, "-k", "3", "-sheet", sheet, "a cat", "a diagram")
	require.Equal(t, 0, code, stderr)
	f, err := os.Open(sheet)
	require.NoError(t, err)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	require.NoError(t, err)
	assert.Equal(t, 10+3*(112+10), cfg.Width, "three thumbnails per row")
	assert.Equal(t, 10+2*(15+112+30+10), cfg.Height, "one row per query")

	code, stdout, stderr := cli("classify", "-m", m, "-labels", "cat,dog", "-table", "-k", "2", "-no-cache", testImage)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, testImage+"\n")
	assert.Equal(t, 3, strings.Count(stdout, "\n"))
}

// TestUsageLinesNameRealFlags: every flag a usage line shows exists.
func TestUsageLinesNameRealFlags(t *testing.T) {
	flagRe := regexp.MustCompile(`(?:^|[\s\[(|])(-[a-z][a-z0-9-]*)`)
	for name, c := range commands {
		code, _, stderr := cli(name, "-h")
		require.Equal(t, 0, code, name)
		for _, m := range flagRe.FindAllStringSubmatch(c.usage, -1) {
			f := m[1]
			if strings.Contains(c.usage, "clipinfer "+name+" export") && f == "-o" {
				continue // index export's own -o
			}
			assert.True(t, helpLists(stderr, f), "%s: usage shows %s, which -h does not list", name, f)
		}
	}
}

// helpLists reports whether -h output lists flag f ("-name"): flag's
// PrintDefaults puts a space, a newline or (one-letter booleans) a tab
// after the name.
func helpLists(help, f string) bool {
	for _, end := range []string{" ", "\n", "\t"} {
		if strings.Contains(help, "\n  "+f+end) {
			return true
		}
	}
	return false
}
