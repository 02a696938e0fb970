package convert

import (
	"bytes"
	"fmt"
	"math"

	"github.com/clipinfer/clipinfer/format"
)

func init() {
	registerFamily(sourceFamily{name: "simpleclip", detect: isSimpleCLIP, plan: (*source).planSimpleCLIP})
}

// isSimpleCLIP: the lecture's SimpleCLIP state dict (docs/DESIGN.md §1.4).
func isSimpleCLIP(s *source) bool {
	return s.dir == "" && (s.has("text_encoder.lstm.weight_ih_l0") || s.has("image_encoder.encoder.0.weight"))
}

// planSimpleCLIP maps the lecture's SimpleCLIP state dict (docs/DESIGN.md §1.4):
// embedding → BiLSTM → projection for text, a three-layer MLP for image
// features, and log_temperature.
func (s *source) planSimpleCLIP() (*plan, error) {
	emb := s.shape("text_encoder.embedding.weight")
	wih := s.shape("text_encoder.lstm.weight_ih_l0")
	tproj := s.shape("text_encoder.projection.weight")
	fc1 := s.shape("image_encoder.encoder.0.weight")
	fc2 := s.shape("image_encoder.encoder.2.weight")
	fc3 := s.shape("image_encoder.encoder.4.weight")
	if len(emb) != 2 || len(wih) != 2 || len(tproj) != 2 || len(fc1) != 2 || len(fc2) != 2 || len(fc3) != 2 {
		return nil, fmt.Errorf("incomplete SimpleCLIP state dict: text_encoder.embedding.weight %v, text_encoder.lstm.weight_ih_l0 %v, text_encoder.projection.weight %v, image_encoder.encoder.{0,2,4}.weight %v %v %v",
			emb, wih, tproj, fc1, fc2, fc3)
	}
	if s.opt.Tower != TowerBoth {
		return nil, fmt.Errorf("-tower %s is not supported for SimpleCLIP (its towers are tiny; convert both)", s.opt.Tower)
	}
	vocab, e := emb[0], emb[1]
	if wih[0]%4 != 0 {
		return nil, fmt.Errorf("text_encoder.lstm.weight_ih_l0 has %d rows, not 4×hidden", wih[0])
	}
	h := wih[0] / 4
	out, in, hid := tproj[0], fc1[1], fc1[0]
	cfg := &format.SimpleCLIPConfig{VocabSize: vocab, EmbedDim: e, HiddenDim: h, ImageInputDim: in, ImageHiddenDim: hid, OutputDim: out}
	p := &plan{family: format.FamilySimpleCLIP, meta: format.Metadata{
		Architecture: format.ArchSimpleCLIP, Family: format.FamilySimpleCLIP, EmbedDim: out, Activation: format.ActReLU, SimpleCLIP: cfg,
	}}
	b := &builder{s: s, p: p}
	b.mat("simple.text.embed", "text_encoder.embedding.weight", "simpleclip", vocab, e)
	for _, d := range []struct{ dst, suffix string }{{"fwd", "_l0"}, {"bwd", "_l0_reverse"}} {
		l := "text_encoder.lstm."
		b.mat("simple.text.lstm."+d.dst+".wih", l+"weight_ih"+d.suffix, "simpleclip", 4*h, e)
		b.mat("simple.text.lstm."+d.dst+".whh", l+"weight_hh"+d.suffix, "simpleclip", 4*h, h)
		// PyTorch adds both biases to every gate: store their sum.
		bi, bh := l+"bias_ih"+d.suffix, l+"bias_hh"+d.suffix
		if b.expect(bi, 4*h) && b.expect(bh, 4*h) {
			li, lh := s.values(bi), s.values(bh)
			b.add("simple.text.lstm."+d.dst+".bias", "simpleclip", keepF32, []int{4 * h}, func() ([]float32, error) {
				x, err := li()
				if err != nil {
					return nil, err
				}
				y, err := lh()
				if err != nil {
					return nil, err
				}
				sum := make([]float32, len(x))
				for i := range x {
					sum[i] = x[i] + y[i]
				}
				return sum, nil
			})
		}
	}
	if s.has("text_encoder.lstm.weight_ih_l1") {
		return nil, fmt.Errorf("SimpleCLIP with a multi-layer LSTM (text_encoder.lstm.weight_ih_l1) is not supported")
	}
	b.mat("simple.text.proj.weight", "text_encoder.projection.weight", "simpleclip", out, 2*h)
	b.vec("simple.text.proj.bias", "text_encoder.projection.bias", "simpleclip", out)
	for i, d := range []struct {
		src      string
		out, in_ int
	}{{"0", hid, in}, {"2", hid, hid}, {"4", out, hid}} {
		dst := fmt.Sprintf("simple.image.fc%d", i+1)
		b.mat(dst+".weight", "image_encoder.encoder."+d.src+".weight", "simpleclip", d.out, d.in_)
		b.vec(dst+".bias", "image_encoder.encoder."+d.src+".bias", "simpleclip", d.out)
	}
	if b.err != nil {
		return nil, b.err
	}
	lt, err := s.scalar("log_temperature")
	if err != nil {
		return nil, err
	}
	p.meta.LogitScale = float32(1 / math.Exp(float64(lt)))
	if s.opt.Vocab != nil {
		words := bytes.Split(bytes.TrimRight(s.opt.Vocab, "\n"), []byte("\n"))
		if len(words) > vocab {
			return nil, fmt.Errorf("vocabulary has %d words, the embedding only %d rows", len(words), vocab)
		}
		if s.opt.UnknownToken < 0 || s.opt.UnknownToken >= vocab {
			return nil, fmt.Errorf("unknown-word id %d outside the vocabulary [0,%d)", s.opt.UnknownToken, vocab)
		}
		cfg.UnknownTokenID, cfg.Lowercase = s.opt.UnknownToken, true
		p.meta.Tokenizer = &format.TokenizerInfo{Kind: format.TokenizerWords, Vocab: "tokenizer.vocab"}
		p.tensors = append(p.tensors, planned{name: "tokenizer.vocab", shape: []int{len(s.opt.Vocab)}, kind: blob, tower: "simpleclip", data: s.opt.Vocab})
	}
	return p, nil
}
