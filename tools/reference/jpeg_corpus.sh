#!/usr/bin/env bash
# Writes the JPEG corpus of imageproc/internal/jpeg/testdata/corpus: small
# textured, noisy pictures (dense entropy-coded data, many 0xff00 stuffed
# bytes) in the layouts the decoder handles differently — baseline and
# progressive, restart intervals, 4:2:0 / 4:2:2 / 4:4:4, grayscale,
# optimised Huffman tables — made with libjpeg-turbo's cjpeg and jpegtran.
# Files named NAME.tr-*.jpg are lossless jpegtran transcodings of NAME.jpg:
# the same DCT coefficients, so they must decode to the same pixels.
#
#   tools/reference/jpeg_corpus.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=imageproc/internal/jpeg/testdata/corpus
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/src.ppm" "$tmp/gray.pgm" 72 104 <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(14)
h, w = int(sys.argv[3]), int(sys.argv[4])
y, x = np.mgrid[0:h, 0:w].astype(np.float32)
img = np.stack([80 + 60 * np.sin(x / 9) + 0.8 * y, 120 + 50 * np.cos(y / 7), 140 - 0.9 * x], -1)
img[20:50, 30:70] = [230, 40, 60]  # a hard-edged shape
img += rng.normal(0, 28, img.shape)  # sensor-like noise
img = np.clip(img, 0, 255).astype(np.uint8)
with open(sys.argv[1], "wb") as f:
    f.write(b"P6 %d %d 255\n" % (w, h) + img.tobytes())
with open(sys.argv[2], "wb") as f:
    f.write(b"P5 %d %d 255\n" % (w, h) + img[..., 1].tobytes())
PY
cjpeg -quality 92 -sample 2x2 "$tmp/src.ppm" >"$out/s420.jpg"
cjpeg -quality 97 -sample 2x1 -optimize "$tmp/src.ppm" >"$out/s422-opt.jpg"
cjpeg -quality 100 -sample 1x1 "$tmp/src.ppm" >"$out/s444-q100.jpg"
cjpeg -quality 90 -sample 2x2 -restart 1B "$tmp/src.ppm" >"$out/s420-rst1.jpg"
cjpeg -quality 90 -grayscale "$tmp/gray.pgm" >"$out/gray.jpg"
cjpeg -quality 90 -progressive -sample 2x2 "$tmp/src.ppm" >"$out/prog420.jpg"
for f in s420 s422-opt s444-q100 gray; do
	jpegtran -copy none -progressive "$out/$f.jpg" >"$out/$f.tr-prog.jpg"
	jpegtran -copy none -restart 3B "$out/$f.jpg" >"$out/$f.tr-rst3.jpg"
done
# Not included: progressive scans with restart intervals, which Go's
# image/jpeg (and so the fork) rejects with "missing 0xff00 sequence".
jpegtran -copy none -optimize "$out/s420.jpg" >"$out/s420.tr-opt.jpg"
# Odd sizes (partial MCUs at the right and bottom) with restart intervals
# that do not divide the MCU rows, for the fast sequential decoder's
# restart and end-of-scan handling. The same picture generator, 61 × 87.
sed -n '/^\/usr\/bin\/python3 - /,/^PY$/p' "$0" | sed '1s/.*/import sys; sys.argv[1:] = sys.argv[1:]/;$d' >"$tmp/gen.py"
/usr/bin/python3 "$tmp/gen.py" "$tmp/odd.ppm" "$tmp/oddgray.pgm" 61 87
cjpeg -quality 95 -sample 2x2 -restart 5B "$tmp/odd.ppm" >"$out/odd420-rst5.jpg"
cjpeg -quality 85 -sample 2x1 -restart 1 "$tmp/odd.ppm" >"$out/odd422-rst1row.jpg"
cjpeg -quality 98 -sample 1x1 -restart 7B -optimize "$tmp/odd.ppm" >"$out/odd444-rst7-opt.jpg"
cjpeg -quality 75 -grayscale -restart 2B "$tmp/oddgray.pgm" >"$out/oddgray-rst2.jpg"
ls -l "$out"
