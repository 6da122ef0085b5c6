#!/usr/bin/env bash
# The platform's own cost per job (docs/benchmarks.md, "Tiny jobs"): one node started from the packaged jar as
# the README starts it (its own JVM and embedded PostgreSQL), resize of a 64x64 PNG at concurrency 16,
# submit -> succeeded -> result read, from clients in this JVM, on 127.0.0.1 only. Prints jobs/s, latency
# percentiles and the CPU per job of the node's JVM (and of its JIT compiler threads), its PostgreSQL and the
# clients. About two minutes after the build; stops by itself, and the node and its PostgreSQL with it.
#   bench.phaseMillis     length of the measured phase (default 20000)
#   bench.warmupMillis    load before it, unmeasured, so the JIT has settled (default 40000; 60000 settles more)
#   bench.clients         concurrent clients (default 16)
#   bench.tenants         tenants the clients are spread over (default 1)
#   bench.parallelism     the node's retina.workers.parallelism
#   bench.nodeJvm         the node JVM's options, space-separated (default -Xmx4g)
#   bench.node            process (default) or inline: a node in this JVM, CPU not separable from the clients'
#   bench.testStore       with inline: the tests' shared PostgreSQL (no fsync), as figures before 2026-12-01
#   bench.statements      true: the node's store loads pg_stat_statements, and each statement's calls, time,
#                         WAL and buffers a call over the measured phase are printed
#   bench.asyncProfiler   path of async-profiler's jar, unpacked beside its native library: profiles the node
#                         over the measured phase into bench.profileOut (default target/tiny-profile.collapsed)
#   bench.profileEvent    cpu (default) or alloc: sample the node's allocations instead of its CPU
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl server exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.server.TinyJobsBenchmark "$@"
