package server

import (
	"context"
	"errors"
	"fmt"
	"image"
	goruntime "runtime"
	"slices"
	"unicode/utf8"

	"github.com/clipinfer/clipinfer/imageproc"
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
	width  int // image inputs: displayed size
	height int
}

// tokenModel is implemented by models that expose their tokenizer
// (*runtime.Model does). With it, texts are tokenized once, usage can
// count tokens, and clients may send token ids.
type tokenModel interface {
	Tokenize(text string) ([]int32, error)
	EmbedTokens(ids [][]int32) ([][]float32, error)
}

// contextModel is implemented by models whose encoders stop at the next
// layer once a context ends (*runtime.Model does). The server hands them
// each request's context, so a request past its deadline or abandoned by
// its client gives its compute slot back within one layer; other models
// finish the call they are in.
type contextModel interface {
	EmbedTextsContext(ctx context.Context, texts []string) ([][]float32, error)
	EmbedTokensContext(ctx context.Context, ids [][]int32) ([][]float32, error)
	EmbedImagesContext(ctx context.Context, imgs []image.Image) ([][]float32, error)
}

// pixelModel is implemented by models that preprocess an image apart from
// embedding it (*runtime.Model does). The server then decodes and
// preprocesses a request's images one at a time, so a request holds one
// decoded image at once plus the small preprocessed tensors, not every
// decoded image.
type pixelModel interface {
	Preprocess(img image.Image) ([]float32, error)
	EmbedPixelsContext(ctx context.Context, pix [][]float32) ([][]float32, error)
}

// embedTexts embeds texts with the model, stopping early when ctx ends
// (if the model can).
func (s *Server) embedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	if cm, ok := s.cfg.Model.(contextModel); ok {
		return s.modelResult(ctx)(cm.EmbedTextsContext(ctx, texts))
	}
	return s.modelResult(ctx)(s.cfg.Model.EmbedTexts(texts))
}

// embedTokens embeds token ids, stopping early when ctx ends (if the model
// can).
func (s *Server) embedTokens(ctx context.Context, tm tokenModel, ids [][]int32) ([][]float32, error) {
	if cm, ok := tm.(contextModel); ok {
		return s.modelResult(ctx)(cm.EmbedTokensContext(ctx, ids))
	}
	return s.modelResult(ctx)(tm.EmbedTokens(ids))
}

// modelResult returns a function passing on a model call's result, with
// its error turned into the request's answer: errTimeout or errGone (and
// the stop counted) when the computation stopped because ctx ended, 422
// otherwise.
func (s *Server) modelResult(ctx context.Context) func([][]float32, error) ([][]float32, error) {
	return func(embs [][]float32, err error) ([][]float32, error) {
		if err == nil {
			return embs, nil
		}
		if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			s.metrics.stopped.Add(1)
			return nil, ctxErr(ctx)
		}
		return nil, unprocessable(err)
	}
}

// embeddedImage is the embedding of one encoded image and its displayed
// size (after EXIF orientation, before any reduced-scale decoding).
type embeddedImage struct {
	vec           []float32
	width, height int
}

// embedImageData decodes encoded images under the pixel limits and embeds
// them in one batch. With a pixelModel each image is preprocessed as soon
// as it is decoded and dropped, so at most one decoded image is alive at a
// time; the request's context is checked between images and, in the
// encoder, between layers.
func (s *Server) embedImageData(ctx context.Context, data [][]byte) ([]embeddedImage, error) {
	out := make([]embeddedImage, len(data))
	pm, preprocess := s.cfg.Model.(pixelModel)
	var pix [][]float32
	var imgs []image.Image
	var pixels int64
	defer func() { s.afterLargeRequest(pixels) }()
	for i, b := range data {
		if ctx.Err() != nil {
			s.metrics.stopped.Add(1)
			return nil, ctxErr(ctx)
		}
		img, err := s.decodeImage(i, b)
		if err != nil {
			return nil, err
		}
		r := img.Bounds()
		pixels += int64(r.Dx()) * int64(r.Dy())
		// Bounds are reduced with FastDecode; the header has the size.
		if out[i].width, out[i].height, err = imageproc.DisplayedSize(b, s.loadOptions()); err != nil {
			return nil, imageError(i, err)
		}
		if !preprocess {
			imgs = append(imgs, img)
			continue
		}
		p, err := pm.Preprocess(img)
		if err != nil {
			return nil, unprocessable(fmt.Errorf("image %d: %w", i, err))
		}
		pix = append(pix, p)
		if i+1 < len(data) && int64(r.Dx())*int64(r.Dy()) >= collectAfterPixels {
			// The image is garbage now, but the collector would only
			// reclaim it once the heap doubles: the next image would be
			// decoded beside it. A collection here (milliseconds; the
			// decode took far longer) keeps one decoded image at a time.
			goruntime.GC()
		}
	}
	var embs [][]float32
	var err error
	switch cm, ok := s.cfg.Model.(contextModel); {
	case preprocess:
		embs, err = s.modelResult(ctx)(pm.EmbedPixelsContext(ctx, pix))
	case ok:
		embs, err = s.modelResult(ctx)(cm.EmbedImagesContext(ctx, imgs))
	default:
		embs, err = s.modelResult(ctx)(s.cfg.Model.EmbedImages(imgs))
	}
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].vec = embs[i]
	}
	s.metrics.images.Add(int64(len(out)))
	return out, nil
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
		if err := s.embedTextSide(ctx, in, out); err != nil {
			return err
		}
		return s.embedImageSide(ctx, in, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) embedTextSide(ctx context.Context, in []input, out []embedded) error {
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
		embs, err = s.embedTokens(ctx, tm, ids)
	} else {
		embs, err = s.embedTexts(ctx, texts)
	}
	if err != nil {
		return err
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

func (s *Server) embedImageSide(ctx context.Context, in []input, out []embedded) error {
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
	embs, err := s.embedImageData(ctx, data)
	if err != nil {
		return err
	}
	for j, i := range at {
		out[i] = embedded{vec: embs[j].vec, width: embs[j].width, height: embs[j].height}
	}
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
