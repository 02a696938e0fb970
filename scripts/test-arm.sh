#!/usr/bin/env bash
# test-arm.sh runs the whole module's tests on emulated ARM CPUs with
# qemu-user, checking that each CPU gets the kernel it should:
#
#   GOARCH=arm64, QEMU_CPU=cortex-a72  Raspberry Pi 4 (ARMv8.0, no SDOT)  -> neon
#   GOARCH=arm64, QEMU_CPU=cortex-a76  Raspberry Pi 5 (ARMv8.2, SDOT)     -> neondot
#   GOARCH=arm64, QEMU_CPU=max         every feature qemu has (i8mm)     -> neoni8mm
#   GOARCH=arm GOARM=7, QEMU_CPU=cortex-a7  32-bit ARM                   -> generic
#
# Every package's test binary is built with `go test -c` and run from its
# package directory (tests read testdata/ relative to it) with -test.short.
# The CPU model only changes which kernel the registry picks, so on the
# cortex-a76 and max CPU models only the test binaries that link the kernel
# registry (package kernels or kernels/arm64) run again; the others would
# repeat the cortex-a72 run exactly.
# The script exits non-zero if any build or test fails. Times measured under
# qemu say nothing about the speed of real hardware.
#
# Requirements: Go, and qemu-user-static (qemu-aarch64-static,
# qemu-arm-static); nothing else, no binfmt_misc registration.
#
# Environment:
#   FUZZTIME=30s   also fuzz kernels' FuzzQMatMul for that long on each arm64
#                  CPU model (the fuzzer's worker processes are started
#                  through a small qemu wrapper script)
#   PKGS="./kernels/..."   test only these packages (default ./...)
#   QEMU_AARCH64, QEMU_ARM  emulator commands (default *-static)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

QEMU_AARCH64=${QEMU_AARCH64:-qemu-aarch64-static}
QEMU_ARM=${QEMU_ARM:-qemu-arm-static}
for tool in go "$QEMU_AARCH64" "$QEMU_ARM"; do
	if ! command -v "$tool" >/dev/null; then
		echo "test-arm.sh: $tool not found (install Go and qemu-user-static)" >&2
		exit 2
	fi
done
QEMU_AARCH64=$(command -v "$QEMU_AARCH64")
QEMU_ARM=$(command -v "$QEMU_ARM")
unset CLIPINFER_KERNEL # a forced kernel would defeat the EXPECT_KERNEL checks

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One "importpath dir" line per package.
mapfile -t pkgs < <(go list -f '{{.ImportPath}} {{.Dir}}' ${PKGS:-./...})

binary() { # arch importpath
	echo "$work/$1/$(echo "$2" | tr / _).test"
}

build() { # goarch [goarm]; a failed build fails the run but not the others
	local arch=$1 goarm=${2:-} failed=0 line ip
	echo "== building test binaries for GOARCH=$arch${goarm:+ GOARM=$goarm}"
	mkdir -p "$work/$arch"
	for line in "${pkgs[@]}"; do
		ip=${line%% *}
		# Packages without tests produce no binary; that is not an error.
		if ! GOOS=linux GOARCH=$arch GOARM=$goarm CGO_ENABLED=0 \
			go test -c -o "$(binary "$arch" "$ip")" "$ip" >/dev/null 2>"$work/log"; then
			echo "BUILD FAILED  $ip"
			sed 's/^/      /' "$work/log"
			failed=1
		fi
	done
	return $failed
}

# usesKernels reports whether a test binary links the kernel registry or
# the arm64 kernels, i.e. whether the CPU model can change what it tests.
usesKernels() { # binary
	go tool nm "$1" 2>/dev/null | grep -qE ' github\.com/clipinfer/clipinfer/kernels(/arm64)?\.'
}

run() { # arch qemu cpu expected-kernel [kernels-only | package list]
	local arch=$1 qemu=$2 cpu=$3 expect=$4 only=${5:-} failed=0 line ip dir bin start
	echo "== GOARCH=$arch on QEMU_CPU=$cpu, expecting kernel $expect"
	bin=$(binary "$arch" github.com/clipinfer/clipinfer/kernels/arm64)
	if [ -f "$bin" ]; then
		(cd kernels/arm64 && QEMU_CPU=$cpu "$qemu" "$bin" -test.run '^TestSelectedKernel$' -test.v 2>&1 |
			grep -o 'GOARCH=.*' || true)
	fi
	for line in "${pkgs[@]}"; do
		ip=${line%% *}
		dir=${line#* }
		bin=$(binary "$arch" "$ip")
		[ -f "$bin" ] || continue
		if [ "$only" = kernels-only ] && ! usesKernels "$bin"; then
			echo "same  $ip (no kernel code: already run on the other CPU model)"
			continue
		fi
		if [ -n "$only" ] && [ "$only" != kernels-only ] && ! grep -qx "$ip" <<<"$only"; then
			continue
		fi
		start=$SECONDS
		if (cd "$dir" && EXPECT_KERNEL=$expect QEMU_CPU=$cpu \
			"$qemu" "$bin" -test.short -test.count=1 -test.timeout=15m >"$work/log" 2>&1); then
			echo "ok    $ip ($((SECONDS - start))s)"
		else
			echo "FAIL  $ip ($((SECONDS - start))s)"
			sed 's/^/      /' "$work/log"
			failed=1
		fi
	done
	return $failed
}

fuzz() { # cpu
	local cpu=$1 bin wrapper
	bin=$(binary arm64 github.com/clipinfer/clipinfer/kernels)
	wrapper="$work/fuzz-worker-$cpu.sh"
	# The fuzzing coordinator starts its workers by executing os.Args[0];
	# without binfmt_misc the kernel cannot run an arm64 binary, so argv[0]
	# is set (qemu -0) to a wrapper that runs the worker under qemu too.
	printf '#!/bin/sh\nexec %s -cpu %s %s "$@"\n' "$QEMU_AARCH64" "$cpu" "$bin" >"$wrapper"
	chmod +x "$wrapper"
	echo "== fuzzing FuzzQMatMul for $FUZZTIME on QEMU_CPU=$cpu"
	(cd kernels && "$QEMU_AARCH64" -cpu "$cpu" -0 "$wrapper" "$bin" -test.run '^$' \
		-test.fuzz '^FuzzQMatMul$' -test.fuzztime "$FUZZTIME" -test.fuzzcachedir "$work/fuzzcache" 2>&1 | tail -n 3)
}

status=0
build arm64 || status=1
build arm 7 || status=1

run arm64 "$QEMU_AARCH64" cortex-a72 neon || status=1
run arm64 "$QEMU_AARCH64" cortex-a76 neondot kernels-only || status=1
run arm64 "$QEMU_AARCH64" max neoni8mm kernels-only || status=1
run arm "$QEMU_ARM" cortex-a7 generic || status=1

if [ -n "${FUZZTIME:-}" ]; then
	fuzz cortex-a72 || status=1
	fuzz cortex-a76 || status=1
	fuzz max || status=1
fi

if [ "$status" -ne 0 ]; then
	echo "test-arm.sh: FAILED" >&2
else
	echo "test-arm.sh: all passed"
fi
exit "$status"
