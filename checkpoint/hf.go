package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/clipinfer/clipinfer/internal/regfile"
)

// HFModel is a Hugging Face CLIPModel directory: weights, configuration,
// tokenizer and image preprocessing, as raw bytes and parsed.
type HFModel struct {
	// Dir is the directory that was opened.
	Dir string
	// Weights are the model's tensors (HF names, e.g.
	// "vision_model.embeddings.patch_embedding.weight").
	Weights *StateDict
	// Config is config.json parsed, with HF defaults for absent fields.
	Config HFConfig
	// ConfigJSON is config.json as read.
	ConfigJSON []byte
	// Vocab is a vocab.json-style JSON object (token → id), or nil when the
	// directory has no tokenizer.
	Vocab []byte
	// Merges is merges.txt-style text ("#version" header, then "a b" lines),
	// or nil when the directory has no tokenizer.
	Merges []byte
	// Tokenizer is Vocab and Merges parsed, or nil.
	Tokenizer *HFTokenizer
	// Preprocessor is preprocessor_config.json parsed, or nil when absent.
	Preprocessor *HFPreprocessor
	// PreprocessorJSON is preprocessor_config.json as read, or nil.
	PreprocessorJSON []byte
	// Notes says which files were used and what was defaulted.
	Notes []string
}

// Close releases the weight files.
func (m *HFModel) Close() error {
	if m.Weights == nil {
		return nil
	}
	return m.Weights.Close()
}

// HFConfig is the part of a CLIPModel config.json the runtime needs.
type HFConfig struct {
	ModelType           string         `json:"model_type"`
	Architectures       []string       `json:"architectures"`
	ProjectionDim       int            `json:"projection_dim"`
	LogitScaleInitValue float64        `json:"logit_scale_init_value"`
	TextConfig          HFTextConfig   `json:"text_config"`
	VisionConfig        HFVisionConfig `json:"vision_config"`
	// Defaulted lists the fields ("text_config.eos_token_id", ...) that
	// config.json did not give and that took the Hugging Face default.
	Defaulted []string `json:"-"`
}

// HFTextConfig is CLIPTextConfig.
type HFTextConfig struct {
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	HiddenAct             string  `json:"hidden_act"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	ProjectionDim         int     `json:"projection_dim"`
	BOSTokenID            int     `json:"bos_token_id"`
	EOSTokenID            int     `json:"eos_token_id"`
	PadTokenID            int     `json:"pad_token_id"`
}

// HFVisionConfig is CLIPVisionConfig.
type HFVisionConfig struct {
	HiddenSize        int     `json:"hidden_size"`
	IntermediateSize  int     `json:"intermediate_size"`
	NumHiddenLayers   int     `json:"num_hidden_layers"`
	NumAttentionHeads int     `json:"num_attention_heads"`
	NumChannels       int     `json:"num_channels"`
	ImageSize         int     `json:"image_size"`
	PatchSize         int     `json:"patch_size"`
	HiddenAct         string  `json:"hidden_act"`
	LayerNormEps      float64 `json:"layer_norm_eps"`
	ProjectionDim     int     `json:"projection_dim"`
}

// Defaults of transformers' CLIPTextConfig, CLIPVisionConfig and CLIPConfig.
var (
	defaultTextConfig = HFTextConfig{
		VocabSize: 49408, HiddenSize: 512, IntermediateSize: 2048, NumHiddenLayers: 12,
		NumAttentionHeads: 8, MaxPositionEmbeddings: 77, HiddenAct: "quick_gelu",
		LayerNormEps: 1e-5, ProjectionDim: 512, BOSTokenID: 49406, EOSTokenID: 49407, PadTokenID: 1,
	}
	defaultVisionConfig = HFVisionConfig{
		HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12, NumAttentionHeads: 12,
		NumChannels: 3, ImageSize: 224, PatchSize: 32, HiddenAct: "quick_gelu",
		LayerNormEps: 1e-5, ProjectionDim: 512,
	}
)

// maxSmallFile bounds the JSON and text files of an HF directory.
const maxSmallFile = 64 << 20

func readSmall(path string) ([]byte, error) {
	return regfile.ReadFile(path, maxSmallFile)
}

// ParseHFConfig parses a CLIPModel config.json. Fields it does not give take
// transformers' defaults and are listed in Defaulted; unknown fields are ignored.
// hidden_act and layer_norm_eps are read from the sub-configs, falling back to
// the top level, then to the defaults. A non-null text_config_dict or
// vision_config_dict (older files) overrides text_config / vision_config.
func ParseHFConfig(data []byte) (HFConfig, error) {
	var top struct {
		ModelType           string          `json:"model_type"`
		Architectures       []string        `json:"architectures"`
		ProjectionDim       *int            `json:"projection_dim"`
		LogitScaleInitValue *float64        `json:"logit_scale_init_value"`
		HiddenAct           string          `json:"hidden_act"`
		LayerNormEps        *float64        `json:"layer_norm_eps"`
		TextConfig          json.RawMessage `json:"text_config"`
		TextConfigDict      json.RawMessage `json:"text_config_dict"`
		VisionConfig        json.RawMessage `json:"vision_config"`
		VisionConfigDict    json.RawMessage `json:"vision_config_dict"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return HFConfig{}, fmt.Errorf("config.json: %w", err)
	}
	cfg := HFConfig{ModelType: top.ModelType, Architectures: top.Architectures,
		ProjectionDim: 512, LogitScaleInitValue: 2.6592,
		TextConfig: defaultTextConfig, VisionConfig: defaultVisionConfig}
	if top.ProjectionDim != nil {
		cfg.ProjectionDim = *top.ProjectionDim
	} else {
		cfg.Defaulted = append(cfg.Defaulted, "projection_dim")
	}
	if top.LogitScaleInitValue != nil {
		cfg.LogitScaleInitValue = *top.LogitScaleInitValue
	} else {
		cfg.Defaulted = append(cfg.Defaulted, "logit_scale_init_value")
	}
	if top.HiddenAct != "" {
		cfg.TextConfig.HiddenAct, cfg.VisionConfig.HiddenAct = top.HiddenAct, top.HiddenAct
	}
	if top.LayerNormEps != nil {
		cfg.TextConfig.LayerNormEps, cfg.VisionConfig.LayerNormEps = *top.LayerNormEps, *top.LayerNormEps
	}
	topGiven := map[string]bool{"hidden_act": top.HiddenAct != "", "layer_norm_eps": top.LayerNormEps != nil}
	// Without a projection_dim of their own, the towers project to the top-level one.
	cfg.TextConfig.ProjectionDim, cfg.VisionConfig.ProjectionDim = cfg.ProjectionDim, cfg.ProjectionDim

	given, err := overlay(&cfg.TextConfig, "text_config", top.TextConfig, top.TextConfigDict)
	if err != nil {
		return HFConfig{}, err
	}
	cfg.Defaulted = append(cfg.Defaulted, missing("text_config", &cfg.TextConfig, given, topGiven)...)
	given, err = overlay(&cfg.VisionConfig, "vision_config", top.VisionConfig, top.VisionConfigDict)
	if err != nil {
		return HFConfig{}, err
	}
	cfg.Defaulted = append(cfg.Defaulted, missing("vision_config", &cfg.VisionConfig, given, topGiven)...)
	return cfg, nil
}

// overlay unmarshals each non-null raw JSON object onto dst and returns the
// keys they gave (with non-null values).
func overlay(dst any, what string, raws ...json.RawMessage) (map[string]bool, error) {
	given := map[string]bool{}
	for _, raw := range raws {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			return nil, fmt.Errorf("config.json %s: %w", what, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, fmt.Errorf("config.json %s: %w", what, err)
		}
		for k, v := range keys {
			if string(v) != "null" {
				given[k] = true
			}
		}
	}
	return given, nil
}

// missing lists the JSON fields of the struct *v that neither the sub-config
// nor (for the shared fields) the top level gave.
func missing(prefix string, v any, given, topGiven map[string]bool) []string {
	var out []string
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if tag == "projection_dim" || given[tag] || topGiven[tag] {
			continue
		}
		out = append(out, prefix+"."+tag)
	}
	return out
}

// HFPreprocessor is preprocessor_config.json (CLIPImageProcessor), with
// transformers' defaults for absent fields.
type HFPreprocessor struct {
	DoResize bool
	// Size is the resize target: ShortestEdge (the usual CLIP setting, and
	// what a plain integer means) or Height and Width.
	Size         HFImageSize
	Resample     int // PIL filter number: 3 is bicubic
	DoCenterCrop bool
	// CropSize is the centre crop; a plain integer n means n×n.
	CropSize      HFImageSize
	DoRescale     bool
	RescaleFactor float64
	DoNormalize   bool
	ImageMean     []float64
	ImageStd      []float64
	DoConvertRGB  bool
}

// HFImageSize is an image size as preprocessor_config.json gives it.
type HFImageSize struct {
	ShortestEdge int `json:"shortest_edge,omitempty"`
	Height       int `json:"height,omitempty"`
	Width        int `json:"width,omitempty"`
}

// imageSizeJSON accepts an integer or an object for a size field.
type imageSizeJSON struct {
	n   int
	obj HFImageSize
	set bool
}

func (s *imageSizeJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s.set = true
	if err := json.Unmarshal(b, &s.n); err == nil {
		return nil
	}
	s.n = 0
	if err := json.Unmarshal(b, &s.obj); err != nil {
		return errors.New("size must be an integer or an object with shortest_edge or height and width")
	}
	return nil
}

// CLIP's normalisation constants (transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD).
var (
	openAIClipMean = []float64{0.48145466, 0.4578275, 0.40821073}
	openAIClipStd  = []float64{0.26862954, 0.26130258, 0.27577711}
)

// ParseHFPreprocessor parses preprocessor_config.json.
func ParseHFPreprocessor(data []byte) (*HFPreprocessor, error) {
	var raw struct {
		DoResize      *bool         `json:"do_resize"`
		Size          imageSizeJSON `json:"size"`
		Resample      *int          `json:"resample"`
		DoCenterCrop  *bool         `json:"do_center_crop"`
		CropSize      imageSizeJSON `json:"crop_size"`
		DoRescale     *bool         `json:"do_rescale"`
		RescaleFactor *float64      `json:"rescale_factor"`
		DoNormalize   *bool         `json:"do_normalize"`
		ImageMean     []float64     `json:"image_mean"`
		ImageStd      []float64     `json:"image_std"`
		DoConvertRGB  *bool         `json:"do_convert_rgb"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("preprocessor_config.json: %w", err)
	}
	p := &HFPreprocessor{
		DoResize: orDefault(raw.DoResize, true), Resample: orDefault(raw.Resample, 3),
		DoCenterCrop: orDefault(raw.DoCenterCrop, true), DoRescale: orDefault(raw.DoRescale, true),
		RescaleFactor: orDefault(raw.RescaleFactor, 1.0/255), DoNormalize: orDefault(raw.DoNormalize, true),
		ImageMean: raw.ImageMean, ImageStd: raw.ImageStd, DoConvertRGB: orDefault(raw.DoConvertRGB, true),
		Size: HFImageSize{ShortestEdge: 224}, CropSize: HFImageSize{Height: 224, Width: 224},
	}
	if raw.Size.set {
		p.Size = raw.Size.obj
		if raw.Size.n != 0 {
			p.Size = HFImageSize{ShortestEdge: raw.Size.n}
		}
	}
	if raw.CropSize.set {
		p.CropSize = raw.CropSize.obj
		if raw.CropSize.n != 0 {
			p.CropSize = HFImageSize{Height: raw.CropSize.n, Width: raw.CropSize.n}
		}
	}
	if p.ImageMean == nil {
		p.ImageMean = openAIClipMean
	}
	if p.ImageStd == nil {
		p.ImageStd = openAIClipStd
	}
	if len(p.ImageMean) != len(p.ImageStd) {
		return nil, fmt.Errorf("preprocessor_config.json: image_mean has %d values, image_std %d", len(p.ImageMean), len(p.ImageStd))
	}
	for _, s := range p.ImageStd {
		if s == 0 {
			return nil, errors.New("preprocessor_config.json: image_std has a zero")
		}
	}
	sz, cs := p.Size, p.CropSize
	if sz.ShortestEdge < 0 || sz.Height < 0 || sz.Width < 0 || cs.Height < 0 || cs.Width < 0 || cs.ShortestEdge < 0 {
		return nil, errors.New("preprocessor_config.json: negative image size")
	}
	return p, nil
}

func orDefault[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// weightFiles are the weight files of an HF directory, in order of preference.
var weightFiles = []string{
	"model.safetensors", "model.safetensors.index.json",
	"pytorch_model.bin", "pytorch_model.bin.index.json",
}

// OpenHF opens a Hugging Face CLIPModel directory: config.json and the
// weights (model.safetensors, its sharded index, pytorch_model.bin or its
// sharded index, in that order of preference) are required; the tokenizer
// (vocab.json + merges.txt, else tokenizer.json) and preprocessor_config.json
// are read when present.
func OpenHF(dir string) (*HFModel, error) {
	m := &HFModel{Dir: dir}
	var err error
	if m.ConfigJSON, err = readSmall(filepath.Join(dir, "config.json")); err != nil {
		return nil, fmt.Errorf("hf model %s: %w", dir, err)
	}
	if m.Config, err = ParseHFConfig(m.ConfigJSON); err != nil {
		return nil, fmt.Errorf("hf model %s: %w", dir, err)
	}
	if m.Config.ModelType != "" && m.Config.ModelType != "clip" {
		m.Notes = append(m.Notes, fmt.Sprintf("config.json model_type is %q, not \"clip\"", m.Config.ModelType))
	}
	if len(m.Config.Defaulted) > 0 {
		m.Notes = append(m.Notes, "config.json defaults used for: "+strings.Join(m.Config.Defaulted, ", "))
	}

	var present []string
	for _, name := range weightFiles {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			present = append(present, name)
		}
	}
	if len(present) == 0 {
		return nil, fmt.Errorf("hf model %s: no weights (looked for %s)", dir, strings.Join(weightFiles, ", "))
	}
	note := "weights from " + present[0]
	if len(present) > 1 {
		note += " (also present: " + strings.Join(present[1:], ", ") + ")"
	}
	m.Notes = append(m.Notes, note)
	if m.Weights, err = Open(filepath.Join(dir, present[0])); err != nil {
		return nil, fmt.Errorf("hf model %s: %w", dir, err)
	}

	if err := m.readTokenizer(); err != nil {
		m.Close()
		return nil, fmt.Errorf("hf model %s: %w", dir, err)
	}
	m.PreprocessorJSON, err = readSmall(filepath.Join(dir, "preprocessor_config.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.PreprocessorJSON = nil
		m.Notes = append(m.Notes, "no preprocessor_config.json")
	case err != nil:
		m.Close()
		return nil, fmt.Errorf("hf model %s: %w", dir, err)
	default:
		if m.Preprocessor, err = ParseHFPreprocessor(m.PreprocessorJSON); err != nil {
			m.Close()
			return nil, fmt.Errorf("hf model %s: %w", dir, err)
		}
	}
	return m, nil
}

// readTokenizer fills Vocab, Merges and Tokenizer from vocab.json + merges.txt
// or, failing those, tokenizer.json. No tokenizer files is not an error.
func (m *HFModel) readTokenizer() error {
	vocab, errV := readSmall(filepath.Join(m.Dir, "vocab.json"))
	merges, errM := readSmall(filepath.Join(m.Dir, "merges.txt"))
	if errV == nil && errM == nil {
		tok, err := ParseVocabMerges(vocab, merges)
		if err != nil {
			return err
		}
		m.Vocab, m.Merges, m.Tokenizer = vocab, merges, tok
		m.Notes = append(m.Notes, "tokenizer from vocab.json + merges.txt")
		return nil
	}
	for _, err := range []error{errV, errM} {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	data, err := readSmall(filepath.Join(m.Dir, "tokenizer.json"))
	if errors.Is(err, fs.ErrNotExist) {
		m.Notes = append(m.Notes, "no tokenizer files: the default CLIP BPE applies")
		return nil
	}
	if err != nil {
		return err
	}
	tok, vocabJSON, mergesTxt, err := ParseTokenizerJSON(data)
	if err != nil {
		return err
	}
	m.Vocab, m.Merges, m.Tokenizer = vocabJSON, mergesTxt, tok
	m.Notes = append(m.Notes, "tokenizer from tokenizer.json")
	return nil
}
