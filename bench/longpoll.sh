#!/usr/bin/env bash
# Polling that scales (docs/benchmarks.md, "Long polls"): one node with an embedded PostgreSQL, 1,000 clients
# long-polling 20 slow jobs with Prefer: wait and If-None-Match, on 127.0.0.1 only. Reports the polls answered,
# the store statements per poll and the JVM's CPU. About a minute after the build; stops by itself.
#   bench.pollers      concurrent long-polls, one connection each (default 1000)
#   bench.jobs         jobs they poll (default 20); each sleeps bench.sleepMillis (30000), two at a time
#   bench.phaseMillis  length of the measured phase (default 40000)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl server exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.server.LongPollBenchmark "$@"
