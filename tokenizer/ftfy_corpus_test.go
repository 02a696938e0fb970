package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodeMatchesOpenAIOnFtfyCorpora compares Encode with OpenAI's
// SimpleTokenizer running the real ftfy (tools/reference/ftfy_ref.py) on
// the corpora of tokenizer/ftfy: mojibake of real multilingual text, C1
// controls, HTML references, terminal escapes and ftfy's own test cases.
func TestEncodeMatchesOpenAIOnFtfyCorpora(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("ftfy", "testdata", "fixtures.json.gz"))
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	var fx struct {
		// Rows are [text, ftfy.fix_text(text), SimpleTokenizer.encode(text)].
		Groups map[string][][3]json.RawMessage `json:"groups"`
	}
	require.NoError(t, json.NewDecoder(zr).Decode(&fx))
	require.NotEmpty(t, fx.Groups)
	tok := Default()
	step := 1
	if testing.Short() {
		step = 8 // every eighth string on the emulated ARM runs
	}
	total, diffs := 0, 0
	for name, rows := range fx.Groups {
		for k := 0; k < len(rows); k += step {
			row := rows[k]
			var text string
			var want []int32
			require.NoError(t, json.Unmarshal(row[0], &text))
			require.NoError(t, json.Unmarshal(row[2], &want))
			if want == nil {
				want = []int32{}
			}
			total++
			got := tok.Encode(text)
			if got == nil {
				got = []int32{}
			}
			if !assert.ObjectsAreEqual(want, got) {
				diffs++
				if diffs <= 10 {
					t.Errorf("%s: Encode(%+q)\n got %v\nwant %v", name, text, got, want)
				}
			}
		}
	}
	assert.Zero(t, diffs, "of %d strings", total)
}
