#!/usr/bin/env python3
"""Reference fixtures for the Go packages imageproc and npy.

Writes small test images in many formats and Pillow modes to
imageproc/testdata/ref/, runs on each of them

  * the OpenAI CLIP transform (clip/clip.py `_transform(n_px)`):
        Compose([Resize(n_px, interpolation=BICUBIC), CenterCrop(n_px),
                 lambda im: im.convert("RGB"), ToTensor(),
                 Normalize(CLIP_MEAN, CLIP_STD)])
    applied to the image exactly as PIL.Image.open returns it, and
  * the Hugging Face CLIPImageProcessor order (convert_to_rgb, resize the
    shortest edge with PIL bicubic, numpy center_crop, rescale by 1/255 in
    float64 then float32, normalize in float32), re-implemented here from
    transformers' image_transforms.py because transformers is not installed,

and stores the expected CHW float32 tensors as gzip-compressed .npy files
plus manifest.json describing every case. It also writes a few small .npy
files with NumPy itself to npy/testdata/ for the npy package's tests.

Run from the repository root with the Python that has torch/torchvision:
    /usr/bin/python3 tools/reference/preprocess_ref.py
The output is deterministic (fixed seeds, fixed encoder settings). JPEGs
with 4:4:0 and 4:1:x subsampling, which Pillow cannot write, are made with
libjpeg-turbo's cjpeg (Debian package libjpeg-turbo-progs) and skipped with
a warning when it is not installed. The fixtures were made with Pillow 9.4,
torchvision 0.14 and libjpeg-turbo 2.1.5 (see manifest.json).
"""

import gzip
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision.transforms import (CenterCrop, Compose, InterpolationMode,
                                    Normalize, Resize, ToTensor)

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

OUT = os.path.join("imageproc", "testdata", "ref")


# ---------------------------------------------------------------- pipelines

def openai_transform(n_px):
    """OpenAI CLIP's preprocessing, as in clip/clip.py."""
    return Compose([
        Resize(n_px, interpolation=InterpolationMode.BICUBIC),
        CenterCrop(n_px),
        lambda im: im.convert("RGB"),
        ToTensor(),
        Normalize(CLIP_MEAN, CLIP_STD),
    ])


def hf_output_size(h, w, size):
    # transformers.image_transforms.get_resize_output_image_size with
    # default_to_square=False.
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)


def hf_center_crop(img, crop_h, crop_w):
    # transformers.image_transforms.center_crop on an HWC array.
    orig_h, orig_w = img.shape[:2]
    top = (orig_h - crop_h) // 2
    bottom = top + crop_h
    left = (orig_w - crop_w) // 2
    right = left + crop_w
    if top >= 0 and bottom <= orig_h and left >= 0 and right <= orig_w:
        return img[top:bottom, left:right]
    new_h = max(crop_h, orig_h)
    new_w = max(crop_w, orig_w)
    new = np.zeros((new_h, new_w) + img.shape[2:], dtype=img.dtype)
    top_pad = math.ceil((new_h - orig_h) / 2)
    left_pad = math.ceil((new_w - orig_w) / 2)
    new[top_pad:top_pad + orig_h, left_pad:left_pad + orig_w] = img
    top += top_pad
    bottom += top_pad
    left += left_pad
    right += left_pad
    return new[max(0, top):min(new_h, bottom), max(0, left):min(new_w, right)]


def hf_transform(im, size, crop):
    """CLIPImageProcessor.preprocess (the PIL-based, non-"fast" one).

    The channel axis is taken as last explicitly: transformers' own
    inference of it misreads images whose height is 1 or 3.
    """
    if im.mode != "RGB":
        im = im.convert("RGB")
    arr = np.array(im)
    h, w = arr.shape[:2]
    oh, ow = hf_output_size(h, w, size)
    arr = np.array(Image.fromarray(arr).resize((ow, oh), resample=Image.BICUBIC))
    arr = hf_center_crop(arr, crop, crop)
    arr = (arr.astype(np.float64) * 0.00392156862745098).astype(np.float32)
    mean = np.array(CLIP_MEAN, dtype=np.float32)
    std = np.array(CLIP_STD, dtype=np.float32)
    arr = (arr - mean) / std
    return np.ascontiguousarray(arr.transpose(2, 0, 1)).astype(np.float32)


# ---------------------------------------------------------------- content

def content(w, h, seed):
    """RGB uint8 content with gradients, hard edges, a 1-px checkerboard and
    a little noise, so that any resampling error shows."""
    rs = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255.0 * x / max(w - 1, 1)
    g = 255.0 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin((x + 2 * y) / max(w, h) * 6.0 + seed)
    img = np.stack([r, g, b], -1)
    # hard-edged rectangles in saturated colours
    for _ in range(4):
        x0, x1 = sorted(rs.randint(0, w + 1, 2))
        y0, y1 = sorted(rs.randint(0, h + 1, 2))
        img[y0:y1, x0:x1] = rs.choice([0, 255], 3)
    # checkerboard
    cw, ch = max(w // 4, 1), max(h // 4, 1)
    cx, cy = w // 2, h // 2
    board = ((x + y) % 2 == 0)[cy:cy + ch, cx:cx + cw]
    img[cy:cy + ch, cx:cx + cw][board] = (255, 255, 255)
    img[cy:cy + ch, cx:cx + cw][~board] = (0, 0, 0)
    # a small noisy patch
    nw, nh = min(w, 24), min(h, 24)
    img[:nh, w - nw:] = rs.randint(0, 256, (nh, nw, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def alpha_plane(w, h, seed):
    rs = np.random.RandomState(seed + 100)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    a = 255.0 * (x + y) / max(w + h - 2, 1)
    a = np.round(a)
    # fully transparent and fully opaque blocks
    a[: h // 3, : w // 3] = 0
    a[2 * h // 3:, 2 * w // 3:] = 255
    a[h // 3: h // 2, :] = rs.randint(0, 256, (h // 2 - h // 3, w))
    return a.astype(np.uint8)


def gray(w, h, seed):
    c = content(w, h, seed).astype(np.int32)
    return ((c[..., 0] * 299 + c[..., 1] * 587 + c[..., 2] * 114) // 1000).astype(np.uint8)


# ---------------------------------------------------------------- raw PNG

def write_png(path, arr, color_type, bit_depth, palette=None, trns=None):
    """Minimal PNG writer for what Pillow cannot write (16-bit RGB/RGBA,
    2- and 4-bit grey, tRNS on RGB/L)."""
    h, w = arr.shape[:2]
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    rows = []
    a = arr.reshape(h, w * chans) if chans > 1 else arr.reshape(h, w)
    for row in a:
        if bit_depth == 16:
            data = row.astype(">u2").tobytes()
        elif bit_depth == 8:
            data = row.astype(np.uint8).tobytes()
        else:
            per = 8 // bit_depth
            vals = list(row.astype(int)) + [0] * ((-len(row)) % per)
            data = bytearray()
            for i in range(0, len(vals), per):
                byte = 0
                for v in vals[i:i + per]:
                    byte = (byte << bit_depth) | v
                data.append(byte)
            data = bytes(data)
        rows.append(b"\x00" + data)
    raw = b"".join(rows)

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body +
                struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    out += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def gif_shift_first_frame(data, screen_w, screen_h, left, top):
    """Rewrites a single-frame GIF so that its frame sits at (left, top) on
    a larger logical screen (Pillow keeps the screen size; Go returns the
    frame's bounds)."""
    b = bytearray(data)
    struct.pack_into("<HH", b, 6, screen_w, screen_h)
    flags = b[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while b[pos] == 0x21:  # extension: skip sub-blocks
        pos += 2
        while b[pos]:
            pos += b[pos] + 1
        pos += 1
    assert b[pos] == 0x2C, "image descriptor expected"
    struct.pack_into("<HH", b, pos + 1, left, top)
    return bytes(b)


def gif_grey_ramp(w, h):
    """A GIF whose global palette is the identity grey ramp (entry i is
    (i, i, i)): Pillow opens it as "L"."""
    def wr(path):
        idx = gray(w, h, 36)
        out = bytearray(b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0))
        out += bytes(v for i in range(256) for v in (i, i, i))
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0)
        # LZW with 8-bit codes, resetting often enough to stay at 9 bits.
        out += b"\x08"
        codes, clear, end = [], 256, 257
        flat = idx.reshape(-1).tolist()
        for i in range(0, len(flat), 200):
            codes.append(clear)
            codes.extend(flat[i:i + 200])
        codes.append(end)
        bits, nbits, data = 0, 0, bytearray()
        for c in codes:
            bits |= c << nbits
            nbits += 9
            while nbits >= 8:
                data.append(bits & 0xFF)
                bits >>= 8
                nbits -= 8
        if nbits:
            data.append(bits & 0xFF)
        for i in range(0, len(data), 255):
            block = data[i:i + 255]
            out += bytes([len(block)]) + block
        out += b"\x00\x3b"
        with open(path, "wb") as f:
            f.write(out)
    return wr


def bmp_v4_writer(rgba, compression):
    """A 32-bit BMP with a BITMAPV4HEADER: compression 0 (Pillow ignores the
    fourth byte) or 3 with an alpha bit field (Pillow reads RGBA)."""
    def wr(path):
        h, w = rgba.shape[:2]
        pix = rgba[::-1, :, [2, 1, 0, 3]].astype(np.uint8).tobytes()
        info = struct.pack("<IiiHHIIiiII", 108, w, h, 1, 32, compression, len(pix), 2835, 2835, 0, 0)
        info += struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, 0xFF000000)
        info += b"sRGB" + bytes(36 + 12)
        head = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pix), 0, 0, 14 + len(info))
        with open(path, "wb") as f:
            f.write(head + info + pix)
    return wr


def cjpeg_writer(rgb, sample):
    """Returns a writer encoding rgb with cjpeg and the given luma sampling
    factors (chroma stays 1x1)."""
    def w(path):
        h, wd = rgb.shape[:2]
        with tempfile.NamedTemporaryFile(suffix=".ppm") as f:
            f.write(b"P6\n%d %d\n255\n" % (wd, h) + rgb.tobytes())
            f.flush()
            with open(path, "wb") as out:
                subprocess.run(["cjpeg", "-quality", "90", "-sample", sample, f.name],
                               stdout=out, check=True)
    return w


# ---------------------------------------------------------------- cases

def make_cases():
    """Returns a list of (name, writer) where writer(path) creates the file.
    Names carry the extension."""
    cases = []

    def pil_case(name, mk, **save):
        def w(path):
            mk().save(path, **save)
        cases.append((name, w))

    def rgb(w, h, s):
        return lambda: Image.fromarray(content(w, h, s), "RGB")

    def rgba(w, h, s):
        return lambda: Image.fromarray(
            np.dstack([content(w, h, s), alpha_plane(w, h, s)]), "RGBA")

    # PNG, RGB, many geometries
    for (w, h) in [(1, 1), (2, 3), (3, 2), (5, 40), (61, 13), (31, 33), (32, 32),
                   (20, 17), (300, 200), (517, 389), (224, 224), (33, 32)]:
        pil_case(f"png_rgb_{w}x{h}.png", rgb(w, h, w * 7 + h))
    # PNG, other modes
    pil_case("png_rgba_45x37.png", rgba(45, 37, 3))
    pil_case("png_rgba_300x250.png", rgba(300, 250, 4))
    pil_case("png_rgba_1x1.png", lambda: Image.new("RGBA", (1, 1), (200, 100, 50, 128)))
    # Already the target size on its short side: Pillow's resize is a plain
    # copy, so nothing is premultiplied.
    pil_case("png_rgba_40x32.png", rgba(40, 32, 71))
    pil_case("png_la_32x50.png", lambda: Image.fromarray(
        np.dstack([gray(32, 50, 72), alpha_plane(32, 50, 73)]), "LA"))
    pil_case("png_l_50x41.png", lambda: Image.fromarray(gray(50, 41, 5), "L"))
    pil_case("png_la_40x50.png", lambda: Image.fromarray(
        np.dstack([gray(40, 50, 6), alpha_plane(40, 50, 6)]), "LA"))
    pil_case("png_p_48x36.png", lambda: rgb(48, 36, 7)().quantize(64))
    pil_case("png_p_1x1.png", lambda: rgb(1, 1, 7)().quantize(4))

    def p_trns():
        im = rgb(40, 40, 8)().quantize(32)
        im.info["transparency"] = 3
        return im
    cases.append(("png_ptrns_40x40.png", lambda p: p_trns().save(p, transparency=3)))
    pil_case("png_1bit_64x48.png", lambda: Image.fromarray(gray(64, 48, 9) > 100).convert("1"))
    pil_case("png_1bit_7x5.png", lambda: Image.fromarray(gray(7, 5, 9) > 100).convert("1"))

    def g16(w, h, s):
        g = gray(w, h, s).astype(np.uint16)
        v = g * 3  # mostly above 255 (Pillow clips "I" to 8 bits)
        v[: h // 2] = g[: h // 2] // 2  # a region that stays below 256
        return v
    pil_case("png_i16_40x30.png", lambda: Image.fromarray(g16(40, 30, 10), "I;16"))
    cases.append(("png_rgb16_40x30.png", lambda p: write_png(
        p, content(40, 30, 11).astype(np.uint16) * 257 + 77, 2, 16)))
    cases.append(("png_rgba16_30x20.png", lambda p: write_png(
        p, np.dstack([content(30, 20, 12), alpha_plane(30, 20, 12)]).astype(np.uint16) * 257 + 33, 6, 16)))
    cases.append(("png_la16_20x30.png", lambda p: write_png(
        p, np.dstack([gray(20, 30, 13), alpha_plane(20, 30, 13)]).astype(np.uint16) * 257, 4, 16)))
    cases.append(("png_g4_33x20.png", lambda p: write_png(p, gray(33, 20, 14) >> 4, 0, 4)))
    cases.append(("png_g2_17x9.png", lambda p: write_png(p, gray(17, 9, 15) >> 6, 0, 2)))
    cases.append(("png_rgbtrns_30x30.png", lambda p: write_png(
        p, content(30, 30, 16), 2, 8, trns=struct.pack(">HHH", 0, 0, 0))))
    cases.append(("png_ltrns_30x30.png", lambda p: write_png(
        p, gray(30, 30, 17), 0, 8, trns=struct.pack(">H", 255))))

    g16t = gray(20, 20, 18).astype(np.uint16) * 3
    cases.append(("png_g16trns_20x20.png", lambda p: write_png(
        p, g16t, 0, 16, trns=struct.pack(">H", int(g16t[0, 0])))))
    cases.append(("png_rgb16trns_20x20.png", lambda p: write_png(
        p, content(20, 20, 19).astype(np.uint16) * 257, 2, 16, trns=struct.pack(">HHH", 0, 0, 0))))
    cases.append(("png_1bittrns_9x7.png", lambda p: write_png(
        p, (gray(9, 7, 20) > 100).astype(np.uint8), 0, 1, trns=struct.pack(">H", 0))))

    # JPEG
    pil_case("jpg_420_300x200.jpg", rgb(300, 200, 20), quality=90, subsampling=2)
    pil_case("jpg_444_75x51.jpg", rgb(75, 51, 21), quality=95, subsampling=0)
    pil_case("jpg_422_64x40.jpg", rgb(64, 40, 22), quality=90, subsampling=1)
    pil_case("jpg_prog_160x120.jpg", rgb(160, 120, 23), quality=85, subsampling=2, progressive=True)
    pil_case("jpg_420_odd_37x29.jpg", rgb(37, 29, 24), quality=90, subsampling=2)
    pil_case("jpg_gray_64x48.jpg", lambda: Image.fromarray(gray(64, 48, 25), "L"), quality=90)
    pil_case("jpg_cmyk_64x48.jpg", lambda: rgb(64, 48, 26)().convert("CMYK"), quality=90)
    pil_case("jpg_420_1024x768.jpg", rgb(1024, 768, 27), quality=85, subsampling=2)
    pil_case("jpg_420_2x3.jpg", rgb(2, 3, 28), quality=90, subsampling=2)
    # Subsamplings Pillow cannot write, made with libjpeg-turbo's cjpeg
    # (Debian package libjpeg-turbo-progs) when it is installed.
    if shutil.which("cjpeg"):
        for name, sample, (w, h) in [("jpg_440_45x38.jpg", "1x2", (45, 38)),
                                     ("jpg_411_53x30.jpg", "4x1", (53, 30)),
                                     ("jpg_410_40x27.jpg", "4x2", (40, 27)),
                                     ("jpg_420_4x5.jpg", "2x2", (4, 5))]:
            cases.append((name, cjpeg_writer(content(w, h, w + h), sample)))
    else:
        print("cjpeg not found: skipping the 4:4:0 and 4:1:x JPEG cases", file=sys.stderr)

    # GIF
    pil_case("gif_p_50x40.gif", lambda: rgb(50, 40, 30)().quantize(64))
    cases.append(("gif_trns_40x30.gif",
                  lambda p: rgb(40, 30, 31)().quantize(16).save(p, transparency=2)))
    pil_case("gif_gray_30x20.gif", lambda: Image.fromarray(gray(30, 20, 32), "L"))

    def gif_anim(path):
        a = rgb(36, 24, 33)().quantize(32)
        b = rgb(36, 24, 34)().quantize(32)
        a.save(path, save_all=True, append_images=[b], duration=100, loop=0)
    cases.append(("gif_anim_36x24.gif", gif_anim))

    def gif_offset(path):
        buf = io.BytesIO()
        rgb(20, 16, 35)().quantize(16).save(buf, format="GIF")
        with open(path, "wb") as f:
            f.write(gif_shift_first_frame(buf.getvalue(), 30, 25, 6, 4))
    cases.append(("gif_offset_30x25.gif", gif_offset))

    cases.append(("gif_greyramp_16x12.gif", gif_grey_ramp(16, 12)))

    # BMP
    pil_case("bmp_rgb_33x21.bmp", rgb(33, 21, 40))
    for name, comp in (("bmp_v4rgb_12x10.bmp", 0), ("bmp_v4bitfields_12x10.bmp", 3)):
        cases.append((name, bmp_v4_writer(
            np.dstack([content(12, 10, 45), alpha_plane(12, 10, 45)]), comp)))
    pil_case("bmp_p_40x30.bmp", lambda: rgb(40, 30, 41)().quantize(100))
    pil_case("bmp_l_25x35.bmp", lambda: Image.fromarray(gray(25, 35, 42), "L"))
    pil_case("bmp_1bit_30x20.bmp", lambda: Image.fromarray(gray(30, 20, 43) > 90).convert("1"))
    pil_case("bmp_rgba_20x20.bmp", rgba(20, 20, 44))

    # TIFF
    pil_case("tif_rgb_41x27.tif", rgb(41, 27, 50))
    pil_case("tif_rgb_lzw_64x64.tif", rgb(64, 64, 51), compression="tiff_lzw")
    pil_case("tif_l_30x45.tif", lambda: Image.fromarray(gray(30, 45, 52), "L"))
    pil_case("tif_rgba_33x33.tif", rgba(33, 33, 53))
    pil_case("tif_1bit_40x24.tif", lambda: Image.fromarray(gray(40, 24, 54) > 120).convert("1"))
    pil_case("tif_p_26x26.tif", lambda: rgb(26, 26, 55)().quantize(20))
    pil_case("tif_deflate_50x20.tif", rgb(50, 20, 56), compression="tiff_adobe_deflate")

    # WebP
    pil_case("webp_lossless_rgb_48x40.webp", rgb(48, 40, 60), lossless=True)
    pil_case("webp_lossless_rgba_40x48.webp", rgba(40, 48, 61), lossless=True, exact=True)
    pil_case("webp_lossy_rgb_120x90.webp", rgb(120, 90, 62), quality=80)
    pil_case("webp_lossy_rgba_64x64.webp", rgba(64, 64, 63), quality=80)
    return cases


# Which cases are also checked at n_px = 224 (the files are large).
CASES_224 = {
    "png_rgb_517x389.png", "png_rgb_224x224.png", "png_rgb_20x17.png",
    "png_rgba_300x250.png", "png_p_48x36.png", "jpg_420_1024x768.jpg",
}

LOSSY = (".jpg", ".webp")


def write_npy_gz(path, arr):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr, dtype="<f4"), allow_pickle=False)
    with open(path, "wb") as f:
        # mtime=0 keeps the file byte-identical between runs
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, compresslevel=9) as gz:
            gz.write(buf.getvalue())


def write_npy_fixtures(out):
    """Small .npy files written by NumPy itself for the Go package npy."""
    os.makedirs(out, exist_ok=True)
    fmt = np.lib.format

    def save(name, arr, version=None):
        with open(os.path.join(out, name), "wb") as f:
            if version is None:
                np.save(f, arr, allow_pickle=False)
            else:
                fmt.write_array(f, arr, version=version, allow_pickle=False)

    a = (np.arange(6, dtype="<f4").reshape(3, 2) * 0.5 - 1).astype("<f4")
    save("f4_3x2.npy", a)
    save("f4_1d.npy", np.array([1.5, -2, 0, np.inf, 1e-40], dtype="<f4"))
    save("f4_0d.npy", np.array(3.25, dtype="<f4"))
    save("f4_empty.npy", np.zeros((0, 3), dtype="<f4"))
    save("f4_be.npy", a.astype(">f4"))
    save("f4_v2.npy", a, version=(2, 0))
    save("f4_v3.npy", a, version=(3, 0))
    save("f8_3x2.npy", a.astype("<f8"))
    save("i4_3x2.npy", np.arange(6, dtype="<i4").reshape(3, 2))
    save("f4_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))


def main():
    write_npy_fixtures(os.path.join("npy", "testdata"))
    os.makedirs(OUT, exist_ok=True)
    manifest = {
        "generator": "tools/reference/preprocess_ref.py",
        "versions": {"pillow": PIL.__version__, "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "numpy": np.__version__},
        "mean": CLIP_MEAN, "std": CLIP_STD,
        "cases": [],
    }
    for name, writer in make_cases():
        path = os.path.join(OUT, name)
        writer(path)
        im = Image.open(path)
        im.load()
        entry = {
            "file": name,
            "format": im.format,
            "pil_mode": im.mode,
            "width": im.size[0],
            "height": im.size[1],
            "lossy": name.endswith(LOSSY) and "lossless" not in name,
            "expected": [],
        }
        sizes = (32, 224) if name in CASES_224 else (32,)
        for n in sizes:
            stem = name.rsplit(".", 1)[0]
            t = openai_transform(n)(Image.open(path)).numpy()
            f = f"{stem}.openai.{n}.npy.gz"
            write_npy_gz(os.path.join(OUT, f), t)
            entry["expected"].append({"pipeline": "openai", "size": n, "crop": n, "file": f})
            t = hf_transform(Image.open(path), n, n)
            f = f"{stem}.hf.{n}.npy.gz"
            write_npy_gz(os.path.join(OUT, f), t)
            entry["expected"].append({"pipeline": "hf", "size": n, "crop": n, "file": f})
        # Size != Crop: exercises padding (crop larger than the resized image)
        # and the crop rounding rules of both pipelines.
        if name in ("png_rgb_61x13.png", "png_p_48x36.png", "png_rgba_45x37.png", "png_rgb_31x33.png"):
            for (s, c) in ((24, 32), (33, 20)):
                stem = name.rsplit(".", 1)[0]
                tf = Compose([
                    Resize(s, interpolation=InterpolationMode.BICUBIC),
                    CenterCrop(c),
                    lambda im: im.convert("RGB"),
                    ToTensor(),
                    Normalize(CLIP_MEAN, CLIP_STD),
                ])
                f = f"{stem}.openai.{s}c{c}.npy.gz"
                write_npy_gz(os.path.join(OUT, f), tf(Image.open(path)).numpy())
                entry["expected"].append({"pipeline": "openai", "size": s, "crop": c, "file": f})
                f = f"{stem}.hf.{s}c{c}.npy.gz"
                write_npy_gz(os.path.join(OUT, f), hf_transform(Image.open(path), s, c))
                entry["expected"].append({"pipeline": "hf", "size": s, "crop": c, "file": f})
        manifest["cases"].append(entry)
        print(f"{name:34s} {im.format:5s} {im.mode:5s} {im.size}", file=sys.stderr)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
