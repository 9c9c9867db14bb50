#!/usr/bin/env python3
"""Replication benchmark (`./reborn.sh bench repl`): full-sync throughput
(keys/s, MB/s of the dataset's RDB) for redis->redis, redis->qdb, qdb->redis
and qdb->qdb on the same data in one run, then the replication lag (bytes
and ms behind) of a replica while redis-benchmark writes to its master."""

import argparse
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "repl"))
import harness  # noqa: E402
import repl_util as ru  # noqa: E402


def start(kind, *extra):
    if kind == "redis":
        return harness.start_redis("--repl-diskless-sync-delay", "0", *extra)
    return harness.start_qdb(*extra)


def rdb_bytes(proc):
    """Size of the dataset as an RDB: SAVE on a redis-server holding it
    (it writes dump.rdb in its working directory)."""
    ru.client(proc.port).save()
    return os.path.getsize(os.path.join(proc.tmp, "dump.rdb"))


def full_sync(master_kind, replica_kind, keys, size):
    master, replica = start(master_kind), start(replica_kind)
    try:
        ru.load_dataset(master.port, keys)
        begin = time.time()
        ru.client(replica.port).replicaof("127.0.0.1", master.port)
        ru.wait_caught_up(master.port, replica.port, timeout=600)
        secs = time.time() - begin
        n = sum(ru.client(replica.port, db).dbsize() for db in (0, 1))
        return n, secs, size / secs / 1e6
    finally:
        replica.cleanup()
        master.cleanup()


def lag(master_kind, replica_kind, requests):
    master, replica = start(master_kind), start(replica_kind)
    try:
        ru.client(replica.port).replicaof("127.0.0.1", master.port)
        ru.wait_caught_up(master.port, replica.port)
        samples = []
        done = threading.Event()

        def sample():
            while not done.is_set():
                m = ru.master_offset(master.port)
                samples.append(m - ru.replica_offset(replica.port))
                time.sleep(0.05)
        t = threading.Thread(target=sample)
        t.start()
        begin = time.time()
        out = subprocess.run(
            ["redis-benchmark", "-p", str(master.port), "-t", "set", "-P",
             "16", "-n", str(requests), "-r", "100000", "--csv"],
            capture_output=True, text=True, timeout=600).stdout
        end = time.time()
        ru.wait_caught_up(master.port, replica.port, timeout=600)
        catch_up_ms = (time.time() - end) * 1000
        done.set()
        t.join()
        rps = float(out.strip().splitlines()[-1].split(",")[1].strip('"'))
        return rps, max(samples), sum(samples) / len(samples), catch_up_ms, \
            end - begin
    finally:
        replica.cleanup()
        master.cleanup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--keys", type=int, default=200000)
    parser.add_argument("--requests", type=int, default=500000)
    args = parser.parse_args()
    harness.BUILD_DIR = os.path.abspath(args.build_dir)

    probe = start("redis")
    try:
        ru.load_dataset(probe.port, args.keys)
        size = rdb_bytes(probe)
    finally:
        probe.cleanup()
    print("\n[repl full sync] %d keys of every type (~30%% with TTL), RDB "
          "%.1f MB; time from REPLICAOF to caught up" % (args.keys, size / 1e6))
    print("%-16s %10s %10s %10s %8s" % ("master->replica", "keys", "seconds",
                                        "keys/s", "MB/s"))
    for m, r in (("redis", "redis"), ("redis", "qdb"), ("qdb", "redis"),
                 ("qdb", "qdb")):
        n, secs, mbs = full_sync(m, r, args.keys, size)
        print("%-16s %10d %10.2f %10.0f %8.1f" % ("%s->%s" % (m, r), n, secs,
                                                  n / secs, mbs))
        sys.stdout.flush()

    print("\n[repl lag] redis-benchmark SET -P 16 -n %d on the master; lag = "
          "master_repl_offset - replica offset, sampled every 50 ms"
          % args.requests)
    print("%-16s %10s %14s %14s %12s" % ("master->replica", "SET/s",
                                         "max lag (B)", "mean lag (B)",
                                         "catch-up ms"))
    for m, r in (("redis", "redis"), ("qdb", "qdb"), ("redis", "qdb"),
                 ("qdb", "redis")):
        rps, mx, mean, catch, _ = lag(m, r, args.requests)
        print("%-16s %10.0f %14d %14.0f %12.0f" % ("%s->%s" % (m, r), rps, mx,
                                                   mean, catch))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
