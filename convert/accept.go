package convert

import (
	"fmt"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/tokenizer"
)

// checkRuntimeAccepts refuses a plan whose file the runtime would refuse to
// load or use, beyond what format.Metadata.Validate checks: the image
// preprocessing and a packed tokenizer are built here as the runtime builds
// them. A file that converts is then a file that runs.
func checkRuntimeAccepts(p *plan) error {
	m := &p.meta
	if pp := m.Preprocess; pp != nil {
		c := imageproc.Config{Size: pp.Size, Crop: pp.Crop, Mean: pp.Mean, Std: pp.Std, Mode: imageproc.OpenAI}
		if pp.Pipeline == format.PipelineHF {
			c.Mode = imageproc.HF
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("preprocess (size %d, crop %d): %w", pp.Size, pp.Crop, err)
		}
	}
	if t := m.Tokenizer; t != nil && t.Kind == format.TokenizerCLIPBPE && t.Merges != "" {
		tok, err := tokenizer.New(p.blob(t.Merges), p.blob(t.Vocab))
		if err != nil {
			return fmt.Errorf("packed tokenizer: %w", err)
		}
		if m.Text != nil && tok.VocabSize() > m.Text.VocabSize {
			return fmt.Errorf("tokenizer has %d tokens, text_config.vocab_size is %d", tok.VocabSize(), m.Text.VocabSize)
		}
	}
	return nil
}

// blob returns the data of the planned blob tensor name, or nil.
func (p *plan) blob(name string) []byte {
	if name == "" {
		return nil
	}
	for _, t := range p.tensors {
		if t.name == name && t.kind == blob {
			return t.data
		}
	}
	return nil
}
