#!/usr/bin/python3
"""Generate camera-sized benchmark photos (not committed; made on demand).

Photos are synthetic but have what makes real ones expensive to decode:
smooth shading at several scales, edges, fine texture and sensor-like noise,
so the entropy-coded data is about as dense as a phone photo's (2-5 bits
per pixel at quality 90). JPEGs are 4:2:0 like phones'; some carry an EXIF
orientation (6, 3 or 8) as portrait and upside-down phone shots do.

    bench/photos/gen.py [-o DIR] [--n12 N] [--n24 N] [--npng N] [--seed S]

writes DIR/jpeg12-*.jpg (4000x3000), DIR/jpeg24-*.jpg (6000x4000) and
DIR/png24-*.png (6000x4000) plus DIR/manifest.json (size, orientation and
byte count of every file).
"""
import argparse
import json
import os

import numpy as np
from PIL import Image

ORIENTATIONS = [1, 6, 1, 3, 1, 8]


def field(rng, w, h, cells, amp):
    """Smooth random field: a small noise image upscaled bicubically."""
    cw, ch = max(2, w // cells), max(2, h // cells)
    small = rng.standard_normal((ch, cw, 3)).astype(np.float32)
    lo, hi = small.min(), small.max()
    img = Image.fromarray(((small - lo) / (hi - lo) * 255).astype(np.uint8), "RGB")
    big = np.asarray(img.resize((w, h), Image.BICUBIC), dtype=np.float32)
    return (big - 127.5) * (amp / 127.5)


def photo(rng, w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([
        90 + 80 * (y / h),                     # sky-to-ground shading
        110 + 40 * np.sin(x / w * 3.1),
        140 - 60 * (y / h) + 20 * np.cos(x / w * 5.0),
    ], axis=-1)
    img = base
    img += field(rng, w, h, 600, 60)   # large objects
    img += field(rng, w, h, 60, 30)    # medium detail
    img += field(rng, w, h, 4, 24)     # fine texture (foliage, fabric)
    # a few hard-edged shapes (buildings, furniture)
    for _ in range(12):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        x1, y1 = x0 + rng.integers(w // 20, w // 4), y0 + rng.integers(h // 20, h // 4)
        img[y0:y1, x0:x1] += rng.uniform(-50, 50, size=3).astype(np.float32)
    img += rng.normal(0, 6.0, size=(h, w, 3)).astype(np.float32)  # sensor noise
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", default="bench/photos/out")
    ap.add_argument("--n12", type=int, default=6, help="12-MP JPEGs")
    ap.add_argument("--n24", type=int, default=3, help="24-MP JPEGs")
    ap.add_argument("--npng", type=int, default=2, help="24-MP PNGs")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.o, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    manifest = []
    jobs = [("jpeg12", 4000, 3000, "jpg", i) for i in range(a.n12)]
    jobs += [("jpeg24", 6000, 4000, "jpg", i) for i in range(a.n24)]
    jobs += [("png24", 6000, 4000, "png", i) for i in range(a.npng)]
    for kind, w, h, ext, i in jobs:
        name = f"{kind}-{i:02d}.{ext}"
        path = os.path.join(a.o, name)
        orient = ORIENTATIONS[i % len(ORIENTATIONS)] if ext == "jpg" else 1
        im = photo(rng, w, h)
        if ext == "jpg":
            exif = Image.Exif()
            exif[0x0112] = orient
            exif[0x010F] = "clipinfer bench"
            im.save(path, "JPEG", quality=90, subsampling=2, exif=exif.tobytes())
        else:
            im.save(path, "PNG", compress_level=6)
        manifest.append({"file": name, "width": w, "height": h, "orientation": orient,
                         "bytes": os.path.getsize(path)})
        print(name, os.path.getsize(path), "bytes, orientation", orient, flush=True)
    with open(os.path.join(a.o, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
