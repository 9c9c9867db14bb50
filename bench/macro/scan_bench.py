#!/usr/bin/env python3
"""The cost of SCAN through reborn-proxy (issue 24): two qdb-server groups
(slots 0..511 and 512..1023) behind a proxy, N keys; for each N one full
iteration (cursor 0 to 0) per COUNT, and a `MATCH {tag}:*` iteration.
Prints, per iteration, the client SCAN calls, the backend calls the
iteration cost (INFO commandstats of both groups: SLOTSSCAN + SCAN) and the
wall time (median of --repeat). Usage: `./reborn.sh bench scan`, or
  /usr/bin/python3 bench/macro/scan_bench.py --build-dir build
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "integration"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "integration", "proxy"))
import redis  # noqa: E402

import harness  # noqa: E402
from harness import start_qdb  # noqa: E402
from proxy_harness import start_proxy  # noqa: E402


def backend_calls(servers):
    total = 0
    for s in servers:
        stats = s.info("commandstats")
        for name in ("cmdstat_slotsscan", "cmdstat_scan"):
            total += stats.get(name, {}).get("calls", 0)
    return total


def full_scan(c, *opts):
    cursor, calls, keys = 0, 0, 0
    while True:
        cursor, batch = c.execute_command("SCAN", cursor, *opts)
        cursor = int(cursor)
        calls += 1
        keys += len(batch)
        if cursor == 0:
            return calls, keys
        assert calls < 1000000


def measure(c, servers, repeat, *opts):
    times = []
    for _ in range(repeat):
        for s in servers:
            s.config_resetstat()
        t0 = time.perf_counter()
        calls, keys = full_scan(c, *opts)
        times.append(time.perf_counter() - t0)
        backend = backend_calls(servers)
    return calls, keys, backend, statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--sizes", default="0,10,100,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    harness.BUILD_DIR = os.path.abspath(args.build_dir)
    g1, g2 = start_qdb(), start_qdb()
    proxy = start_proxy([g1.port, g2.port])
    try:
        c = redis.Redis(port=proxy.port, socket_timeout=60)
        servers = [redis.Redis(port=g.port) for g in (g1, g2)]
        print("%7s %-22s %8s %8s %10s %10s" % (
            "keys", "options", "SCANs", "returned", "backend", "wall ms"))
        for n in (int(x) for x in args.sizes.split(",")):
            c.flushall()
            pipe = c.pipeline(transaction=False)
            for i in range(n):
                pipe.set("k:%d" % i, i)
                if len(pipe) >= 1000:
                    pipe.execute()
            for i in range(min(n, 50)):
                pipe.set("{user1}:%d" % i, i)
            pipe.execute()
            for opts in ([], ["COUNT", "100"], ["COUNT", "1000"],
                         ["MATCH", "{user1}:*"]):
                calls, keys, backend, wall = measure(c, servers, args.repeat,
                                                     *opts)
                print("%7d %-22s %8d %8d %10d %10.2f" % (
                    n, " ".join(opts) or "(COUNT 10)", calls, keys, backend,
                    wall * 1000))
                sys.stdout.flush()
    finally:
        for p in (proxy, g1, g2):
            p.cleanup()


if __name__ == "__main__":
    main()
