#!/usr/bin/env bash
# Build Bento (the MIT-licensed Benthos fork) v1.20.0, the peer bridge that
# `npm run bench -- --peer` compares the connector with, from the Go module
# proxy into a per-user cache:
#
#   ~/.cache/mqtt-kafka-connector/bento-v1.20.0/bin/bento
#
# `go install github.com/warpstreamlabs/bento/cmd/bento@v1.20.0` is refused
# (Bento's go.mod has replace directives), so the script writes a throwaway
# module into the cache dir that requires Bento at that version and builds its
# cmd/bento. Nothing of it lives in this repo.
#
# Idempotent: a .built marker next to the binary skips the build. The first
# build downloads a few GB of modules into Go's module cache (go env
# GOMODCACHE) and compiles for several minutes; it runs under `nice`.
# Prints the binary path as the last line of its output.
set -euo pipefail

BENTO_VERSION=v1.20.0
BENTO_MODULE=github.com/warpstreamlabs/bento
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/mqtt-kafka-connector"
final="${BENTO_CACHE_DIR:-$cache_root/bento-$BENTO_VERSION}"
started=$SECONDS

log() { echo "bento-build: $*" >&2; }
die() { echo "bento-build: $*" >&2; exit 1; }

if [[ -f "$final/.built" && -x "$final/bin/bento" ]]; then
  log "Bento $BENTO_VERSION already built in $final/bin"
  echo "$final/bin/bento"
  exit 0
fi

GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
[[ -n "$GO" ]] || die "go not found on PATH or at /usr/local/go/bin/go; install Go 1.23 or newer"
command -v nice >/dev/null 2>&1 || die "nice not found (coreutils)"

export GOFLAGS="-p=${BENTO_GO_PARALLEL:-2} -buildvcs=false"
export CGO_ENABLED=0
export GOTOOLCHAIN=local

ticker=""
staging=""
cleanup() {
  if [[ -n "$ticker" ]]; then kill "$ticker" 2>/dev/null || true; fi
  if [[ -n "$staging" ]]; then rm -rf "$staging"; fi
}
trap cleanup EXIT

# A line every 30 s while a long step runs (scripts/lib/progress.sh).
progress_tag=bento-build
# shellcheck source=../lib/progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/progress.sh"

mkdir -p "$cache_root"
staging="$(mktemp -d "$cache_root/bento-$BENTO_VERSION.tmp.XXXXXX")"
mod="$staging/wrapper"
mkdir -p "$mod" "$staging/bin"

# The throwaway wrapper module: one go.mod requiring Bento, and a tools file
# so `go mod tidy` keeps cmd/bento's whole import graph in go.sum.
cat >"$mod/go.mod" <<GOMOD
module bento-peer-build

go 1.23

require $BENTO_MODULE $BENTO_VERSION
GOMOD
cat >"$mod/tools.go" <<GOSRC
//go:build tools

package tools

import _ "$BENTO_MODULE/cmd/bento"
GOSRC

log "Bento $BENTO_VERSION: resolving modules in $mod (first run: a few GB into $("$GO" env GOMODCACHE))"
(cd "$mod" && with_progress "go get" nice -n 10 "$GO" get "$BENTO_MODULE/cmd/bento@$BENTO_VERSION")
log "Bento $BENTO_VERSION: modules ready after $((SECONDS - started)) s; compiling cmd/bento"
(cd "$mod" && with_progress "go build" nice -n 10 "$GO" build -trimpath -gcflags=all=-dwarf=false \
  -ldflags="-s -w -X main.Version=${BENTO_VERSION#v}" -o "$staging/bin/bento" "$BENTO_MODULE/cmd/bento")
[[ -x "$staging/bin/bento" ]] || die "go build did not produce bin/bento"
v="$("$staging/bin/bento" --version 2>&1 | head -3 | tr '\n' ' ')"
log "built binary says: $v"

# Keep the wrapper (go.mod/go.sum) beside the binary for reference.
rm -rf "$final"
chmod 755 "$staging"
mv "$staging" "$final"
staging=""
date -u +%FT%TZ >"$final/.built"
log "Bento $BENTO_VERSION: done in $((SECONDS - started)) s, $(du -sh "$final/bin/bento" | cut -f1) in $final/bin"
echo "$final/bin/bento"
