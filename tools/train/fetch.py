#!/usr/bin/python3
"""Fetches the pinned emoji packages with npm, verifies them, and builds the image-text dataset.

    fetch.py [--roles train,text] [--cache DIR]

Every package named in manifest.json is fetched with `npm pack NAME@VERSION` into the cache
(default $CLIPINFER_TRAIN_CACHE or ~/.cache/clipinfer-train), its sha512 compared with the
pinned integrity, and unpacked. Then:

* concepts.json: one entry per fully-qualified base emoji of Emojibase (no skin-tone variants,
  no components, no regional indicators): hexcode, emoji, CLDR name, CLDR keywords, shortcodes.
* style_<style>.npz per image style: `idx` (concept index) and `rgba` [N, 64, 64, 4] uint8:
  each image rendered large (SVG with rsvg-convert at 160 px, 3D WebP at 256 px), cropped to
  the bounding box of its non-transparent pixels, centred on a transparent square and resized
  (premultiplied, Lanczos) so the content fills 56 px of the 64-px square.

Backgrounds and augmentation are applied later, at training time (train.py) or evaluation
time (eval.py, white background). Nothing here is written into the repository.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
from PIL import Image

import atomic

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "manifest.json")
SIZE = 64  # output image size
CONTENT = 56  # longest side of the content inside the square
RENDER = 160  # SVG render size before cropping


def default_cache():
    return os.environ.get("CLIPINFER_TRAIN_CACHE", os.path.expanduser("~/.cache/clipinfer-train"))


def safe_name(pkg):
    return pkg["name"].lstrip("@").replace("/", "-") + "-" + pkg["version"]


def sha512_integrity(path):
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def fetch_package(pkg, cache):
    """npm-packs pkg into cache/npm, verifies its integrity, unpacks it; returns the package dir."""
    npm_dir = os.path.join(cache, "npm")
    os.makedirs(npm_dir, exist_ok=True)
    tgz = os.path.join(npm_dir, safe_name(pkg) + ".tgz")
    if not (os.path.exists(tgz) and sha512_integrity(tgz) == pkg["integrity"]):
        spec = f"{pkg['name']}@{pkg['version']}"
        print(f"fetch: npm pack {spec}", file=sys.stderr)
        out = subprocess.run(["npm", "pack", "--json", "--pack-destination", npm_dir, spec],
                             check=True, capture_output=True, text=True).stdout
        made = os.path.join(npm_dir, json.loads(out)[0]["filename"])
        if made != tgz:
            os.replace(made, tgz)
    got = sha512_integrity(tgz)
    if got != pkg["integrity"]:
        raise SystemExit(f"fetch: {pkg['name']}@{pkg['version']}: integrity mismatch: got {got}, pinned {pkg['integrity']}")
    dest = os.path.join(cache, "pkgs", safe_name(pkg))
    stamp = os.path.join(dest, ".verified")
    if os.path.exists(stamp) and open(stamp).read() == pkg["integrity"]:
        return os.path.join(dest, "package")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    with tarfile.open(tgz) as tf:
        for m in tf.getmembers():
            parts = m.name.split("/")
            if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in parts or parts[0] != "package":
                raise SystemExit(f"fetch: {tgz}: refusing tar member {m.name!r}")
        tf.extractall(dest)
    with open(stamp, "w") as f:
        f.write(pkg["integrity"])
    return os.path.join(dest, "package")


def hexkey(h):
    """Normalised code point sequence: lowercase hex joined by '-', without FE0F."""
    return "-".join(p for p in h.lower().replace("_", "-").split("-") if p and p != "fe0f")


def build_concepts(dirs):
    """Base emoji with CLDR names, keywords and shortcodes."""
    eb = dirs["emojibase-data"]
    data = json.load(open(os.path.join(eb, "en", "data.json"), encoding="utf-8"))
    shortcodes = {}
    for src in ("emojibase.json", "github.json", "cldr.json"):
        for h, codes in json.load(open(os.path.join(eb, "en", "shortcodes", src), encoding="utf-8")).items():
            codes = [codes] if isinstance(codes, str) else codes
            shortcodes.setdefault(hexkey(h), []).extend(codes)
    cldr = {}
    for pkgname, sub, key in (("cldr-annotations-full", "annotations", "annotations"),
                              ("cldr-annotations-derived-full", "annotationsDerived", "annotationsDerived")):
        path = os.path.join(dirs[pkgname], sub, "en", "annotations.json")
        ann = json.load(open(path, encoding="utf-8"))[key]["annotations"]
        for ch, a in ann.items():
            cldr[ch.replace("\ufe0f", "")] = a
    concepts = []
    for e in data:
        if e.get("group") is None or e["group"] == 2:  # regional indicators, components
            continue
        a = cldr.get(e["emoji"].replace("\ufe0f", ""), {})
        name = (a.get("tts") or [e["label"]])[0]
        keywords = []
        for k in a.get("default", []) + e.get("tags", []):
            if k.lower() != name.lower() and k not in keywords:
                keywords.append(k)
        alts = []
        for s in shortcodes.get(hexkey(e["hexcode"]), []):
            s = s.replace("_", " ").strip()
            if s and s.lower() != name.lower() and s not in alts and s not in keywords:
                alts.append(s)
        concepts.append({"hex": hexkey(e["hexcode"]), "emoji": e["emoji"], "name": name,
                         "keywords": keywords, "alt_names": alts, "group": e["group"]})
    names = [c["name"].lower() for c in concepts]
    assert len(set(names)) == len(names), "concept names must be unique"
    return concepts


def iconify_svgs(pkgdir, name_to_hex):
    """Yields (hexkey, svg text) for the icons of an Iconify JSON set."""
    icons = json.load(open(os.path.join(pkgdir, "icons.json"), encoding="utf-8"))
    chars_path = os.path.join(pkgdir, "chars.json")
    chars = json.load(open(chars_path)) if os.path.exists(chars_path) else {}
    by_hex = {hexkey(h): n for h, n in chars.items()}
    if not by_hex:  # sets without a chars map (Fluent Color, Noto v1): match icon names
        for n in list(icons["icons"]) + list(icons.get("aliases", {})):
            if n in name_to_hex:
                by_hex.setdefault(name_to_hex[n], n)
    W, H = icons.get("width", 16), icons.get("height", 16)
    for h, n in by_hex.items():
        seen = 0
        while n in icons.get("aliases", {}) and seen < 8:
            alias = icons["aliases"][n]
            if any(alias.get(k) for k in ("hFlip", "vFlip", "rotate")):
                n = None
                break
            n = alias["parent"]
            seen += 1
        icon = icons["icons"].get(n) if n else None
        if icon is None or any(icon.get(k) for k in ("hFlip", "vFlip", "rotate")):
            continue
        w, hh = icon.get("width", W), icon.get("height", H)
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
               f'width="{RENDER}" height="{RENDER}" viewBox="{icon.get("left", 0)} {icon.get("top", 0)} {w} {hh}">'
               f'{icon["body"]}</svg>')
        yield h, svg


def render_svg(svg):
    png = subprocess.run(["rsvg-convert", "-w", str(RENDER), "-h", str(RENDER), "-a", "-f", "png"],
                         input=svg.encode("utf-8"), check=True, capture_output=True).stdout
    return Image.open(io.BytesIO(png)).convert("RGBA")


def normalise(im, size=SIZE, content=CONTENT):
    """Crops to content, centres, resizes to size with the content's longest side = content."""
    a = np.asarray(im)[:, :, 3]
    ys, xs = np.nonzero(a > 8)
    if len(xs) == 0:
        return None
    im = im.crop((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    w, h = im.size
    scale = content / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = im.convert("RGBa").resize((nw, nh), Image.LANCZOS)
    canvas = Image.new("RGBa", (size, size), (0, 0, 0, 0))
    canvas.paste(small, ((size - nw) // 2, (size - nh) // 2))
    return np.asarray(canvas.convert("RGBA"))


def build_style(pkg, pkgdir, concepts, name_to_hex, cache):
    index = {c["hex"]: i for i, c in enumerate(concepts)}
    jobs = []
    if pkg["format"] == "iconify":
        for h, svg in iconify_svgs(pkgdir, name_to_hex):
            if h in index:
                jobs.append((index[h], ("svg", svg)))
    else:
        assets = os.path.join(pkgdir, "assets")
        for f in sorted(os.listdir(assets)):
            h = hexkey(os.path.splitext(f)[0])
            if h in index:
                jobs.append((index[h], ("file", os.path.join(assets, f))))
    jobs.sort(key=lambda j: j[0])

    failed = []

    def work(job):
        kind, src = job[1]
        try:
            im = render_svg(src) if kind == "svg" else Image.open(src).convert("RGBA")
        except (subprocess.CalledProcessError, OSError) as e:
            err = getattr(e, "stderr", b"") or b""
            failed.append((concepts[job[0]]["name"], err.decode("utf-8", "replace").strip()[:200]))
            return None
        return normalise(im)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        arrays = list(ex.map(work, jobs))
    for name, err in failed:
        print(f"fetch: style {pkg['style']}: skipped {name!r}: {err}", file=sys.stderr)
    idx = [j[0] for j, a in zip(jobs, arrays) if a is not None]
    rgba = np.stack([a for a in arrays if a is not None])
    out = os.path.join(cache, "data", f"style_{pkg['style']}.npz")
    atomic.replace(out, lambda f: np.savez(f, idx=np.array(idx, dtype=np.int32), rgba=rgba))
    print(f"fetch: style {pkg['style']}: {len(idx)} of {len(concepts)} concepts -> {out}", file=sys.stderr)
    return len(idx)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--roles", default="train,text", help="comma-separated roles to fetch: train, text, eval")
    ap.add_argument("--cache", default=default_cache())
    args = ap.parse_args()
    roles = set(args.roles.split(",")) | {"text"}
    if shutil.which("rsvg-convert") is None:
        raise SystemExit("fetch: rsvg-convert not found: apt-get install -y librsvg2-bin")
    manifest = json.load(open(MANIFEST))["packages"]
    dirs = {}
    for pkg in manifest:
        if pkg["role"] in roles:
            dirs[pkg["name"]] = fetch_package(pkg, args.cache)
    os.makedirs(os.path.join(args.cache, "data"), exist_ok=True)
    concepts = build_concepts(dirs)
    atomic.write_json(os.path.join(args.cache, "data", "concepts.json"), concepts, ensure_ascii=False, indent=0)
    print(f"fetch: {len(concepts)} concepts", file=sys.stderr)

    # Icon name -> concept, from every Iconify set that has a chars map (for sets without one).
    name_to_hex = {}
    for pkg in manifest:
        if pkg.get("format") == "iconify" and pkg["name"] in dirs:
            p = os.path.join(dirs[pkg["name"]], "chars.json")
            if os.path.exists(p):
                for h, n in json.load(open(p)).items():
                    name_to_hex.setdefault(n, hexkey(h))
    summary = {"concepts": len(concepts), "styles": {}}
    for pkg in manifest:
        if pkg["role"] in ("train", "eval") and pkg["name"] in dirs:
            out = os.path.join(args.cache, "data", f"style_{pkg['style']}.npz")
            stamp = out + ".integrity"
            if os.path.exists(out) and os.path.exists(stamp) and open(stamp).read() == pkg["integrity"]:
                summary["styles"][pkg["style"]] = int(len(np.load(out)["idx"]))
                continue
            summary["styles"][pkg["style"]] = build_style(pkg, dirs[pkg["name"]], concepts, name_to_hex, args.cache)
            with open(stamp, "w") as f:
                f.write(pkg["integrity"])
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
