package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"path/filepath"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/internal/atomicfile"
	"github.com/clipinfer/clipinfer/internal/termtext"
)

// Contact-sheet geometry, in pixels.
const (
	sheetThumb = 112
	sheetPad   = 10
	sheetLine  = 15
	glyphWidth = 7 // basicfont.Face7x13
)

// writeContactSheet draws one row per query — the query, then its hits as
// thumbnails with rank, score and file name — and writes it as a PNG
// (atomically), so a person can judge a search at a glance.
func writeContactSheet(path string, labels []string, hits [][]index.Hit, maxPixels int64) error {
	k := 1
	for _, hs := range hits {
		k = max(k, len(hs))
	}
	rowH := sheetLine + sheetThumb + 2*sheetLine + sheetPad
	w := sheetPad + k*(sheetThumb+sheetPad)
	h := sheetPad + len(hits)*rowH
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(sheet, sheet.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(x, y int, s string, c color.Color) {
		d := font.Drawer{Dst: sheet, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	maxChars := sheetThumb / glyphWidth
	for q, hs := range hits {
		y0 := sheetPad + q*rowH
		text(sheetPad, y0+11, clipText(fmt.Sprintf("%q", labels[q]), (w-2*sheetPad)/glyphWidth), color.Black)
		for i, hit := range hs {
			x0 := sheetPad + i*(sheetThumb+sheetPad)
			box := image.Rect(x0, y0+sheetLine, x0+sheetThumb, y0+sheetLine+sheetThumb)
			drawThumb(sheet, box, hit.Path, maxPixels)
			text(x0, box.Max.Y+12, fmt.Sprintf("#%d  %.3f", i+1, hit.Score), color.RGBA{0x20, 0x40, 0xa0, 0xff})
			text(x0, box.Max.Y+12+sheetLine, clipText(termtext.Safe(filepath.Base(hit.Path)), maxChars), color.Gray{0x40})
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, sheet) })
}

// drawThumb scales the image at path into box, keeping its aspect ratio
// (a grey box when it cannot be read).
func drawThumb(dst *image.RGBA, box image.Rectangle, path string, maxPixels int64) {
	img, err := imageproc.DecodeFile(path, maxPixels)
	if err != nil {
		draw.Draw(dst, box, image.NewUniform(color.Gray{0xc0}), image.Point{}, draw.Src)
		return
	}
	b := img.Bounds()
	scale := min(float64(box.Dx())/float64(b.Dx()), float64(box.Dy())/float64(b.Dy()))
	tw, th := max(1, int(float64(b.Dx())*scale)), max(1, int(float64(b.Dy())*scale))
	x0 := box.Min.X + (box.Dx()-tw)/2
	y0 := box.Min.Y + (box.Dy()-th)/2
	draw.CatmullRom.Scale(dst, image.Rect(x0, y0, x0+tw, y0+th), img, b, draw.Over, nil)
}

// clipText shortens s to at most n characters, ending in "…" when cut.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 2 {
		return s
	}
	return string(r[:n-1]) + "…"
}
