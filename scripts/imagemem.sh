#!/usr/bin/env bash
# Peak memory of `clipinfer serve` answering one request with large images.
# Writes three JSON bodies (six lossless WebPs declaring 10000×10000 each;
# ten 3000×3000 gradient PNGs; two 6000×6000 gradient PNGs), then for each
# starts a fresh server on loopback, posts the body to /v1/embeddings and
# prints the status, time, VmHWM right after the answer and VmRSS 3 s later.
#
#   scripts/imagemem.sh [BINARY [MODEL.clip]]   # defaults: bin/clipinfer, the demo model
#
# Needs python3 with PIL (WebP support; $PYTHON picks another) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/clipinfer}
model=${2:-models/emoji-clip-q8.clip}
port=${PORT:-18977}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"${PYTHON:-python3}" - "$dir" <<'PY'
import base64, io, json, sys
from PIL import Image
d = sys.argv[1]
def enc(im, fmt, **kw):
    b = io.BytesIO(); im.save(b, fmt, **kw); return base64.b64encode(b.getvalue()).decode()
webp = enc(Image.new("RGB", (10000, 10000), (120, 30, 200)), "WEBP", lossless=True)
json.dump({"images": [webp] * 6}, open(f"{d}/six-webp-100mp.json", "w"))
def grad(n, seed):
    g = Image.linear_gradient("L").resize((n, n))
    return Image.merge("RGB", (g, g.rotate(90), g.rotate(180 + seed)))
json.dump({"images": [enc(grad(3000, i), "PNG") for i in range(10)]}, open(f"{d}/ten-png-9mp.json", "w"))
json.dump({"images": [enc(grad(6000, i), "PNG") for i in range(2)]}, open(f"{d}/two-png-36mp.json", "w"))
PY
for body in "$dir"/*.json; do
	"$bin" serve -m "$model" -addr "127.0.0.1:$port" 2>"$dir/serve.log" &
	pid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
	res=$(curl -s -o /dev/null -w '%{http_code} in %{time_total} s' -H 'Content-Type: application/json' \
		--data-binary "@$body" "http://127.0.0.1:$port/v1/embeddings")
	hwm=$(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status")
	sleep 3
	rss=$(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status")
	kill -INT "$pid"; wait "$pid" || true
	echo "$(basename "$body" .json) ($(stat -c %s "$body") bytes): HTTP $res; VmHWM $hwm; VmRSS 3 s later $rss"
done
