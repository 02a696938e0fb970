package imageproc

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
)

// Orientation tags outside JPEG. Pillow reads them as follows, and the
// parsers below follow it:
//
//   - PNG: the eXIf chunk, before or after the image data (ImageMagick
//     writes it after the last IDAT), whose body is a TIFF structure; or
//     the older text chunks Pillow also reads (see pngOrientation).
//   - WebP: the first EXIF chunk of the extended format, read only when
//     the VP8X header's EXIF flag is set (libwebp's demuxer ignores the
//     chunk otherwise). Its body is a TIFF structure, possibly after the
//     "Exif\0\0" prefix some writers keep.
//   - TIFF: tag 274 of the first image file directory. Pillow's TIFF
//     reader turns the image by it while decoding, whatever the caller
//     asks, so TIFF files are turned even when EXIF orientation is off.
//
// The parsers index into the bytes already read and visit each chunk
// header once, so a hostile file costs no more than its length; the only
// allocation is PNG's text, at most two chunks inflated to at most 1 MiB
// each (the last of each keyword, as Pillow keeps the last).

// orientation returns the orientation (1–8) the image data records in the
// tag its format carries (see above, and exifOrientation for JPEG), or 1.
func orientation(data []byte) int {
	var o int
	switch {
	case isJPEG(data):
		return exifOrientation(data)
	case isPNG(data):
		o = pngOrientation(data)
	case isWebP(data):
		o = webpOrientation(data)
	case isTIFF(data):
		o = tiffOrientation(data)
	}
	if o < 1 || o > 8 {
		return 1
	}
	return o
}

// turnsOnDecode reports whether the format's reader applies the
// orientation itself, so that it counts even without EXIF orientation
// (Pillow turns TIFF images while loading them).
func turnsOnDecode(data []byte) bool { return isTIFF(data) }

func isJPEG(d []byte) bool { return len(d) >= 2 && d[0] == 0xff && d[1] == 0xd8 }
func isPNG(d []byte) bool  { return len(d) >= 8 && string(d[:8]) == "\x89PNG\r\n\x1a\n" }
func isWebP(d []byte) bool {
	return len(d) >= 12 && string(d[:4]) == "RIFF" && string(d[8:12]) == "WEBP"
}
func isTIFF(d []byte) bool {
	return len(d) >= 4 && (string(d[:4]) == "II*\x00" || string(d[:4]) == "MM\x00*")
}

// pngOrientation reads the orientation as Pillow's PNG reader finds it,
// or returns 0: from the last eXIf chunk before the image data, or if
// there is none the last one after it; without eXIf, from the last
// "Raw profile type exif" text chunk (ImageMagick's older way: the TIFF
// structure in hexadecimal); and when neither records an orientation, from
// tiff:Orientation in the last XMP text chunk ("XML:com.adobe.xmp").
// Pillow reads the chunks after the image data only when no eXIf comes
// before it, and so does pngOrientation.
func pngOrientation(d []byte) int {
	var before, after []byte // eXIf bodies
	var rawAll, xmpAll, xmpBefore []byte
	idat := false
	for p := 8; p+8 <= len(d); {
		n := int(binary.BigEndian.Uint32(d[p:]))
		if n < 0 || n > len(d)-p-12 {
			break // truncated or hostile length: Go's decoder refuses it too
		}
		typ, body := string(d[p+4:p+8]), d[p+8:p+8+n]
		switch typ {
		case "IDAT":
			idat = true
		case "eXIf":
			if idat {
				after = body
			} else {
				before = body
			}
		case "tEXt", "zTXt", "iTXt":
			switch pngTextKey(body) {
			case pngRawExifKey:
				rawAll = d[p+4 : p+8+n]
			case pngXMPKey:
				xmpAll = d[p+4 : p+8+n]
				if !idat {
					xmpBefore = xmpAll
				}
			}
		case "IEND":
			p = len(d)
			continue
		}
		p += 12 + n
	}
	o, xmp := 0, xmpAll
	switch {
	case before != nil:
		o, xmp = tiffOrientation(before), xmpBefore
	case after != nil:
		o = tiffOrientation(after)
	case rawAll != nil:
		if t, ok := pngText(rawAll); ok {
			o = tiffOrientation(rawProfile(t))
		}
	}
	if o != 0 || xmp == nil {
		return o
	}
	if t, ok := pngText(xmp); ok {
		return xmpOrientation(t)
	}
	return 0
}

// The text chunk keywords Pillow's getexif consults.
const (
	pngRawExifKey = "Raw profile type exif"
	pngXMPKey     = "XML:com.adobe.xmp"
)

// maxPNGText bounds a decompressed text chunk, as Pillow's MAX_TEXT_CHUNK
// does: a compressed chunk that inflates further is ignored.
const maxPNGText = 1 << 20

// pngTextKey returns the keyword of a tEXt, zTXt or iTXt chunk body.
func pngTextKey(body []byte) string {
	if i := bytes.IndexByte(body, 0); i > 0 && i < 80 {
		return string(body[:i])
	}
	return ""
}

// pngText returns the text of a chunk (its type then its body),
// decompressed (at most maxPNGText bytes) when it is compressed.
func pngText(c []byte) ([]byte, bool) {
	typ, body := string(c[:4]), c[4:]
	i := bytes.IndexByte(body, 0)
	if i < 0 {
		return nil, false
	}
	rest := body[i+1:]
	compressed := false
	switch typ {
	case "zTXt":
		if len(rest) < 1 || rest[0] != 0 {
			return nil, false
		}
		rest, compressed = rest[1:], true
	case "iTXt":
		// compression flag, method, language tag\0, translated keyword\0
		if len(rest) < 2 || rest[1] != 0 {
			return nil, false
		}
		compressed = rest[0] == 1
		rest = rest[2:]
		for range 2 {
			j := bytes.IndexByte(rest, 0)
			if j < 0 {
				return nil, false
			}
			rest = rest[j+1:]
		}
	}
	if !compressed {
		return rest, true
	}
	zr, err := zlib.NewReader(bytes.NewReader(rest))
	if err != nil {
		return nil, false
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxPNGText+1))
	if err != nil || len(out) > maxPNGText {
		return nil, false
	}
	return out, true
}

// rawProfile decodes ImageMagick's "Raw profile type exif" text: a blank
// line, the profile name, the length, then the bytes in hexadecimal over
// several lines (Pillow joins the lines after the third and parses them
// with bytes.fromhex), less a leading "Exif\0\0".
func rawProfile(t []byte) []byte {
	lines := bytes.SplitN(t, []byte("\n"), 4)
	if len(lines) < 4 {
		return nil
	}
	out := make([]byte, 0, len(lines[3])/2)
	var hi byte
	odd := false
	for _, c := range lines[3] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') && !odd:
			continue
		default:
			return nil // bytes.fromhex refuses it
		}
		if odd {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	if odd {
		return nil
	}
	if len(out) >= 6 && string(out[:6]) == "Exif\x00\x00" {
		out = out[6:]
	}
	return out
}

// xmpOrientation finds the first tiff:Orientation="N" or
// <tiff:Orientation>N in XMP text (Pillow's regular expression
// tiff:Orientation(="|>)([0-9])), or returns 0.
func xmpOrientation(t []byte) int {
	const key = "tiff:Orientation"
	for {
		i := bytes.Index(t, []byte(key))
		if i < 0 {
			return 0
		}
		t = t[i+len(key):]
		v := -1
		switch {
		case len(t) >= 3 && t[0] == '=' && t[1] == '"':
			v = int(t[2]) - '0'
		case len(t) >= 2 && t[0] == '>':
			v = int(t[1]) - '0'
		}
		if v >= 0 && v <= 9 {
			return v
		}
	}
}

// webpOrientation reads the orientation from the first EXIF chunk of an
// extended-format WebP whose VP8X header announces EXIF, or returns 0.
func webpOrientation(d []byte) int {
	const exifFlag = 0x08
	// RIFF's own size bounds the chunks (trailing bytes are not WebP's).
	end := int(min(int64(len(d)), 8+int64(binary.LittleEndian.Uint32(d[4:]))))
	p := 12
	if p+8+10 > end || string(d[p:p+4]) != "VP8X" || d[p+8]&exifFlag == 0 {
		return 0
	}
	for p+8 <= end {
		n := int(binary.LittleEndian.Uint32(d[p+4:]))
		if n < 0 || n > end-p-8 {
			return 0
		}
		if string(d[p:p+4]) == "EXIF" {
			body := d[p+8 : p+8+n]
			if len(body) >= 6 && string(body[:6]) == "Exif\x00\x00" {
				body = body[6:]
			}
			return tiffOrientation(body)
		}
		p += 8 + n + n&1 // chunks are padded to an even length
	}
	return 0
}
