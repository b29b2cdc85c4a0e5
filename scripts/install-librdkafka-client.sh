#!/usr/bin/env bash
# Installs the test-only librdkafka client: @confluentinc/kafka-javascript (pinned in
# test/clients/librdkafka/package-lock.json), whose librdkafka source is built here against the
# system's OpenSSL, zlib and zstd (CKJS_LINKING=dynamic: its default build downloads those libraries'
# sources, and CI may only reach the npm registry). It is kept out of the main package.json because
# the build takes minutes; test/support/librdkafka.ts loads it, and its tests skip while it is absent.
#
# Needs a C/C++ toolchain, make, python3 and the headers of libssl-dev, zlib1g-dev and libzstd-dev
# (lz4 and snappy are built in; SASL PLAIN/SCRAM come with OpenSSL; GSSAPI and OIDC are left out
# by not installing libsasl2-dev or libcurl). No root needed.
#
# Idempotent: does nothing when the built addon already loads on this node with every feature the
# tests use. The addon is specific to the Node ABI it was built with (it uses NAN, not N-API).
#
# Takes about 140 s on 2 idle cores (measured: 142 s; 6 min while a test suite ran beside it).
#
# Also builds the share-group test consumer, test/clients/share-consumer (see build_share_consumer).
#
# Usage: scripts/install-librdkafka-client.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir=test/clients/librdkafka
# The features the tests rely on (names from librdkafka's builtin.features).
required_features="gzip snappy lz4 zstd ssl sasl_plain sasl_scram"

# Exit 0: loads with every required feature; 1: does not load; 2: loads but lacks a feature.
check_addon() {
  node -e '
    const { createRequire } = require("node:module");
    const path = require("node:path");
    let kafka;
    try {
      kafka = createRequire(path.resolve(process.argv[1], "package.json"))("@confluentinc/kafka-javascript");
    } catch (error) {
      console.error(`does not load: ${String(error.message).split("\n")[0]}`);
      process.exit(1);
    }
    const missing = process.argv[2].split(" ").filter((feature) => !kafka.features.includes(feature));
    if (missing.length > 0) {
      console.error(`librdkafka ${kafka.librdkafkaVersion} lacks ${missing.join(", ")} (features: ${kafka.features.join(",")})`);
      process.exit(2);
    }
    console.log(`librdkafka ${kafka.librdkafkaVersion} (features: ${kafka.features.join(",")})`);
  ' "$dir" "$required_features"
}

# The share-group (KIP-932) test consumer, test/clients/share-consumer: a C program on librdkafka's
# share consumer API, which no JS binding exposes. It links the librdkafka built here (its run path
# points there, relative to the binary, so Debian's older librdkafka.so.1 is never picked up).
# Rebuilt only when it is missing or older than its source or the library.
build_share_consumer() {
  local lib_dir="$dir/node_modules/@confluentinc/kafka-javascript/deps/librdkafka/src"
  local source=test/clients/share-consumer/share-consumer.c
  local binary=test/clients/share-consumer/share-consumer
  if [ ! -f "$lib_dir/librdkafka.so" ] || [ ! -f "$lib_dir/rdkafka.h" ]; then
    echo "install-librdkafka-client: $lib_dir has no built librdkafka.so and rdkafka.h" >&2
    return 1
  fi
  if [ -x "$binary" ] && [ "$binary" -nt "$source" ] && [ "$binary" -nt "$lib_dir/librdkafka.so.1" ]; then
    echo "share consumer already built: $binary"
    return 0
  fi
  # $ORIGIN is for the dynamic linker, not the shell.
  # shellcheck disable=SC2016
  "${CC:-gcc}" -O2 -Wall -Wextra -Werror -isystem "$lib_dir" -o "$binary.tmp" "$source" \
    -L"$lib_dir" -lrdkafka -Wl,-rpath,'$ORIGIN/../librdkafka/node_modules/@confluentinc/kafka-javascript/deps/librdkafka/src'
  mv "$binary.tmp" "$binary"
  echo "built $binary"
}

if [ -d "$dir/node_modules/@confluentinc/kafka-javascript" ] && check_addon 2>/dev/null; then
  echo "librdkafka client already installed in $dir on node $(node --version)"
  build_share_consumer
  exit 0
fi

# librdkafka's configure silently leaves out a codec or TLS when its headers are missing, so check
# them before minutes of compiling.
missing_packages=()
for header_package in "openssl/ssl.h libssl-dev" "zlib.h zlib1g-dev" "zstd.h libzstd-dev"; do
  read -r header package <<<"$header_package"
  printf '#include <%s>\n' "$header" | "${CC:-cc}" -E -x c - >/dev/null 2>&1 || missing_packages+=("$package")
done
if [ "${#missing_packages[@]}" -gt 0 ]; then
  echo "install-librdkafka-client: missing headers; install: apt-get install ${missing_packages[*]}" >&2
  exit 1
fi

# node-gyp needs this node's headers; without a configured nodedir it would download them.
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir)" = "undefined" ]; then
  node_prefix="$(node -p 'require("node:path").resolve(process.execPath, "../..")')"
  if [ -f "$node_prefix/include/node/node.h" ]; then export npm_config_nodedir="$node_prefix"; fi
fi

jobs="$(nproc 2>/dev/null || echo 2)"
echo "building librdkafka and its Node addon in $dir on node $(node --version) ($jobs cores)"
start=$SECONDS
# npm_config_build_from_source: node-pre-gyp skips its prebuilt-binary download (GitHub, out of
# reach in CI) and compiles at once. node-gyp's own make stays serial: its generated Makefile has
# no rule for librdkafka's config.h, made by the configure step, which a parallel make asks for
# before that step has run. The package runs librdkafka's make with a bare -j (no limit); the load
# limit in MAKEFLAGS keeps it from starting far more compilers than there are cores.
CKJS_LINKING=dynamic npm_config_build_from_source=true MAKEFLAGS="${MAKEFLAGS:-} -l$jobs" \
  npm ci --prefix "$dir" --no-audit --no-fund
echo "built in $((SECONDS - start))s"

check_addon
build_share_consumer
