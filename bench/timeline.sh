#!/usr/bin/env bash
# Where one job's time goes at concurrency 1, from its trace (docs/benchmarks.md): a real node in-process with
# an embedded PostgreSQL, its spans sent to a receiver in the same JVM, 127.0.0.1 only. About a minute; stops
# by itself.
#   bench.warmup  jobs run first and not measured (default 20)
#   bench.jobs    jobs measured (default 40)
#   bench.params  the jobs' parameters (default fidelity=generator)
#   bench.testStore  true: the tests' shared PostgreSQL, which flushes nothing (figures before 2026-12-01);
#                    default: the node's own embedded store, every commit flushed, as a node ships
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl server exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.server.bench.JobTimeline "$@"
