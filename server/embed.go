package server

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"
)

// input is one thing a protocol handler asks to embed: a text, token ids
// or an encoded image file.
type input struct {
	kind   inputKind
	text   string
	tokens []int32
	image  []byte
}

type inputKind int

const (
	textInput inputKind = iota
	tokenInput
	imageInput
)

// embedded is the result for one input.
type embedded struct {
	vec    []float32
	tokens int // text and token inputs: ids before padding
	width  int // image inputs: decoded size
	height int
}

// tokenModel is implemented by models that expose their tokenizer
// (*runtime.Model does). With it, texts are tokenized once, usage can
// count tokens, and clients may send token ids.
type tokenModel interface {
	Tokenize(text string) ([]int32, error)
	EmbedTokens(ids [][]int32) ([][]float32, error)
}

// checkInputs applies the per-request limits every protocol shares.
func (s *Server) checkInputs(in []input) error {
	switch {
	case len(in) == 0:
		return badRequest("nothing to embed")
	case len(in) > s.cfg.MaxBatch:
		return badRequest("%d inputs, at most %d per request", len(in), s.cfg.MaxBatch)
	}
	var images [][]byte
	for i, x := range in {
		switch x.kind {
		case imageInput:
			images = append(images, x.image)
		case textInput:
			if len(x.text) > s.cfg.MaxTextBytes {
				return badRequest("text %d is %d bytes long, at most %d accepted", i, len(x.text), s.cfg.MaxTextBytes)
			}
			if !utf8.ValidString(x.text) {
				return badRequest("text %d is not valid UTF-8", i)
			}
		case tokenInput:
			if len(x.tokens) == 0 {
				return badRequest("input %d: empty token list", i)
			}
		}
	}
	_, err := s.checkPixels(images)
	return err
}

// embedInputs embeds in while holding one compute slot: texts and token
// lists go through the text tower in one batch, images are decoded under
// the pixel limit and go through the image tower in another. Results are
// in input order.
func (s *Server) embedInputs(ctx context.Context, in []input) ([]embedded, error) {
	if err := s.checkInputs(in); err != nil {
		return nil, err
	}
	out := make([]embedded, len(in))
	work := 0
	for _, x := range in {
		if x.kind == imageInput {
			work += imageWork
		} else {
			work++
		}
	}
	err := s.computeWork(ctx, work, func() error {
		if err := s.embedTextSide(in, out); err != nil {
			return err
		}
		return s.embedImageSide(in, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) embedTextSide(in []input, out []embedded) error {
	var at []int
	var texts []string
	var ids [][]int32
	tm, hasTokenizer := s.cfg.Model.(tokenModel)
	for i, x := range in {
		switch x.kind {
		case textInput:
			at = append(at, i)
			if !hasTokenizer {
				texts = append(texts, x.text)
				continue
			}
			t, err := tm.Tokenize(x.text)
			if err != nil {
				return badRequest("input %d: %v", i, err)
			}
			ids = append(ids, t)
		case tokenInput:
			if !hasTokenizer {
				return badRequest("input %d: this model does not take token ids", i)
			}
			at = append(at, i)
			ids = append(ids, x.tokens)
		}
	}
	if len(at) == 0 {
		return nil
	}
	var embs [][]float32
	var err error
	if hasTokenizer {
		embs, err = tm.EmbedTokens(ids)
	} else {
		embs, err = s.cfg.Model.EmbedTexts(texts)
	}
	if err != nil {
		return unprocessable(err)
	}
	for j, i := range at {
		out[i].vec = embs[j]
		if hasTokenizer {
			out[i].tokens = tokenCount(s.cfg.Model, ids[j])
		}
	}
	s.metrics.texts.Add(int64(len(at)))
	return nil
}

func (s *Server) embedImageSide(in []input, out []embedded) error {
	var at []int
	var data [][]byte
	for i, x := range in {
		if x.kind == imageInput {
			at = append(at, i)
			data = append(data, x.image)
		}
	}
	if len(at) == 0 {
		return nil
	}
	imgs, err := s.decodeImages(data)
	if err != nil {
		return err
	}
	defer s.afterLargeRequest(pixelsOf(imgs))
	embs, err := s.cfg.Model.EmbedImages(imgs)
	if err != nil {
		return unprocessable(err)
	}
	for j, i := range at {
		b := imgs[j].Bounds()
		out[i] = embedded{vec: embs[j], width: b.Dx(), height: b.Dy()}
	}
	s.metrics.images.Add(int64(len(at)))
	return nil
}

// tokenCount is the number of ids before the padding. A *runtime.Model
// knows its family's padding (SigLIP pads with its end token); otherwise
// CLIP's rule: it pads with id 0 after its end token, which is never 0, so
// everything up to the last non-zero id is the caption.
func tokenCount(m Model, ids []int32) int {
	if c, ok := m.(interface{ TokenCount([]int32) int }); ok {
		return c.TokenCount(ids)
	}
	n := len(ids)
	for n > 0 && ids[n-1] == 0 {
		n--
	}
	return n
}

// servesModel reports whether name is one of the names the loaded model
// answers to. The empty name means "the loaded model".
func (s *Server) servesModel(name string) bool {
	return name == "" || name == s.cfg.ModelName || slices.Contains(s.cfg.Aliases, name)
}

// modelNames lists the names the model answers to, its own first.
func (s *Server) modelNames() []string {
	return append([]string{s.cfg.ModelName}, s.cfg.Aliases...)
}

// unknownModel is the message for a request naming another model.
func (s *Server) unknownModel(name string) error {
	return &httpError{404, fmt.Errorf("model %q is not served here: this server answers to %q (start it with -alias %s to accept that name for the loaded model)", name, s.modelNames(), name)}
}
