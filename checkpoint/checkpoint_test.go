package checkpoint

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expectedTensor is what tools/reference/checkpoint_ref.py recorded for one
// tensor with PyTorch.
type expectedTensor struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	F32Bits []uint32 `json:"f32_bits"`
	RawHex  string   `json:"raw_hex"`
}

type expectedFixture struct {
	Tensors   map[string]expectedTensor `json:"tensors"`
	Scalars   map[string]float64        `json:"scalars"`
	Format    string                    `json:"format"`
	Metadata  map[string]string         `json:"metadata"`
	MergesTxt string                    `json:"merges_txt"`
}

func loadExpected(t *testing.T) map[string]expectedFixture {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	require.NoError(t, err)
	var exp map[string]expectedFixture
	require.NoError(t, json.Unmarshal(b, &exp))
	return exp
}

// checkTensors compares every tensor of sd with the reference: same names,
// dtype, shape, float32 values bit for bit, and raw bytes.
func checkTensors(t *testing.T, sd *StateDict, exp expectedFixture) {
	t.Helper()
	want := sortedNames(exp.Tensors)
	require.Equal(t, want, sd.Names(), "tensor names")
	for _, name := range want {
		e, got := exp.Tensors[name], sd.Tensors[name]
		assert.Equal(t, name, got.Name)
		assert.Equal(t, e.DType, got.DType.String(), name)
		assert.Equal(t, e.Shape, append([]int{}, got.Shape...), name)
		assert.Equal(t, len(e.F32Bits), got.NumElements(), name)

		f, err := got.Float32()
		require.NoError(t, err, name)
		bits := make([]uint32, len(f))
		for i, v := range f {
			bits[i] = math.Float32bits(v)
		}
		assert.Equal(t, e.F32Bits, bits, "%s: float32 values", name)

		raw, err := got.Raw()
		require.NoError(t, err, name)
		assert.Equal(t, e.RawHex, hex.EncodeToString(raw), "%s: raw bytes", name)
		assert.Equal(t, len(raw), got.NumBytes(), name)
	}
}

func TestOpenMatchesReference(t *testing.T) {
	exp := loadExpected(t)
	tests := []struct {
		file      string
		wantNotes []string // substrings, one note each
	}{
		{file: "torch_basic.pt"},
		{file: "torch_deflated.pt"},
		{file: "torch_bigendian.pt", wantNotes: []string{"big-endian"}},
		{file: "torch_nested.pt", wantNotes: []string{
			`using checkpoint["state_dict"]; other top-level entries not read as weights: epoch, name, optimizer`,
			`stripped the leading "module." from all 3 tensor names`}},
		{file: "torch_model_key.pt", wantNotes: []string{`using checkpoint["model"]`}},
		{file: "torchscript_scripted.pt", wantNotes: []string{"TorchScript archive"}},
		{file: "torchscript_traced.pt", wantNotes: []string{"TorchScript archive"}},
		{file: "basic.safetensors"},
		{file: "sharded/model.safetensors.index.json", wantNotes: []string{"sharded checkpoint: 4 tensors in 2 files"}},
		{file: "hf_tiny/model.safetensors"},
		{file: "hf_tokjson/pytorch_model.bin"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			key := tc.file
			if strings.HasPrefix(key, "hf_") {
				key = filepath.Dir(key)
			}
			e, ok := exp[key]
			require.True(t, ok, "no reference for %s", key)
			sd, err := Open(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			defer func() { require.NoError(t, sd.Close()) }()

			assert.Equal(t, e.Format, sd.Format)
			checkTensors(t, sd, e)
			wantScalars := e.Scalars
			if wantScalars == nil {
				wantScalars = map[string]float64{}
			}
			assert.Equal(t, wantScalars, sd.Scalars)
			if e.Metadata != nil {
				assert.Equal(t, e.Metadata, sd.Metadata)
			}
			for _, n := range tc.wantNotes {
				assert.True(t, containsSubstring(sd.Notes, n), "notes %q lack %q", sd.Notes, n)
			}
		})
	}
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"os.system via torch.save", "testdata/torch_evil.pt", "refusing pickle global posix.system"},
		{"os.system by hand", "testdata/torch_evil_os.pt", "refusing pickle global os.system"},
		{"legacy format", "testdata/torch_legacy.pt", "legacy (pre-1.6, non-zip) torch.save format"},
		{"bare pickle", "testdata/bare.pkl", "bare pickle"},
		{"directory", "testdata/hf_tiny", "use OpenHF"},
		{"missing", "testdata/nope.pt", "no such file"},
		{"empty file", write("empty", nil), "unrecognised checkpoint format"},
		{"text", write("text", []byte("hello world, not a checkpoint")), "unrecognised checkpoint format"},
		{"zip without data.pkl", write("other.zip", zipOf(t, map[string]string{"a/b.txt": "x"})), "no <name>/data.pkl"},
		{"missing storage", write("nostorage.pt", zipOf(t, map[string]string{
			"archive/data.pkl": string(torchPickle("0", 4, 0, "(K\x04tq", "(K\x01tq")),
		})), `archive has no entry archive/data/0`},
		{"storage too short", write("short.pt", zipOf(t, map[string]string{
			"archive/data.pkl": string(torchPickle("0", 4, 0, "(K\x04tq", "(K\x01tq")),
			"archive/data/0":   "12345678",
		})), "4 F32 elements need 16 bytes, the archive holds 8"},
		{"view past storage", write("view.pt", zipOf(t, map[string]string{
			"archive/data.pkl": string(torchPickle("0", 4, 2, "(K\x03tq", "(K\x01tq")),
			"archive/data/0":   strings.Repeat("x", 16),
		})), "reaches element 4 of a 4-element storage"},
		{"stride past storage", write("stride.pt", zipOf(t, map[string]string{
			"archive/data.pkl": string(torchPickle("0", 4, 0, "(K\x02K\x02tq", "(K\x03K\x01tq")),
			"archive/data/0":   strings.Repeat("x", 16),
		})), "reaches element 4 of a 4-element storage"},
		{"torchscript class outside torchscript", write("cls.pt", zipOf(t, map[string]string{
			"archive/data.pkl": "\x80\x02c__torch__\nA\n)\x81.",
		})), "refusing pickle global __torch__.A"},
		{"expanded view too large", write("expand.pt", zipOf(t, map[string]string{
			"archive/data.pkl": string(torchPickle("0", 4, 0, "(J\x00\x00\x00\x10tq", "(K\x00tq")),
			"archive/data/0":   strings.Repeat("x", 16),
		})), "more than the 16777216 allowed"},
		{"bad byteorder", write("bo.pt", zipOf(t, map[string]string{
			"archive/data.pkl": "\x80\x02}.", "archive/byteorder": "middle",
		})), "unknown byteorder"},
		{"no tensors", write("notensor.pt", zipOf(t, map[string]string{
			"archive/data.pkl": "\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.",
		})), "no tensors found"},
		{"safetensors bad header", write("bad.safetensors", append([]byte{5, 0, 0, 0, 0, 0, 0, 0}, "{\"a\":1}"...)), "safetensors header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := Open(tc.path)
			require.Error(t, err)
			assert.Nil(t, sd)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

// torchPickle builds a data.pkl holding {"t": F32 tensor} over storage key with
// numel elements, the given storage offset, and size and stride tuples given
// as pickle opcodes (e.g. "(K\x04tq" = (4,) memoised).
func torchPickle(key string, numel byte, offset byte, size, stride string) []byte {
	s := "\x80\x02}X\x01\x00\x00\x00tctorch._utils\n_rebuild_tensor_v2\n(" +
		"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" + key +
		"X\x03\x00\x00\x00cpuK" + string([]byte{numel}) + "tQ" +
		"K" + string([]byte{offset}) + size + "\x00" + stride + "\x01" +
		"\x89ccollections\nOrderedDict\n)RtRs."
	return []byte(s)
}

func TestTruncatedFilesFailCleanly(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"torch_basic.pt", "basic.safetensors", "torchscript_scripted.pt"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		step := max(1, len(data)/97)
		for n := 0; n < len(data); n += step {
			p := filepath.Join(dir, "cut")
			require.NoError(t, os.WriteFile(p, data[:n], 0o600))
			sd, err := Open(p)
			if err == nil {
				// A cut that leaves the directory intact can still open; reading
				// must then fail or succeed without panicking.
				for _, tn := range sd.Names() {
					_, _ = sd.Tensors[tn].Float32()
				}
				sd.Close()
			}
		}
	}
}

func TestOpenHFSafetensorsVocabMerges(t *testing.T) {
	exp := loadExpected(t)["hf_tiny"]
	m, err := OpenHF("testdata/hf_tiny")
	require.NoError(t, err)
	defer m.Close()

	checkTensors(t, m.Weights, exp)
	c := m.Config
	assert.Equal(t, "clip", c.ModelType)
	assert.Equal(t, []string{"CLIPModel"}, c.Architectures)
	assert.Equal(t, 6, c.ProjectionDim)
	assert.InDelta(t, 2.6592, c.LogitScaleInitValue, 0)
	assert.Equal(t, HFTextConfig{VocabSize: 11, HiddenSize: 8, IntermediateSize: 32, NumHiddenLayers: 1,
		NumAttentionHeads: 2, MaxPositionEmbeddings: 4, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
		ProjectionDim: 6, BOSTokenID: 0, EOSTokenID: 2, PadTokenID: 1}, c.TextConfig)
	assert.Equal(t, HFVisionConfig{HiddenSize: 8, IntermediateSize: 32, NumHiddenLayers: 1, NumAttentionHeads: 2,
		NumChannels: 3, ImageSize: 4, PatchSize: 2, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, ProjectionDim: 6},
		c.VisionConfig)
	assert.Empty(t, c.Defaulted)

	vocab, err := os.ReadFile("testdata/hf_tiny/vocab.json")
	require.NoError(t, err)
	assert.Equal(t, vocab, m.Vocab)
	assert.Equal(t, exp.MergesTxt, string(m.Merges))
	require.NotNil(t, m.Tokenizer)
	assert.Equal(t, 10, m.Tokenizer.Vocab["<|endoftext|>"])
	assert.Equal(t, [][2]string{{"a", "b"}, {"c", "d"}, {"ab", "cd"}, {"a", "b</w>"}}, m.Tokenizer.Merges)

	require.NotNil(t, m.Preprocessor)
	p := m.Preprocessor
	assert.Equal(t, HFImageSize{ShortestEdge: 4}, p.Size)
	assert.Equal(t, HFImageSize{Height: 4, Width: 4}, p.CropSize)
	assert.Equal(t, []float64{0.48145466, 0.4578275, 0.40821073}, p.ImageMean)
	assert.Equal(t, []float64{0.26862954, 0.26130258, 0.27577711}, p.ImageStd)
	assert.True(t, p.DoResize && p.DoCenterCrop && p.DoNormalize && p.DoRescale && p.DoConvertRGB)
	assert.Equal(t, 3, p.Resample)
	assert.InDelta(t, 1.0/255, p.RescaleFactor, 0)
	assert.True(t, containsSubstring(m.Notes, "weights from model.safetensors"), "%q", m.Notes)
	assert.True(t, containsSubstring(m.Notes, "vocab.json + merges.txt"), "%q", m.Notes)
}

func TestOpenHFTorchBinTokenizerJSON(t *testing.T) {
	exp := loadExpected(t)["hf_tokjson"]
	m, err := OpenHF("testdata/hf_tokjson")
	require.NoError(t, err)
	defer m.Close()

	checkTensors(t, m.Weights, exp)
	c := m.Config
	assert.Equal(t, "gelu", c.VisionConfig.HiddenAct)
	assert.InDelta(t, 1e-6, c.VisionConfig.LayerNormEps, 0)
	// Absent from text_config: transformers' defaults.
	assert.Equal(t, "quick_gelu", c.TextConfig.HiddenAct)
	assert.Equal(t, 49407, c.TextConfig.EOSTokenID)
	assert.Equal(t, 49406, c.TextConfig.BOSTokenID)
	assert.Equal(t, 3, c.VisionConfig.NumChannels)
	assert.InDelta(t, 2.6592, c.LogitScaleInitValue, 0)
	assert.Equal(t, []string{"logit_scale_init_value",
		"text_config.hidden_act", "text_config.layer_norm_eps", "text_config.bos_token_id",
		"text_config.eos_token_id", "text_config.pad_token_id", "vision_config.num_channels"}, c.Defaulted)

	assert.Equal(t, exp.MergesTxt, string(m.Merges))
	var vocab map[string]int
	require.NoError(t, json.Unmarshal(m.Vocab, &vocab))
	assert.Equal(t, m.Tokenizer.Vocab, vocab)
	assert.Equal(t, 9, vocab["<|startoftext|>"])

	p := m.Preprocessor
	require.NotNil(t, p)
	assert.Equal(t, HFImageSize{ShortestEdge: 4}, p.Size)
	assert.Equal(t, HFImageSize{Height: 4, Width: 4}, p.CropSize)
	assert.Equal(t, []float64{0.5, 0.5, 0.5}, p.ImageMean)
	assert.True(t, containsSubstring(m.Notes, "tokenizer from tokenizer.json"), "%q", m.Notes)
}

func TestOpenHFErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenHF(dir)
	assert.ErrorContains(t, err, "config.json")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"clip"}`), 0o600))
	_, err = OpenHF(dir)
	assert.ErrorContains(t, err, "no weights")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"text_config": 5}`), 0o600))
	_, err = OpenHF(dir)
	assert.ErrorContains(t, err, "text_config")
}

func TestOpenHFWithoutTokenizer(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata/hf_tiny", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	m, err := OpenHF(dir)
	require.NoError(t, err)
	defer m.Close()
	assert.Nil(t, m.Tokenizer)
	assert.Nil(t, m.Vocab)
	assert.Nil(t, m.Preprocessor)
	assert.True(t, containsSubstring(m.Notes, "default CLIP BPE"), "%q", m.Notes)
}

func TestParseTokenizerJSONMergeForms(t *testing.T) {
	tests := []struct {
		name, merges string
		want         string
		wantErr      string
	}{
		{"strings", `["a b", "ab c</w>"]`, "#version: 0.2\na b\nab c</w>\n", ""},
		{"pairs", `[["a", "b"], ["ab", "c</w>"]]`, "#version: 0.2\na b\nab c</w>\n", ""},
		{"empty", `[]`, "#version: 0.2\n", ""},
		{"three in a string", `["a b c"]`, "", "not two symbols"},
		{"one in a string", `["ab"]`, "", "not two symbols"},
		{"pair with a space", `[["a b", "c"]]`, "", "cannot be written"},
		{"triple", `[["a", "b", "c"]]`, "", "want"},
		{"number", `[5]`, "", "want"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ` + tc.merges + `}}`
			tok, vocab, merges, err := ParseTokenizerJSON([]byte(doc))
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(merges))
			assert.JSONEq(t, `{"a": 0, "b": 1}`, string(vocab))
			assert.Equal(t, map[string]int{"a": 0, "b": 1}, tok.Vocab)
			// The text form parses back to the same merges.
			back, err := ParseVocabMerges(vocab, merges)
			require.NoError(t, err)
			assert.Equal(t, tok.Merges, back.Merges)
		})
	}
	_, _, _, err := ParseTokenizerJSON([]byte(`{"model": {"type": "WordPiece", "vocab": {}}}`))
	assert.ErrorContains(t, err, "want BPE")
}

func TestParseHFPreprocessorSizes(t *testing.T) {
	tests := []struct {
		json      string
		size      HFImageSize
		crop      HFImageSize
		wantError string
	}{
		{`{"size": 224, "crop_size": 224}`, HFImageSize{ShortestEdge: 224}, HFImageSize{Height: 224, Width: 224}, ""},
		{`{"size": {"shortest_edge": 336}, "crop_size": {"height": 336, "width": 300}}`,
			HFImageSize{ShortestEdge: 336}, HFImageSize{Height: 336, Width: 300}, ""},
		{`{"size": {"height": 256, "width": 256}}`, HFImageSize{Height: 256, Width: 256}, HFImageSize{Height: 224, Width: 224}, ""},
		{`{}`, HFImageSize{ShortestEdge: 224}, HFImageSize{Height: 224, Width: 224}, ""},
		{`{"size": "big"}`, HFImageSize{}, HFImageSize{}, "size must be"},
		{`{"image_std": [0, 1, 1]}`, HFImageSize{}, HFImageSize{}, "zero"},
		{`{"image_mean": [0.5], "image_std": [0.5, 0.5]}`, HFImageSize{}, HFImageSize{}, "image_mean has 1"},
		{`{"size": -3}`, HFImageSize{}, HFImageSize{}, "negative"},
	}
	for _, tc := range tests {
		p, err := ParseHFPreprocessor([]byte(tc.json))
		if tc.wantError != "" {
			assert.ErrorContains(t, err, tc.wantError, tc.json)
			continue
		}
		require.NoError(t, err, tc.json)
		assert.Equal(t, tc.size, p.Size, tc.json)
		assert.Equal(t, tc.crop, p.CropSize, tc.json)
	}
}

func TestParseHFConfigOverrides(t *testing.T) {
	// Top-level hidden_act reaches both towers; text_config_dict overrides text_config.
	cfg, err := ParseHFConfig([]byte(`{"hidden_act": "gelu", "projection_dim": 768,
		"text_config": {"hidden_size": 512, "eos_token_id": 2},
		"text_config_dict": {"hidden_size": 768},
		"vision_config": {"hidden_act": "quick_gelu", "projection_dim": 512}}`))
	require.NoError(t, err)
	assert.Equal(t, "gelu", cfg.TextConfig.HiddenAct)
	assert.Equal(t, "quick_gelu", cfg.VisionConfig.HiddenAct)
	assert.Equal(t, 768, cfg.TextConfig.HiddenSize)
	assert.Equal(t, 2, cfg.TextConfig.EOSTokenID)
	assert.Equal(t, 768, cfg.TextConfig.ProjectionDim)
	assert.Equal(t, 512, cfg.VisionConfig.ProjectionDim)
	assert.NotContains(t, cfg.Defaulted, "text_config.hidden_act")
	assert.Contains(t, cfg.Defaulted, "text_config.vocab_size")
}

func TestSharedStorageTensorsAreIndependentViews(t *testing.T) {
	sd, err := Open("testdata/torch_basic.pt")
	require.NoError(t, err)
	defer sd.Close()
	a, b := sd.Tensors["sliced"], sd.Tensors["strided"]
	assert.Equal(t, a.data, b.data, "sliced and strided share one storage")
	assert.False(t, sd.Tensors["transposed"].contiguous())
	assert.True(t, a.contiguous())
	assert.Equal(t, int64(5), a.offset)
}

func TestNamesSorted(t *testing.T) {
	sd, err := Open("testdata/basic.safetensors")
	require.NoError(t, err)
	defer sd.Close()
	names := sd.Names()
	assert.True(t, sort.StringsAreSorted(names))
	assert.Len(t, names, len(sd.Tensors))
	require.NoError(t, sd.Close())
	_, err = sd.Tensors["f32"].Float32()
	assert.Error(t, err, "reading after Close must fail, not crash")
}
