package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/npy"
)

// preprocessConfig is the image pipeline a preprocess section describes.
func preprocessConfig(p *format.Preprocess) imageproc.Config {
	c := imageproc.Config{Size: p.Size, Crop: p.Crop, Mean: p.Mean, Std: p.Std}
	if p.Pipeline == format.PipelineHF {
		c.Mode = imageproc.HF
	}
	if p.Resample == format.ResampleBilinear {
		c.Filter = imageproc.Bilinear
	}
	return c
}

// blob returns the bytes of a U8 tensor (packed tokenizer data).
func blob(f *format.File, name string) ([]byte, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	return t.Bytes()
}

// MaxTextBytes bounds the text Tokenize accepts; longer input is an error
// rather than a slow surprise (only the first tokens count anyway).
const MaxTextBytes = 1 << 20

// Tokenize turns text into the token ids the text tower takes, as the
// model's family does: for CLIP, SOT + BPE ids + EOT, truncated and
// zero-padded to the context length exactly as clip.tokenize(truncate=True);
// for SimpleCLIP with a packed vocabulary, one id per whitespace-separated
// word.
func (m *Model) Tokenize(text string) ([]int32, error) {
	if len(text) > MaxTextBytes {
		return nil, fmt.Errorf("text of %d bytes is longer than the %d accepted", len(text), MaxTextBytes)
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if !m.fam.hasText() {
		return nil, fmt.Errorf("model has no text tower")
	}
	return m.fam.tokenize(text)
}

// EmbedTexts returns the normalised embeddings of texts.
func (m *Model) EmbedTexts(texts []string) ([][]float32, error) {
	return m.EmbedTextsContext(context.Background(), texts)
}

// EmbedTextsContext is EmbedTexts stopping early when ctx ends (see
// EmbedTokensContext).
func (m *Model) EmbedTextsContext(ctx context.Context, texts []string) ([][]float32, error) {
	ids := make([][]int32, len(texts))
	for i, t := range texts {
		var err error
		if ids[i], err = m.Tokenize(t); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
	}
	return m.EmbedTokensContext(ctx, ids)
}

// DecodeImage reads an image file (JPEG, PNG, GIF, BMP, TIFF or WebP),
// refusing images with more pixels than the model's MaxPixels.
func (m *Model) DecodeImage(path string) (image.Image, error) {
	return imageproc.DecodeFile(path, m.maxPixels)
}

// Preprocess turns an image into the 3×S×S tensor the image tower takes,
// exactly as the model's source pipeline does (docs/DESIGN.md §2).
func (m *Model) Preprocess(img image.Image) ([]float32, error) {
	pre := m.fam.pixels()
	if pre == nil || !m.fam.hasVision() {
		return nil, fmt.Errorf("model has no image tower that takes pixels")
	}
	return imageproc.Preprocess(img, *pre)
}

// ImageConfig is the preprocessing of the image tower, or false when the
// model's image tower takes no pixels (SimpleCLIP's features, text-only
// models).
func (m *Model) ImageConfig() (imageproc.Config, bool) {
	pre := m.fam.pixels()
	if pre == nil || !m.fam.hasVision() {
		return imageproc.Config{}, false
	}
	return *pre, true
}

// EmbedImages returns the normalised embeddings of decoded images.
func (m *Model) EmbedImages(imgs []image.Image) ([][]float32, error) {
	return m.EmbedImagesContext(context.Background(), imgs)
}

// EmbedImagesContext is EmbedImages stopping early when ctx ends (see
// EmbedTokensContext); preprocessing also stops between images.
func (m *Model) EmbedImagesContext(ctx context.Context, imgs []image.Image) ([][]float32, error) {
	pix := make([][]float32, len(imgs))
	for i, img := range imgs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stopped before preprocessing image %d: %w", i, err)
		}
		var err error
		if pix[i], err = m.Preprocess(img); err != nil {
			return nil, err
		}
	}
	return m.EmbedPixelsContext(ctx, pix)
}

// ImageInput reads an image file and returns what the image tower takes:
// the decoded and preprocessed 3×S×S pixels for a ViT (turned by the
// file's EXIF orientation unless Options.IgnoreEXIF, decoded at a reduced
// scale with Options.FastDecode), or for SimpleCLIP
// (whose image tower reads precomputed features) the one feature vector the
// file holds (see ReadFeatures). Errors name the file.
func (m *Model) ImageInput(path string) ([]float32, error) {
	if m.fam.pixels() == nil {
		f, err := ReadFeatures(path)
		if err != nil {
			return nil, err
		}
		if len(f) != 1 {
			return nil, fmt.Errorf("%s: %d feature vectors, want one per image file", path, len(f))
		}
		return f[0], nil
	}
	if !m.fam.hasVision() {
		return nil, fmt.Errorf("model has no image tower that takes pixels")
	}
	return imageproc.LoadFile(path, *m.fam.pixels(), m.load)
}

// EmbedImageFiles reads and embeds image files (ImageInput, then
// EmbedPixels). The first file that cannot be read fails the call.
func (m *Model) EmbedImageFiles(paths []string) ([][]float32, error) {
	return m.EmbedImageFilesContext(context.Background(), paths)
}

// EmbedImageFilesContext is EmbedImageFiles stopping early when ctx ends
// (see EmbedTokensContext); reading also stops between files.
func (m *Model) EmbedImageFilesContext(ctx context.Context, paths []string) ([][]float32, error) {
	in := make([][]float32, len(paths))
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stopped before reading %s: %w", p, err)
		}
		var err error
		if in[i], err = m.ImageInput(p); err != nil {
			return nil, err
		}
	}
	return m.EmbedPixelsContext(ctx, in)
}

// ReadFeatures reads feature vectors from a .npy file ([D] or [N,D]
// float32) or a .json file (an array of numbers, or an array of arrays).
func ReadFeatures(path string) ([][]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := parseFeatures(b, strings.HasSuffix(strings.ToLower(path), ".json"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// parseFeatures parses the contents of a feature file (see ReadFeatures).
func parseFeatures(b []byte, isJSON bool) ([][]float32, error) {
	if isJSON {
		var many [][]float32
		if err := json.Unmarshal(b, &many); err == nil {
			return many, nil
		}
		var one []float32
		if err := json.Unmarshal(b, &one); err != nil {
			return nil, fmt.Errorf("want a JSON array of numbers or an array of arrays: %w", err)
		}
		return [][]float32{one}, nil
	}
	v, shape, err := npy.ReadFloat32(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	switch len(shape) {
	case 1:
		return [][]float32{v}, nil
	case 2:
		out := make([][]float32, shape[0])
		for i := range out {
			out[i] = v[i*shape[1] : (i+1)*shape[1] : (i+1)*shape[1]]
		}
		return out, nil
	}
	return nil, fmt.Errorf("features must be [D] or [N,D], got shape %v", shape)
}
