#!/usr/bin/env bash
# Runs the throughput benchmark (docs/benchmarks.md): builds the reactor, then starts a real node in-process
# with an embedded PostgreSQL and drives it on 127.0.0.1 only. Takes about 4 minutes; stops by itself.
#   bench.phaseMillis  length of each measured phase (default 15000)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl server exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.server.bench.Benchmark "$@"
