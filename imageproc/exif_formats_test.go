package imageproc

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tiffIFD is a little-endian TIFF structure whose IFD0 holds one
// Orientation entry of type typ.
func tiffIFD(o uint16, typ uint16) []byte {
	b := []byte("II*\x00\x08\x00\x00\x00\x01\x00")
	e := make([]byte, 12)
	binary.LittleEndian.PutUint16(e, 0x0112)
	binary.LittleEndian.PutUint16(e[2:], typ)
	binary.LittleEndian.PutUint32(e[4:], 1)
	binary.LittleEndian.PutUint16(e[8:], o)
	return append(append(b, e...), 0, 0, 0, 0)
}

func pngChunk(typ string, body []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	c = append(c, typ...)
	c = append(c, body...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func riffChunk(typ string, body []byte) []byte {
	c := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	c = append(c, body...)
	if len(body)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func webpFile(flags byte, chunks ...[]byte) []byte {
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", []byte{flags, 0, 0, 0, 0, 0, 0, 0, 0, 0})...)
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// jpegApp1s is the start of a JPEG with the given APP1 segments.
func jpegApp1s(segs ...[]byte) []byte {
	b := []byte{0xff, 0xd8}
	for _, s := range segs {
		b = append(b, 0xff, 0xe1)
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)+2))
		b = append(b, s...)
	}
	return append(b, 0xff, 0xd9)
}

const pngSig = "\x89PNG\r\n\x1a\n"

// rawProfileText is a tEXt body in ImageMagick's "Raw profile type exif"
// form.
func rawProfileText(b []byte) []byte {
	h := hex.EncodeToString(b)
	return fmt.Appendf(nil, "Raw profile type exif\x00\nexif\n%8d\n%s\n%s\n", len(b), h[:len(h)/2], h[len(h)/2:])
}

// zText turns a tEXt body into a zTXt body.
func zText(body []byte) []byte {
	i := bytes.IndexByte(body, 0)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(body[i+1:])
	zw.Close()
	return append(append(body[:i+1:i+1], 0), z.Bytes()...)
}

func TestOrientationParsers(t *testing.T) {
	ihdr := pngChunk("IHDR", make([]byte, 13))
	png := func(chunks ...[]byte) []byte {
		b := []byte(pngSig)
		for _, c := range chunks {
			b = append(b, c...)
		}
		return b
	}
	exif6 := tiffIFD(6, 3)
	huge := binary.BigEndian.AppendUint32(nil, 0xfffffff0)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"png eXIf before IDAT", png(ihdr, pngChunk("eXIf", exif6), pngChunk("IDAT", nil), pngChunk("IEND", nil)), 6},
		{"png eXIf after IDAT", png(ihdr, pngChunk("IDAT", nil), pngChunk("eXIf", tiffIFD(8, 3)), pngChunk("IEND", nil)), 8},
		{"png eXIf after IEND", png(ihdr, pngChunk("IEND", nil), pngChunk("eXIf", exif6)), 1},
		{"png without eXIf", png(ihdr, pngChunk("IDAT", nil), pngChunk("IEND", nil)), 1},
		{"png eXIf with Exif prefix", png(ihdr, pngChunk("eXIf", append([]byte("Exif\x00\x00"), exif6...))), 1},
		{"png truncated eXIf", png(ihdr, pngChunk("eXIf", exif6))[:8+25+10], 1},
		{"png hostile length", png(ihdr, append(huge, "eXIf"...)), 1},
		{"png orientation 9", png(ihdr, pngChunk("eXIf", tiffIFD(9, 3))), 1},
		{"png orientation as LONG", png(ihdr, pngChunk("eXIf", tiffIFD(6, 4))), 6},
		{"png orientation as SLONG", png(ihdr, pngChunk("eXIf", tiffIFD(7, 9))), 7},
		{"png orientation as BYTE", png(ihdr, pngChunk("eXIf", tiffIFD(6, 1))), 1},
		{"png raw profile", png(ihdr, pngChunk("tEXt", rawProfileText(exif6))), 6},
		{"png raw profile compressed", png(ihdr, pngChunk("zTXt", zText(rawProfileText(tiffIFD(7, 3))))), 7},
		{"png raw profile Exif prefix", png(ihdr, pngChunk("tEXt", rawProfileText(append([]byte("Exif\x00\x00"), exif6...)))), 6},
		{"png raw profile bad hex", png(ihdr, pngChunk("tEXt", []byte("Raw profile type exif\x00\nexif\n 26\n4949zz"))), 1},
		{"png last raw profile counts", png(ihdr, pngChunk("tEXt", rawProfileText(exif6)), pngChunk("tEXt", rawProfileText(tiffIFD(2, 3)))), 2},
		{"png eXIf wins over raw profile", png(ihdr, pngChunk("tEXt", rawProfileText(exif6)), pngChunk("IDAT", nil), pngChunk("eXIf", tiffIFD(4, 3))), 4},
		{"png raw profile bomb", png(ihdr, pngChunk("zTXt", zText(append([]byte("Raw profile type exif\x00\nexif\n 1\n"), make([]byte, 2<<20)...)))), 1},
		{"png xmp attribute", png(ihdr, pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x tiff:Orientation=\"5\"/>"))), 5},
		{"png xmp element", png(ihdr, pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<tiff:Orientation>8</tiff:Orientation>"))), 8},
		{"png xmp after a non-match", png(ihdr, pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00tiff:Orientation tiff:Orientation=\"3\""))), 3},
		{"png xmp when eXIf lacks the tag", png(ihdr, pngChunk("eXIf", []byte("II*\x00\x08\x00\x00\x00\x00\x00")), pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00tiff:Orientation=\"6\""))), 6},
		{"png xmp after IDAT ignored beside eXIf before", png(ihdr, pngChunk("eXIf", []byte("II*\x00\x08\x00\x00\x00\x00\x00")), pngChunk("IDAT", nil), pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00tiff:Orientation=\"6\""))), 1},
		{"webp EXIF", webpFile(0x08, riffChunk("VP8L", []byte{1, 2, 3}), riffChunk("EXIF", exif6)), 6},
		{"webp EXIF with Exif prefix", webpFile(0x08, riffChunk("EXIF", append([]byte("Exif\x00\x00"), tiffIFD(3, 3)...))), 3},
		{"webp EXIF flag clear", webpFile(0x00, riffChunk("EXIF", exif6)), 1},
		{"webp first EXIF counts", webpFile(0x08, riffChunk("EXIF", tiffIFD(2, 3)), riffChunk("EXIF", exif6)), 2},
		{"webp hostile length", webpFile(0x08, append([]byte("EXIF"), 0xf0, 0xff, 0xff, 0xff)), 1},
		{"webp without VP8X", append([]byte("RIFF\x10\x00\x00\x00WEBP"), riffChunk("EXIF", exif6)...), 1},
		{"tiff little-endian", tiffIFD(5, 3), 5},
		{"tiff entry past the end", tiffIFD(5, 3)[:15], 1},
		{"jpeg", jpegApp1s(append([]byte("Exif\x00\x00"), exif6...)), 6},
		{"jpeg first EXIF segment counts", jpegApp1s(append([]byte("Exif\x00\x00"), tiffIFD(9, 3)...), append([]byte("Exif\x00\x00"), exif6...)), 1},
		{"jpeg XMP segment skipped", jpegApp1s([]byte("http://ns.adobe.com/xap/1.0/\x00tiff:Orientation=\"8\""), append([]byte("Exif\x00\x00"), exif6...)), 6},
		{"jpeg Exif without the second zero", jpegApp1s([]byte("Exif\x00X"), append([]byte("Exif\x00\x00"), exif6...)), 1},
		{"jpeg short segment", jpegApp1s([]byte("Exif\x00")), 1},
		{"jpeg without EXIF", []byte{0xff, 0xd8, 0xff, 0xd9}, 1},
		{"empty", nil, 1},
		{"gif", []byte("GIF89a"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, orientation(tt.data))
		})
	}
}

// Only TIFF is turned when EXIF orientation is off.
func TestTurnsOnDecode(t *testing.T) {
	assert.True(t, turnsOnDecode(tiffIFD(6, 3)))
	assert.True(t, turnsOnDecode([]byte("MM\x00*\x00\x00\x00\x08")))
	assert.False(t, turnsOnDecode([]byte(pngSig)))
	assert.False(t, turnsOnDecode([]byte{0xff, 0xd8}))
}

// FuzzOrientation runs the orientation parsers of every format on
// arbitrary bytes: they must return 1–8 without panicking.
func FuzzOrientation(f *testing.F) {
	f.Add(tiffIFD(6, 3))
	f.Add(webpFile(0x08, riffChunk("EXIF", tiffIFD(8, 3))))
	for _, name := range []string{"orient6_48x32.png", "orient6_48x32.webp", "orient6_48x32.tif", "orient6_300x200.jpg",
		"orient7_48x32.raw-profile.png", "orient8_48x32.xmp.png"} {
		b, err := os.ReadFile(filepath.Join(photoDir, name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o := orientation(data)
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
