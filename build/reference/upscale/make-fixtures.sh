#!/usr/bin/env bash
# Writes the ESRGAN-medium and -thick fixtures of workers/src/test/resources/reference/upscale/: each generator's
# TF.js output on a window of its package's assets/fixture.png (the hibiscus's stamens), 20x20 at x2 to x4 and
# 10x10 at x8, as 16-bit RGB PNGs. Thick takes a few minutes on 2 cores.
#   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${RETINA_MODEL_CACHE:-$HOME/.cache/retina/models}
out=$here/../../../workers/src/test/resources/reference/upscale
mkdir -p "$out"
for size in medium thick; do
  pkg=$cache/upscalerjs_esrgan-${size}_1.0.0
  for scale in 2 3 4; do
    NODE_PATH=/tmp/tfjs-ref/node_modules node "$here/esrgan.js" "$pkg" $scale "$pkg/assets/fixture.png" \
      54 54 20 20 "$out/$size-x$scale.png"
  done
  NODE_PATH=/tmp/tfjs-ref/node_modules node "$here/esrgan.js" "$pkg" 8 "$pkg/assets/fixture.png" \
    59 59 10 10 "$out/$size-x8.png"
done
