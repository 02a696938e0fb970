#!/usr/bin/env bash
# Builds and installs the pgvector extension for the local PostgreSQL from
# the vendored release archive, unless it is installed already. Needs
# postgresql-server-dev-NN and build-essential, and root to install.
set -euo pipefail
# The archive: $PGVECTOR_ARCHIVE, else shared/vendor/ beside the checkout.
repo="$(cd "$(dirname "$0")/.." && pwd)"
ARCHIVE="${PGVECTOR_ARCHIVE:-}"
for a in "$repo/../shared/vendor/pgvector-0.8.6.tar.gz" /work/shared/vendor/pgvector-0.8.6.tar.gz; do
  if test -z "$ARCHIVE" && test -f "$a"; then ARCHIVE="$a"; fi
done
share="$(pg_config --sharedir)"
if test -f "$share/extension/vector.control"; then
  exit 0
fi
if test -z "$ARCHIVE" || ! test -f "$ARCHIVE"; then
  echo "install-pgvector: pgvector-0.8.6.tar.gz not found (set PGVECTOR_ARCHIVE)" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar xzf "$ARCHIVE" -C "$work"
make -C "$work"/pgvector-* -j"$(nproc)" >/dev/null
make -C "$work"/pgvector-* install >/dev/null
echo "install-pgvector: installed $(basename "$ARCHIVE" .tar.gz) into $share/extension"
