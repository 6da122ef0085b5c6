#!/usr/bin/env bash
# Which TensorFlow session options serve a CPU best (docs/benchmarks.md, "Session options"): ESRGAN-slim x2 with
# grappler's remapper off and on, intra-op threads default/1/2, one or two runs at once. About two minutes
# after the build; stops by itself. Set TF_ENABLE_ONEDNN_OPTS=0 or 1 to measure either kernel path.
#   bench.phaseMillis  length of each setting's run (default 8000)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl workers exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.workers.tfjs.SessionOptionsBenchmark "$@"
