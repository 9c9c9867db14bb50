#!/usr/bin/env python3
"""Macro benchmarks: redis-benchmark against redis-server and our servers,
started side by side in one run; prints requests/s (median of --repeat runs)
and the ratio to redis-server. Invoked by `./reborn.sh bench`."""

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "integration"))
import harness  # noqa: E402


def run_benchmark(port, tests, pipeline, requests, clients, keyspace):
    argv = ["redis-benchmark", "-p", str(port), "-t", tests, "-n",
            str(requests), "-c", str(clients), "-P", str(pipeline), "--csv"]
    if keyspace:
        argv += ["-r", str(keyspace)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    rows = {}
    for row in csv.reader(io.StringIO(out.stdout)):
        if len(row) >= 2 and row[0] != "test":
            rows[row[0]] = float(row[1])
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--requests", type=int, default=200000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--suite", default="ping",
                        help="comma-separated: ping")
    args = parser.parse_args()
    harness.BUILD_DIR = os.path.abspath(args.build_dir)

    suites = {
        # name: (redis-benchmark tests, keyspace)
        "ping": ("ping_inline,ping_mbulk", 0),
    }
    servers = [("redis-server", harness.start_redis)]
    servers.append(("qdb-server", lambda: harness.start_qdb("--engine", "memory")))

    started = [(name, start()) for name, start in servers]
    try:
        results = {}  # (suite test, pipeline) -> {server: [rps...]}
        for suite in args.suite.split(","):
            tests, keyspace = suites[suite]
            for pipeline in (1, 16):
                for _ in range(args.repeat):
                    for name, proc in started:
                        rows = run_benchmark(proc.port, tests, pipeline,
                                             args.requests, args.clients,
                                             keyspace)
                        for test, rps in rows.items():
                            results.setdefault((test, pipeline), {}) \
                                   .setdefault(name, []).append(rps)
    finally:
        for _, proc in started:
            proc.cleanup()

    names = [name for name, _ in servers]
    header = "%-14s %3s " % ("test", "-P") + "".join(
        "%14s" % n for n in names) + "".join(
        "%12s" % ("%s/redis" % n.split("-")[0]) for n in names[1:])
    print("\nrequests/s, median of %d runs, -c %d -n %d" %
          (args.repeat, args.clients, args.requests))
    print(header)
    print("-" * len(header))
    for (test, pipeline), by_server in results.items():
        med = {n: statistics.median(v) for n, v in by_server.items()}
        base = med.get("redis-server")
        line = "%-14s %3d " % (test, pipeline) + "".join(
            "%14.0f" % med.get(n, 0) for n in names)
        for n in names[1:]:
            line += "%12s" % ("%.2fx" % (med[n] / base) if base and n in med
                              else "-")
        print(line)


if __name__ == "__main__":
    main()
