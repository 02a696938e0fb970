#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 30s).
# New failing inputs land in the package's testdata/fuzz/ as usual.
# Minimising a new input is capped at FUZZMINIMIZETIME (default 5s): the
# image decoders' seeds are up to 16 KB, and minimising one of those with
# go test's default (60 s) takes the whole run of a short target, showing
# "0/sec" meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-5s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $target ($FUZZTIME)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg"
  done
done
