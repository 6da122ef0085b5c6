#!/usr/bin/env bash
# Runs the replica scaling benchmark (docs/benchmarks.md, "Replicas"): builds the reactor, then starts a
# cluster of 1, 2 and 3 nodes in one JVM with an embedded PostgreSQL and drives one version on 127.0.0.1 only.
# Takes about 5 minutes; stops by itself, and its PostgreSQL with it.
#   bench.phaseMillis  length of each measured phase (default 20000)
#   bench.sleepMillis  service time of the sleeping test model (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl server exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.server.ScalingBenchmark "$@"
