package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Architectures, families and other enumerated metadata values.
const (
	ArchCLIPViT    = "clip-vit"   // CLIP ViT dual encoder (docs/DESIGN.md §1.1)
	ArchSimpleCLIP = "simpleclip" // the BiLSTM + MLP SimpleCLIP of docs/DESIGN.md §1.4
	ArchSigLIP     = "siglip"     // SigLIP / SigLIP 2 (fixed resolution) dual encoder

	FamilyOpenAI     = "openai"
	FamilyOpenCLIP   = "openclip"
	FamilyHF         = "hf"
	FamilySimpleCLIP = "simpleclip"

	ActQuickGELU = "quick_gelu" // x·sigmoid(1.702x)
	ActGELU      = "gelu"       // exact erf GELU
	ActGELUTanh  = "gelu_tanh"  // tanh-approximated GELU (SigLIP)
	ActReLU      = "relu"       // SimpleCLIP's image MLP

	PoolArgmax = "argmax" // row at argmax of the token ids (OpenAI)
	PoolEOS    = "eos"    // row at the first EOSTokenID (newer HF configs)
	PoolLast   = "last"   // the last of ContextLength positions (SigLIP)

	PipelineOpenAI = "openai" // resize shortest side (bicubic) + center crop, as clip.load's transform
	PipelineHF     = "hf"     // CLIPImageProcessor
	PipelineSigLIP = "siglip" // SiglipImageProcessor: RGB, bicubic resize straight to Size×Size, rescale, normalise

	TokenizerCLIPBPE = "clip-bpe" // OpenAI SimpleTokenizer
	TokenizerWords   = "words"    // whitespace word vocabulary (SimpleCLIP)
	// TokenizerSentencePiece is a SentencePiece model (Vocab names the
	// .model bytes) with the Hugging Face SigLIP or Gemma rules of
	// tokenizer/siglip, whose Config is stored in TokenizerInfo.Config.
	TokenizerSentencePiece = "sentencepiece"

	ResampleBicubic  = "bicubic"  // Pillow BICUBIC (the default)
	ResampleBilinear = "bilinear" // Pillow BILINEAR

	QuantF32 = "f32"
	QuantF16 = "f16"
	QuantQ8  = "q8"
)

// Metadata describes the model stored in a weight file: what it is, how to
// run it, and where it came from. It is stored as JSON (snake_case field
// names); readers ignore fields they do not know, so fields may be added
// without a format version change.
type Metadata struct {
	// Architecture is ArchCLIPViT or ArchSimpleCLIP.
	Architecture string `json:"architecture"`
	// Family is the source checkpoint layout: "openai", "openclip", "hf" or
	// "simpleclip".
	Family string `json:"family"`
	// EmbedDim is the size of the joint embedding space.
	EmbedDim int `json:"embed_dim"`
	// LogitScale multiplies the cosine similarity to give logits; it is
	// already exponentiated (CLIP: exp(logit_scale); SimpleCLIP:
	// 1/exp(log_temperature)).
	LogitScale float32 `json:"logit_scale"`
	// LogitBias is added to the scaled cosine (SigLIP's logit_bias; the
	// probability of a label is then sigmoid(logit)). Zero for the others.
	LogitBias float32 `json:"logit_bias,omitempty"`
	// Activation is the transformer MLP activation, ActQuickGELU or ActGELU
	// (clip-vit); empty or ActReLU for simpleclip.
	Activation string `json:"activation,omitempty"`
	// LayerNormEps is the LayerNorm epsilon (clip-vit; 1e-5 for CLIP).
	LayerNormEps float32 `json:"layer_norm_eps,omitempty"`

	// Vision is the image tower (clip-vit), nil if the file has none.
	Vision *VisionConfig `json:"vision,omitempty"`
	// Text is the text tower (clip-vit), nil if the file has none.
	Text *TextConfig `json:"text,omitempty"`
	// SimpleCLIP holds the SimpleCLIP hyper-parameters (simpleclip only).
	SimpleCLIP *SimpleCLIPConfig `json:"simpleclip,omitempty"`
	// Preprocess describes how images become the image tower's input;
	// required when Vision is set.
	Preprocess *Preprocess `json:"preprocess,omitempty"`
	// Tokenizer describes how text becomes token ids; required when Text is
	// set, optional for simpleclip (without it, text is given as ids).
	Tokenizer *TokenizerInfo `json:"tokenizer,omitempty"`

	// Quant says how the large matrices are stored.
	Quant QuantInfo `json:"quant"`
	// Provenance records the source checkpoint and the conversion.
	Provenance Provenance `json:"provenance"`
}

// VisionConfig holds the ViT image tower hyper-parameters.
type VisionConfig struct {
	ImageSize int `json:"image_size"`
	PatchSize int `json:"patch_size"`
	Width     int `json:"width"`
	Layers    int `json:"layers"`
	Heads     int `json:"heads"`
	MLPDim    int `json:"mlp_dim"`
}

// TextConfig holds the transformer text tower hyper-parameters.
type TextConfig struct {
	ContextLength int `json:"context_length"`
	VocabSize     int `json:"vocab_size"`
	Width         int `json:"width"`
	Layers        int `json:"layers"`
	Heads         int `json:"heads"`
	MLPDim        int `json:"mlp_dim"`
	// Pooling is PoolArgmax or PoolEOS.
	Pooling    string `json:"pooling"`
	EOSTokenID int    `json:"eos_token_id"`
	BOSTokenID int    `json:"bos_token_id"`
}

// SimpleCLIPConfig holds the lecture's SimpleCLIP hyper-parameters.
type SimpleCLIPConfig struct {
	VocabSize      int `json:"vocab_size"`
	EmbedDim       int `json:"embed_dim"`  // token embedding size
	HiddenDim      int `json:"hidden_dim"` // LSTM hidden size per direction
	ImageInputDim  int `json:"image_input_dim"`
	ImageHiddenDim int `json:"image_hidden_dim"`
	OutputDim      int `json:"output_dim"`
	UnknownTokenID int `json:"unknown_token_id"`
	// Lowercase makes the word tokenizer lower-case its input.
	Lowercase bool `json:"lowercase"`
}

// Preprocess describes image preprocessing.
type Preprocess struct {
	// Size is the resize target of the shortest side, Crop the center crop.
	Size int `json:"size"`
	Crop int `json:"crop"`
	// Mean and Std normalise each RGB channel after scaling to [0,1].
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
	// Pipeline is PipelineOpenAI, PipelineHF or PipelineSigLIP.
	Pipeline string `json:"pipeline"`
	// Resample is the resize filter: ResampleBicubic (also when empty)
	// or ResampleBilinear.
	Resample string `json:"resample,omitempty"`
}

// TokenizerInfo describes the tokenizer. Vocab and Merges name U8 tensors of
// the same file holding the tokenizer's data when it is packed; empty names
// mean the tokenizer package's built-in data (the default CLIP BPE). The
// content of those blobs is defined by the tokenizer, not by this package.
type TokenizerInfo struct {
	// Kind is TokenizerCLIPBPE or TokenizerWords.
	Kind   string `json:"kind"`
	Vocab  string `json:"vocab,omitempty"`
	Merges string `json:"merges,omitempty"`
	// Config is the tokenizer's own configuration (TokenizerSentencePiece:
	// a tokenizer/siglip Config), opaque to this package.
	Config json.RawMessage `json:"config,omitempty"`
}

// QuantInfo says how the large matrices are stored.
type QuantInfo struct {
	// Type is QuantF32, QuantF16 or QuantQ8.
	Type string `json:"type"`
	// Block is the q8 block size along the input dimension; 0 = per row.
	Block int `json:"block"`
}

// Provenance records where a model came from. None of it is interpreted.
type Provenance struct {
	Source           string   `json:"source,omitempty"`
	SourceFormat     string   `json:"source_format,omitempty"`
	SourceSHA256     string   `json:"source_sha256,omitempty"`
	Converter        string   `json:"converter,omitempty"`
	ConverterVersion string   `json:"converter_version,omitempty"`
	Args             []string `json:"args,omitempty"`
	// Created is set only by the caller (the Writer adds no timestamps, so
	// equal inputs give byte-identical files).
	Created string `json:"created,omitempty"`
}

// Validate checks the internal consistency of m: known enumerations,
// positive dimensions, widths divisible by head counts, token ids inside the
// vocabulary, the sections an architecture needs present and the others
// absent. It returns the first problem found.
func (m *Metadata) Validate() error {
	if m == nil {
		return errors.New("metadata is missing")
	}
	if !(m.LogitScale > 0) || math.IsInf(float64(m.LogitScale), 0) {
		return fmt.Errorf("logit_scale %v must be finite and positive", m.LogitScale)
	}
	if err := positive("embed_dim", m.EmbedDim); err != nil {
		return err
	}
	switch m.Quant.Type {
	case QuantF32, QuantF16:
		if m.Quant.Block != 0 {
			return fmt.Errorf("quant.block %d given for quant.type %q (only q8 has blocks)", m.Quant.Block, m.Quant.Type)
		}
	case QuantQ8:
		if m.Quant.Block < 0 {
			return fmt.Errorf("quant.block %d is negative (0 means per row)", m.Quant.Block)
		}
	default:
		return fmt.Errorf("unknown quant.type %q (want f32, f16 or q8)", m.Quant.Type)
	}
	if t := m.Tokenizer; t != nil {
		switch t.Kind {
		case TokenizerCLIPBPE:
		case TokenizerWords, TokenizerSentencePiece:
			if t.Vocab == "" {
				return fmt.Errorf("tokenizer kind %q needs a vocab tensor", t.Kind)
			}
		default:
			return fmt.Errorf("unknown tokenizer.kind %q (want %q, %q or %q)", t.Kind, TokenizerCLIPBPE, TokenizerWords, TokenizerSentencePiece)
		}
	}
	switch m.Architecture {
	case ArchCLIPViT:
		if err := m.validateCLIP(); err != nil {
			return err
		}
	case ArchSimpleCLIP:
		if err := m.validateSimpleCLIP(); err != nil {
			return err
		}
	case ArchSigLIP:
		if err := m.validateCLIP(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown architecture %q (want %q, %q or %q)", m.Architecture, ArchCLIPViT, ArchSimpleCLIP, ArchSigLIP)
	}
	return nil
}

// dualEncoder is what a transformer dual-encoder architecture allows: its
// families, activations, text pooling, tokenizer and image pipelines.
type dualEncoder struct {
	families, acts, pools, pipelines []string
	tokenizer                        string
}

var dualEncoders = map[string]dualEncoder{
	ArchCLIPViT: {families: []string{FamilyOpenAI, FamilyOpenCLIP, FamilyHF}, acts: []string{ActQuickGELU, ActGELU},
		pools: []string{PoolArgmax, PoolEOS}, pipelines: []string{PipelineOpenAI, PipelineHF}, tokenizer: TokenizerCLIPBPE},
	ArchSigLIP: {families: []string{FamilyHF}, acts: []string{ActGELUTanh},
		pools: []string{PoolLast}, pipelines: []string{PipelineSigLIP}, tokenizer: TokenizerSentencePiece},
}

func oneOf(what, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("%s %q is not one of %q", what, v, allowed)
	}
	return nil
}

// validateCLIP checks a transformer dual encoder (clip-vit, siglip).
func (m *Metadata) validateCLIP() error {
	arch := dualEncoders[m.Architecture]
	if m.Architecture == ArchSigLIP {
		if math.IsNaN(float64(m.LogitBias)) || math.IsInf(float64(m.LogitBias), 0) {
			return fmt.Errorf("logit_bias %v is not finite", m.LogitBias)
		}
		if m.Vision != nil && m.Vision.Width != m.EmbedDim {
			return fmt.Errorf("siglip vision.width %d differs from embed_dim %d (the pooled image is the embedding)", m.Vision.Width, m.EmbedDim)
		}
	}
	if !slices.Contains(arch.families, m.Family) {
		return fmt.Errorf("family %q is not a %s family (want one of %q)", m.Family, m.Architecture, arch.families)
	}
	if !slices.Contains(arch.acts, m.Activation) {
		return fmt.Errorf("unknown activation %q for %s (want one of %q)", m.Activation, m.Architecture, arch.acts)
	}
	if !(m.LayerNormEps > 0) || math.IsInf(float64(m.LayerNormEps), 0) {
		return fmt.Errorf("layer_norm_eps %v must be finite and positive", m.LayerNormEps)
	}
	if m.SimpleCLIP != nil {
		return errors.New("simpleclip section present in a clip-vit model")
	}
	if m.Vision == nil && m.Text == nil {
		return errors.New("clip-vit model has neither a vision nor a text tower")
	}
	if v := m.Vision; v != nil {
		if err := positiveAll("vision.", []string{"image_size", "patch_size", "width", "layers", "heads", "mlp_dim"},
			v.ImageSize, v.PatchSize, v.Width, v.Layers, v.Heads, v.MLPDim); err != nil {
			return err
		}
		if v.ImageSize%v.PatchSize != 0 {
			return fmt.Errorf("vision.image_size %d is not a multiple of vision.patch_size %d", v.ImageSize, v.PatchSize)
		}
		if v.Width%v.Heads != 0 {
			return fmt.Errorf("vision.width %d is not divisible by vision.heads %d", v.Width, v.Heads)
		}
		p := m.Preprocess
		if p == nil {
			return errors.New("vision tower without a preprocess section")
		}
		if err := p.validate(); err != nil {
			return err
		}
		if p.Crop != v.ImageSize {
			return fmt.Errorf("preprocess.crop %d differs from vision.image_size %d", p.Crop, v.ImageSize)
		}
		if err := oneOf("preprocess.pipeline", p.Pipeline, arch.pipelines); err != nil {
			return err
		}
	}
	if t := m.Text; t != nil {
		if err := positiveAll("text.", []string{"context_length", "vocab_size", "width", "layers", "heads", "mlp_dim"},
			t.ContextLength, t.VocabSize, t.Width, t.Layers, t.Heads, t.MLPDim); err != nil {
			return err
		}
		if t.Width%t.Heads != 0 {
			return fmt.Errorf("text.width %d is not divisible by text.heads %d", t.Width, t.Heads)
		}
		if !slices.Contains(arch.pools, t.Pooling) {
			return fmt.Errorf("unknown text.pooling %q (want one of %q)", t.Pooling, arch.pools)
		}
		if t.EOSTokenID < 0 || t.EOSTokenID >= t.VocabSize {
			return fmt.Errorf("text.eos_token_id %d outside the vocabulary [0,%d)", t.EOSTokenID, t.VocabSize)
		}
		if t.BOSTokenID < 0 || t.BOSTokenID >= t.VocabSize {
			return fmt.Errorf("text.bos_token_id %d outside the vocabulary [0,%d)", t.BOSTokenID, t.VocabSize)
		}
		if m.Tokenizer == nil {
			return errors.New("text tower without a tokenizer section")
		}
		if m.Tokenizer.Kind != arch.tokenizer {
			return fmt.Errorf("tokenizer.kind %q for a %s text tower (want %q)", m.Tokenizer.Kind, m.Architecture, arch.tokenizer)
		}
	}
	return nil
}

func (m *Metadata) validateSimpleCLIP() error {
	if m.Family != FamilySimpleCLIP {
		return fmt.Errorf("family %q for a simpleclip model (want %q)", m.Family, FamilySimpleCLIP)
	}
	if m.Activation != "" && m.Activation != ActReLU {
		return fmt.Errorf("activation %q for simpleclip (want empty or %q)", m.Activation, ActReLU)
	}
	if m.Vision != nil || m.Text != nil {
		return errors.New("vision or text section present in a simpleclip model")
	}
	s := m.SimpleCLIP
	if s == nil {
		return errors.New("simpleclip model without a simpleclip section")
	}
	if err := positiveAll("simpleclip.", []string{"vocab_size", "embed_dim", "hidden_dim", "image_input_dim", "image_hidden_dim", "output_dim"},
		s.VocabSize, s.EmbedDim, s.HiddenDim, s.ImageInputDim, s.ImageHiddenDim, s.OutputDim); err != nil {
		return err
	}
	if s.UnknownTokenID < 0 || s.UnknownTokenID >= s.VocabSize {
		return fmt.Errorf("simpleclip.unknown_token_id %d outside the vocabulary [0,%d)", s.UnknownTokenID, s.VocabSize)
	}
	if s.OutputDim != m.EmbedDim {
		return fmt.Errorf("simpleclip.output_dim %d differs from embed_dim %d", s.OutputDim, m.EmbedDim)
	}
	if m.Tokenizer != nil && m.Tokenizer.Kind != TokenizerWords {
		return fmt.Errorf("tokenizer.kind %q for simpleclip (want %q)", m.Tokenizer.Kind, TokenizerWords)
	}
	return nil
}

// MaxPreprocessSide bounds Preprocess.Size and Crop: the image
// preprocessing refuses larger targets (a 16384² float32 tensor is 3 GiB).
const MaxPreprocessSide = 1 << 14

func (p *Preprocess) validate() error {
	if err := positiveAll("preprocess.", []string{"size", "crop"}, p.Size, p.Crop); err != nil {
		return err
	}
	if p.Size > MaxPreprocessSide || p.Crop > MaxPreprocessSide {
		return fmt.Errorf("preprocess.size %d and preprocess.crop %d must be at most %d", p.Size, p.Crop, MaxPreprocessSide)
	}
	if p.Crop > p.Size {
		return fmt.Errorf("preprocess.crop %d larger than preprocess.size %d", p.Crop, p.Size)
	}
	for i := range 3 {
		if math.IsNaN(float64(p.Mean[i])) || math.IsInf(float64(p.Mean[i]), 0) {
			return fmt.Errorf("preprocess.mean[%d] %v is not finite", i, p.Mean[i])
		}
		if !(p.Std[i] > 0) || math.IsInf(float64(p.Std[i]), 0) {
			return fmt.Errorf("preprocess.std[%d] %v must be finite and positive", i, p.Std[i])
		}
	}
	switch p.Resample {
	case "", ResampleBicubic, ResampleBilinear:
	default:
		return fmt.Errorf("unknown preprocess.resample %q (want %q or %q)", p.Resample, ResampleBicubic, ResampleBilinear)
	}
	switch p.Pipeline {
	case PipelineOpenAI, PipelineHF:
	case PipelineSigLIP:
		if p.Crop != p.Size {
			return fmt.Errorf("preprocess.crop %d differs from preprocess.size %d in the siglip pipeline (no crop)", p.Crop, p.Size)
		}
	default:
		return fmt.Errorf("unknown preprocess.pipeline %q (want %q, %q or %q)", p.Pipeline, PipelineOpenAI, PipelineHF, PipelineSigLIP)
	}
	return nil
}

// tensorRefs returns the tensor names the metadata refers to.
func (m *Metadata) tensorRefs() []string {
	if m.Tokenizer == nil {
		return nil
	}
	var refs []string
	if m.Tokenizer.Vocab != "" {
		refs = append(refs, m.Tokenizer.Vocab)
	}
	if m.Tokenizer.Merges != "" {
		refs = append(refs, m.Tokenizer.Merges)
	}
	return refs
}

func positive(name string, v int) error {
	if v <= 0 {
		return fmt.Errorf("%s %d must be positive", name, v)
	}
	return nil
}

func positiveAll(prefix string, names []string, vals ...int) error {
	for i, v := range vals {
		if err := positive(prefix+names[i], v); err != nil {
			return err
		}
	}
	return nil
}
