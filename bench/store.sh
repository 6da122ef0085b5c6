#!/usr/bin/env bash
# Measures what one PostgreSQL sustains for the job path (docs/scaling.md): submits, claims, commits and polls
# straight against an embedded PostgreSQL on this machine, no HTTP or models. About a minute; stops by itself,
# and its PostgreSQL with it.
#   bench.phaseMillis  length of each measured phase (default 15000)
#   bench.threads      concurrent callers (default 8)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl platform exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.platform.store.StoreBenchmark "$@"
