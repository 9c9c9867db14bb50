#!/usr/bin/python3
"""Migration bench (`./reborn.sh bench migrate`, or run.py --suite migrate):

1. small keys: 100,000 keys of one slot, and 100,000 keys spread over 100
   slots, moved between two local qdb-servers (rocksdb) with
   SLOTSMGRTTAGSLOTBATCH: keys/s and MB/s (key + value bytes);
2. big key: a 1,000,000-field hash moved with SLOTSMGRTONE (chunked), with
   GET/SET of other keys at the source meanwhile (p50/p99 before/during);
3. through the proxy: ZooKeeper, reborn-config, 2 qdb groups and one
   reborn-proxy; client GET/SET p50/p99 before and during
   `slot migrate 0 511 2 --wait`.
Each number is the median of --repeat runs (the machine is noisy)."""

import argparse
import os
import statistics
import sys
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration",
                                "coord"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration",
                                "proxy"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration",
                                "migrate"))
import harness  # noqa: E402
import redis  # noqa: E402

SMALL = 100000
VALUE = "x" * 32


def keys_in_slot(slot, n, prefix):
    out, i = [], 0
    while len(out) < n:
        k = "%s%d" % (prefix, i)
        if zlib.crc32(k.encode()) % 1024 == slot:
            out.append(k)
        i += 1
    return out


def keys_over_slots(nslots, per_slot, prefix):
    """{slot: keys} for slots 0..nslots-1."""
    want = {s: [] for s in range(nslots)}
    i, left = 0, nslots * per_slot
    while left:
        k = "%s%d" % (prefix, i)
        s = zlib.crc32(k.encode()) % 1024
        if s in want and len(want[s]) < per_slot:
            want[s].append(k)
            left -= 1
        i += 1
    return want


def load_strings(c, names):
    p = c.pipeline(transaction=False)
    for i, k in enumerate(names):
        p.set(k, VALUE)
        if i % 5000 == 4999:
            p.execute()
    p.execute()


def drain_slot(src, dst_port, slot):
    moved = 0
    for _ in range(100000):
        n, left = src.execute_command("SLOTSMGRTTAGSLOTBATCH", "127.0.0.1",
                                      dst_port, 10000, slot, 2000, 1 << 24)
        moved += n
        if left == 0:
            return moved
    raise RuntimeError("slot %d did not drain" % slot)


def small_keys(one_slot):
    src_p, dst_p = harness.start_qdb(), harness.start_qdb()
    try:
        src = redis.Redis(port=src_p.port)
        if one_slot:
            groups = {7: keys_in_slot(7, SMALL, "k")}
        else:
            groups = keys_over_slots(100, SMALL // 100, "k")
        names = [k for ks in groups.values() for k in ks]
        load_strings(src, names)
        nbytes = sum(len(k) + len(VALUE) for k in names)
        t0 = time.time()
        moved = sum(drain_slot(src, dst_p.port, s) for s in groups)
        dt = time.time() - t0
        assert moved == len(names), moved
        return moved / dt, nbytes / dt / 1e6
    finally:
        src_p.cleanup()
        dst_p.cleanup()


def pct(a, f):
    return sorted(a)[min(len(a) - 1, int(len(a) * f))] * 1000 if a else 0.0


class Prober(threading.Thread):
    """GET/SET of other keys in a loop; latencies in seconds."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.c = redis.Redis(port=port, socket_timeout=30)
        self.lat = []
        self.stop = threading.Event()
        self.errors = 0

    def run(self):
        i = 0
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                if i % 2:
                    self.c.set("probe%d" % (i % 1000), i)
                else:
                    self.c.get("probe%d" % (i % 1000))
            except redis.RedisError:
                self.errors += 1
            self.lat.append(time.perf_counter() - t0)
            i += 1

    def mark(self):
        return len(self.lat)


def big_hash(fields):
    src_p, dst_p = harness.start_qdb(), harness.start_qdb()
    try:
        src = redis.Redis(port=src_p.port)
        p = src.pipeline(transaction=False)
        for i in range(0, fields, 1000):
            p.hset("big", mapping={"f%d" % j: "v%d" % j
                                   for j in range(i, min(fields, i + 1000))})
            if i % 50000 == 0:
                p.execute()
        p.execute()
        nbytes = sum(len("f%d" % j) + len("v%d" % j) for j in range(fields))
        probe = Prober(src_p.port)
        probe.start()
        time.sleep(1.0)
        m0 = probe.mark()
        t0 = time.time()
        r = src.execute_command("SLOTSMGRTONE", "127.0.0.1", dst_p.port,
                                30000, "big")
        dt = time.time() - t0
        m1 = probe.mark()
        probe.stop.set()
        probe.join(10)
        assert r == 1 and redis.Redis(port=dst_p.port).hlen("big") == fields
        return (dt, nbytes / dt / 1e6, pct(probe.lat[:m0], .5),
                pct(probe.lat[:m0], .99), pct(probe.lat[m0:m1], .5),
                pct(probe.lat[m0:m1], .99))
    finally:
        src_p.cleanup()
        dst_p.cleanup()


def proxy_latency(keys):
    from cluster import Cluster
    cluster = Cluster("bench")
    try:
        config = cluster.config
        g2 = cluster.groups[2]
        proxy = cluster.start_proxy()
        load_strings(redis.Redis(port=proxy.port),
                     ["pk%d" % i for i in range(keys)])
        probe = Prober(proxy.port)
        probe.start()
        # The baseline starts once the load's memtable flush has settled and
        # runs long enough (tens of thousands of requests) for a stable p99.
        time.sleep(2.0)
        m_base = probe.mark()
        time.sleep(5.0)
        m0 = probe.mark()
        t0 = time.time()
        config("slot", "migrate", "0", "511", "2", "--wait")
        dt = time.time() - t0
        m1 = probe.mark()
        probe.stop.set()
        probe.join(10)
        moved = redis.Redis(port=g2.port).dbsize()
        before = probe.lat[m_base:m0]
        return (dt, moved / dt, pct(before, .5), pct(before, .99),
                pct(probe.lat[m0:m1], .5), pct(probe.lat[m0:m1], .99),
                probe.errors)
    finally:
        cluster.cleanup()


def median_rows(fn, repeat, *args):
    runs = [fn(*args) for _ in range(repeat)]
    return [statistics.median(col) for col in zip(*runs)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hash-fields", type=int, default=1000000)
    ap.add_argument("--proxy-keys", type=int, default=50000)
    # The proxy part (ZooKeeper, reborn-config, 2 groups) takes minutes.
    ap.add_argument("--no-proxy", dest="proxy", action="store_false")
    args, _ = ap.parse_known_args()
    print("== migrate: two local qdb-servers (rocksdb), median of %d runs"
          % args.repeat)
    print("%-34s %12s %10s" % ("small keys (SLOTSMGRTTAGSLOTBATCH)",
                               "keys/s", "MB/s"))
    for name, one in (("100k keys, one slot", True),
                      ("100k keys, 100 slots", False)):
        ks, mb = median_rows(small_keys, args.repeat, one)
        print("%-34s %12.0f %10.1f" % (name, ks, mb))
    dt, mb, b50, b99, d50, d99 = median_rows(big_hash, args.repeat,
                                             args.hash_fields)
    print("\n%d-field hash (chunked): %.2f s, %.1f MB/s" %
          (args.hash_fields, dt, mb))
    print("  source GET/SET of other keys  p50 %.2f ms  p99 %.2f ms before;"
          "  p50 %.2f ms  p99 %.2f ms during" % (b50, b99, d50, d99))
    if not args.proxy:
        print("\n(proxy latency before/during `slot migrate`: without "
              "--no-proxy)")
        return
    dt, ks, b50, b99, d50, d99, errors = median_rows(
        proxy_latency, args.repeat, args.proxy_keys)
    print("\nproxy (ZooKeeper, 2 groups): slot migrate 0..511 of %d keys: "
          "%.2f s (%.0f keys/s incl. 2PC)" % (args.proxy_keys, dt, ks))
    print("  client GET/SET via proxy  p50 %.2f ms  p99 %.2f ms before;"
          "  p50 %.2f ms  p99 %.2f ms during (p99 %.2fx); errors %d" %
          (b50, b99, d50, d99, d99 / b99 if b99 else 0, errors))


if __name__ == "__main__":
    main()
