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

plus manifest.json. Run from the repository root:
    /usr/bin/python3 tools/reference/photo_ref.py
Deterministic (fixed seeds and encoder settings); made with Pillow 9.4,
torchvision 0.14 and libjpeg-turbo 2.1.5.
"""

import gzip
import json
import os

import numpy as np
import PIL
import torchvision
from PIL import Image, ImageOps
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
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"pillow": PIL.__version__, "torchvision": torchvision.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
