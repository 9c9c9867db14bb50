#!/usr/bin/env bash
# One entry point for the project: deps | build | test | demo | bench.
# See README.md and docs/design.md §12.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="${REBORN_BUILD_DIR:-$ROOT/build}"
JOBS="${REBORN_JOBS:-$(nproc)}"

# Debian packages: build tools, libraries, and the real servers the tests start.
PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  librocksdb-dev libleveldb-dev libasio-dev libzookeeper-mt-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  libcpp-httplib-dev libcli11-dev libspdlog-dev zlib1g-dev libhiredis-dev
  liblua5.1-0-dev
  redis-server redis-tools zookeeper etcd-server etcd-client nutcracker
  python3 python3-redis procps
  tcl dpkg-dev  # tests/compat: Redis' tcl suite, unpacked by apt-get source
  doxygen       # the `docs` target: API reference of include/reborn
)

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

cmd_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "deps: all ${#PACKAGES[@]} packages present"
    return 0
  fi
  log "deps: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # Package scripts must not start system services (redis, zookeeper, etcd) on
  # their default ports: the tests start their own on free ports.
  as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  as_root rm -f /usr/sbin/policy-rc.d
}

cmd_build() {
  log "build: Release into $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DREBORN_WERROR=ON "$@" >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

# `./reborn.sh test --sanitize [ctest args]`: the suite under AddressSanitizer
# + UBSan in build-asan/ (docs/testing.md). Without ctest args it runs the
# unit tests, then the integration tests (daemons are the sanitized ones, and
# tests/sanitizer_run.py fails a test on any report they write).
cmd_test_sanitize() {
  local dir="${REBORN_ASAN_BUILD_DIR:-$ROOT/build-asan}"
  cmd_deps
  log "build: RelWithDebInfo with ASan + UBSan into $dir"
  # -O1 -g1: sanitized code compiles about twice as fast as at -O2 -g and its
  # reports still give file:line stacks.
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    -DREBORN_SANITIZE=address,undefined -DREBORN_WERROR=ON >/dev/null
  cmake --build "$dir" -j "$JOBS"
  cd "$dir"
  if [ $# -gt 0 ]; then
    ctest --output-on-failure --timeout 900 -j "$JOBS" "$@"
    return
  fi
  log "test: unit tests under ASan + UBSan"
  ctest --output-on-failure --timeout 900 -j "$JOBS" -L unit
  log "test: integration tests under ASan + UBSan"
  ctest --output-on-failure --timeout 900 -j "$JOBS" -L integration
}

cmd_test() {
  if [ "${1:-}" = "--sanitize" ]; then
    shift
    cmd_test_sanitize "$@"
    return
  fi
  cmd_deps
  cmd_build
  log "test: ctest"
  cd "$BUILD_DIR"
  ctest --output-on-failure --timeout 900 -j "$JOBS" "$@"
}

cmd_demo() {
  if [ "${1:-}" = "stop" ] || [ "${1:-}" = "failover" ]; then
    exec "$ROOT/tools/demo.sh" "$BUILD_DIR" "$1"
  fi
  cmd_deps
  cmd_build
  exec "$ROOT/tools/demo.sh" "$BUILD_DIR" "$@"
}

cmd_bench() {
  cmd_deps
  cmd_build
  # `./reborn.sh bench beyond-memory` loads 1 GiB into a 64 MiB block cache.
  if [ "${1:-}" = "beyond-memory" ]; then
    shift
    exec /usr/bin/python3 "$ROOT/bench/macro/qdb_beyond_memory.py" \
      --build-dir "$BUILD_DIR" "$@"
  fi
  # `./reborn.sh bench migrate [--no-proxy]`: slot-move throughput and latency.
  if [ "${1:-}" = "migrate" ]; then
    shift
    exec /usr/bin/python3 "$ROOT/bench/macro/run.py" --build-dir "$BUILD_DIR" \
      --suite migrate "$@"
  fi
  # `./reborn.sh bench repl`: full-sync throughput and replication lag.
  if [ "${1:-}" = "repl" ]; then
    shift
    exec /usr/bin/python3 "$ROOT/bench/macro/repl_bench.py" \
      --build-dir "$BUILD_DIR" "$@"
  fi
  # `./reborn.sh bench client`: the in-process Client vs reborn-proxy.
  if [ "${1:-}" = "client" ]; then
    shift
    exec /usr/bin/python3 "$ROOT/bench/macro/client_bench.py" \
      --build-dir "$BUILD_DIR" "$@"
  fi
  # `./reborn.sh bench scan`: backend calls and wall time of SCAN via the proxy.
  if [ "${1:-}" = "scan" ]; then
    shift
    exec /usr/bin/python3 "$ROOT/bench/macro/scan_bench.py" \
      --build-dir "$BUILD_DIR" "$@"
  fi
  # `./reborn.sh bench failover`: failover time and lost acknowledged writes.
  if [ "${1:-}" = "failover" ]; then
    shift
    exec /usr/bin/python3 "$ROOT/bench/macro/failover_bench.py" \
      --build-dir "$BUILD_DIR" "$@"
  fi
  exec /usr/bin/python3 "$ROOT/bench/macro/run.py" --build-dir "$BUILD_DIR" "$@"
}

usage() {
  cat <<USAGE
usage: ./reborn.sh COMMAND
  deps    install the missing Debian packages (idempotent)
  build   configure and build Release into build/
  test    deps + build + every test (unit and integration)
          (test --sanitize: the same under ASan + UBSan in build-asan/)
  demo    start the local cluster (ZooKeeper, 2 reborn-agents supervising
          2 qdb groups, reborn-proxy on 127.0.0.1:19000, REST API) and print
          how to connect; demo failover (kill group 1's master); demo stop
  bench   macro benchmarks against redis-server and nutcracker, as ratios
          (bench beyond-memory: a dataset 16x the block cache;
           bench repl: full-sync throughput and replication lag;
           bench failover: failover time and lost acknowledged writes;
           bench scan: backend calls and wall time of SCAN via the proxy)
USAGE
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    deps) cmd_deps ;;
    build) cmd_deps; cmd_build "$@" ;;
    test) cmd_test "$@" ;;
    demo) cmd_demo "$@" ;;
    bench) cmd_bench "$@" ;;
    *) usage; [ -z "$cmd" ] || exit 2 ;;
  esac
}
main "$@"
