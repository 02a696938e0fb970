#!/usr/bin/env bash
# Camera-sized photo benchmark: decode + preprocess (clipinfer exact and
# -fast-decode against Pillow full and draft decoding, two workers each),
# indexing peak RSS with the bundled model and a random ViT-B/32 q8, and
# ViT-B/32 indexing speed against the Python pipeline (Pillow + torchvision +
# PyTorch int8, two processes), all on the same files in one run. Every timed
# step holds /tmp/timing.lock (the machine may be shared). JSON lines go to
# stdout; the numbers are discussed in docs/PERFORMANCE.md.
#
#   bench/photos/run.sh [PHOTO_DIR]     (default /tmp/clipinfer-photos; generated if missing)
#
# Environment: ROUNDS=2 (alternating rounds of the decode and index
# comparisons), REPEAT=3 (each 12-MP JPEG is indexed under this many names),
# WORK=/tmp/clipinfer-photobench
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
PHOTOS=${1:-/tmp/clipinfer-photos}
PHASE=${PHASE:-all}
WORK=${WORK:-/tmp/clipinfer-photobench}
ROUNDS=${ROUNDS:-2}
REPEAT=${REPEAT:-3}
PY=/usr/bin/python3
mkdir -p "$WORK"
jpegs=("$PHOTOS"/jpeg*.jpg)
j12=("$PHOTOS"/jpeg12-*.jpg)

# Each timed phase runs as one holder of the timing lock (a few minutes).
if [[ $PHASE == all ]]; then

[[ -f "$PHOTOS/manifest.json" ]] || $PY bench/photos/gen.py -o "$PHOTOS"
go build -o "$WORK/clipinfer" ./cmd/clipinfer
go build -o "$WORK/convert" ./cmd/convert
go build -o "$WORK/decodebench" ./bench/photos/decodebench
if [[ ! -f "$WORK/vitb32.clip" ]]; then
	go run ./bench/photos/mkvitb32 "$WORK/vitb32.safetensors"
	"$WORK/convert" -brief "$WORK/vitb32.safetensors" "$WORK/vitb32.clip" >/dev/null
	rm "$WORK/vitb32.safetensors"
fi
echo "{\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\",\"nproc\":$(nproc),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"commit\":\"$(git rev-parse --short HEAD)\"}"

	PHASE=decode flock /tmp/timing.lock "$self" "$PHOTOS"
	PHASE=rss flock /tmp/timing.lock "$self" "$PHOTOS"
	PHASE=index flock /tmp/timing.lock "$self" "$PHOTOS"
	PHASE=cosine "$self" "$PHOTOS"
	exit 0
fi
echo "{\"phase\":\"$PHASE\",\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"time\":\"$(date -u +%H:%M:%S)\"}"

# 1. decode + preprocess, alternating.
if [[ $PHASE == decode ]]; then
	for r in $(seq "$ROUNDS"); do
		"$WORK/decodebench" -workers 2 -rounds 1 "${jpegs[@]}"
		$PY bench/photos/pillow_bench.py --workers 2 --rounds 1 "${jpegs[@]}"
		"$WORK/decodebench" -fast -workers 2 -rounds 1 "${jpegs[@]}"
		$PY bench/photos/pillow_bench.py --draft --workers 2 --rounds 1 "${jpegs[@]}"
	done
	exit 0
fi

# 2. indexing with the defaults: peak RSS (and images/s) for the whole folder.
index() { # label model flags...
	local label=$1 model=$2
	shift 2
	rm -f "$WORK/$label.idx" "$WORK/$label.idx.failed"
	/usr/bin/time -f "{\"label\":\"$label\",\"max_rss_mib\":%M,\"user_s\":%U,\"sys_s\":%S}" "$WORK/clipinfer" index -q -m "$model" -o "$WORK/$label.idx" "$@" 2>&1 |
		sed -e 's/"max_rss_mib":\([0-9]*\)/"max_rss_kib":\1/' -e "s/^{\"index\"/{\"label\":\"$label\",\"index\"/"
}
if [[ $PHASE == rss ]]; then
index bundled-exact models/emoji-clip-q8.clip "$PHOTOS"
index bundled-fast models/emoji-clip-q8.clip -fast-decode "$PHOTOS"
index vitb32-exact "$WORK/vitb32.clip" "$PHOTOS"
echo "{\"vitb32_file_mib\":$(($(stat -c %s "$WORK/vitb32.clip") >> 20))}"
exit 0
fi

# 3. ViT-B/32 indexing of the 12-MP JPEGs (each under REPEAT names):
# clipinfer (2 threads) vs Python (2 processes), alternating.
if [[ $PHASE == index ]]; then
rm -rf "$WORK/j12" && mkdir -p "$WORK/j12"
for r in $(seq "$REPEAT"); do
	for f in "${j12[@]}"; do ln -f "$f" "$WORK/j12/r$r-$(basename "$f")"; done
done
for r in $(seq "$ROUNDS"); do
	index vitb32-12mp-exact "$WORK/vitb32.clip" -threads 2 "$WORK/j12"
	/usr/bin/time -f "{\"label\":\"python-12mp\",\"max_rss_kib_parent\":%M}" $PY bench/photos/python_index.py --workers 2 "$WORK"/j12/*.jpg 2>&1
	index vitb32-12mp-fast "$WORK/vitb32.clip" -threads 2 -fast-decode "$WORK/j12"
done
exit 0
fi

# 4. Embedding cosine, -fast-decode against exact, ViT-B/32 on every JPEG.
"$WORK/clipinfer" embed -m "$WORK/vitb32.clip" $(printf -- '-image %s ' "${jpegs[@]}") >"$WORK/exact.jsonl"
"$WORK/clipinfer" embed -m "$WORK/vitb32.clip" -fast-decode $(printf -- '-image %s ' "${jpegs[@]}") >"$WORK/fast.jsonl"
$PY - "$WORK/exact.jsonl" "$WORK/fast.jsonl" <<'PYEOF'
import json, sys
import numpy as np
a = [np.array(json.loads(l)["embedding"]) for l in open(sys.argv[1])]
b = [np.array(json.loads(l)["embedding"]) for l in open(sys.argv[2])]
c = [float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)) for x, y in zip(a, b)]
print(json.dumps({"cosine_fast_vs_exact": {"min": min(c), "median": float(np.median(c)), "n": len(c)}}))
PYEOF
