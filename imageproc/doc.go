// Package imageproc decodes images and turns them into the normalised
// 3×Crop×Crop tensor a CLIP image tower sees, reproducing the Python
// reference arithmetic operation for operation.
//
// # Pipelines
//
// OpenAI (the default) is OpenAI CLIP's transform applied to the image as
// PIL.Image.open returns it:
//
//	Compose([Resize(n, interpolation=BICUBIC), CenterCrop(n),
//	         lambda im: im.convert("RGB"), ToTensor(), Normalize(mean, std)])
//
// so resizing happens in the image's own Pillow mode. HF is Hugging Face's
// CLIPImageProcessor (the PIL-based one): convert("RGB") first, resize the
// shortest edge with Pillow's bicubic filter, centre crop with floor
// rounding, rescale by 1/255 in float64, normalise in float32. Converted
// Hugging Face models use it. SigLIP is Hugging Face's SiglipImageProcessor:
// the same steps, but the image is resized straight to Size×Size (the
// aspect ratio is not kept) and nothing is cropped. SiglipImageProcessor
// itself only converts to RGB when its config asks (do_convert_rgb); RGB
// images, the usual input, give the same pixels either way.
//
// Config.Filter picks Pillow's BICUBIC (the default, every CLIP pipeline)
// or BILINEAR filter for the resize, as a Hugging Face processor's
// resample 3 or 2 does; both follow Pillow's precompute_coeffs.
//
// Both resize with Pillow 9.4's algorithm (libImaging/Resample.c): the
// bicubic filter with a = -0.5, support widened by the scale when
// shrinking, coefficients normalised in double precision and rounded to 22
// fractional bits, a horizontal then a vertical pass with rounding and
// clipping to 8 bits after each. Only the pixels that survive the crop are
// computed, and memory stays proportional to the crop, not to the image.
//
// # Go types and Pillow modes
//
// Preprocess maps each Go image type to the Pillow mode the same file opens
// in (PillowMode reports it):
//
//	Go type                    Pillow mode  OpenAI resize                  to RGB
//	*Bilevel                   "1"          nearest                        0 or 255 grey
//	*image.Gray                "L"          bicubic, 1 channel             grey replicated
//	*image.Gray16              "I"          bicubic in double precision,   clipped to 0..255
//	                                        rounded, no clipping between
//	                                        passes
//	*image.Paletted            "P"          nearest on indices             palette colour, alpha ignored
//	*image.NRGBA, NRGBA64      "RGBA"       premultiplied (MULDIV255),     un-premultiplied, alpha
//	*image.RGBA, RGBA64                     bicubic, 4 channels            dropped (not composited)
//	*image.CMYK                "CMYK"       bicubic, 4 channels            Pillow's cmyk2rgb
//	*image.YCbCr               "RGB"        libjpeg-turbo's conversion,    as is
//	                                        then bicubic, 3 channels
//	*image.NYCbCrA             "RGBA"       as YCbCr plus alpha            as RGBA
//	other types                "RGBA"       read through At as NRGBA       as RGBA
//
// An RGBA image without transparent pixels is resized as "RGB", which
// gives the same result. 16-bit RGB(A) keeps the high byte of each sample,
// as Pillow does when it opens such files. In the HF pipeline every type is
// first converted to RGB as in the last column (RGBA by dropping alpha
// without premultiplying) and then resized with the bicubic filter.
//
// Decode returns the types above for what Pillow would open: 1-bit PNG,
// BMP and TIFF as *Bilevel; GIF and 8-bit BMP images with an identity grey
// palette as *image.Gray; PNG grey or RGB images with a tRNS chunk without
// their (ignored) transparency; GIF first frames placed on their logical
// screen, with the transparent palette entry keeping its colour; lossy WebP
// converted to RGB(A) with libwebp's fancy upsampling and colour formula.
//
// Note that Pillow converts "I" to RGB by clipping, not scaling: a 16-bit
// grey PNG comes out nearly white, in the reference and here alike.
//
// # Files: LoadFile
//
// LoadFile (and Load for a reader) decodes and preprocesses in one call,
// which is what the runtime and the index use for image files. JPEGs go
// through a fork of image/jpeg (internal/jpeg) that skips the inverse DCT
// of blocks the crop never reads and decodes into recycled plane memory;
// the tensor is the one Decode + Preprocess give. LoadOptions add:
//
//   - EXIF: the orientation the file's EXIF tag records (JPEG's APP1
//     segment, PNG's eXIf chunk or the text chunks Pillow falls back on,
//     the EXIF chunk of an extended WebP) is
//     applied first, as PIL.ImageOps.exif_transpose does. A TIFF's
//     Orientation tag is applied with or without EXIF, once, because
//     Pillow's TIFF reader turns the image while loading it (Pillow 9.4's
//     exif_transpose then turns it a second time, a Pillow bug fixed in
//     10.1 that is not reproduced). The stored image is resized over the
//     window that lands in the crop and each pixel is placed where the
//     orientation puts it, so orientations 5–8 resize the two axes in the
//     other order than Pillow does on the turned image: within one level
//     (mean |Δ| 0.0026 normalised on the fixtures).
//   - FastDecode: the JPEG is decoded at 1/2, 1/4 or 1/8 scale with
//     reduced-size inverse DCTs, the scale and the per-component block sizes
//     chosen as libjpeg-turbo does for Image.draft("RGB", (Size, Size));
//     chroma that ends up at the luma's resolution needs no upsampling. The
//     1/4 and 1/8 scales are bit-identical to Pillow's draft mode on the
//     fixtures; at 1/2 the 4:2:0 chroma is a full 8×8 block that goes through
//     Go's inverse DCT (within two levels).
//   - Budget: a byte budget shared by concurrent loads, acquired for the
//     file's bytes plus its decoded samples before decoding.
//
// DecodeFor returns the image itself with the same options, for callers
// that need it (the server reports an upload's size): a turned photo comes
// back as an *Oriented view of the stored pixels, which Preprocess resizes
// as LoadInto does, so the tensor is the same bit for bit.
//
// # Exactness
//
// Against torchvision 0.14 + Pillow 9.4 (fixtures in testdata/ref, made by
// tools/reference/preprocess_ref.py), the 8-bit images before
// normalisation are bit-identical for PNG, GIF, BMP, TIFF and WebP (lossless
// and lossy), in every mode above, in both pipelines. JPEG differs only
// where Go's inverse DCT differs from libjpeg-turbo's by a level or two:
// chroma upsampling (h2v1, h2v2 and h1v2 triangle filters, box for other
// ratios and for chroma two samples wide or less) and the YCbCr tables are
// libjpeg-turbo's.
//
// Where exactness is impossible or not attempted:
//   - Pillow 9.4 cannot resize 16-bit grey TIFFs ("I;16") with BICUBIC and
//     raises; they are treated like 16-bit grey PNGs ("I").
//   - Go's decoders refuse what Pillow may read: RLE BMP, CMYK or JPEG-in-
//     TIFF, arithmetic-coded or 12-bit JPEG. Adobe YCCK JPEGs are converted
//     with Go's formula.
//   - 2- and 4-bit BMPs with grey-ramp palettes stay paletted (Pillow's
//     special handling of them is not reproduced); a GIF whose local colour
//     table is an identity grey ramp is read with that table (Pillow falls
//     back to the global one).
//   - An opaque image resized as "RGB" instead of "RGBA" could differ if the
//     rounding error of thousands of fixed-point taps pulled the resampled
//     alpha below 255 (extreme downscales only).
//   - transformers infers the channel axis and misreads images 1 or 3
//     pixels high; HF follows the intended behaviour. transformers' "fast"
//     (torchvision tensor) processors are not reproduced.
package imageproc
