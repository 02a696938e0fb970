package runtime

import (
	"fmt"

	"github.com/clipinfer/clipinfer/format"
)

// visionTower is the ViT image encoder (docs/DESIGN.md §1.1): patch embedding,
// class token, positional embedding, ln_pre, blocks, ln_post on the class
// token, projection.
type visionTower struct {
	cfg     format.VisionConfig
	grid    int // patches per side
	tokens  int // grid² + 1
	patch   linear
	class   []float32
	pos     []float32
	lnPre   norm
	enc     encoder
	lnPost  norm
	proj    linear
	embed   int
	pixels  int // 3·size·size
	patchIn int // 3·patch·patch
}

func (l *loader) vision(m *format.Metadata) *visionTower {
	c := *m.Vision
	g := c.ImageSize / c.PatchSize
	v := &visionTower{cfg: c, grid: g, tokens: g*g + 1, embed: m.EmbedDim,
		pixels: 3 * c.ImageSize * c.ImageSize, patchIn: 3 * c.PatchSize * c.PatchSize}
	v.patch = l.linear("vision.patch_embed", c.Width, v.patchIn, false)
	v.class = l.vector("vision.class_embed", c.Width)
	v.pos = l.vector("vision.pos_embed", v.tokens, c.Width)
	v.lnPre = l.norm("vision.ln_pre", c.Width)
	v.enc = l.encoder("vision", c.Width, c.Heads, c.MLPDim, c.Layers, m.LayerNormEps, m.Activation, false)
	v.lnPost = l.norm("vision.ln_post", c.Width)
	v.proj = l.linear("vision.proj", m.EmbedDim, c.Width, false)
	return v
}

// embed runs the tower on len(pix) images, each a 3×S×S CHW tensor, and
// writes their unnormalised embeddings into out (len(pix)×embed).
// With prune, the last block runs only the class tokens' queries (see
// engine.forward).
func (e *engine) embedImages(v *visionTower, s *state, pix [][]float32, out []float32, prune bool) error {
	for i, p := range pix {
		if len(p) != v.pixels {
			return fmt.Errorf("image %d: %d values, the model takes 3×%d×%d = %d", i, len(p), v.cfg.ImageSize, v.cfg.ImageSize, v.pixels)
		}
	}
	b, w, g := len(pix), v.cfg.Width, v.grid
	np := g * g
	s.in = im2col(s.in, pix, v.cfg.ImageSize, v.cfg.PatchSize)
	rows := b * v.tokens
	s.x = grow(s.x, rows*w)
	s.tmp = grow(s.tmp, max(rows, b*np)*w)
	e.linear(s, &v.patch, s.in, b*np, s.tmp, epiNone, nil)
	s.spans = s.spans[:0]
	for i := 0; i < b; i++ {
		x := s.x[i*v.tokens*w:]
		copy(x[:w], v.class)
		copy(x[w:v.tokens*w], s.tmp[i*np*w:(i+1)*np*w])
		e.k.Add(x[:v.tokens*w], v.pos)
		s.spans = append(s.spans, span{start: i * v.tokens, n: v.tokens})
	}
	e.layerNorm(s, &v.lnPre, s.x, s.x, rows, w, v.enc.eps)
	if err := e.forward(&v.enc, s, rows, prune); err != nil {
		return err
	}
	// ln_post on each class token, then the projection.
	s.out = grow(s.out, b*w)
	for i := 0; i < b; i++ {
		e.k.LayerNorm(s.out[i*w:(i+1)*w], s.x[i*w:(i+1)*w], v.lnPost.g, v.lnPost.b, v.enc.eps)
	}
	e.linear(s, &v.proj, s.out, b, out, epiNone, nil)
	return nil
}

// im2col lays out images (3×size×size CHW each) as one row of 3·patch²
// values per patch, in the (channel, y, x) order of the flattened
// convolution weight, patches in row-major order, reusing buf.
func im2col(buf []float32, pix [][]float32, size, patch int) []float32 {
	g := size / patch
	np, in := g*g, 3*patch*patch
	buf = grow(buf, len(pix)*np*in)
	for i, p := range pix {
		for gy := 0; gy < g; gy++ {
			for gx := 0; gx < g; gx++ {
				row := buf[((i*np)+gy*g+gx)*in:]
				o := 0
				for ch := 0; ch < 3; ch++ {
					for y := 0; y < patch; y++ {
						src := p[ch*size*size+(gy*patch+y)*size+gx*patch:]
						o += copy(row[o:o+patch], src[:patch])
					}
				}
			}
		}
	}
	return buf
}
