package imageproc

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pngWithIHDR returns a PNG signature and an IHDR chunk (valid CRC) for the
// given size, followed by an IEND chunk and no image data.
func pngWithIHDR(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, body []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(body)))
		b.WriteString(typ)
		b.Write(body)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// gifScreen returns a GIF header with the given logical screen and nothing
// else.
func gifScreen(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, 0x3b)
}

// bmpHeader returns a 24-bit BMP header for the given size without pixels.
func bmpHeader(w, h int32) []byte {
	b := make([]byte, 54)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[2:], 54)
	binary.LittleEndian.PutUint32(b[10:], 54)
	binary.LittleEndian.PutUint32(b[14:], 40)
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	binary.LittleEndian.PutUint16(b[26:], 1)
	binary.LittleEndian.PutUint16(b[28:], 24)
	return b
}

// jpegSOF returns the start of a baseline JFIF JPEG whose frame header
// claims the given size.
func jpegSOF(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xFF, 0xC0, 0, 17, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return append(b, 0xFF, 0xD9)
}

// webpVP8X returns a WebP file whose extended header claims the given
// canvas size.
func webpVP8X(w, h uint32) []byte {
	chunk := make([]byte, 18)
	copy(chunk, "VP8X")
	binary.LittleEndian.PutUint32(chunk[4:], 10)
	w, h = w-1, h-1
	chunk[12], chunk[13], chunk[14] = byte(w), byte(w>>8), byte(w>>16)
	chunk[15], chunk[16], chunk[17] = byte(h), byte(h>>8), byte(h>>16)
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(chunk)))
	b = append(b, "WEBP"...)
	return append(b, chunk...)
}

// tiffHeader returns a little-endian TIFF whose first IFD claims the given
// size (and nothing else).
func tiffHeader(w, h uint32) []byte {
	b := []byte("II*\x00")
	b = binary.LittleEndian.AppendUint32(b, 8)
	b = binary.LittleEndian.AppendUint16(b, 2)
	entry := func(tag uint16, v uint32) {
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = binary.LittleEndian.AppendUint16(b, 4) // LONG
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	entry(256, w)
	entry(257, h)
	return binary.LittleEndian.AppendUint32(b, 0)
}

func TestDecodeRejectsBombsBeforeDecoding(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"png 100000x100000", pngWithIHDR(100000, 100000)},
		{"png 2^31-1 wide", pngWithIHDR(1<<31-1, 1)},
		{"gif 65535x65535", gifScreen(65535, 65535)},
		{"bmp 50000x50000", bmpHeader(50000, 50000)},
		{"jpeg 65000x65000", jpegSOF(65000, 65000)},
		{"webp 16384x16384", webpVP8X(16384, 16384)},
		{"tiff 1000000x1000000", tiffHeader(1000000, 1000000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			img, _, err := Decode(bytes.NewReader(tt.in), DefaultMaxPixels)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			if strconv.IntSize == 64 {
				// On 32-bit platforms some decoders refuse such sizes first.
				require.ErrorIs(t, err, ErrTooLarge)
			}
			assert.Nil(t, img)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "allocated while refusing")
		})
	}
	// The PNG case must reach the size check with a clear message.
	_, _, err := Decode(bytes.NewReader(pngWithIHDR(20000, 6000)), 0)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "20000×6000 is 120000000 pixels, the limit is 100000000")
}

func TestDecodeMaxPixels(t *testing.T) {
	path := filepath.Join(refDir, "png_rgb_300x200.png")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, _, err = Decode(bytes.NewReader(data), 300*200-1)
	assert.ErrorIs(t, err, ErrTooLarge)
	img, format, err := Decode(bytes.NewReader(data), 300*200)
	require.NoError(t, err)
	assert.Equal(t, "png", format)
	assert.Equal(t, image.Rect(0, 0, 300, 200), img.Bounds())
}

func TestDecodeZeroSize(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"bmp 0x0", bmpHeader(0, 0)},
		{"gif 0x0", gifScreen(0, 0)},
		{"png 0x0", pngWithIHDR(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(bytes.NewReader(tt.in), DefaultMaxPixels)
			require.Error(t, err)
		})
	}
	_, _, err := Decode(bytes.NewReader(bmpHeader(0, 0)), DefaultMaxPixels)
	assert.ErrorIs(t, err, ErrEmpty)
}

func TestDecodeGarbage(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"text", []byte("hello, world")},
		{"almost png", []byte("\x89PNG\r\n\x1a\x00")},
		{"riff but not webp", []byte("RIFF\x04\x00\x00\x00WAVE")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(bytes.NewReader(tt.in), DefaultMaxPixels)
			require.ErrorIs(t, err, image.ErrFormat)
			assert.ErrorContains(t, err, "not JPEG, PNG, GIF, BMP, TIFF or WebP")
		})
	}
}

// Every fixture cut short must fail with an error naming its format, and
// never panic.
func TestDecodeTruncated(t *testing.T) {
	files := []string{
		"png_rgb_300x200.png", "png_p_48x36.png", "png_i16_40x30.png",
		"jpg_420_300x200.jpg", "jpg_prog_160x120.jpg", "jpg_cmyk_64x48.jpg",
		"gif_p_50x40.gif", "bmp_rgb_33x21.bmp", "bmp_p_40x30.bmp",
		"tif_rgb_lzw_64x64.tif", "tif_rgb_41x27.tif",
		"webp_lossless_rgb_48x40.webp", "webp_lossy_rgb_120x90.webp",
	}
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(refDir, name))
		require.NoError(t, err)
		for _, n := range []int{1, 8, 30, len(data) / 3, len(data) / 2, len(data) - 16} {
			t.Run(name, func(t *testing.T) {
				img, format, err := Decode(bytes.NewReader(data[:n]), DefaultMaxPixels)
				require.Error(t, err, "cut at %d of %d bytes", n, len(data))
				assert.Nil(t, img)
				if format != "" {
					assert.ErrorContains(t, err, formatName(format))
				}
			})
		}
	}
}

func TestDecodeFile(t *testing.T) {
	img, err := DecodeFile(filepath.Join(refDir, "png_p_48x36.png"), 0)
	require.NoError(t, err)
	assert.IsType(t, &image.Paletted{}, img)
	_, err = DecodeFile(filepath.Join(refDir, "missing.png"), 0)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = DecodeFile(filepath.Join(refDir, "manifest.json"), 0)
	assert.ErrorContains(t, err, "manifest.json")
}

// What Decode hands to Preprocess must stand for the mode Pillow opens.
func TestDecodeTypes(t *testing.T) {
	tests := []struct {
		file string
		want any
	}{
		{"png_1bit_64x48.png", &Bilevel{}},
		{"bmp_1bit_30x20.bmp", &Bilevel{}},
		{"tif_1bit_40x24.tif", &Bilevel{}},
		{"bmp_l_25x35.bmp", &image.Gray{}},
		{"png_ltrns_30x30.png", &image.Gray{}},
		{"png_i16_40x30.png", &image.Gray16{}},
		{"png_g16trns_20x20.png", &image.Gray16{}},
		{"png_1bittrns_9x7.png", &Bilevel{}},
		{"gif_greyramp_16x12.gif", &image.Gray{}},
		{"gif_offset_30x25.gif", &image.Paletted{}},
		{"webp_lossy_rgb_120x90.webp", &image.RGBA{}},
		{"webp_lossy_rgba_64x64.webp", &image.NRGBA{}},
		{"jpg_420_300x200.jpg", &image.YCbCr{}},
		{"jpg_cmyk_64x48.jpg", &image.CMYK{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img, err := DecodeFile(filepath.Join(refDir, tt.file), 0)
			require.NoError(t, err)
			assert.IsType(t, tt.want, img)
		})
	}
	img, err := DecodeFile(filepath.Join(refDir, "png_rgbtrns_30x30.png"), 0)
	require.NoError(t, err)
	assert.True(t, opaque(img), "tRNS on an RGB PNG is ignored, as Pillow's RGB mode does")
	img, err = DecodeFile(filepath.Join(refDir, "bmp_v4rgb_12x10.bmp"), 0)
	require.NoError(t, err)
	assert.True(t, opaque(img), "Pillow ignores the fourth byte of 32-bit BMPs without bit fields")
	img, err = DecodeFile(filepath.Join(refDir, "bmp_v4bitfields_12x10.bmp"), 0)
	require.NoError(t, err)
	assert.False(t, opaque(img), "an alpha bit field makes Pillow read RGBA")
	img, err = DecodeFile(filepath.Join(refDir, "gif_offset_30x25.gif"), 0)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 30, 25), img.Bounds(), "a GIF frame sits on its logical screen")
}

// A grey-ramp palette makes Pillow open a GIF as "L".
func TestDecodeGIFGreyRamp(t *testing.T) {
	pal := make(color.Palette, 256)
	for i := range pal {
		pal[i] = color.RGBA{uint8(i), uint8(i), uint8(i), 255}
	}
	m := image.NewPaletted(image.Rect(0, 0, 4, 3), pal)
	for i := range m.Pix {
		m.Pix[i] = uint8(20 * i)
	}
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, m, &gif.Options{NumColors: 256}))
	img, _, err := Decode(&buf, 0)
	require.NoError(t, err)
	require.IsType(t, &image.Gray{}, img)
	assert.Equal(t, m.Pix, img.(*image.Gray).Pix)
}

func TestDecodeReadsPNGWrittenByGo(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 10)
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, m))
	img, format, err := Decode(&buf, 6)
	require.NoError(t, err)
	assert.Equal(t, "png", format)
	assert.Equal(t, m.Pix, img.(*image.NRGBA).Pix)
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{
		"png_rgb_2x3.png", "png_p_1x1.png", "png_1bit_7x5.png", "png_ptrns_40x40.png",
		"jpg_420_2x3.jpg", "gif_offset_30x25.gif", "gif_trns_40x30.gif",
		"bmp_1bit_30x20.bmp", "tif_1bit_40x24.tif", "webp_lossy_rgba_64x64.webp",
	} {
		b, err := os.ReadFile(filepath.Join(refDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(pngWithIHDR(100000, 100000))
	f.Add(bmpHeader(3, 2))
	f.Add(tiffHeader(5, 5))
	cfgs := []Config{
		{Size: 7, Crop: 5, Mean: CLIPMean, Std: CLIPStd, Mode: OpenAI},
		{Size: 5, Crop: 7, Mean: CLIPMean, Std: CLIPStd, Mode: HF},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, _, err := Decode(bytes.NewReader(data), 1<<16)
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > 1<<16 {
			t.Fatalf("Decode accepted bounds %v", b)
		}
		for _, cfg := range cfgs {
			out, err := Preprocess(img, cfg)
			if err != nil {
				t.Fatalf("Preprocess: %v", err)
			}
			if len(out) != 3*cfg.Crop*cfg.Crop {
				t.Fatalf("got %d values", len(out))
			}
		}
	})
}
