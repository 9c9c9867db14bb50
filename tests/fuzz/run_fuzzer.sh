#!/usr/bin/env bash
# Builds one libFuzzer target with clang (-fsanitize=fuzzer,address,undefined)
# from the listed sources and runs it for a bounded time on its seed corpus.
#   run_fuzzer.sh NAME SECONDS SOURCE_DIR OUT_DIR source.cc...
set -euo pipefail
name=$1 seconds=$2 src=$3 out=$4
shift 4
mkdir -p "$out/$name-corpus"
cp -n "$src/tests/fuzz/corpus/$name/"* "$out/$name-corpus/" 2>/dev/null || true
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined \
  -I"$src/libreborn/src" -I"$src/libreborn/include" \
  "$@" -o "$out/$name-fuzzer" \
  $(pkg-config --libs absl_status absl_statusor absl_strings absl_synchronization \
    absl_hash absl_raw_hash_set \
    absl_str_format_internal) -lz
"$out/$name-fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=16384 \
  -print_final_stats=1 -artifact_prefix="$out/$name-" "$out/$name-corpus" 2>&1 | tail -n 15
