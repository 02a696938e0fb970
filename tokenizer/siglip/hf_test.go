package siglip

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/tokenizer/sentencepiece"
)

// Tokenizer files in the layout of Hugging Face's SigLIP and SigLIP 2
// folders (the fields transformers writes for SiglipTokenizer and for the
// Gemma tokenizer of the SigLIP 2 conversion).
const siglipTokenizerConfig = `{
  "added_tokens_decoder": {
    "1": {"content": "</s>", "lstrip": true, "normalized": false, "rstrip": true, "single_word": false, "special": true},
    "2": {"content": "<unk>", "lstrip": true, "normalized": false, "rstrip": true, "single_word": false, "special": true}
  },
  "additional_special_tokens": [],
  "clean_up_tokenization_spaces": true,
  "do_lower_case": true,
  "eos_token": "</s>",
  "model_input_names": ["input_ids"],
  "model_max_length": 64,
  "pad_token": "</s>",
  "processor_class": "SiglipProcessor",
  "sp_model_kwargs": {},
  "tokenizer_class": "SiglipTokenizer",
  "unk_token": "<unk>"
}`

const siglipSpecialTokensMap = `{
  "eos_token": {"content": "</s>", "lstrip": true, "normalized": false, "rstrip": true, "single_word": false},
  "pad_token": {"content": "</s>", "lstrip": true, "normalized": false, "rstrip": true, "single_word": false},
  "unk_token": {"content": "<unk>", "lstrip": true, "normalized": false, "rstrip": true, "single_word": false}
}`

const gemmaTokenizerConfig = `{
  "add_bos_token": false,
  "add_eos_token": true,
  "added_tokens_decoder": {
    "0": {"content": "<pad>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
    "1": {"content": "<eos>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
    "2": {"content": "<bos>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
    "3": {"content": "<unk>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}
  },
  "bos_token": "<bos>",
  "clean_up_tokenization_spaces": false,
  "eos_token": "<eos>",
  "model_input_names": ["input_ids"],
  "model_max_length": 1000000000000000019884624838656,
  "pad_token": "<pad>",
  "padding_side": "right",
  "sp_model_kwargs": {},
  "spaces_between_special_tokens": false,
  "tokenizer_class": "GemmaTokenizer",
  "unk_token": "<unk>",
  "use_default_system_prompt": false
}`

func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return dir
}

// TestConfigFromHFMatchesGolden reads SigLIP and SigLIP 2 style folders and
// checks that the tokenizers they describe give the golden ids of the
// matching reference cases.
func TestConfigFromHFMatchesGolden(t *testing.T) {
	g := loadGoldenCases(t)
	cases := []struct {
		name   string
		files  map[string][]byte
		golden string
		want   Config
	}{
		{"siglip", map[string][]byte{
			"tokenizer_config.json":   []byte(siglipTokenizerConfig),
			"special_tokens_map.json": []byte(siglipSpecialTokensMap),
			"spiece.model":            modelBytes(t, "unigram_t5like"),
		}, "siglip", Config{Kind: KindSiglip, MaxLength: 64, Lowercase: true, EOSToken: "</s>", UNKToken: "<unk>", PadToken: "</s>",
			Added: []AddedToken{{Content: "</s>", ID: 1, LStrip: true, RStrip: true}, {Content: "<unk>", ID: 2, LStrip: true, RStrip: true}}}},
		{"siglip2", map[string][]byte{
			"tokenizer_config.json": []byte(gemmaTokenizerConfig),
			"tokenizer.model":       modelBytes(t, "bpe_gemmalike"),
		}, "siglip2_gemma", Config{Kind: KindGemma, MaxLength: 64, Lowercase: true, AddEOS: true, BOSToken: "<bos>", EOSToken: "<eos>", PadToken: "<pad>"}},
		{"siglip2 with Siglip2Tokenizer", map[string][]byte{
			"tokenizer_config.json": []byte(`{"tokenizer_class": "Siglip2Tokenizer", "add_bos_token": false, "add_eos_token": true, "padding_side": "right", "model_max_length": 64}`),
			"tokenizer.model":       modelBytes(t, "bpe_gemmalike"),
		}, "siglip2_gemma", Config{Kind: KindGemma, MaxLength: 64, Lowercase: true, AddEOS: true}},
		{"siglip without configs", map[string][]byte{
			"spiece.model": modelBytes(t, "unigram_t5like"),
		}, "siglip", Config{Kind: KindSiglip, MaxLength: 64, Lowercase: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			cfg, data, err := ConfigFromHF(dir)
			require.NoError(t, err)
			assert.Equal(t, tc.want, cfg)
			// The configuration survives JSON, as it does in a model file.
			js, err := json.Marshal(cfg)
			require.NoError(t, err)
			var back Config
			require.NoError(t, json.Unmarshal(js, &back))
			assert.Equal(t, cfg, back)

			sp, err := sentencepiece.Parse(data)
			require.NoError(t, err)
			tok, err := New(sp, back)
			require.NoError(t, err)
			want := g.Cases[tc.golden].IDs
			for i, text := range g.Texts {
				require.Equal(t, want[i], tok.Encode(text), "text %d %q", i, text)
			}
		})
	}
}

func TestConfigFromHFErrors(t *testing.T) {
	model := modelBytes(t, "unigram_t5like")
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"empty folder", func(t *testing.T, dir string) {}, "neither spiece.model nor tokenizer.model"},
		{"bad json", func(t *testing.T, dir string) {
			write(t, dir, "tokenizer_config.json", []byte("{"))
		}, "tokenizer_config.json"},
		{"other tokenizer", func(t *testing.T, dir string) {
			write(t, dir, "tokenizer_config.json", []byte(`{"tokenizer_class": "CLIPTokenizer"}`))
		}, `"CLIPTokenizer" is not a SigLIP or Gemma tokenizer`},
		{"class without model file", func(t *testing.T, dir string) {
			write(t, dir, "tokenizer_config.json", []byte(siglipTokenizerConfig))
		}, "spiece.model"},
		{"model is a directory", func(t *testing.T, dir string) {
			write(t, dir, "tokenizer_config.json", []byte(siglipTokenizerConfig))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "spiece.model"), 0o755))
		}, "not a regular file"},
		{"model is a FIFO", func(t *testing.T, dir string) {
			write(t, dir, "tokenizer_config.json", []byte(siglipTokenizerConfig))
			if err := syscall.Mkfifo(filepath.Join(dir, "spiece.model"), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, "not a regular file"},
		{"oversized json", func(t *testing.T, dir string) {
			write(t, dir, "spiece.model", model)
			write(t, dir, "special_tokens_map.json", []byte(`{"x":"`+strings.Repeat("a", maxJSONBytes)+`"}`))
		}, "budget"},
		{"left padding", func(t *testing.T, dir string) {
			write(t, dir, "tokenizer.model", modelBytes(t, "bpe_gemmalike"))
			write(t, dir, "tokenizer_config.json", []byte(`{"tokenizer_class": "Siglip2Tokenizer", "padding_side": "left"}`))
		}, `padding_side "left" is not supported`},
		{"bad added token id", func(t *testing.T, dir string) {
			write(t, dir, "spiece.model", model)
			write(t, dir, "tokenizer_config.json", []byte(`{"added_tokens_decoder": {"x": {"content": "a"}}}`))
		}, `key "x" is not an id`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			_, _, err := ConfigFromHF(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestConfigFromHFFollowsSymlinks(t *testing.T) {
	// The Hugging Face cache links snapshot files to blobs.
	blobs := writeFiles(t, map[string][]byte{"blob": modelBytes(t, "unigram_t5like")})
	dir := t.TempDir()
	require.NoError(t, os.Symlink(filepath.Join(blobs, "blob"), filepath.Join(dir, "spiece.model")))
	cfg, data, err := ConfigFromHF(dir)
	require.NoError(t, err)
	assert.Equal(t, KindSiglip, cfg.Kind)
	assert.NotEmpty(t, data)
}

func write(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
}

func TestNewErrors(t *testing.T) {
	t5 := loadModel(t, "unigram_t5like")
	cases := []struct {
		name string
		sp   *sentencepiece.Model
		cfg  Config
		want string
	}{
		{"no model", nil, Config{Kind: KindSiglip, MaxLength: 64}, "no SentencePiece model"},
		{"unknown kind", t5, Config{Kind: "clip", MaxLength: 64}, `unknown tokenizer kind "clip"`},
		{"zero length", t5, Config{Kind: KindSiglip}, "max_length 0"},
		{"huge length", t5, Config{Kind: KindSiglip, MaxLength: 1 << 20}, "outside"},
		{"missing eos", t5, Config{Kind: KindSiglip, MaxLength: 64, EOSToken: "<eos>"}, `eos token "<eos>"`},
		{"gemma eos missing", t5, Config{Kind: KindGemma, MaxLength: 64, AddEOS: true}, `eos token "<eos>"`},
		{"added id out of range", t5, Config{Kind: KindSiglip, MaxLength: 64, Added: []AddedToken{{Content: "x", ID: 1 << 20}}}, "outside"},
		{"empty added token", t5, Config{Kind: KindSiglip, MaxLength: 64, Added: []AddedToken{{ID: 1}}}, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.sp, tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCanonicalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"A photo, of a cat!", "A photo of a cat"},
		{"  many   spaces\t\nand\x1cfile-separators\u3000 ", "many spaces and fileseparators"},
		{"{}[]()<>", ""},
		{"it's «quoted» ¿sí?", "its «quoted» ¿sí"},
		{"\u00a0nbsp\u0085next\u2028line", "nbsp next line"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, canonicalize(tc.in), "%q", tc.in)
	}
}

type goldenCases struct {
	Texts []string `json:"texts"`
	Cases map[string]struct {
		IDs [][]int32 `json:"ids"`
	} `json:"cases"`
}

func loadGoldenCases(t *testing.T) *goldenCases {
	t.Helper()
	var g goldenCases
	require.NoError(t, json.Unmarshal(readGzip(t, filepath.Join("testdata", "golden.json.gz")), &g))
	return &g
}
