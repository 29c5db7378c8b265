#!/usr/bin/env bash
# Install what the local-broker test harness needs on a fresh Debian machine
# (run as root): mosquitto + clients, kcat, openssl, a JDK + Maven, then the
# Kafka server jars. Safe to re-run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

need_apt=0
for cmd in mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd kcat openssl java mvn; do
  # mosquitto lives in /usr/sbin, which may not be on a non-root PATH.
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$cmd" ]]; then
    echo "install-deps: $cmd not found"
    need_apt=1
  fi
done

if ((need_apt)); then
  if [[ "$(id -u)" != 0 ]]; then
    echo "install-deps: missing packages and not root; run as root or install: mosquitto mosquitto-clients kcat openssl default-jdk-headless maven" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends \
    mosquitto mosquitto-clients kcat openssl ca-certificates
  # The JDK and Maven are only installed when absent, so an existing
  # (possibly newer) toolchain is left alone.
  if ! command -v java >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends default-jdk-headless
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends maven
  fi
  # Tests start their own mosquitto on free ports; a system-wide one would
  # only hold port 1883. There may be no systemd, so ignore failures.
  systemctl disable --now mosquitto >/dev/null 2>&1 || true
  service mosquitto stop >/dev/null 2>&1 || true
else
  echo "install-deps: mosquitto, kcat, openssl, java and mvn already present; skipping apt"
fi

bash "$here/../scripts/fetch-kafka.sh"
