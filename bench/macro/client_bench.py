#!/usr/bin/env python3
"""The in-process Client vs the same workload through reborn-proxy
(`./reborn.sh bench client`): two qdb-server groups; redis-benchmark through
a reborn-proxy in front of them, and bench_client_load (the Client, sync and
async) straight to them, same requests, concurrency and keyspace. Prints
requests/s (median of --repeat runs) and the ratio to the proxy."""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "integration"))
import harness  # noqa: E402
import run as macro  # noqa: E402

KEYSPACE = 100000


def client_load(uri, mode, test, requests, clients):
    out = subprocess.run(
        [harness.binary("bench_client_load"), uri, mode, test,
         str(requests), str(clients), str(KEYSPACE)],
        capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("bench_client_load failed: " + out.stderr +
                           out.stdout)
    for line in out.stdout.splitlines():
        name, _, value = line.partition(" ")
        if name == "requests_per_second":
            return float(value)
    raise RuntimeError("no result: " + out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    harness.BUILD_DIR = os.path.abspath(args.build_dir)
    groups = [macro.start_qdb("rocksdb"), macro.start_qdb("rocksdb")]
    proxy = macro.start_reborn_proxy([g.port for g in groups])
    uri = "static://" + ",".join("127.0.0.1:%d" % g.port for g in groups)
    rows = ("proxy", "client-sync", "client-async")
    results = {}  # test -> row -> [rps]
    try:
        for _ in range(args.repeat):
            for test in ("set", "get"):
                r = results.setdefault(test, {})
                bench = macro.run_benchmark(proxy.port, test, 1, args.requests,
                                            args.clients, KEYSPACE)
                r.setdefault("proxy", []).append(next(iter(bench.values())))
                for mode in ("sync", "async"):
                    r.setdefault("client-" + mode, []).append(client_load(
                        uri, mode, test, args.requests, args.clients))
    finally:
        proxy.cleanup()
        for g in groups:
            g.cleanup()
    print("\n[client] requests/s, median of %d runs, %d concurrent, -n %d, "
          "2 qdb-server groups (rocksdb), proxy %d thread(s)" % (
              args.repeat, args.clients, args.requests, macro.SERVER_THREADS))
    header = "%-6s" % "test" + "".join("%14s" % r for r in rows) + \
        "%18s%18s" % ("sync/proxy", "async/proxy")
    print(header)
    print("-" * len(header))
    for test, by_row in results.items():
        med = {r: statistics.median(v) for r, v in by_row.items()}
        print("%-6s" % test.upper() + "".join("%14.0f" % med[r] for r in rows)
              + "%18s%18s" % ("%.2fx" % (med["client-sync"] / med["proxy"]),
                              "%.2fx" % (med["client-async"] / med["proxy"])))


if __name__ == "__main__":
    main()
