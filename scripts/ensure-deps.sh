#!/usr/bin/env bash
# Makes sure what `npm run demo`, `npm test` and `npm run test:faults` start is on this machine:
# Mosquitto and its clients, kcat, openssl and zstd (test peers), a JDK and Maven (to fetch and
# run Kafka), then the Kafka server jars. With `engines` also etcd and the real Kubernetes and
# Pulumi engines the deployment tests run against (built from the Go module proxy into the cache
# once: about 20 minutes on 2 cores). Installs packages through apt when running as root on
# Debian or Ubuntu; otherwise (or with ENSURE_DEPS_NO_INSTALL=1) prints the one command that would.
# Quiet and quick when all is present.
#
# Usage: ensure-deps.sh [engines]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# command -> Debian package
declare -A pkg=(
  [mosquitto]=mosquitto [mosquitto_pub]=mosquitto-clients [mosquitto_sub]=mosquitto-clients
  [mosquitto_passwd]=mosquitto [kcat]=kcat [openssl]=openssl [zstd]=zstd
  [java]=default-jdk-headless [mvn]=maven
)

want_engines=0
[[ "${1:-}" == engines ]] && want_engines=1
((want_engines)) && pkg[etcd]=etcd-server

missing=()
for cmd in "${!pkg[@]}"; do
  # mosquitto lives in /usr/sbin, which may not be on a non-root PATH.
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$cmd" ]]; then
    missing+=("${pkg[$cmd]}")
  fi
done

if ((${#missing[@]})); then
  mapfile -t packages < <(printf '%s\n' "${missing[@]}" ca-certificates | sort -u)
  cmdline="apt-get update && apt-get install -y --no-install-recommends ${packages[*]}"
  if [[ "$(id -u)" != 0 || -n "${ENSURE_DEPS_NO_INSTALL:-}" ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-deps: missing: ${packages[*]}" >&2
    if command -v apt-get >/dev/null 2>&1; then
      echo "ensure-deps: to install them, run as root: sudo sh -c '$cmdline'" >&2
    else
      echo "ensure-deps: install those (Debian package names) with your system's package manager" >&2
    fi
    exit 1
  fi
  echo "ensure-deps: installing ${packages[*]} with apt (once per machine)"
  export DEBIAN_FRONTEND=noninteractive
  start=$SECONDS
  log="$(mktemp -t ensure-deps-apt.XXXXXX)"
  # Progress: one line per package set up; the whole apt output stays in $log if it fails.
  if ! apt-get update -q >"$log" 2>&1; then
    echo "ensure-deps: apt-get update failed; its output:" >&2; tail -n 20 "$log" >&2; exit 1
  fi
  if ! apt-get install -y -q --no-install-recommends "${packages[@]}" 2>&1 | tee -a "$log" | grep --line-buffered -E '^Setting up ' | sed 's/^/  apt: /'; then
    if [[ ${PIPESTATUS[0]} != 0 ]]; then
      echo "ensure-deps: apt-get install failed; its output:" >&2; tail -n 20 "$log" >&2; exit 1
    fi
  fi
  rm -f "$log"
  # Tests start their own mosquitto on free ports; a system-wide one would only hold port 1883.
  systemctl disable --now mosquitto >/dev/null 2>&1 || service mosquitto stop >/dev/null 2>&1 || true
  echo "ensure-deps: packages installed in $((SECONDS - start)) s"
fi

bash "$here/fetch-kafka.sh"
if ((want_engines)); then
  bash "$here/engines/build-engines.sh"
fi
