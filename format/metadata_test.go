package format

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetadataValidate(t *testing.T) {
	require.NoError(t, clipMeta().Validate())
	require.NoError(t, simpleMeta().Validate())
	tests := []struct {
		name string
		base func() *Metadata
		edit func(m *Metadata)
		msg  string
	}{
		{"unknown architecture", clipMeta, func(m *Metadata) { m.Architecture = "clip-resnet" }, `unknown architecture "clip-resnet"`},
		{"bad family", clipMeta, func(m *Metadata) { m.Family = "simpleclip" }, `family "simpleclip" is not a clip-vit family`},
		{"zero embed dim", clipMeta, func(m *Metadata) { m.EmbedDim = 0 }, "embed_dim 0 must be positive"},
		{"zero logit scale", clipMeta, func(m *Metadata) { m.LogitScale = 0 }, "logit_scale 0 must be finite and positive"},
		{"NaN logit scale", clipMeta, func(m *Metadata) { m.LogitScale = float32(math.NaN()) }, "logit_scale NaN"},
		{"infinite logit scale", clipMeta, func(m *Metadata) { m.LogitScale = float32(math.Inf(1)) }, "logit_scale +Inf"},
		{"unknown activation", clipMeta, func(m *Metadata) { m.Activation = "relu" }, `unknown activation "relu" for clip-vit`},
		{"zero eps", clipMeta, func(m *Metadata) { m.LayerNormEps = 0 }, "layer_norm_eps 0"},
		{"no towers", clipMeta, func(m *Metadata) { m.Vision, m.Text = nil, nil }, "neither a vision nor a text tower"},
		{"simpleclip section in clip", clipMeta, func(m *Metadata) { m.SimpleCLIP = simpleMeta().SimpleCLIP }, "simpleclip section present"},
		{"vision width/heads", clipMeta, func(m *Metadata) { m.Vision.Heads = 3 }, "vision.width 16 is not divisible by vision.heads 3"},
		{"vision zero layers", clipMeta, func(m *Metadata) { m.Vision.Layers = 0 }, "vision.layers 0 must be positive"},
		{"vision zero heads", clipMeta, func(m *Metadata) { m.Vision.Heads = 0 }, "vision.heads 0 must be positive"},
		{"patch does not divide image", clipMeta, func(m *Metadata) { m.Vision.PatchSize = 5 }, "vision.image_size 32 is not a multiple of vision.patch_size 5"},
		{"vision without preprocess", clipMeta, func(m *Metadata) { m.Preprocess = nil }, "vision tower without a preprocess section"},
		{"crop differs from image size", clipMeta, func(m *Metadata) { m.Preprocess.Crop = 24 }, "preprocess.crop 24 differs from vision.image_size 32"},
		{"crop larger than size", clipMeta, func(m *Metadata) { m.Preprocess.Size = 16 }, "preprocess.crop 32 larger than preprocess.size 16"},
		{"zero std", clipMeta, func(m *Metadata) { m.Preprocess.Std[1] = 0 }, "preprocess.std[1] 0 must be finite and positive"},
		{"NaN mean", clipMeta, func(m *Metadata) { m.Preprocess.Mean[2] = float32(math.NaN()) }, "preprocess.mean[2] NaN is not finite"},
		{"unknown pipeline", clipMeta, func(m *Metadata) { m.Preprocess.Pipeline = "timm" }, `unknown preprocess.pipeline "timm"`},
		{"text width/heads", clipMeta, func(m *Metadata) { m.Text.Width = 20; m.Text.Heads = 8 }, "text.width 20 is not divisible by text.heads 8"},
		{"text zero context", clipMeta, func(m *Metadata) { m.Text.ContextLength = 0 }, "text.context_length 0 must be positive"},
		{"unknown pooling", clipMeta, func(m *Metadata) { m.Text.Pooling = "mean" }, `unknown text.pooling "mean"`},
		{"eos outside vocab", clipMeta, func(m *Metadata) { m.Text.EOSTokenID = 49408 }, "text.eos_token_id 49408 outside the vocabulary [0,49408)"},
		{"bos negative", clipMeta, func(m *Metadata) { m.Text.BOSTokenID = -1 }, "text.bos_token_id -1 outside"},
		{"text without tokenizer", clipMeta, func(m *Metadata) { m.Tokenizer = nil }, "text tower without a tokenizer section"},
		{"clip with words tokenizer", clipMeta, func(m *Metadata) { m.Tokenizer = &TokenizerInfo{Kind: TokenizerWords, Vocab: "v"} }, `tokenizer.kind "words" for a clip-vit text tower`},
		{"unknown tokenizer", clipMeta, func(m *Metadata) { m.Tokenizer.Kind = "wordpiece" }, `unknown tokenizer.kind "wordpiece"`},
		{"unknown quant", clipMeta, func(m *Metadata) { m.Quant.Type = "q4" }, `unknown quant.type "q4"`},
		{"negative block", clipMeta, func(m *Metadata) { m.Quant.Block = -32 }, "quant.block -32 is negative"},
		{"block on f16", clipMeta, func(m *Metadata) { m.Quant = QuantInfo{Type: QuantF16, Block: 32} }, `quant.block 32 given for quant.type "f16"`},
		{"simpleclip family", simpleMeta, func(m *Metadata) { m.Family = FamilyOpenAI }, `family "openai" for a simpleclip model`},
		{"simpleclip activation", simpleMeta, func(m *Metadata) { m.Activation = ActGELU }, `activation "gelu" for simpleclip`},
		{"simpleclip missing section", simpleMeta, func(m *Metadata) { m.SimpleCLIP = nil }, "without a simpleclip section"},
		{"simpleclip with vision", simpleMeta, func(m *Metadata) { m.Vision = clipMeta().Vision }, "vision or text section present in a simpleclip model"},
		{"simpleclip zero hidden", simpleMeta, func(m *Metadata) { m.SimpleCLIP.HiddenDim = 0 }, "simpleclip.hidden_dim 0 must be positive"},
		{"simpleclip unknown id", simpleMeta, func(m *Metadata) { m.SimpleCLIP.UnknownTokenID = 10 }, "simpleclip.unknown_token_id 10 outside the vocabulary [0,10)"},
		{"simpleclip output dim", simpleMeta, func(m *Metadata) { m.EmbedDim = 5 }, "simpleclip.output_dim 4 differs from embed_dim 5"},
		{"simpleclip bpe tokenizer", simpleMeta, func(m *Metadata) { m.Tokenizer.Kind = TokenizerCLIPBPE }, `tokenizer.kind "clip-bpe" for simpleclip`},
		{"words without vocab", simpleMeta, func(m *Metadata) { m.Tokenizer.Vocab = "" }, `tokenizer kind "words" needs a vocab tensor`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.base()
			tc.edit(m)
			err := m.Validate()
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
	var m *Metadata
	assert.ErrorContains(t, m.Validate(), "metadata is missing")

	// Towers may be left out one at a time.
	m = clipMeta()
	m.Vision, m.Preprocess = nil, nil
	assert.NoError(t, m.Validate())
	m = clipMeta()
	m.Text, m.Tokenizer = nil, nil
	assert.NoError(t, m.Validate())
	m = simpleMeta()
	m.Tokenizer = nil
	assert.NoError(t, m.Validate(), "simpleclip may take token ids")
}

func TestMetadataJSONNames(t *testing.T) {
	m := clipMeta()
	m.SimpleCLIP = simpleMeta().SimpleCLIP
	m.Tokenizer.Vocab = "v"
	m.Provenance = Provenance{Source: "s", SourceFormat: "safetensors", SourceSHA256: "ab", Converter: "c",
		ConverterVersion: "1", Args: []string{"a"}, Created: "2024-01-01T00:00:00Z"}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(b, &obj))
	keys := func(v any) []string {
		var ks []string
		for k := range v.(map[string]any) {
			ks = append(ks, k)
		}
		return ks
	}
	assert.ElementsMatch(t, []string{"architecture", "family", "embed_dim", "logit_scale", "activation", "layer_norm_eps",
		"vision", "text", "simpleclip", "preprocess", "tokenizer", "quant", "provenance"}, keys(obj))
	assert.ElementsMatch(t, []string{"image_size", "patch_size", "width", "layers", "heads", "mlp_dim"}, keys(obj["vision"]))
	assert.ElementsMatch(t, []string{"context_length", "vocab_size", "width", "layers", "heads", "mlp_dim", "pooling",
		"eos_token_id", "bos_token_id"}, keys(obj["text"]))
	assert.ElementsMatch(t, []string{"vocab_size", "embed_dim", "hidden_dim", "image_input_dim", "image_hidden_dim",
		"output_dim", "unknown_token_id", "lowercase"}, keys(obj["simpleclip"]))
	assert.ElementsMatch(t, []string{"size", "crop", "mean", "std", "pipeline"}, keys(obj["preprocess"]))
	assert.ElementsMatch(t, []string{"kind", "vocab", "merges"}, keys(obj["tokenizer"]))
	assert.ElementsMatch(t, []string{"type", "block"}, keys(obj["quant"]))
	assert.ElementsMatch(t, []string{"source", "source_format", "source_sha256", "converter", "converter_version",
		"args", "created"}, keys(obj["provenance"]))

	var back Metadata
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, m, &back, "float32 fields survive JSON exactly")

	// Readers ignore fields they do not know.
	var withExtra Metadata
	require.NoError(t, json.Unmarshal([]byte(`{"architecture":"clip-vit","future_field":{"x":1}}`), &withExtra))
	assert.Equal(t, ArchCLIPViT, withExtra.Architecture)
}
