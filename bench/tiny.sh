#!/usr/bin/env bash
# The platform's own cost per job (docs/benchmarks.md, "Tiny jobs"): one node with an embedded PostgreSQL,
# resize of a 64x64 PNG at concurrency 16, submit -> succeeded -> result read, on 127.0.0.1 only. About a
# minute and a half after the build; stops by itself, and its PostgreSQL with it.
#   bench.phaseMillis     length of the measured phase (default 20000)
#   bench.warmupMillis    load before it, unmeasured, so the JIT has settled (default 40000)
#   bench.clients         concurrent clients (default 16)
#   bench.asyncProfiler   path of async-profiler's jar, unpacked beside its native library: profiles the
#                         measured phase into bench.profileOut (default target/tiny-profile.collapsed)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl server exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.server.TinyJobsBenchmark "$@"
