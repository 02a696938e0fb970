#!/usr/bin/env bash
# Embedding throughput of 1 vs 2 clipinfer serve replicas behind HAProxy
# (deploy/haproxy.cfg), on loopback. Each replica gets one CPU (taskset),
# one thread and one compute slot, so the second replica adds a CPU, as a
# second machine would. wrk posts one image per request to /v1/embeddings
# through the load balancer.
#
#   scripts/bench-replicas.sh [MODEL] [SECONDS] [ROUNDS]
#
# Prints one JSON line per configuration. Needs haproxy, wrk and taskset;
# run it under the timing lock on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-models/emoji-clip-q8.clip}
SECS=${2:-20}
ROUNDS=${3:-3}
IMAGE=${IMAGE:-testdata/images/gradient-64x48.png}
GO=${GO:-go}
"$GO" build -o bin/clipinfer ./cmd/clipinfer
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ok() {
	for _ in $(seq 200); do
		if curl -fsS -o /dev/null "$1/healthz" 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "bench-replicas: $1 did not become healthy" >&2
	return 1
}

printf '{"images":["%s"]}' "$(base64 -w0 "$IMAGE")" >"$work/body.json"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA

ports=()
for cpu in 0 1; do
	p=$(free_port)
	taskset -c "$cpu" bin/clipinfer serve -m "$MODEL" -threads 1 -concurrency 1 -queue 64 -addr "127.0.0.1:$p" 2>"$work/replica$cpu.log" &
	pids+=($!)
	ports+=("$p")
	wait_ok "http://127.0.0.1:$p"
done

for round in $(seq "$ROUNDS"); do
for n in 1 2; do
	lb=$(free_port)
	r2=${ports[$((n - 1))]}
	# With one replica both server lines name it: same process, same CPU.
	CLIPINFER_LISTEN=127.0.0.1:$lb CLIPINFER_REPLICA1=127.0.0.1:${ports[0]} CLIPINFER_REPLICA2=127.0.0.1:$r2 \
		haproxy -db -f deploy/haproxy.cfg 2>"$work/haproxy$n.log" &
	hp=$!
	wait_ok "http://127.0.0.1:$lb"
	wrk -t2 -c8 -d2s -s "$work/post.lua" "http://127.0.0.1:$lb/v1/embeddings" >/dev/null # warm-up
	out=$(wrk -t2 -c8 -d"${SECS}s" --latency -s "$work/post.lua" "http://127.0.0.1:$lb/v1/embeddings")
	kill "$hp"; wait "$hp" 2>/dev/null || true
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1=="50%" {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	printf '{"round":%d,"replicas":%d,"seconds":%s,"connections":8,"requests_per_s":%s,"p50":"%s","p99":"%s","non_2xx":%s,"model":"%s"}\n' \
		"$round" "$n" "$SECS" "$rps" "$p50" "$p99" "${non2xx:-0}" "$MODEL"
done
done
