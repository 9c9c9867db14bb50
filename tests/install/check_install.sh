#!/usr/bin/env bash
# Installs the built tree into a temp prefix, builds the consumer project
# against it with find_package(reborn), and runs it.
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null

# A shared libreborn exports its public API (REBORN_EXPORT, reborn/export.h)
# and nothing else: no internal namespace (reborn::qdb::, reborn::coord::,
# ...; lower-case names under reborn:: are namespaces, the API's classes are
# CamelCase) and none of the libraries compiled into it (asio, httplib, json).
lib=$(find "$tmp/prefix" -name 'libreborn.so' | head -n 1)
if [ -n "$lib" ]; then
  symbols=$(nm -DC --defined-only "$lib")
  leaked=$(grep -E ' (reborn::([a-z_]+|\(anonymous namespace\))::|asio::|httplib::|nlohmann::)' \
             <<<"$symbols" | grep -v ' reborn::testing::' || true)
  if [ -n "$leaked" ]; then
    echo "libreborn.so exports internal symbols:" >&2
    head -n 20 <<<"$leaked" >&2
    exit 1
  fi
  # ... and the API is there.
  for api in 'reborn::Coordinator::Open(' 'reborn::QdbServer::Create(' \
             'reborn::Client::Open(' 'typeinfo for reborn::Coordinator'; do
    if ! grep -qF "$api" <<<"$symbols"; then
      echo "libreborn.so does not export $api" >&2
      exit 1
    fi
  done
  echo "libreborn.so exports $(wc -l <<<"$symbols") symbols, none internal"
fi
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/consumer"
