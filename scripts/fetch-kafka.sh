#!/usr/bin/env bash
# Fetch the Apache Kafka 3.9.1 server jars (plus an slf4j->log4j binding) from
# Maven Central into a per-user cache, so tests can run a real KRaft broker
# without Docker. Idempotent: a marker file records a completed fetch.
set -euo pipefail

KAFKA_VERSION=3.9.1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_dir="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mqtt-kafka-connector/kafka-${KAFKA_VERSION}}"
libs="$cache_dir/libs"
marker="$cache_dir/.fetched"

if [[ -f "$marker" && -f "$libs/kafka_2.13-${KAFKA_VERSION}.jar" ]]; then
  echo "fetch-kafka: Kafka ${KAFKA_VERSION} jars already in $libs"
  exit 0
fi

missing=()
command -v java >/dev/null 2>&1 || missing+=(java)
command -v mvn >/dev/null 2>&1 || missing+=(mvn)
if ((${#missing[@]})); then
  echo "fetch-kafka: missing required command(s): ${missing[*]}" >&2
  echo "fetch-kafka: install a JDK (17+) and Maven, e.g. 'apt-get install -y default-jdk-headless maven', or run scripts/ensure-deps.sh" >&2
  exit 1
fi

echo "fetch-kafka: resolving Kafka ${KAFKA_VERSION} runtime jars into $libs (first run may take a few minutes)"
mkdir -p "$cache_dir"
# Copy into a staging dir and rename at the end so an interrupted fetch never
# leaves a half-filled libs/ that looks usable.
staging="$(mktemp -d "$cache_dir/libs.tmp.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$staging"

count="$(find "$staging" -maxdepth 1 -name '*.jar' | wc -l)"
if [[ ! -f "$staging/kafka_2.13-${KAFKA_VERSION}.jar" ]]; then
  echo "fetch-kafka: kafka_2.13-${KAFKA_VERSION}.jar was not fetched (got $count jars)" >&2
  exit 1
fi

rm -rf "$libs"
mv "$staging" "$libs"
trap - EXIT
date -u +%FT%TZ >"$marker"
echo "fetch-kafka: done, $count jars in $libs"
