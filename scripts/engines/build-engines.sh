#!/usr/bin/env bash
# Build the real engines that the Pulumi/Kubernetes tests run against, from
# the Go module proxy, into a per-user cache (no Docker, no kubelet):
#
#   kubernetes  kube-apiserver, kube-controller-manager, kubectl  v1.37.2
#   pulumi      the pulumi CLI                                    v3.248.0
#   provider    pulumi-resource-kubernetes                        v4.25.0 (pseudo-version)
#
# Usage: build-engines.sh [kubernetes] [pulumi] [provider]   (no argument: all three)
#
# Idempotent: each piece is built into a staging dir, renamed into place and
# then marked with a .built file; a piece whose marker and binaries exist is
# skipped. etcd is not built here: it is Debian's etcd-server package.
# The Go module and build caches are Go's defaults (go env GOMODCACHE GOCACHE)
# unless the caller exports GOMODCACHE / GOCACHE.
set -euo pipefail

K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2
PULUMI_VERSION=v3.248.0
# The provider module is served only as a pseudo-version of the v4.25.0 tag.
PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199
PROVIDER_VERSION=4.25.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
engines_dir="${ENGINES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mqtt-kafka-connector/engines}"
started_all=$SECONDS

log() { echo "build-engines: $*"; }
die() { echo "build-engines: $*" >&2; exit 1; }

# --- arguments -------------------------------------------------------------
pieces=()
for arg in "$@"; do
  case "$arg" in
    kubernetes | k8s) pieces+=(kubernetes) ;;
    pulumi) pieces+=(pulumi) ;;
    provider | pulumi-kubernetes) pieces+=(provider) ;;
    all) pieces+=(kubernetes pulumi provider) ;;
    -h | --help)
      sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown piece '$arg' (expected: kubernetes, pulumi, provider or all)" ;;
  esac
done
((${#pieces[@]})) || pieces=(kubernetes pulumi provider)

# --- toolchain -------------------------------------------------------------
GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
if [[ -z "$GO" ]]; then
  die "go not found on PATH or at /usr/local/go/bin/go; install Go 1.26 or newer (the wrapper modules say 'go 1.26.0') and put it on PATH"
fi
go_minor="$("$GO" env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
if [[ -z "$go_minor" || "$go_minor" -lt 26 ]]; then
  die "$("$GO" env GOVERSION) at $GO is too old; the wrapper modules need Go 1.26 or newer"
fi
command -v nice >/dev/null 2>&1 || die "nice not found (coreutils)"

# Two cores are shared with whatever else runs: keep builds polite.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-p=${ENGINES_GO_PARALLEL:-2} -buildvcs=false -mod=readonly"
export CGO_ENABLED=0
export GOTOOLCHAIN=local

# A line every 30 s while a long step runs (scripts/lib/progress.sh).
progress_tag=build-engines
# shellcheck source=../lib/progress.sh
source "$here/../lib/progress.sh"

# Each piece builds into a staging dir next to its final dir (same file
# system, so the final mv is a rename); it is removed if the script fails.
staging=""
ticker=""
cleanup() {
  if [[ -n "$ticker" ]]; then kill "$ticker" 2>/dev/null || true; fi
  if [[ -n "$staging" ]]; then rm -rf "$staging"; fi
}
trap cleanup EXIT

finish_piece() { # finish_piece STAGING FINAL
  local from="$1" to="$2"
  rm -rf "$to"
  chmod 755 "$from"
  mv "$from" "$to"
  staging=""
  date -u +%FT%TZ >"$to/.built"
}

is_built() { # is_built DIR BINARY...
  local dir="$1"
  shift
  [[ -f "$dir/.built" ]] || return 1
  local b
  for b in "$@"; do [[ -x "$dir/bin/$b" ]] || return 1; done
}

# --- kubernetes --------------------------------------------------------------
build_kubernetes() {
  local final="$engines_dir/kubernetes-$K8S_VERSION"
  if is_built "$final" kube-apiserver kube-controller-manager kubectl; then
    log "kubernetes $K8S_VERSION already built in $final/bin"
    return 0
  fi
  local t0=$SECONDS
  mkdir -p "$engines_dir"
  staging="$(mktemp -d "$engines_dir/kubernetes-$K8S_VERSION.tmp.XXXXXX")"
  log "kubernetes $K8S_VERSION: downloading modules (wrapper $here/kubernetes)"
  (cd "$here/kubernetes" && with_progress "kubernetes module download" nice -n 10 "$GO" mod download)
  log "kubernetes $K8S_VERSION: modules ready after $((SECONDS - t0)) s; compiling kube-apiserver, kube-controller-manager, kubectl (one go build)"
  # The version variables are what hack/lib/version.sh sets in a release
  # build; without them the binaries report v0.0.0-master, which clients
  # (kubectl, the Pulumi provider) would treat as an unknown old server.
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitTreeState=archive"
  done
  (cd "$here/kubernetes" && with_progress "kubernetes compile" nice -n 10 "$GO" build -trimpath -gcflags=all=-dwarf=false -ldflags="$ldflags" \
    -o "$staging/bin/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl)
  local v
  v="$("$staging/bin/kubectl" version --client 2>&1 | head -1)"
  [[ "$v" == *"$K8S_VERSION"* ]] || die "built kubectl reports '$v', expected $K8S_VERSION"
  finish_piece "$staging" "$final"
  log "kubernetes $K8S_VERSION: done in $((SECONDS - t0)) s, $(du -sh "$final" | cut -f1) in $final/bin"
}

# --- pulumi CLI ------------------------------------------------------------------
build_pulumi() {
  local final="$engines_dir/pulumi-$PULUMI_VERSION"
  if is_built "$final" pulumi; then
    log "pulumi $PULUMI_VERSION already built in $final/bin"
    return 0
  fi
  local t0=$SECONDS
  mkdir -p "$engines_dir"
  staging="$(mktemp -d "$engines_dir/pulumi-$PULUMI_VERSION.tmp.XXXXXX")"
  log "pulumi $PULUMI_VERSION: downloading modules (wrapper $here/pulumi)"
  (cd "$here/pulumi" && with_progress "pulumi module download" nice -n 10 "$GO" mod download)
  log "pulumi $PULUMI_VERSION: modules ready after $((SECONDS - t0)) s; compiling the pulumi CLI"
  # The Automation API parses `pulumi version`, so the version must be set.
  (cd "$here/pulumi" && with_progress "pulumi compile" nice -n 10 "$GO" build -trimpath -gcflags=all=-dwarf=false \
    -ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$staging/bin/" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  local v
  v="$(PULUMI_SKIP_UPDATE_CHECK=true PULUMI_HOME="$staging/home" "$staging/bin/pulumi" version 2>&1)"
  rm -rf "$staging/home"
  [[ "$v" == "$PULUMI_VERSION" ]] || die "built pulumi reports '$v', expected $PULUMI_VERSION"
  finish_piece "$staging" "$final"
  log "pulumi $PULUMI_VERSION: done in $((SECONDS - t0)) s, $(du -sh "$final" | cut -f1) in $final/bin"
}

# --- pulumi-resource-kubernetes ----------------------------------------------------
build_provider() {
  local final="$engines_dir/pulumi-kubernetes-v$PROVIDER_VERSION"
  if is_built "$final" pulumi-resource-kubernetes; then
    log "pulumi-resource-kubernetes $PROVIDER_VERSION already built in $final/bin"
    return 0
  fi
  local t0=$SECONDS
  mkdir -p "$engines_dir"
  staging="$(mktemp -d "$engines_dir/pulumi-kubernetes-v$PROVIDER_VERSION.tmp.XXXXXX")"
  log "pulumi-resource-kubernetes $PROVIDER_VERSION: downloading modules (wrapper $here/pulumi-kubernetes)"
  (cd "$here/pulumi-kubernetes" && with_progress "provider module download" nice -n 10 "$GO" mod download)
  local moddir
  moddir="$(cd "$here/pulumi-kubernetes" && "$GO" list -m -f '{{.Dir}}' "$PROVIDER_MODULE")"
  [[ -n "$moddir" && -f "$moddir/cmd/pulumi-resource-kubernetes/schema.json" ]] ||
    die "$PROVIDER_MODULE@$PROVIDER_PSEUDO has no cmd/pulumi-resource-kubernetes/schema.json in the module cache ($moddir)"

  # The module cache is read-only and main.go go:embeds schema-embed.json and
  # terraform-mapping-embed.json, which the provider's Makefile generates with
  # `VERSION=... go run ./generate.go` in that directory. Do the same in a
  # writable copy, and point a copy of the wrapper module at it.
  log "pulumi-resource-kubernetes $PROVIDER_VERSION: generating schema-embed.json in a writable copy of the module"
  cp -r "$moddir" "$staging/provider"
  chmod -R u+w "$staging/provider"
  mkdir -p "$staging/wrapper"
  cp "$here/pulumi-kubernetes/go.mod" "$here/pulumi-kubernetes/go.sum" "$staging/wrapper/"
  (cd "$staging/wrapper" && "$GO" mod edit -replace="$PROVIDER_MODULE=../provider")
  # generate.go is `//go:build ignore` and reads/writes files in its working
  # directory; compile it inside the wrapper (so it resolves
  # github.com/pulumi/pulumi/pkg/v3 through the wrapper's go.sum) and run it
  # in the copy's cmd directory.
  cp "$staging/provider/cmd/pulumi-resource-kubernetes/generate.go" "$staging/wrapper/generate.go"
  (cd "$staging/wrapper" && with_progress "schema generator compile" nice -n 10 "$GO" build -trimpath -gcflags=all=-dwarf=false -o "$staging/generate" ./generate.go)
  (cd "$staging/provider/cmd/pulumi-resource-kubernetes" && VERSION="$PROVIDER_VERSION" "$staging/generate")
  rm -f "$staging/generate" "$staging/wrapper/generate.go"
  local f
  for f in schema-embed.json terraform-mapping-embed.json; do
    [[ -s "$staging/provider/cmd/pulumi-resource-kubernetes/$f" ]] || die "generate.go did not write $f"
  done

  log "pulumi-resource-kubernetes $PROVIDER_VERSION: compiling (modules and schema ready after $((SECONDS - t0)) s)"
  (cd "$staging/wrapper" && with_progress "provider compile" nice -n 10 "$GO" build -trimpath -gcflags=all=-dwarf=false \
    -ldflags="-s -w -X $PROVIDER_MODULE/pkg/version.Version=$PROVIDER_VERSION" \
    -o "$staging/bin/" "$PROVIDER_MODULE/cmd/pulumi-resource-kubernetes")
  rm -rf "$staging/provider" "$staging/wrapper"
  [[ -x "$staging/bin/pulumi-resource-kubernetes" ]] || die "go build did not produce pulumi-resource-kubernetes"
  finish_piece "$staging" "$final"
  log "pulumi-resource-kubernetes $PROVIDER_VERSION: done in $((SECONDS - t0)) s, $(du -sh "$final" | cut -f1) in $final/bin"
}

# --- dispatch ------------------------------------------------------------------
for piece in "${pieces[@]}"; do
  "build_$piece"
done
log "all requested pieces ready in $engines_dir ($((SECONDS - started_all)) s)"
