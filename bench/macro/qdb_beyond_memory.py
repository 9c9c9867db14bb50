#!/usr/bin/env python3
"""QDB beyond memory: loads a dataset many times larger than the block cache
(incompressible random values) into qdb-server --engine rocksdb, reports the
process RSS against block cache + memtables, and random-GET throughput over
the whole dataset versus over a hot subset that fits in the cache.

  python3 bench/macro/qdb_beyond_memory.py [--build-dir build]
      [--cache-mb 64] [--data-mb 1024] [--value-size 1024]
"""

import argparse
import csv
import io
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "integration"))
import harness  # noqa: E402


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def info(client, section):
    raw = client.call("INFO", section).split(b"\r\n", 1)[1]
    out = {}
    for line in raw.decode(errors="replace").split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def load(port, keys, value_size, batch=200):
    c = harness.RawClient(port, timeout=60)
    for start in range(0, keys, batch):
        n = min(batch, keys - start)
        frames = []
        for i in range(start, start + n):
            frames.append(harness.encode("SET", "key:%012d" % i,
                                         os.urandom(value_size)))
        c.send(b"".join(frames))
        for _ in range(n):
            r = c.read_reply()
            if r != b"+OK\r\n":
                raise RuntimeError(r)
    c.close()


def bench_get(port, keyspace, requests, clients=50, pipeline=1):
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "get", "-n", str(requests),
         "-c", str(clients), "-P", str(pipeline), "-r", str(keyspace),
         "--csv"], capture_output=True, text=True, timeout=900).stdout
    for row in csv.reader(io.StringIO(out)):
        if row and row[0] == "GET":
            return float(row[1])
    return 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build-dir", default="build")
    p.add_argument("--cache-mb", type=int, default=64)
    p.add_argument("--data-mb", type=int, default=1024)
    p.add_argument("--value-size", type=int, default=1024)
    p.add_argument("--requests", type=int, default=200000)
    args = p.parse_args()
    harness.BUILD_DIR = os.path.abspath(args.build_dir)
    keys = args.data_mb * 1024 * 1024 // args.value_size
    qdb = harness.start_qdb("--block-cache-size", "%dmb" % args.cache_mb,
                            "--write-buffer-size", "32mb", engine="rocksdb")
    try:
        t0 = time.time()
        load(qdb.port, keys, args.value_size)
        load_s = time.time() - t0
        c = harness.RawClient(qdb.port)
        r = info(c, "rocksdb")
        hot = max(1000, keys * args.cache_mb // args.data_mb // 4)
        full_rps = bench_get(qdb.port, keys, args.requests)
        r_full = info(c, "rocksdb")
        rss_full = rss_mb(qdb.proc.pid)
        bench_get(qdb.port, hot, args.requests // 4)  # warm the hot subset
        hot_rps = bench_get(qdb.port, hot, args.requests)
        print("dataset: %d keys x %d B = %d MiB of incompressible values, "
              "loaded in %.1fs (%.0f keys/s)" %
              (keys, args.value_size, args.data_mb, load_s, keys / load_s))
        print("block cache %d MiB; sst %.0f MiB; memtables %.1f MiB" %
              (args.cache_mb, int(r["sst_files_bytes"]) / 2**20,
               int(r["memtables_bytes"]) / 2**20))
        print("RSS after random GETs over everything: %.0f MiB "
              "(block cache usage %.0f MiB, memtables %.1f MiB, "
              "table readers %.1f MiB)" %
              (rss_full, int(r_full["block_cache_usage"]) / 2**20,
               int(r_full["memtables_bytes"]) / 2**20,
               int(r_full["table_readers_bytes"]) / 2**20))
        print("random GET, whole dataset (%d keys): %.0f req/s, "
              "block cache hit ratio %s" %
              (keys, full_rps, r_full["block_cache_hit_ratio"]))
        print("random GET, hot subset in cache (%d keys): %.0f req/s" %
              (hot, hot_rps))
        c.close()
    finally:
        qdb.cleanup()
        import shutil
        shutil.rmtree(qdb.data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
