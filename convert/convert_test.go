package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/internal/randclip"
)

const testdata = "../testdata/models"

// writeST writes a safetensors file of f32 tensors (values i·0.001).
func writeST(t *testing.T, path string, tensors map[string][]int) {
	t.Helper()
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{}
	off := 0
	var data []byte
	for _, n := range names {
		cnt := 1
		for _, d := range tensors[n] {
			cnt *= d
		}
		header[n] = map[string]any{"dtype": "F32", "shape": tensors[n], "data_offsets": []int{off, off + 4*cnt}}
		for i := 0; i < cnt; i++ {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(i%97)*0.001))
		}
		off += 4 * cnt
	}
	h, err := json.Marshal(header)
	require.NoError(t, err)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), data...)
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

func TestConvertFamiliesAndTypes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		src, family, act string
		opt              Options
	}{
		{"openai-qgelu.pt", format.FamilyOpenAI, format.ActQuickGELU, Options{}},
		{"openclip-gelu.safetensors", format.FamilyOpenCLIP, format.ActGELU, Options{Activation: "gelu", Quant: "f16"}},
		{"hf-gelu", format.FamilyHF, format.ActGELU, Options{Quant: "f32"}},
		{"hf-qgelu", format.FamilyHF, format.ActQuickGELU, Options{Block: 64}},
	} {
		out := filepath.Join(dir, c.src+".clip")
		rep, err := Convert(filepath.Join(testdata, c.src), out, c.opt)
		require.NoError(t, err, c.src)
		assert.Equal(t, c.family, rep.Family, c.src)
		assert.Equal(t, c.act, rep.Meta.Activation, c.src)
		f, err := format.Open(out)
		require.NoError(t, err)
		require.NoError(t, f.Verify())
		assert.Equal(t, rep.Bytes, f.Size())
		assert.Positive(t, rep.Params["vision"])
		assert.Positive(t, rep.Params["text"])
		f.Close()
	}
}

func TestHFPoolingAndTokenizer(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		src, pooling string
	}{{"hf-gelu", format.PoolEOS}, {"hf-qgelu", format.PoolArgmax}} {
		rep, err := Convert(filepath.Join(testdata, c.src), filepath.Join(dir, c.src), Options{})
		require.NoError(t, err)
		assert.Equal(t, c.pooling, rep.Meta.Text.Pooling, c.src)
		assert.Equal(t, "tokenizer.merges", rep.Meta.Tokenizer.Merges, "an HF model keeps its own merges")
		assert.Equal(t, "tokenizer.vocab", rep.Meta.Tokenizer.Vocab)
		assert.Equal(t, format.PipelineHF, rep.Meta.Preprocess.Pipeline)
		assert.Equal(t, [3]float32{0.5, 0.45, 0.4}, rep.Meta.Preprocess.Mean, "mean from preprocessor_config.json")
	}
}

func TestTowerSelection(t *testing.T) {
	dir := t.TempDir()
	rep, err := Convert(filepath.Join(testdata, "openai-qgelu.pt"), filepath.Join(dir, "t.clip"), Options{Tower: TowerText})
	require.NoError(t, err)
	assert.Nil(t, rep.Meta.Vision)
	assert.NotNil(t, rep.Meta.Text)
	assert.Zero(t, rep.Params["vision"])
	rep, err = Convert(filepath.Join(testdata, "hf-gelu"), filepath.Join(dir, "v.clip"), Options{Tower: TowerVision})
	require.NoError(t, err)
	assert.Nil(t, rep.Meta.Text)
	assert.NotNil(t, rep.Meta.Vision)
}

func TestInferredHyperParameters(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "b32.safetensors")
	spec := randclip.Tiny
	spec.ImageSize, spec.Patch, spec.VisionLayers = 48, 16, 3
	require.NoError(t, randclip.WriteSafetensors(src, spec, 3))
	rep, err := Convert(src, filepath.Join(dir, "b32.clip"), Options{})
	require.NoError(t, err)
	v, tx := rep.Meta.Vision, rep.Meta.Text
	assert.Equal(t, format.VisionConfig{ImageSize: 48, PatchSize: 16, Width: 128, Layers: 3, Heads: 2, MLPDim: 512}, *v)
	assert.Equal(t, 77, tx.ContextLength)
	assert.Equal(t, 49408, tx.VocabSize)
	assert.Equal(t, 1, tx.Heads)
	assert.Equal(t, 32, rep.Meta.EmbedDim)
	assert.InDelta(t, 1/0.07, rep.Meta.LogitScale, 1e-3)
}

func TestRefusesWhatItCannotRunExactly(t *testing.T) {
	dir := t.TempDir()
	good := randclip.Generate(randclip.Tiny, 1)
	shapes := map[string][]int{}
	for n, tt := range good {
		shapes[n] = tt.Shape
	}
	n := 0
	with := func(edit func(map[string][]int)) string {
		s := map[string][]int{}
		for k, v := range shapes {
			s[k] = v
		}
		edit(s)
		n++
		p := filepath.Join(dir, fmt.Sprintf("case%d.safetensors", n))
		writeST(t, p, s)
		return p
	}
	for _, c := range []struct {
		name string
		src  string
		opt  Options
		want string
	}{
		{"unknown layout", with(func(s map[string][]int) {
			for k := range s {
				delete(s, k)
			}
			s["encoder.weight"] = []int{4, 4}
		}), Options{}, "unsupported checkpoint layout"},
		{"extra tensor (layer scale)", with(func(s map[string][]int) { s["visual.transformer.resblocks.0.ls_1.gamma"] = []int{128} }), Options{}, "does not understand"},
		{"wrong shape", with(func(s map[string][]int) { s["visual.ln_pre.weight"] = []int{127} }), Options{}, "visual.ln_pre.weight has shape [127]"},
		{"missing tensor", with(func(s map[string][]int) { delete(s, "ln_final.bias") }), Options{}, "missing tensor ln_final.bias"},
		{"width not a multiple of 64", with(func(s map[string][]int) {
			s["token_embedding.weight"] = []int{49408, 96}
		}), Options{}, "multiple of 64"},
		{"HF weights alone", with(func(s map[string][]int) {
			for k := range s {
				delete(s, k)
			}
			s["vision_model.embeddings.patch_embedding.weight"] = []int{8, 3, 4, 4}
		}), Options{}, "convert the model directory"},
		{"bad quant", filepath.Join(testdata, "openai-qgelu.pt"), Options{Quant: "q4"}, "unknown quantisation"},
		{"bad activation", filepath.Join(testdata, "openai-qgelu.pt"), Options{Activation: "relu"}, "unknown activation"},
		{"bad tower", filepath.Join(testdata, "openai-qgelu.pt"), Options{Tower: "audio"}, "unknown tower"},
		{"block without q8", filepath.Join(testdata, "openai-qgelu.pt"), Options{Quant: "f16", Block: 32}, "only q8"},
		{"missing input", filepath.Join(dir, "nope.pt"), Options{}, "no such file"},
	} {
		out := filepath.Join(dir, "out.clip")
		_, err := Convert(c.src, out, c.opt)
		assert.ErrorContains(t, err, c.want, c.name)
		_, statErr := os.Stat(out)
		assert.True(t, os.IsNotExist(statErr), "%s: no output file after an error", c.name)
	}
}

func TestHFPreprocessorRefusals(t *testing.T) {
	for _, c := range []struct {
		json, want string
	}{
		{`{"do_center_crop": false}`, "turning off"},
		{`{"size": {"height": 224, "width": 224}}`, "fixed resize"},
		{`{"crop_size": {"height": 224, "width": 200}}`, "non-square"},
		{`{"resample": 2}`, "resample filter 2"},
		{`{"size": {"shortest_edge": 100000}}`, "size.shortest_edge 100000 is larger than the 16384"},
		{`{"size": 100000}`, "size.shortest_edge 100000"},
		{`{"crop_size": 20000}`, "crop_size 20000 is larger than the 16384"},
		{`{"size": 200, "crop_size": 224}`, "crop_size 224 is larger than size.shortest_edge 200"},
		{`{"image_mean": [0.5], "image_std": [0.5]}`, "image_mean has 1 values"},
		{`{"image_std": [0.5, -0.5, 0.5]}`, "image_std[1] -0.5"},
	} {
		dir := t.TempDir()
		src := filepath.Join(testdata, "hf-gelu")
		for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt"} {
			require.NoError(t, os.Symlink(mustAbs(t, filepath.Join(src, f)), filepath.Join(dir, f)))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(c.json), 0o644))
		_, err := Convert(dir, filepath.Join(t.TempDir(), "o.clip"), Options{})
		assert.ErrorContains(t, err, c.want, c.json)
	}
}

// TestPreprocessLimitMatchesImageproc: the side convert and the format accept
// is the side the image preprocessing runs.
func TestPreprocessLimitMatchesImageproc(t *testing.T) {
	c := imageproc.DefaultConfig()
	c.Size, c.Crop = format.MaxPreprocessSide, format.MaxPreprocessSide
	assert.NoError(t, c.Validate())
	c.Size++
	assert.Error(t, c.Validate())
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

func TestSimpleCLIPVocabulary(t *testing.T) {
	src := "../testdata/simpleclip/simpleclip.pt"
	out := filepath.Join(t.TempDir(), "s.clip")
	rep, err := Convert(src, out, Options{Vocab: []byte("a\nb\nc\n"), UnknownToken: 1})
	require.NoError(t, err)
	assert.Equal(t, format.TokenizerWords, rep.Meta.Tokenizer.Kind)
	assert.Equal(t, 1000, rep.Meta.SimpleCLIP.VocabSize)
	_, err = Convert(src, out, Options{Vocab: []byte("a\n"), UnknownToken: 5000})
	assert.ErrorContains(t, err, "unknown-word id 5000")
	_, err = Convert(src, out, Options{Tower: TowerText})
	assert.ErrorContains(t, err, "not supported for SimpleCLIP")
}
