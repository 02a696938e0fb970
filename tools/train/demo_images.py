#!/usr/bin/python3
"""Renders the demo images committed in models/demo/ from the licence-clean training sets.

    demo_images.py [--out models/demo]

Each image: one emoji from Twemoji (CC-BY 4.0), Noto (Apache-2.0) or Fluent (MIT), cropped to
content, centred, 112 px of content on a 128-px white square, saved as PNG. Writes
ATTRIBUTION.md beside them naming every file's source, version and licence.
"""

import argparse
import json
import os
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import atomic  # noqa: E402
import fetch  # noqa: E402

# (style, CLDR name). Varied, easy-to-judge subjects drawn from every training licence.
DEMO = [
    ("twemoji", "dog face"), ("twemoji", "red apple"), ("twemoji", "bicycle"),
    ("twemoji", "rocket"), ("twemoji", "sun"), ("twemoji", "pizza"),
    ("twemoji", "guitar"), ("twemoji", "snowman"),
    ("noto", "cat face"), ("noto", "banana"), ("noto", "automobile"), ("noto", "house"),
    ("noto", "soccer ball"), ("noto", "rose"), ("noto", "airplane"), ("noto", "umbrella"),
    ("fluent-flat", "elephant"), ("fluent-flat", "hot beverage"), ("fluent-flat", "alarm clock"),
    ("fluent-flat", "key"), ("fluent-color", "penguin"), ("fluent-color", "watermelon"),
    ("fluent-3d", "butterfly"), ("fluent-3d", "light bulb"),
]

SIZE, CONTENT = 128, 112


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=fetch.default_cache())
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "demo"))
    args = ap.parse_args()
    manifest = {p["style"]: p for p in json.load(open(fetch.MANIFEST))["packages"] if "style" in p}
    concepts = json.load(open(os.path.join(args.cache, "data", "concepts.json"), encoding="utf-8"))
    by_name = {c["name"]: c for c in concepts}
    name_to_hex = {}
    for p in manifest.values():
        chars = os.path.join(args.cache, "pkgs", fetch.safe_name(p), "package", "chars.json")
        if os.path.exists(chars):
            for h, n in json.load(open(chars)).items():
                name_to_hex.setdefault(n, fetch.hexkey(h))
    os.makedirs(args.out, exist_ok=True)
    lines = ["# Demo images", "",
             "Rendered by `tools/train/demo_images.py` (`make demo-images`): each emoji cropped to its",
             "content, centred, 112 px of content on a 128-px white square. Sources and licences:", "",
             "| file | emoji | source (npm package, version) | licence |", "| --- | --- | --- | --- |"]
    for style, name in DEMO:
        pkg = manifest[style]
        pkgdir = os.path.join(args.cache, "pkgs", fetch.safe_name(pkg), "package")
        hexcode = by_name[name]["hex"]
        if pkg["format"] == "iconify":
            svg = dict(fetch.iconify_svgs(pkgdir, name_to_hex))[hexcode]
            im = fetch.render_svg(svg)
        else:
            files = {fetch.hexkey(os.path.splitext(f)[0]): f for f in os.listdir(os.path.join(pkgdir, "assets"))}
            im = Image.open(os.path.join(pkgdir, "assets", files[hexcode])).convert("RGBA")
        rgba = Image.fromarray(fetch.normalise(im, SIZE, CONTENT))
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        out = Image.alpha_composite(white, rgba).convert("RGB")
        fname = f"{name.replace(' ', '-')}.png"
        atomic.replace(os.path.join(args.out, fname), lambda f: out.save(f, format="PNG", optimize=True))
        lines.append(f"| {fname} | {name} | {pkg['upstream']} (`{pkg['name']}` {pkg['version']}) | {pkg['license']} |")
    lines += ["", "Twemoji graphics: Copyright 2019 Twitter, Inc and other contributors, licensed under",
              "CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); the images here are resized.",
              "Noto Emoji: Copyright Google Inc., Apache License 2.0. Fluent Emoji: Copyright (c)",
              "Microsoft Corporation, MIT License. See models/LICENSES.md for the full texts.", ""]
    atomic.write_text(os.path.join(args.out, "ATTRIBUTION.md"), "\n".join(lines))
    print(f"demo_images: wrote {len(DEMO)} images to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
