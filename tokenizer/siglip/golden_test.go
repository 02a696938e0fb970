package siglip

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/tokenizer/sentencepiece"
)

// spTestdata holds the SentencePiece models both packages test with.
var spTestdata = filepath.Join("..", "sentencepiece", "testdata")

func readGzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	return data
}

// modelBytes returns a test model as tools/reference/sentencepiece_ref.py
// fed it to sentencepiece (see tokenizer/sentencepiece's tests).
func modelBytes(t testing.TB, name string) []byte {
	t.Helper()
	var g struct {
		Models map[string]struct {
			Options map[string]any `json:"options"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(readGzip(t, filepath.Join(spTestdata, "golden.json.gz")), &g))
	data := readGzip(t, filepath.Join(spTestdata, "models", name+".model.gz"))
	if g.Models[name].Options["charsmap_fragment"] == true {
		data = append(data, readGzip(t, filepath.Join(spTestdata, "models", "charsmap.pb.gz"))...)
	}
	return data
}

func loadModel(t testing.TB, name string) *sentencepiece.Model {
	t.Helper()
	m, err := sentencepiece.Parse(modelBytes(t, name))
	require.NoError(t, err)
	return m
}

// TestGoldenIDs compares Encode with tools/reference/siglip_tokenizer_ref.py,
// the transcription of transformers' SiglipTokenizer and Gemma tokenizer
// over python3-sentencepiece.
func TestGoldenIDs(t *testing.T) {
	var g struct {
		Texts []string `json:"texts"`
		Cases map[string]struct {
			Model  string          `json:"model"`
			Config json.RawMessage `json:"config"`
			IDs    [][]int32       `json:"ids"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(readGzip(t, filepath.Join("testdata", "golden.json.gz")), &g))
	names := make([]string, 0, len(g.Cases))
	for n := range g.Cases {
		names = append(names, n)
	}
	sort.Strings(names)
	total := 0
	for _, name := range names {
		c := g.Cases[name]
		t.Run(name, func(t *testing.T) {
			var cfg Config
			require.NoError(t, json.Unmarshal(c.Config, &cfg))
			tok, err := New(loadModel(t, c.Model), cfg)
			require.NoError(t, err)
			require.Len(t, c.IDs, len(g.Texts))
			matched := 0
			for i, text := range g.Texts {
				got := tok.Encode(text)
				if !equalIDs(got, c.IDs[i]) {
					t.Errorf("text %d %q:\n got %v\nwant %v", i, text, got, c.IDs[i])
					continue
				}
				matched++
			}
			total += matched
			t.Logf("%s: %d/%d texts match", name, matched, len(g.Texts))
		})
	}
	t.Logf("all cases: %d/%d match", total, len(g.Texts)*len(names))
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
