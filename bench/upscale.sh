#!/usr/bin/env bash
# Runs the super-resolution benchmark (docs/models.md, "How super-resolution compares with bicubic"): every
# ESRGAN version against bicubic on 23 photographs at x2 and x4. Needs the build's model cache and the photos
# of two Debian packages: apt-get install mate-backgrounds python3-skimage. Takes about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
./mvnw -q -pl workers exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.retina.workers.tasks.UpscaleBenchmark "$@"
