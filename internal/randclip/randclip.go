// Package randclip writes CLIP ViT checkpoints with random weights in the
// OpenAI state-dict layout, as .safetensors files. Compute cost does not
// depend on weight values, so these stand in for pretrained models in
// benchmarks (ViTB32 is the real ViT-B/32 shape), and small ones exercise
// the converter and the runtime in tests without PyTorch.
package randclip

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Spec is the shape of a CLIP ViT model.
type Spec struct {
	ImageSize, Patch, VisionWidth, VisionLayers int
	Context, Vocab, TextWidth, TextLayers       int
	Embed                                       int
}

// ViTB32 is OpenAI's ViT-B/32: 224 px, patch 32, width 768, 12 layers;
// text width 512, 12 layers, context 77; embedding 512.
var ViTB32 = Spec{ImageSize: 224, Patch: 32, VisionWidth: 768, VisionLayers: 12,
	Context: 77, Vocab: 49408, TextWidth: 512, TextLayers: 12, Embed: 512}

// Tiny is a small model with the real vocabulary, for tests.
var Tiny = Spec{ImageSize: 32, Patch: 8, VisionWidth: 128, VisionLayers: 2,
	Context: 77, Vocab: 49408, TextWidth: 64, TextLayers: 2, Embed: 32}

// Tensor is one state-dict entry.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Generate returns the state dict of a random model: every weight normal
// with fan-in scaling, LayerNorm gains around 1 and biases around 0.
func Generate(s Spec, seed uint64) map[string]Tensor {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	sd := map[string]Tensor{}
	normal := func(name string, std float64, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * std)
		}
		sd[name] = Tensor{shape, v}
	}
	gain := func(name string, n int) {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(1 + 0.1*r.NormFloat64())
		}
		sd[name] = Tensor{[]int{n}, v}
	}
	blocks := func(prefix string, w, layers int) {
		for i := 0; i < layers; i++ {
			p := prefix + strconv.Itoa(i) + "."
			gain(p+"ln_1.weight", w)
			normal(p+"ln_1.bias", 0.05, w)
			normal(p+"attn.in_proj_weight", 1/math.Sqrt(float64(w)), 3*w, w)
			normal(p+"attn.in_proj_bias", 0.05, 3*w)
			normal(p+"attn.out_proj.weight", 1/math.Sqrt(float64(w)), w, w)
			normal(p+"attn.out_proj.bias", 0.05, w)
			gain(p+"ln_2.weight", w)
			normal(p+"ln_2.bias", 0.05, w)
			normal(p+"mlp.c_fc.weight", 1/math.Sqrt(float64(w)), 4*w, w)
			normal(p+"mlp.c_fc.bias", 0.05, 4*w)
			normal(p+"mlp.c_proj.weight", 1/math.Sqrt(float64(4*w)), w, 4*w)
			normal(p+"mlp.c_proj.bias", 0.05, w)
		}
	}
	vw, grid := s.VisionWidth, s.ImageSize/s.Patch
	normal("visual.conv1.weight", 1/math.Sqrt(float64(3*s.Patch*s.Patch)), vw, 3, s.Patch, s.Patch)
	normal("visual.class_embedding", 1/math.Sqrt(float64(vw)), vw)
	normal("visual.positional_embedding", 1/math.Sqrt(float64(vw)), grid*grid+1, vw)
	gain("visual.ln_pre.weight", vw)
	normal("visual.ln_pre.bias", 0.05, vw)
	blocks("visual.transformer.resblocks.", vw, s.VisionLayers)
	gain("visual.ln_post.weight", vw)
	normal("visual.ln_post.bias", 0.05, vw)
	normal("visual.proj", 1/math.Sqrt(float64(vw)), vw, s.Embed)
	tw := s.TextWidth
	normal("token_embedding.weight", 0.5, s.Vocab, tw)
	normal("positional_embedding", 0.01, s.Context, tw)
	blocks("transformer.resblocks.", tw, s.TextLayers)
	gain("ln_final.weight", tw)
	normal("ln_final.bias", 0.05, tw)
	normal("text_projection", 1/math.Sqrt(float64(tw)), tw, s.Embed)
	sd["logit_scale"] = Tensor{[]int{}, []float32{float32(math.Log(1 / 0.07))}}
	return sd
}

// WriteSafetensors writes a random model of shape s to path.
func WriteSafetensors(path string, s Spec, seed uint64) error {
	sd := Generate(s, seed)
	names := make([]string, 0, len(sd))
	for n := range sd {
		names = append(names, n)
	}
	sort.Strings(names)
	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	header := map[string]any{"__metadata__": map[string]string{"format": "pt", "generator": "clipinfer randclip"}}
	off := 0
	for _, n := range names {
		size := 4 * len(sd[n].Data)
		header[n] = entry{"F32", sd[n].Shape, [2]int{off, off + size}}
		off += size
	}
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".randclip-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	buf = append(buf, h...)
	for _, n := range names {
		for _, v := range sd[n].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		if len(buf) > 1<<24 {
			if _, err := tmp.Write(buf); err != nil {
				tmp.Close()
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := tmp.Write(buf); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("randclip: %w", err)
	}
	return nil
}
