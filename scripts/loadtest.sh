#!/usr/bin/env bash
# HTTP load test of `clipinfer serve` on loopback with Debian's wrk: every
# embedding protocol the server speaks (clipinfer's own form, OpenAI's,
# Immich's, Weaviate's), at each concurrency, for a bounded time each.
# Prints one markdown row per run with throughput, latency, non-2xx answers
# and the server's resident memory after the run.
#
#   scripts/loadtest.sh MODEL.clip            # 20 s per run, 8 and 32 connections
#   DURATION=10s CONNS="8 32 64" PROTOCOLS="openai immich" scripts/loadtest.sh MODEL.clip
#
# Needs wrk (apt-get install -y wrk) and bin/clipinfer (make build).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/loadtest.sh MODEL.clip}
DURATION=${DURATION:-20s}
CONNS=${CONNS:-"8 32"}
PROTOCOLS=${PROTOCOLS:-"native openai immich weaviate"}
PORT=${PORT:-18931}
command -v wrk >/dev/null || { echo "loadtest.sh: wrk not found (apt-get install -y wrk)" >&2; exit 1; }
[[ -x bin/clipinfer ]] || { echo "loadtest.sh: bin/clipinfer not found (make build)" >&2; exit 1; }

base=http://127.0.0.1:$PORT
bin/clipinfer serve -m "$model" -alias loadtest -addr "127.0.0.1:$PORT" ${SERVE_FLAGS:-} 2>/tmp/clipinfer-loadtest.log &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	curl -sf "$base/healthz" >/dev/null && break
	sleep 0.1
done
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status"; }
curl -sf "$base/v1/embeddings" -H 'Content-Type: application/json' -d '{"input":"warm up"}' >/dev/null

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; model $(basename "$model"); RSS after warm-up $(rss)"
echo
echo "| protocol | connections | requests | req/s | latency p50 / p99 | non-2xx | server RSS after |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for proto in $PROTOCOLS; do
	for c in $CONNS; do
		out=$(MODEL=loadtest wrk -t2 -c"$c" -d"$DURATION" --latency -s "scripts/loadtest/$proto.lua" "$base" 2>&1)
		reqs=$(awk '/requests in/ {print $1}' <<<"$out")
		rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
		p50=$(awk '$1=="50%" {print $2}' <<<"$out")
		p99=$(awk '$1=="99%" {print $2}' <<<"$out")
		bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
		echo "| $proto | $c | $reqs | $rps | $p50 / $p99 | ${bad:-0} | $(rss) |"
	done
done
