#!/usr/bin/env bash
# Whole-model comparison with PyTorch and ONNX Runtime (`make bench`): builds bin/clipinfer and
# bin/convert, installs onnxruntime-node into the cache if it is missing, and
# runs bench/compare/compare.py, which writes
# bench/compare/results/<date>.md and .json. See bench/compare/README.md.
#
# Environment:
#   ROUNDS=5 RUNS=10 WARMUP=2   alternating rounds, timed runs, warm-up runs
#   BENCH_CACHE=~/.cache/clipinfer-bench   models, ONNX exports, onnxruntime-node
#   ORT_VERSION=1.22.0          pinned onnxruntime-node; NO_ORT=1 skips ONNX Runtime
#   CLIPCPP_SRC=auto            clip.cpp source tarball (auto: shared/anchors above the
#                               repository); built into the cache and timed if cmake and a
#                               C++ compiler are present; NO_CLIPCPP=1 skips clip.cpp
# Extra arguments go to compare.py, e.g. scripts/bench.sh --f32 --threads 1.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
GO=${GO:-go}
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
CACHE=${BENCH_CACHE:-$HOME/.cache/clipinfer-bench}
ORT_VERSION=${ORT_VERSION:-1.22.0}
PY=/usr/bin/python3

"$GO" build -o bin/clipinfer ./cmd/clipinfer
"$GO" build -o bin/convert ./cmd/convert

args=(--cache "$CACHE" --rounds "$ROUNDS" --runs "$RUNS" --warmup "$WARMUP")

# ONNX Runtime: onnxruntime-node's CPU library ships inside the npm package;
# --ignore-scripts skips its install script (a CUDA download we do not want).
ort_dir="$CACHE/ort"
if [[ "${NO_ORT:-}" == 1 ]]; then
	args+=(--no-ort)
elif command -v npm >/dev/null && command -v node >/dev/null; then
	have=$(node -p "try{require('$ort_dir/node_modules/onnxruntime-node/package.json').version}catch(e){''}" 2>/dev/null || true)
	if [[ "$have" != "$ORT_VERSION" ]]; then
		echo "bench.sh: installing onnxruntime-node@$ORT_VERSION into $ort_dir" >&2
		mkdir -p "$ort_dir"
		[[ -f "$ort_dir/package.json" ]] || echo '{"name":"clipinfer-bench-ort","private":true}' >"$ort_dir/package.json"
		if ! (cd "$ort_dir" && npm install --ignore-scripts --no-audit --no-fund --save-exact "onnxruntime-node@$ORT_VERSION" >&2); then
			echo "bench.sh: npm install failed; running without ONNX Runtime" >&2
			args+=(--no-ort)
		fi
	fi
	case "$(uname -m)" in
	x86_64) arch=x64 ;;
	aarch64) arch=arm64 ;;
	*) arch=$(uname -m) ;;
	esac
	if ! compgen -G "$ort_dir/node_modules/onnxruntime-node/bin/napi-v*/linux/$arch/libonnxruntime.so*" >/dev/null; then
		echo "bench.sh: no linux/$arch CPU library inside onnxruntime-node; running without ONNX Runtime" >&2
		args+=(--no-ort)
	fi
else
	echo "bench.sh: no node/npm; running without ONNX Runtime" >&2
	args+=(--no-ort)
fi

# clip.cpp: built from its sources by bench/compare/clipcpp.py (cmake Release,
# its default options) and timed in the same rounds as the other contenders.
if [[ "${NO_CLIPCPP:-}" != 1 ]]; then
	if command -v cmake >/dev/null && command -v g++ >/dev/null; then
		args+=(--clipcpp "${CLIPCPP_SRC:-auto}")
	else
		echo "bench.sh: no cmake/g++ (apt-get install -y cmake build-essential); running without clip.cpp" >&2
	fi
fi

out=bench/compare/results
mkdir -p "$out"
stamp=$(date +%Y-%m-%d)
[[ -e "$out/$stamp.md" ]] && stamp=$(date +%Y-%m-%d-%H%M)
export CLIPINFER_BENCH_COMMAND="ROUNDS=$ROUNDS RUNS=$RUNS WARMUP=$WARMUP scripts/bench.sh${*:+ $*}"
"$PY" bench/compare/compare.py "${args[@]}" --md "$out/$stamp.md" --json "$out/$stamp.json" "$@"
echo "bench.sh: wrote $out/$stamp.md and $out/$stamp.json" >&2
