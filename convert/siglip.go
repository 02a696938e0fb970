package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/clipinfer/clipinfer/checkpoint"
	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/tokenizer/siglip"
)

func init() {
	registerFamily(sourceFamily{name: "hf-siglip", detect: func(s *source) bool { return s.modelType == "siglip" }, plan: (*source).planSigLIP})
	registerFamily(sourceFamily{name: "hf-siglip2-naflex", detect: func(s *source) bool { return s.modelType == "siglip2" }, plan: func(*source) (*plan, error) {
		return nil, errors.New("config.json model_type \"siglip2\" is SigLIP 2's variable-resolution (NaFlex) model, which is not supported; the fixed-resolution SigLIP 2 checkpoints (model_type \"siglip\") are")
	}})
}

// siglipTextConfig and siglipVisionConfig are transformers'
// SiglipTextConfig and SiglipVisionConfig with their defaults.
type siglipTextConfig struct {
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	HiddenAct             string  `json:"hidden_act"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	ProjectionSize        *int    `json:"projection_size"`
	EOSTokenID            int     `json:"eos_token_id"`
	BOSTokenID            int     `json:"bos_token_id"`
}

type siglipVisionConfig struct {
	HiddenSize        int     `json:"hidden_size"`
	IntermediateSize  int     `json:"intermediate_size"`
	NumHiddenLayers   int     `json:"num_hidden_layers"`
	NumAttentionHeads int     `json:"num_attention_heads"`
	NumChannels       int     `json:"num_channels"`
	ImageSize         int     `json:"image_size"`
	PatchSize         int     `json:"patch_size"`
	HiddenAct         string  `json:"hidden_act"`
	LayerNormEps      float64 `json:"layer_norm_eps"`
	VisionUseHead     *bool   `json:"vision_use_head"`
}

// parseSigLIPConfig reads config.json over transformers' defaults
// (google/siglip-base-patch16-224).
func parseSigLIPConfig(data []byte) (siglipTextConfig, siglipVisionConfig, error) {
	cfg := struct {
		Text   siglipTextConfig   `json:"text_config"`
		Vision siglipVisionConfig `json:"vision_config"`
	}{
		Text: siglipTextConfig{VocabSize: 32000, HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12, NumAttentionHeads: 12,
			MaxPositionEmbeddings: 64, HiddenAct: "gelu_pytorch_tanh", LayerNormEps: 1e-6, EOSTokenID: 49407, BOSTokenID: 49406},
		Vision: siglipVisionConfig{HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12, NumAttentionHeads: 12, NumChannels: 3,
			ImageSize: 224, PatchSize: 16, HiddenAct: "gelu_pytorch_tanh", LayerNormEps: 1e-6},
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg.Text, cfg.Vision, fmt.Errorf("config.json: %w", err)
	}
	t, v := cfg.Text, cfg.Vision
	for _, c := range []struct {
		who, act string
		eps      float64
	}{{"text_config", t.HiddenAct, t.LayerNormEps}, {"vision_config", v.HiddenAct, v.LayerNormEps}} {
		if c.act != "gelu_pytorch_tanh" {
			return t, v, fmt.Errorf("config.json %s.hidden_act %q is not supported (SigLIP uses gelu_pytorch_tanh)", c.who, c.act)
		}
		if c.eps != t.LayerNormEps {
			return t, v, fmt.Errorf("config.json uses layer_norm_eps %g and %g; clipinfer needs one", t.LayerNormEps, c.eps)
		}
	}
	if v.VisionUseHead != nil && !*v.VisionUseHead {
		return t, v, errors.New("config.json vision_config.vision_use_head is false: models without the attention-pooling head are not supported")
	}
	if v.NumChannels != 3 {
		return t, v, fmt.Errorf("config.json vision_config.num_channels %d is not supported (want 3)", v.NumChannels)
	}
	for _, d := range []struct {
		what   string
		w, hds int
	}{{"text_config", t.HiddenSize, t.NumAttentionHeads}, {"vision_config", v.HiddenSize, v.NumAttentionHeads}} {
		if d.w <= 0 || d.hds <= 0 || d.w%d.hds != 0 {
			return t, v, fmt.Errorf("config.json %s: hidden_size %d not divisible by num_attention_heads %d", d.what, d.w, d.hds)
		}
	}
	if v.PatchSize <= 0 || v.ImageSize%v.PatchSize != 0 {
		return t, v, fmt.Errorf("config.json vision_config: image_size %d is not a multiple of patch_size %d", v.ImageSize, v.PatchSize)
	}
	return t, v, nil
}

// planSigLIP maps a Hugging Face SiglipModel directory (SigLIP, and SigLIP
// 2 at fixed resolution): config.json, model.safetensors,
// preprocessor_config.json and the SentencePiece tokenizer.
func (s *source) planSigLIP() (*plan, error) {
	data, err := readSmallFile(filepath.Join(s.dir, "config.json"))
	if err != nil {
		return nil, err
	}
	tc, vc, err := parseSigLIPConfig(data)
	if err != nil {
		return nil, err
	}
	wantText, wantVision := s.opt.Tower != TowerVision, s.opt.Tower != TowerText
	if s.opt.Activation != "" {
		return nil, errors.New("SigLIP says its activation itself (tanh GELU); do not override it")
	}
	p := &plan{family: "hf-siglip", meta: format.Metadata{
		Architecture: format.ArchSigLIP, Family: format.FamilyHF, Activation: format.ActGELUTanh, LayerNormEps: float32(tc.LayerNormEps),
	}}
	b := &builder{s: s, p: p}
	embed := vc.HiddenSize
	if wantVision {
		w, patch := vc.HiddenSize, vc.PatchSize
		grid := vc.ImageSize / patch
		v := &format.VisionConfig{ImageSize: vc.ImageSize, PatchSize: patch, Width: w, Layers: vc.NumHiddenLayers, Heads: vc.NumAttentionHeads, MLPDim: vc.IntermediateSize}
		p.meta.Vision = v
		if p.meta.Preprocess, err = s.siglipPreprocess(vc.ImageSize); err != nil {
			return nil, err
		}
		vm := "vision_model."
		b.mat("vision.patch_embed.weight", vm+"embeddings.patch_embedding.weight", "vision", w, 3*patch*patch, w, 3, patch, patch)
		b.vec("vision.patch_embed.bias", vm+"embeddings.patch_embedding.bias", "vision", w)
		b.vec("vision.pos_embed", vm+"embeddings.position_embedding.weight", "vision", grid*grid, w)
		b.hfEncoder("vision", vm, v.Layers, w, v.MLPDim)
		b.vec("vision.ln_post.weight", vm+"post_layernorm.weight", "vision", w)
		b.vec("vision.ln_post.bias", vm+"post_layernorm.bias", "vision", w)
		h := vm + "head."
		if b.expect(h+"probe", 1, 1, w) {
			b.add("vision.head.probe", "vision", keepF32, []int{w}, s.values(h+"probe"))
		}
		b.mat("vision.head.attn.qkv.weight", h+"attention.in_proj_weight", "vision", 3*w, w)
		b.vec("vision.head.attn.qkv.bias", h+"attention.in_proj_bias", "vision", 3*w)
		b.mat("vision.head.attn.out.weight", h+"attention.out_proj.weight", "vision", w, w)
		b.vec("vision.head.attn.out.bias", h+"attention.out_proj.bias", "vision", w)
		b.vec("vision.head.ln.weight", h+"layernorm.weight", "vision", w)
		b.vec("vision.head.ln.bias", h+"layernorm.bias", "vision", w)
		b.mat("vision.head.mlp.fc1.weight", h+"mlp.fc1.weight", "vision", v.MLPDim, w)
		b.vec("vision.head.mlp.fc1.bias", h+"mlp.fc1.bias", "vision", v.MLPDim)
		b.mat("vision.head.mlp.fc2.weight", h+"mlp.fc2.weight", "vision", w, v.MLPDim)
		b.vec("vision.head.mlp.fc2.bias", h+"mlp.fc2.bias", "vision", w)
	}
	if wantText {
		w := tc.HiddenSize
		proj := w
		if tc.ProjectionSize != nil {
			proj = *tc.ProjectionSize
		}
		if wantVision && proj != embed {
			return nil, fmt.Errorf("config.json: text projection_size %d differs from the vision hidden_size %d", proj, embed)
		}
		embed = proj
		t := &format.TextConfig{ContextLength: tc.MaxPositionEmbeddings, VocabSize: tc.VocabSize, Width: w, Layers: tc.NumHiddenLayers,
			Heads: tc.NumAttentionHeads, MLPDim: tc.IntermediateSize, Pooling: format.PoolLast}
		if tc.EOSTokenID >= 0 && tc.EOSTokenID < tc.VocabSize {
			t.EOSTokenID = tc.EOSTokenID
		}
		if tc.BOSTokenID >= 0 && tc.BOSTokenID < tc.VocabSize {
			t.BOSTokenID = tc.BOSTokenID
		}
		p.meta.Text = t
		tcfg, model, err := siglip.ConfigFromHF(s.dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("hf model %s: no SentencePiece tokenizer (spiece.model or tokenizer.model with tokenizer_config.json): %w", s.dir, err)
		}
		if err != nil {
			return nil, fmt.Errorf("hf model %s: tokenizer: %w", s.dir, err)
		}
		if tcfg.MaxLength > t.ContextLength {
			return nil, fmt.Errorf("tokenizer max_length %d exceeds max_position_embeddings %d", tcfg.MaxLength, t.ContextLength)
		}
		cj, err := json.Marshal(tcfg)
		if err != nil {
			return nil, err
		}
		p.meta.Tokenizer = &format.TokenizerInfo{Kind: format.TokenizerSentencePiece, Vocab: "tokenizer.spiece", Config: cj}
		p.tensors = append(p.tensors, planned{name: "tokenizer.spiece", shape: []int{len(model)}, kind: blob, tower: "text", data: model})
		tm := "text_model."
		b.mat("text.token_embed", tm+"embeddings.token_embedding.weight", "text", t.VocabSize, w)
		b.vec("text.pos_embed", tm+"embeddings.position_embedding.weight", "text", t.ContextLength, w)
		b.hfEncoder("text", tm, t.Layers, w, t.MLPDim)
		b.vec("text.ln_final.weight", tm+"final_layer_norm.weight", "text", w)
		b.vec("text.ln_final.bias", tm+"final_layer_norm.bias", "text", w)
		b.mat("text.head.weight", tm+"head.weight", "text", embed, w)
		b.vec("text.head.bias", tm+"head.bias", "text", embed)
	}
	if _, err := b.finish(embed); err != nil {
		return nil, err
	}
	if p.meta.LogitBias, err = s.scalar("logit_bias"); err != nil {
		return nil, err
	}
	return p, nil
}

// siglipPreprocess reads preprocessor_config.json (SiglipImageProcessor):
// a bicubic resize straight to the model's square input, rescale by 1/255
// and normalise (mean and std 0.5 by default). Settings the runtime cannot
// reproduce exactly are refused.
func (s *source) siglipPreprocess(imageSize int) (*format.Preprocess, error) {
	half := [3]float32{0.5, 0.5, 0.5}
	pp := &format.Preprocess{Size: imageSize, Crop: imageSize, Mean: half, Std: half, Pipeline: format.PipelineSigLIP}
	data, err := readSmallFile(filepath.Join(s.dir, "preprocessor_config.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return pp, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := checkpoint.ParseHFPreprocessor(data)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Mean []float64 `json:"image_mean"`
		Std  []float64 `json:"image_std"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("preprocessor_config.json: %w", err)
	}
	switch {
	case !c.DoResize || !c.DoRescale || !c.DoNormalize:
		return nil, errors.New("preprocessor_config.json turns off resizing, rescaling or normalising: not supported")
	case c.Resample != 3 && c.Resample != 2:
		return nil, fmt.Errorf("preprocessor_config.json resample %d is not supported (3, bicubic, and 2, bilinear, are reproduced exactly)", c.Resample)
	case c.Size.Height != imageSize || c.Size.Width != imageSize:
		return nil, fmt.Errorf("preprocessor_config.json size %+v differs from the model's %d×%d input", c.Size, imageSize, imageSize)
	case c.RescaleFactor < 0.0039215 || c.RescaleFactor > 0.0039216:
		return nil, fmt.Errorf("preprocessor_config.json rescale_factor %v is not supported (want 1/255)", c.RescaleFactor)
	}
	if c.Resample == 2 {
		pp.Resample = format.ResampleBilinear
	}
	// SiglipImageProcessor's defaults are 0.5, not CLIP's constants
	// (which ParseHFPreprocessor assumes when the file gives none).
	for i, v := range [][]float64{raw.Mean, raw.Std} {
		if v == nil {
			continue
		}
		if len(v) != 3 {
			return nil, fmt.Errorf("preprocessor_config.json: want 3 image_mean and image_std values, got %d", len(v))
		}
		dst := &pp.Mean
		if i == 1 {
			dst = &pp.Std
		}
		for j := range 3 {
			dst[j] = float32(v[j])
		}
	}
	return pp, nil
}
