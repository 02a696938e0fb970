package imageproc

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// synthJPEG encodes a w×h 4:2:0 JPEG with gradients and edges.
func synthJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := m.PixOffset(x, y)
			m.Pix[i] = uint8(x * 255 / w)
			m.Pix[i+1] = uint8(y * 255 / h)
			m.Pix[i+2] = uint8((x/97 + y/89) % 2 * 255)
			m.Pix[i+3] = 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkPreprocess4000x3000JPEG resizes a decoded 12-megapixel JPEG to
// 224 and normalises it (decoding excluded).
func BenchmarkPreprocess4000x3000JPEG(b *testing.B) {
	img, _, err := Decode(bytes.NewReader(synthJPEG(b, 4000, 3000)), 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []Pipeline{OpenAI, HF} {
		b.Run(mode.String(), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Mode = mode
			dst := make([]float32, 3*cfg.Crop*cfg.Crop)
			var s Scratch
			b.ReportAllocs()
			for b.Loop() {
				if err := PreprocessInto(dst, img, cfg, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPreprocess4000x3000RGBA is the same for a non-opaque RGBA image
// (premultiplied, four channels).
func BenchmarkPreprocess4000x3000RGBA(b *testing.B) {
	m := image.NewNRGBA(image.Rect(0, 0, 4000, 3000))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 31 >> 4)
	}
	cfg := DefaultConfig()
	dst := make([]float32, 3*cfg.Crop*cfg.Crop)
	var s Scratch
	b.ReportAllocs()
	for b.Loop() {
		if err := PreprocessInto(dst, m, cfg, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeJPEG4000x3000 is Go's JPEG decoder on the same file, for
// scale.
func BenchmarkDecodeJPEG4000x3000(b *testing.B) {
	data := synthJPEG(b, 4000, 3000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}
