package convert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/clipinfer/clipinfer/format"
)

// OpenAI CLIP's image normalisation, used unless a preprocessor config says
// otherwise.
var (
	clipMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	clipStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// Default special tokens of the CLIP BPE.
const (
	sotToken = 49406
	eotToken = 49407
)

func init() {
	registerFamily(sourceFamily{name: "hf-clip", detect: isHFCLIP, plan: (*source).planHF})
	registerFamily(sourceFamily{name: "openai", detect: isOpenAI, plan: (*source).planOpenAI})
	registerFamily(sourceFamily{name: "hf-weights", detect: isHFWeightsOnly, plan: func(*source) (*plan, error) {
		return nil, errors.New("these are Hugging Face CLIPModel weights: convert the model directory (with config.json), not the weights file alone")
	}})
}

// isHFCLIP: a Hugging Face CLIPModel directory.
func isHFCLIP(s *source) bool { return s.hf != nil }

// isOpenAI: an OpenAI or OpenCLIP state dict.
func isOpenAI(s *source) bool {
	return s.dir == "" && (s.has("visual.conv1.weight") || s.has("token_embedding.weight"))
}

// isHFWeightsOnly: the weights of a Hugging Face model without its
// directory (and so without its configuration).
func isHFWeightsOnly(s *source) bool {
	return s.dir == "" && (s.has("vision_model.embeddings.patch_embedding.weight") || s.has("text_model.embeddings.token_embedding.weight"))
}

// builder accumulates the output plan and the first shape error.
type builder struct {
	s   *source
	p   *plan
	err error
}

func (b *builder) failf(f string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(f, args...)
	}
}

// expect checks a source tensor's shape.
func (b *builder) expect(src string, shape ...int) bool {
	got := b.s.shape(src)
	if got == nil {
		b.failf("missing tensor %s", src)
		return false
	}
	if !slices.Equal(got, shape) {
		b.failf("tensor %s has shape %v, expected %v", src, got, shape)
		return false
	}
	return true
}

func (b *builder) add(name, tower string, k kind, shape []int, load func() ([]float32, error)) {
	b.p.tensors = append(b.p.tensors, planned{name: name, shape: shape, kind: k, tower: tower, load: load})
}

// vec copies a vector (or any tensor kept in f32) unchanged.
func (b *builder) vec(dst, src, tower string, shape ...int) {
	if b.expect(src, shape...) {
		b.add(dst, tower, keepF32, shape, b.s.values(src))
	}
}

// mat copies a [rows, cols] matrix stored as a weight; srcShape may differ
// from [rows, cols] only by a reshape (conv kernels).
func (b *builder) mat(dst, src, tower string, rows, cols int, srcShape ...int) {
	if srcShape == nil {
		srcShape = []int{rows, cols}
	}
	if b.expect(src, srcShape...) {
		b.add(dst, tower, weight, []int{rows, cols}, b.s.values(src))
	}
}

// transposed stores the transpose of a [rows, cols] source as [cols, rows].
func (b *builder) transposed(dst, src, tower string, rows, cols int) {
	if !b.expect(src, rows, cols) {
		return
	}
	load := b.s.values(src)
	b.add(dst, tower, weight, []int{cols, rows}, func() ([]float32, error) {
		v, err := load()
		if err != nil {
			return nil, err
		}
		t := make([]float32, len(v))
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				t[c*rows+r] = v[r*cols+c]
			}
		}
		return t, nil
	})
}

// concat stores the row-wise concatenation of sources of equal shape.
func (b *builder) concat(dst, tower string, k kind, shape []int, srcs ...string) {
	var loads []func() ([]float32, error)
	for _, src := range srcs {
		if !b.expect(src, shape...) {
			return
		}
		loads = append(loads, b.s.values(src))
	}
	out := append([]int{shape[0] * len(srcs)}, shape[1:]...)
	b.add(dst, tower, k, out, func() ([]float32, error) {
		var all []float32
		for _, l := range loads {
			v, err := l()
			if err != nil {
				return nil, err
			}
			all = append(all, v...)
		}
		return all, nil
	})
}

// countLayers counts consecutive layers i for which format(i) names a tensor.
func (s *source) countLayers(f func(i int) string) int {
	n := 0
	for s.has(f(n)) {
		n++
	}
	return n
}

// scalar reads a one-element tensor.
func (s *source) scalar(name string) (float32, error) {
	s.used[name] = true
	t, ok := s.sd.Tensors[name]
	if !ok {
		return 0, fmt.Errorf("missing tensor %s", name)
	}
	v, err := t.Float32()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%s has %d values, expected 1", name, len(v))
	}
	return v[0], nil
}

func (s *source) logitScale(name string) (float32, error) {
	v, err := s.scalar(name)
	if err != nil {
		return 0, err
	}
	e := float32(math.Exp(float64(v)))
	if !(e > 0) || math.IsInf(float64(e), 0) {
		return 0, fmt.Errorf("%s = %v gives an unusable scale exp(%v)", name, v, v)
	}
	return e, nil
}

// blockNames maps one residual block's source keys to canonical names.
type blockNames struct {
	ln1, ln2, out, fc1, fc2 string
	qkv                     []string // one fused [3w,w] tensor, or q, k, v
}

func (b *builder) block(dst, tower string, src blockNames, w, mlp int) {
	b.vec(dst+".ln1.weight", src.ln1+".weight", tower, w)
	b.vec(dst+".ln1.bias", src.ln1+".bias", tower, w)
	if len(src.qkv) == 1 {
		b.mat(dst+".attn.qkv.weight", src.qkv[0]+"_weight", tower, 3*w, w)
		b.vec(dst+".attn.qkv.bias", src.qkv[0]+"_bias", tower, 3*w)
	} else {
		ws, bs := make([]string, 3), make([]string, 3)
		for i, n := range src.qkv {
			ws[i], bs[i] = n+".weight", n+".bias"
		}
		b.concat(dst+".attn.qkv.weight", tower, weight, []int{w, w}, ws...)
		b.concat(dst+".attn.qkv.bias", tower, keepF32, []int{w}, bs...)
	}
	b.mat(dst+".attn.out.weight", src.out+".weight", tower, w, w)
	b.vec(dst+".attn.out.bias", src.out+".bias", tower, w)
	b.vec(dst+".ln2.weight", src.ln2+".weight", tower, w)
	b.vec(dst+".ln2.bias", src.ln2+".bias", tower, w)
	b.mat(dst+".mlp.fc1.weight", src.fc1+".weight", tower, mlp, w)
	b.vec(dst+".mlp.fc1.bias", src.fc1+".bias", tower, mlp)
	b.mat(dst+".mlp.fc2.weight", src.fc2+".weight", tower, w, mlp)
	b.vec(dst+".mlp.fc2.bias", src.fc2+".bias", tower, w)
}

// headsFromWidth is OpenAI build_model's rule: 64-wide heads.
func headsFromWidth(tower string, w int) (int, error) {
	if w%64 != 0 {
		return 0, fmt.Errorf("%s width %d is not a multiple of 64, so the head count cannot be inferred (OpenAI layout uses 64-wide heads)", tower, w)
	}
	return w / 64, nil
}

// planOpenAI maps an OpenAI / OpenCLIP state dict (docs/DESIGN.md §1.2), inferring
// hyper-parameters from shapes as OpenAI's build_model does.
func (s *source) planOpenAI() (*plan, error) {
	act, family := s.opt.Activation, format.FamilyOpenAI
	if act == "" {
		act = format.ActQuickGELU
	}
	if act == format.ActGELU {
		family = format.FamilyOpenCLIP
	}
	p := &plan{family: family, meta: format.Metadata{
		Architecture: format.ArchCLIPViT, Family: family, Activation: act, LayerNormEps: 1e-5,
	}}
	b := &builder{s: s, p: p}
	embed := 0
	if s.opt.Tower != TowerText {
		conv := s.shape("visual.conv1.weight")
		pos := s.shape("visual.positional_embedding")
		proj := s.shape("visual.proj")
		if len(conv) != 4 || len(pos) != 2 || len(proj) != 2 || conv[1] != 3 || conv[2] != conv[3] {
			return nil, fmt.Errorf("not an OpenAI ViT image tower: visual.conv1.weight %v, visual.positional_embedding %v, visual.proj %v (ResNet towers are not supported)", conv, pos, proj)
		}
		w, patch := conv[0], conv[2]
		grid := int(math.Round(math.Sqrt(float64(pos[0] - 1))))
		if grid*grid+1 != pos[0] {
			return nil, fmt.Errorf("visual.positional_embedding has %d rows, not grid²+1", pos[0])
		}
		layers := s.countLayers(func(i int) string { return "visual.transformer.resblocks." + strconv.Itoa(i) + ".attn.in_proj_weight" })
		fc := s.shape("visual.transformer.resblocks.0.mlp.c_fc.weight")
		if layers == 0 || len(fc) != 2 {
			return nil, fmt.Errorf("visual.transformer has no residual blocks")
		}
		heads, err := headsFromWidth("vision", w)
		if err != nil {
			return nil, err
		}
		embed = proj[1]
		v := &format.VisionConfig{ImageSize: grid * patch, PatchSize: patch, Width: w, Layers: layers, Heads: heads, MLPDim: fc[0]}
		p.meta.Vision = v
		p.meta.Preprocess = &format.Preprocess{Size: v.ImageSize, Crop: v.ImageSize, Mean: clipMean, Std: clipStd, Pipeline: format.PipelineOpenAI}
		b.mat("vision.patch_embed.weight", "visual.conv1.weight", "vision", w, 3*patch*patch, w, 3, patch, patch)
		b.vec("vision.class_embed", "visual.class_embedding", "vision", w)
		b.vec("vision.pos_embed", "visual.positional_embedding", "vision", pos[0], w)
		b.vec("vision.ln_pre.weight", "visual.ln_pre.weight", "vision", w)
		b.vec("vision.ln_pre.bias", "visual.ln_pre.bias", "vision", w)
		for i := 0; i < layers; i++ {
			src := "visual.transformer.resblocks." + strconv.Itoa(i)
			b.block("vision.blocks."+strconv.Itoa(i), "vision", openaiBlock(src), w, v.MLPDim)
		}
		b.vec("vision.ln_post.weight", "visual.ln_post.weight", "vision", w)
		b.vec("vision.ln_post.bias", "visual.ln_post.bias", "vision", w)
		b.transposed("vision.proj.weight", "visual.proj", "vision", w, embed)
	}
	if s.opt.Tower != TowerVision {
		tok := s.shape("token_embedding.weight")
		pos := s.shape("positional_embedding")
		proj := s.shape("text_projection")
		if len(tok) != 2 || len(pos) != 2 || len(proj) != 2 {
			return nil, fmt.Errorf("not an OpenAI text tower: token_embedding.weight %v, positional_embedding %v, text_projection %v", tok, pos, proj)
		}
		w := tok[1]
		layers := s.countLayers(func(i int) string { return "transformer.resblocks." + strconv.Itoa(i) + ".attn.in_proj_weight" })
		fc := s.shape("transformer.resblocks.0.mlp.c_fc.weight")
		if layers == 0 || len(fc) != 2 {
			return nil, fmt.Errorf("transformer has no residual blocks")
		}
		heads, err := headsFromWidth("text", w)
		if err != nil {
			return nil, err
		}
		if embed != 0 && proj[1] != embed {
			return nil, fmt.Errorf("text_projection gives embedding size %d, visual.proj %d", proj[1], embed)
		}
		embed = proj[1]
		if tok[0] <= eotToken {
			return nil, fmt.Errorf("token_embedding has %d rows; the CLIP BPE needs %d", tok[0], eotToken+1)
		}
		p.meta.Text = &format.TextConfig{ContextLength: pos[0], VocabSize: tok[0], Width: w, Layers: layers, Heads: heads,
			MLPDim: fc[0], Pooling: format.PoolArgmax, EOSTokenID: eotToken, BOSTokenID: sotToken}
		p.meta.Tokenizer = &format.TokenizerInfo{Kind: format.TokenizerCLIPBPE}
		b.mat("text.token_embed", "token_embedding.weight", "text", tok[0], w)
		b.vec("text.pos_embed", "positional_embedding", "text", pos[0], w)
		for i := 0; i < layers; i++ {
			src := "transformer.resblocks." + strconv.Itoa(i)
			b.block("text.blocks."+strconv.Itoa(i), "text", openaiBlock(src), w, fc[0])
		}
		b.vec("text.ln_final.weight", "ln_final.weight", "text", w)
		b.vec("text.ln_final.bias", "ln_final.bias", "text", w)
		b.transposed("text.proj.weight", "text_projection", "text", w, embed)
	}
	return b.finish(embed)
}

// finish ends a CLIP plan: the first error of the builder, else the
// embedding width and the logit scale.
func (b *builder) finish(embed int) (*plan, error) {
	if b.err != nil {
		return nil, b.err
	}
	b.p.meta.EmbedDim = embed
	ls, err := b.s.logitScale("logit_scale")
	if err != nil {
		return nil, err
	}
	b.p.meta.LogitScale = ls
	return b.p, nil
}

func openaiBlock(src string) blockNames {
	return blockNames{
		ln1: src + ".ln_1", ln2: src + ".ln_2", out: src + ".attn.out_proj",
		fc1: src + ".mlp.c_fc", fc2: src + ".mlp.c_proj", qkv: []string{src + ".attn.in_proj"},
	}
}

// hfEncoder plans the layers of a Hugging Face encoder (CLIP's or
// SigLIP's, either tower): src+"encoder.layers.i" become tower+".blocks.i",
// and config.json's layer count must match the weights'.
func (b *builder) hfEncoder(tower, src string, layers, w, mlp int) {
	for i := 0; i < layers; i++ {
		b.block(tower+".blocks."+strconv.Itoa(i), tower, hfBlock(src+"encoder.layers."+strconv.Itoa(i)), w, mlp)
	}
	if n := b.s.countLayers(func(i int) string { return src + "encoder.layers." + strconv.Itoa(i) + ".layer_norm1.weight" }); n != layers {
		b.failf("config.json says %d %s layers, the weights have %d", layers, tower, n)
	}
}

func hfBlock(src string) blockNames {
	a := src + ".self_attn."
	return blockNames{
		ln1: src + ".layer_norm1", ln2: src + ".layer_norm2", out: a + "out_proj",
		fc1: src + ".mlp.fc1", fc2: src + ".mlp.fc2", qkv: []string{a + "q_proj", a + "k_proj", a + "v_proj"},
	}
}

// planHF maps a Hugging Face CLIPModel directory (docs/DESIGN.md §1.2).
func (s *source) planHF() (*plan, error) {
	cfg := s.hf.Config
	tc, vc := cfg.TextConfig, cfg.VisionConfig
	wantText, wantVision := s.opt.Tower != TowerVision, s.opt.Tower != TowerText
	act := ""
	eps := 0.0
	for _, t := range []struct {
		on       bool
		act, who string
		eps      float64
	}{{wantVision, vc.HiddenAct, "vision_config", vc.LayerNormEps}, {wantText, tc.HiddenAct, "text_config", tc.LayerNormEps}} {
		if !t.on {
			continue
		}
		a := t.act
		if a == "gelu_pytorch_tanh" || (a != format.ActGELU && a != format.ActQuickGELU) {
			return nil, fmt.Errorf("config.json %s.hidden_act %q is not supported (want quick_gelu or gelu)", t.who, a)
		}
		if act != "" && a != act {
			return nil, fmt.Errorf("config.json uses %q in one tower and %q in the other; clipinfer needs one activation", act, a)
		}
		if eps != 0 && t.eps != eps {
			return nil, fmt.Errorf("config.json uses layer_norm_eps %g and %g; clipinfer needs one", eps, t.eps)
		}
		act, eps = a, t.eps
	}
	if s.opt.Activation != "" {
		act = s.opt.Activation
	}
	p := &plan{family: format.FamilyHF, meta: format.Metadata{
		Architecture: format.ArchCLIPViT, Family: format.FamilyHF, Activation: act, LayerNormEps: float32(eps),
	}}
	b := &builder{s: s, p: p}
	embed := 0
	if wantVision {
		w, patch := vc.HiddenSize, vc.PatchSize
		if patch <= 0 || vc.ImageSize%patch != 0 {
			return nil, fmt.Errorf("config.json vision_config: image_size %d is not a multiple of patch_size %d", vc.ImageSize, patch)
		}
		if vc.NumAttentionHeads <= 0 || w%vc.NumAttentionHeads != 0 {
			return nil, fmt.Errorf("config.json vision_config: hidden_size %d not divisible by num_attention_heads %d", w, vc.NumAttentionHeads)
		}
		grid := vc.ImageSize / patch
		proj := s.shape("visual_projection.weight")
		if len(proj) != 2 {
			return nil, fmt.Errorf("missing tensor visual_projection.weight")
		}
		embed = proj[0]
		v := &format.VisionConfig{ImageSize: vc.ImageSize, PatchSize: patch, Width: w, Layers: vc.NumHiddenLayers, Heads: vc.NumAttentionHeads, MLPDim: vc.IntermediateSize}
		p.meta.Vision = v
		pp, err := s.hfPreprocess(vc.ImageSize)
		if err != nil {
			return nil, err
		}
		p.meta.Preprocess = pp
		vm := "vision_model."
		b.mat("vision.patch_embed.weight", vm+"embeddings.patch_embedding.weight", "vision", w, 3*patch*patch, w, 3, patch, patch)
		b.vec("vision.class_embed", vm+"embeddings.class_embedding", "vision", w)
		b.vec("vision.pos_embed", vm+"embeddings.position_embedding.weight", "vision", grid*grid+1, w)
		b.vec("vision.ln_pre.weight", vm+"pre_layrnorm.weight", "vision", w)
		b.vec("vision.ln_pre.bias", vm+"pre_layrnorm.bias", "vision", w)
		b.hfEncoder("vision", vm, v.Layers, w, v.MLPDim)
		b.vec("vision.ln_post.weight", vm+"post_layernorm.weight", "vision", w)
		b.vec("vision.ln_post.bias", vm+"post_layernorm.bias", "vision", w)
		b.mat("vision.proj.weight", "visual_projection.weight", "vision", embed, w)
	}
	if wantText {
		w := tc.HiddenSize
		if tc.NumAttentionHeads <= 0 || w%tc.NumAttentionHeads != 0 {
			return nil, fmt.Errorf("config.json text_config: hidden_size %d not divisible by num_attention_heads %d", w, tc.NumAttentionHeads)
		}
		proj := s.shape("text_projection.weight")
		if len(proj) != 2 {
			return nil, fmt.Errorf("missing tensor text_projection.weight")
		}
		if embed != 0 && proj[0] != embed {
			return nil, fmt.Errorf("text_projection gives embedding size %d, visual_projection %d", proj[0], embed)
		}
		embed = proj[0]
		pool := format.PoolEOS
		if tc.EOSTokenID == 2 {
			pool = format.PoolArgmax // legacy configs: argmax of the ids
		}
		t := &format.TextConfig{ContextLength: tc.MaxPositionEmbeddings, VocabSize: tc.VocabSize, Width: w, Layers: tc.NumHiddenLayers,
			Heads: tc.NumAttentionHeads, MLPDim: tc.IntermediateSize, Pooling: pool, EOSTokenID: tc.EOSTokenID, BOSTokenID: tc.BOSTokenID}
		if pool == format.PoolArgmax {
			t.EOSTokenID, t.BOSTokenID = eotToken, sotToken
		}
		p.meta.Text = t
		p.meta.Tokenizer = &format.TokenizerInfo{Kind: format.TokenizerCLIPBPE}
		if s.hf.Merges != nil {
			p.meta.Tokenizer.Merges = "tokenizer.merges"
			p.tensors = append(p.tensors, planned{name: "tokenizer.merges", shape: []int{len(s.hf.Merges)}, kind: blob, tower: "text", data: s.hf.Merges})
			if s.hf.Vocab != nil {
				p.meta.Tokenizer.Vocab = "tokenizer.vocab"
				p.tensors = append(p.tensors, planned{name: "tokenizer.vocab", shape: []int{len(s.hf.Vocab)}, kind: blob, tower: "text", data: s.hf.Vocab})
			}
		}
		tm := "text_model."
		b.mat("text.token_embed", tm+"embeddings.token_embedding.weight", "text", t.VocabSize, w)
		b.vec("text.pos_embed", tm+"embeddings.position_embedding.weight", "text", t.ContextLength, w)
		b.hfEncoder("text", tm, t.Layers, w, t.MLPDim)
		b.vec("text.ln_final.weight", tm+"final_layer_norm.weight", "text", w)
		b.vec("text.ln_final.bias", tm+"final_layer_norm.bias", "text", w)
		b.mat("text.proj.weight", "text_projection.weight", "text", embed, w)
	}
	return b.finish(embed)
}

// hfPreprocess reads preprocessor_config.json, defaulting to CLIP's values.
// Settings the runtime cannot reproduce exactly are refused rather than
// approximated.
func (s *source) hfPreprocess(imageSize int) (*format.Preprocess, error) {
	pp := &format.Preprocess{Size: imageSize, Crop: imageSize, Mean: clipMean, Std: clipStd, Pipeline: format.PipelineHF}
	c := s.hf.Preprocessor
	if c == nil {
		return pp, nil
	}
	bad := func(what string) (*format.Preprocess, error) {
		return nil, fmt.Errorf("preprocessor_config.json: %s is not supported (clipinfer resizes the shortest edge with bicubic, centre-crops a square, rescales by 1/255 and normalises)", what)
	}
	switch {
	case !c.DoResize || !c.DoCenterCrop || !c.DoNormalize || !c.DoRescale:
		return bad("turning off resize, centre crop, rescale or normalise")
	case c.Size.ShortestEdge == 0 && c.Size.Height > 0:
		return bad(fmt.Sprintf("a fixed resize to %d×%d", c.Size.Width, c.Size.Height))
	case c.CropSize.Height != c.CropSize.Width:
		return bad(fmt.Sprintf("a non-square crop %d×%d", c.CropSize.Width, c.CropSize.Height))
	case c.Resample != 3:
		return bad(fmt.Sprintf("resample filter %d (only 3, bicubic)", c.Resample))
	case math.Abs(c.RescaleFactor-1.0/255) > 1e-9:
		return bad(fmt.Sprintf("rescale_factor %g", c.RescaleFactor))
	}
	if c.Size.ShortestEdge > format.MaxPreprocessSide {
		return nil, fmt.Errorf("preprocessor_config.json: size.shortest_edge %d is larger than the %d clipinfer accepts", c.Size.ShortestEdge, format.MaxPreprocessSide)
	}
	if c.CropSize.Height > format.MaxPreprocessSide {
		return nil, fmt.Errorf("preprocessor_config.json: crop_size %d is larger than the %d clipinfer accepts", c.CropSize.Height, format.MaxPreprocessSide)
	}
	if c.Size.ShortestEdge > 0 {
		pp.Size = c.Size.ShortestEdge
	}
	if c.CropSize.Height > 0 {
		pp.Crop = c.CropSize.Height
	}
	if pp.Crop > pp.Size {
		return nil, fmt.Errorf("preprocessor_config.json: crop_size %d is larger than size.shortest_edge %d", pp.Crop, pp.Size)
	}
	if len(c.ImageMean) != 3 {
		return nil, fmt.Errorf("preprocessor_config.json: image_mean has %d values, RGB needs 3", len(c.ImageMean))
	}
	for i := range 3 {
		pp.Mean[i], pp.Std[i] = float32(c.ImageMean[i]), float32(c.ImageStd[i])
		if !(pp.Std[i] > 0) || math.IsInf(float64(pp.Std[i]), 0) || math.IsInf(float64(pp.Mean[i]), 0) {
			return nil, fmt.Errorf("preprocessor_config.json: image_mean[%d] %v and image_std[%d] %v must be finite, the std positive", i, c.ImageMean[i], i, c.ImageStd[i])
		}
	}
	return pp, nil
}
