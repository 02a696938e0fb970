package runtime

import (
	"fmt"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/kernels"
	"github.com/clipinfer/clipinfer/tokenizer"
)

// clipViT is the CLIP ViT family (OpenAI, OpenCLIP, Hugging Face
// CLIPModel): a ViT image tower and a causal transformer text tower with
// the CLIP BPE, scored by a softmax over labels.
type clipViT struct {
	vision *visionTower // nil when the file has no image tower
	text   *textTower   // nil when the file has no text tower
	bpe    *tokenizer.Tokenizer
	pre    imageproc.Config
	scale  float32
}

func init() { registerFamily(format.ArchCLIPViT, newCLIPViT) }

func newCLIPViT(l *loader, meta *format.Metadata, k kernels.Kernels) (family, error) {
	c := &clipViT{scale: meta.LogitScale}
	if meta.Vision != nil {
		c.vision = l.vision(meta)
		c.pre = preprocessConfig(meta.Preprocess)
	}
	if meta.Text != nil {
		c.text = l.text(meta)
		c.text.f16row = k.F16ToF32
		var err error
		if c.bpe, err = clipBPE(l.f, meta); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// clipBPE returns the file's packed CLIP BPE, or the built-in one.
func clipBPE(f *format.File, meta *format.Metadata) (*tokenizer.Tokenizer, error) {
	t := meta.Tokenizer
	if t.Merges == "" {
		return tokenizer.Default(), nil
	}
	merges, err := blob(f, t.Merges)
	if err != nil {
		return nil, err
	}
	var vocab []byte
	if t.Vocab != "" {
		if vocab, err = blob(f, t.Vocab); err != nil {
			return nil, err
		}
	}
	bpe, err := tokenizer.New(merges, vocab)
	if err != nil {
		return nil, fmt.Errorf("packed tokenizer: %w", err)
	}
	if v := bpe.VocabSize(); v > meta.Text.VocabSize {
		return nil, fmt.Errorf("packed tokenizer has %d tokens, the text tower only %d", v, meta.Text.VocabSize)
	}
	return bpe, nil
}

func (c *clipViT) hasVision() bool { return c.vision != nil }
func (c *clipViT) hasText() bool   { return c.text != nil }

// tokenize gives SOT + BPE ids + EOT, truncated and zero-padded to the
// context length exactly as clip.tokenize(truncate=True).
func (c *clipViT) tokenize(text string) ([]int32, error) {
	return c.bpe.Tokenize(text, c.text.cfg.ContextLength), nil
}

func (c *clipViT) pixels() *imageproc.Config { return &c.pre }

// tokenCount: CLIP pads with zeros after the end token.
func (c *clipViT) tokenCount(ids []int32) int { return trimTrailing(ids, 0) }

func (c *clipViT) embedTexts(e *engine, s *state, ids [][]int32, dst []float32) error {
	return e.embedTexts(c.text, s, ids, dst, true)
}

func (c *clipViT) embedImages(e *engine, s *state, pix [][]float32, dst []float32) error {
	return e.embedImages(c.vision, s, pix, dst, true)
}

func (c *clipViT) score(cos []float32) Scores { return SoftmaxScores(cos, c.scale) }
