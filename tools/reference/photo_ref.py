#!/usr/bin/env python3
"""Reference fixtures for imageproc's photo paths: Pillow's draft mode
(reduced-scale JPEG decoding) and EXIF orientation.

Writes small textured 4:2:0 JPEGs to imageproc/testdata/photo/ and, for each
case, the 8-bit RGB crop (n×n×3 bytes, row by row, gzip-compressed .rgb.gz) that this
pipeline produces before ToTensor:

    im = Image.open(path)
    im.draft("RGB", (n, n))            # draft cases only
    im = ImageOps.exif_transpose(im)   # orientation cases only
    Compose([Resize(n, BICUBIC), CenterCrop(n), convert("RGB")])(im)

The orientation cases also cover the other formats that carry the tag, as
tiny lossless files with the same stored pixels: PNG (eXIf chunk), WebP
(EXIF chunk of the extended format) and TIFF (tag 274). For PNG and WebP
the reference is exif_transpose as for JPEG. Pillow's TIFF reader turns
the image by its Orientation tag while loading it, and Pillow 9.4's
exif_transpose then turns it a second time (fixed in Pillow 10.1): the
TIFF reference is the loaded image, turned once, which the script checks
against transposing the stored pixels. Four more PNGs carry the tag where
Pillow also looks for it (eXIf after the image data, ImageMagick's "Raw
profile type exif" text, XMP's tiff:Orientation).

plus manifest.json. Run from the repository root:
    /usr/bin/python3 tools/reference/photo_ref.py
Deterministic (fixed seeds and encoder settings); made with Pillow 9.4,
torchvision 0.14 and libjpeg-turbo 2.1.5.
"""

import gzip
import io
import json
import os
import struct
import zlib

import numpy as np
import PIL
import torchvision
from PIL import Image, ImageOps, PngImagePlugin
from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Resize

OUT = "imageproc/testdata/photo"


def texture(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([60 + 120 * y / h, 128 + 60 * np.sin(x / 23.0), 160 - 90 * x / w], -1)
    small = rng.uniform(-40, 40, size=(h // 16 + 1, w // 16 + 1, 3)).astype(np.float32)
    img += np.kron(small, np.ones((16, 16, 1), np.float32))[:h, :w]
    img += rng.normal(0, 8, size=(h, w, 3)).astype(np.float32)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def smooth_texture(w, h, seed):
    """A gradient with 8-pixel blocks of noise: asymmetric enough that any
    wrong orientation shows, and small once losslessly compressed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([40 + 160 * y / h, 128 + 60 * np.sin(x / 7.0), 200 - 150 * x / w], -1)
    small = rng.uniform(-40, 40, size=(h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
    img += np.kron(small, np.ones((8, 8, 1), np.float32))[:h, :w]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def png_chunk(typ, body):
    return struct.pack(">I", len(body)) + typ + body + struct.pack(">I", zlib.crc32(typ + body))


def crop8(im, n):
    t = Compose([Resize(n, interpolation=InterpolationMode.BICUBIC), CenterCrop(n),
                 lambda im: im.convert("RGB")])
    return np.asarray(t(im), dtype=np.uint8)


def save_u8(arr, name):
    with gzip.GzipFile(os.path.join(OUT, name), "wb", mtime=0) as f:
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    # Draft mode: one 480x360 photo, sizes chosen so that the scale is 2, 4, 8.
    texture(480, 360, 7).save(os.path.join(OUT, "draft_480x360.jpg"), quality=90, subsampling=2)
    for n in (160, 80, 40):
        im = Image.open(os.path.join(OUT, "draft_480x360.jpg"))
        im.draft("RGB", (n, n))
        scale = 480 // im.size[0]
        name = f"draft_480x360.draft{n}.rgb.gz"
        save_u8(crop8(im, n), name)
        cases.append({"file": "draft_480x360.jpg", "kind": "draft", "size": n, "scale": scale,
                      "draft_size": list(im.size), "expected": name})
    # Orientation: the same stored pixels tagged 1..8, exif_transpose first.
    stored = texture(300, 200, 11)
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        f = f"orient{o}_300x200.jpg"
        stored.save(os.path.join(OUT, f), quality=90, subsampling=2, exif=exif.tobytes())
        im = ImageOps.exif_transpose(Image.open(os.path.join(OUT, f)))
        name = f"orient{o}_300x200.64.rgb.gz"
        save_u8(crop8(im, 64), name)
        cases.append({"file": f, "kind": "orientation", "orientation": o, "size": 64,
                      "expected": name})
    # The same orientations in PNG, WebP and TIFF, small and lossless.
    stored = smooth_texture(48, 32, 13)
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        for ext, kw in (("png", {}), ("webp", {"lossless": True}), ("tif", {"compression": "tiff_deflate"})):
            f = f"orient{o}_48x32.{ext}"
            stored.save(os.path.join(OUT, f), exif=exif.tobytes(), **kw)
            im = Image.open(os.path.join(OUT, f))
            if ext == "tif":
                im.load()  # turned once by the reader
                want = stored.transpose(TRANSPOSE[o]) if o != 1 else stored
                assert np.array_equal(np.asarray(im), np.asarray(want)), f
            else:
                assert im.getexif().get(0x0112) == o, f
                im = ImageOps.exif_transpose(im)
            # Lossless files hold the same pixels: one expected crop for all three.
            crop = crop8(im, 24)
            if ext == "png":
                first = crop
            assert np.array_equal(crop, first), f
            name = f"orient{o}_48x32.24.rgb.gz"
            save_u8(crop, name)
            cases.append({"file": f, "kind": "orientation", "orientation": o, "size": 24,
                          "expected": name})
    # PNG's other places for the orientation, as Pillow's getexif reads them:
    # eXIf after the image data (ImageMagick), the last eXIf before the image
    # data winning over one after it, ImageMagick's older "Raw profile type
    # exif" text (compressed), and XMP's tiff:Orientation (compressed iTXt).
    def png_variant(name, o, pre=(), post=(), pnginfo=None):
        b = io.BytesIO()
        stored.save(b, "PNG", pnginfo=pnginfo)
        d = b.getvalue()
        iend = d.rindex(b"IEND") - 4
        d = d[:33] + b"".join(pre) + d[33:iend] + b"".join(post) + d[iend:]
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(d)
        im = Image.open(os.path.join(OUT, name))
        assert im.getexif().get(0x0112) == o, name
        crop = crop8(ImageOps.exif_transpose(im), 24)
        want = f"orient{o}_48x32.24.rgb.gz"
        with gzip.open(os.path.join(OUT, want)) as f:
            assert f.read() == crop.tobytes(), name
        cases.append({"file": name, "kind": "orientation", "orientation": o, "size": 24,
                      "expected": want})

    def exif_tiff(o):
        e = Image.Exif()
        e[0x0112] = o
        return e.tobytes()[6:]  # without "Exif\0\0", as eXIf holds it

    png_variant("orient3_48x32.after-idat.png", 3, post=[png_chunk(b"eXIf", exif_tiff(3))])
    png_variant("orient6_48x32.before-after.png", 6, pre=[png_chunk(b"eXIf", exif_tiff(6))],
                post=[png_chunk(b"eXIf", exif_tiff(8))])
    raw = b"Exif\x00\x00" + exif_tiff(7)
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", "\nexif\n%8d\n%s\n" % (len(raw), raw.hex()), zip=True)
    png_variant("orient7_48x32.raw-profile.png", 7, pnginfo=info)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
                  'tiff:Orientation="8"/></rdf:RDF></x:xmpmeta>', zip=True)
    png_variant("orient8_48x32.xmp.png", 8, pnginfo=info)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"pillow": PIL.__version__, "torchvision": torchvision.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
