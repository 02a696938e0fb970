package sentencepiece

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// golden is testdata/golden.json.gz, written by
// tools/reference/sentencepiece_ref.py with python3-sentencepiece.
type golden struct {
	Version string   `json:"version"`
	Texts   []string `json:"texts"`
	Models  map[string]struct {
		Options map[string]any `json:"options"`
		Size    int            `json:"size"`
		BOS     int            `json:"bos"`
		EOS     int            `json:"eos"`
		PAD     int            `json:"pad"`
		UNK     int            `json:"unk"`
		Texts   []string       `json:"texts"` // own texts (hand-built models)
		IDs     [][]int        `json:"ids"`
	} `json:"models"`
}

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

func loadGolden(t testing.TB) *golden {
	t.Helper()
	var g golden
	require.NoError(t, json.Unmarshal(readGzip(t, filepath.Join("testdata", "golden.json.gz")), &g))
	return &g
}

// modelBytes returns the serialized model NAME exactly as the generator
// fed it to sentencepiece: the stored model, followed by the shared
// charsmap fragment for the models stored without theirs.
func modelBytes(t testing.TB, name string, fragment bool) []byte {
	t.Helper()
	data := readGzip(t, filepath.Join("testdata", "models", name+".model.gz"))
	if fragment {
		data = append(data, readGzip(t, filepath.Join("testdata", "models", "charsmap.pb.gz"))...)
	}
	return data
}

// goldenModelBytes returns the bytes of a golden model: a stored one, or a
// derived one (its base followed by the appended fields).
func goldenModelBytes(t testing.TB, g *golden, name string) []byte {
	t.Helper()
	opts := g.Models[name].Options
	if base, ok := opts["derived_from"].(string); ok {
		extra, err := hex.DecodeString(opts["append_hex"].(string))
		require.NoError(t, err)
		return append(goldenModelBytes(t, g, base), extra...)
	}
	return modelBytes(t, name, opts["charsmap_fragment"] == true)
}

func loadModel(t testing.TB, name string) *Model {
	t.Helper()
	g := loadGolden(t)
	_, ok := g.Models[name]
	require.True(t, ok, name)
	m, err := Parse(goldenModelBytes(t, g, name))
	require.NoError(t, err)
	return m
}

func TestGoldenIDs(t *testing.T) {
	g := loadGolden(t)
	names := make([]string, 0, len(g.Models))
	for name := range g.Models {
		names = append(names, name)
	}
	sort.Strings(names)
	total, pairs, ids := 0, 0, 0
	for _, name := range names {
		gm := g.Models[name]
		t.Run(name, func(t *testing.T) {
			m, err := Parse(goldenModelBytes(t, g, name))
			require.NoError(t, err)
			require.Equal(t, gm.Size, m.Size())
			require.Equal(t, gm.BOS, m.BOS(), "bos")
			require.Equal(t, gm.EOS, m.EOS(), "eos")
			require.Equal(t, gm.PAD, m.PAD(), "pad")
			require.Equal(t, gm.UNK, m.UNK(), "unk")
			texts := g.Texts
			if len(gm.Texts) > 0 {
				texts = gm.Texts
			}
			require.Len(t, gm.IDs, len(texts))
			matched := 0
			for i, text := range texts {
				got := m.Encode(text)
				want := gm.IDs[i]
				if len(want) == 0 {
					want = []int{}
				}
				if len(got) == 0 {
					got = []int{}
				}
				if !equalInts(got, want) {
					t.Errorf("text %d %q:\n got %v\nwant %v\nnormalized %q", i, text, got, want, m.Normalize(text))
					continue
				}
				matched++
				ids += len(want)
			}
			total += matched
			pairs += len(texts)
			t.Logf("%s: %d/%d texts match python3-sentencepiece %s", name, matched, len(texts), g.Version)
		})
	}
	t.Logf("all models: %d/%d (text, model) pairs match, %d ids", total, pairs, ids)
}

func equalInts(a, b []int) bool {
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
