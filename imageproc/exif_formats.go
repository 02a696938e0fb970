package imageproc

import "encoding/binary"

// Orientation tags outside JPEG. Pillow reads them as follows, and the
// parsers below follow it:
//
//   - PNG: the eXIf chunk, before or after the image data (ImageMagick
//     writes it after the last IDAT). Its body is a TIFF structure.
//   - WebP: the first EXIF chunk of the extended format, read only when
//     the VP8X header's EXIF flag is set (libwebp's demuxer ignores the
//     chunk otherwise). Its body is a TIFF structure, possibly after the
//     "Exif\0\0" prefix some writers keep.
//   - TIFF: tag 274 of the first image file directory. Pillow's TIFF
//     reader turns the image by it while decoding, whatever the caller
//     asks, so TIFF files are turned even when EXIF orientation is off.
//
// The parsers only index into the bytes already read: they allocate
// nothing and visit each chunk header at most once, so a hostile file
// costs no more than its length.

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

// pngOrientation reads the orientation from the first eXIf chunk, or
// returns 0.
func pngOrientation(d []byte) int {
	for p := 8; p+8 <= len(d); {
		n := int(binary.BigEndian.Uint32(d[p:]))
		typ := string(d[p+4 : p+8])
		if n < 0 || n > len(d)-p-12 {
			return 0 // truncated or hostile length: Go's decoder refuses it too
		}
		switch typ {
		case "eXIf":
			return tiffOrientation(d[p+8 : p+8+n])
		case "IEND":
			return 0
		}
		p += 12 + n
	}
	return 0
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
