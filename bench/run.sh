#!/usr/bin/env bash
# Runs the throughput benchmark (docs/benchmarks.md): builds the reactor, then starts a real node in-process
# with an embedded PostgreSQL and drives it on 127.0.0.1 only. Takes about 7 minutes; stops by itself.
#   bench.phaseMillis  length of each measured phase (default 15000)
#   bench.warmupMillis load on each node before its phases, unmeasured, while the JIT settles (default 60000)
#   bench.testStore    true: the tests' shared PostgreSQL, which flushes nothing (figures before 2026-12-01);
#                      default: the node's own embedded store, every commit flushed, as a node ships
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl server exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.server.bench.Benchmark "$@"
