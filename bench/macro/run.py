#!/usr/bin/env python3
"""Macro benchmarks: redis-benchmark against redis-server and our servers,
started side by side in one run; prints requests/s (median of --repeat runs)
and the ratio to redis-server. Invoked by `./reborn.sh bench`."""

import argparse
import csv
import hashlib
import io
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "integration"))
import harness  # noqa: E402


def run_benchmark(port, tests, pipeline, requests, clients, keyspace):
    argv = ["redis-benchmark", "-p", str(port), "-n",
            str(requests), "-c", str(clients), "-P", str(pipeline), "--csv"]
    if keyspace:
        argv += ["-r", str(keyspace)]
    # A list is one custom command (it goes last); a string names -t tests.
    argv += tests if isinstance(tests, list) else ["-t", tests]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    rows = {}
    for row in csv.reader(io.StringIO(out.stdout)):
        if len(row) >= 2 and row[0] != "test":
            rows[row[0]] = float(row[1])
    return rows


def start_nutcracker(backend_port):
    """twemproxy (Debian's nutcracker) in front of one redis-server."""
    port, stats = harness.free_port(), harness.free_port()
    import tempfile
    conf = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False)
    conf.write("bench:\n  listen: 127.0.0.1:%d\n  hash: fnv1a_64\n"
               "  distribution: ketama\n  redis: true\n"
               "  servers:\n   - 127.0.0.1:%d:1\n" % (port, backend_port))
    conf.close()
    return harness.Process(["nutcracker", "-c", conf.name, "-s", str(stats)],
                           port=port, name="nutcracker")


# Server threads: the cores minus one, which redis-benchmark needs. On a
# 2-core machine that is one thread, like redis-server and nutcracker; more
# threads there only make the servers and the client preempt each other.
SERVER_THREADS = max(1, (os.cpu_count() or 2) - 1)


def start_reborn_proxy(backend_ports, threads=SERVER_THREADS):
    port = harness.free_port()
    argv = [harness.binary("reborn-proxy"), "--addr", "127.0.0.1:%d" % port,
            "--threads", str(threads), "--backends",
            ",".join("127.0.0.1:%d" % p for p in backend_ports)]
    return harness.Process(argv, port=port, name="reborn-proxy")


def start_qdb(engine):
    return harness.start_qdb("--engine", engine, "--io-threads",
                             str(SERVER_THREADS))


def qdb_serves_data(port):
    """qdb-server gained its data commands on another branch; skip the
    qdb-behind-proxy row while they are missing."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        return s.recv(100).startswith(b"+OK")


def proxy_servers():
    """Rows of the proxy suite: each (name, process whose port is benched),
    plus the helper processes to stop afterwards."""
    redis = harness.start_redis()
    rows = [("redis-server", redis), ("nutcracker", start_nutcracker(redis.port)),
            ("reborn-proxy", start_reborn_proxy([redis.port]))]
    helpers = [redis]
    # Two redis-server groups: MSET's keys span both, so the proxy splits
    # and merges it (the cross-slot target).
    halves = [harness.start_redis() for _ in range(2)]
    helpers += halves
    rows.append(("proxy-2xredis",
                 start_reborn_proxy([h.port for h in halves])))
    try:
        qdbs = [start_qdb("memory") for _ in range(2)]
        helpers += qdbs
        if all(qdb_serves_data(q.port) for q in qdbs):
            rows.append(("proxy-2xqdb",
                         start_reborn_proxy([q.port for q in qdbs])))
        else:
            print("note: qdb-server has no data commands yet; "
                  "skipping reborn-proxy in front of two qdb groups")
    except Exception as e:  # noqa: BLE001
        print("note: qdb groups unavailable: %s" % e)
    return rows, helpers


def store_servers():
    """Rows of the store suites: redis-server and qdb-server on each engine."""
    started = [("redis-server", harness.start_redis())]
    started.append(("qdb-memory", start_qdb("memory")))
    started.append(("qdb-rocksdb", start_qdb("rocksdb")))
    return started, []


SUBSCRIBERS = 100
SCRIPT = "return redis.call('incr', KEYS[1])"


# One process holds every subscriber connection and drops what arrives in
# large reads: the server, not the readers, sets the pace.
SUBSCRIBER_LOOP = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"*2\\r\\n$9\\r\\nSUBSCRIBE\\r\\n$5\\r\\nbench\\r\\n")
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if not key.fileobj.recv(1 << 20):
            sys.exit(1)
"""


class Subscribers:
    """SUBSCRIBERS connections subscribed to channel "bench" of one server
    (one reader process, see SUBSCRIBER_LOOP)."""

    def __init__(self, port):
        self.procs = [subprocess.Popen(
            [sys.executable, "-c", SUBSCRIBER_LOOP, str(port),
             str(SUBSCRIBERS)])]
        import time
        deadline = time.time() + 30
        while time.time() < deadline:
            out = subprocess.run(["redis-cli", "-p", str(port), "pubsub",
                                  "numsub", "bench"], capture_output=True,
                                 text=True, timeout=10).stdout.split()
            if len(out) == 2 and out[1] == str(SUBSCRIBERS):
                return
            time.sleep(0.1)
        self.cleanup()
        raise RuntimeError("subscribers did not connect to %d" % port)

    def cleanup(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=10)


def pubsub_servers():
    """redis-server and qdb-server, each with SUBSCRIBERS subscribers."""
    started = [("redis-server", harness.start_redis()),
               ("qdb-rocksdb", start_qdb("rocksdb"))]
    return started, [Subscribers(proc.port) for _, proc in started]


def script_servers():
    """The store suite's servers with SCRIPT loaded (for EVALSHA)."""
    started, helpers = store_servers()
    for _, proc in started:
        subprocess.run(["redis-cli", "-p", str(proc.port), "script", "load",
                        SCRIPT], check=True, capture_output=True, timeout=10)
    return started, helpers


# The issues' targets: (suite, test, -P, server, over, at least).
TARGETS = [
    ("kv", "GET", 1, "qdb-rocksdb", "redis-server", 0.8),
    ("kv", "SET", 1, "qdb-rocksdb", "redis-server", 0.6),
    ("ping", "PING_INLINE", 1, "qdb-rocksdb", "redis-server", 0.9),
    ("ping", "PING_MBULK", 1, "qdb-rocksdb", "redis-server", 0.9),
    ("proxy", "SET", 1, "reborn-proxy", "nutcracker", 1.0),
    ("proxy", "GET", 1, "reborn-proxy", "nutcracker", 1.0),
    ("proxy", "SET", 16, "reborn-proxy", "nutcracker", 1.5),
    ("proxy", "GET", 16, "reborn-proxy", "nutcracker", 1.5),
    ("proxy", "MSET", 1, "proxy-2xredis", "redis-server", 0.5),
    ("proxy", "MSET", 16, "proxy-2xredis", "redis-server", 0.5),
]


def print_targets(suite, results):
    medians = {(label(t), p): {n: statistics.median(v) for n, v in r.items()}
               for (t, p), r in results.items()}
    rows = [t for t in TARGETS if t[0] == suite]
    if rows:
        print("\ntargets")
    for _, test, pipeline, server, over, want in rows:
        med = medians.get((test, pipeline), {})
        if server not in med or not med.get(over):
            continue
        got = med[server] / med[over]
        print("%-12s -P %-3d %s/%s %.2fx (target >= %.1fx): %s" % (
            test, pipeline, server, over, got, want,
            "met" if got >= want else "BELOW"))


# name: (redis-benchmark tests, keyspace, servers)
SUITES = {
    "ping": ("ping_inline,ping_mbulk", 0, store_servers),
    "kv": ("set,get,incr,mset", 100000, store_servers),
    # Data types (issue 4). redis-benchmark fills mylist with its
    # "LPUSH (needed to benchmark LRANGE)" row before lrange_100.
    "types": ("lpush,rpop,sadd,hset,zadd,lrange_100", 100000, store_servers),
    # A short Lua script (docs/scripting.md): EVAL of a cached script that
    # increments a random key.
    "script": (["EVAL", SCRIPT, "1", "counter:__rand_int__"], 100000,
               store_servers),
    "evalsha": (["EVALSHA", hashlib.sha1(SCRIPT.encode()).hexdigest(), "1",
                 "counter:__rand_int__"], 100000, script_servers),
    # PUBLISH of a short message to SUBSCRIBERS subscribers (docs/pubsub.md).
    "publish": (["PUBLISH", "bench", "hello"], 0, pubsub_servers),
    # redis direct vs nutcracker vs reborn-proxy (see proxy_servers).
    "proxy": ("set,get,mset", 100000, proxy_servers),
}


def run_suite(suite, args):
    tests, keyspace, make_servers = SUITES[suite]
    started, helpers = make_servers()
    results = {}  # (test, pipeline) -> {server: [rps...]}
    try:
        for pipeline in (1, 16):
            for _ in range(args.repeat):
                for name, proc in started:
                    rows = run_benchmark(proc.port, tests, pipeline,
                                         args.requests, args.clients, keyspace)
                    for test, rps in rows.items():
                        results.setdefault((test, pipeline), {}) \
                               .setdefault(name, []).append(rps)
    finally:
        for _, proc in started:
            proc.cleanup()
        for proc in helpers:
            proc.cleanup()
    return [name for name, _ in started], results


def label(test):
    """Short row name: "LRANGE_100 (first 100 elements)" -> "LRANGE_100",
    "LPUSH (needed to benchmark LRANGE)" -> "LPUSH(fill)"."""
    if test.startswith("LPUSH (needed"):
        return "LPUSH(fill)"
    for name in ("EVALSHA", "EVAL", "PUBLISH"):
        if test.startswith(name + " "):
            return name
    return test.split(" (")[0]


def print_table(suite, names, results, args):
    header = "%-14s %3s " % ("test", "-P") + "".join(
        "%14s" % n for n in names) + "".join(
        "%18s" % ("%s/redis" % n) for n in names[1:])
    print("\n[%s] requests/s, median of %d runs, -c %d -n %d, %d server "
          "thread(s)" % (suite, args.repeat, args.clients, args.requests,
                         SERVER_THREADS))
    print(header)
    print("-" * len(header))
    for (test, pipeline), by_server in results.items():
        med = {n: statistics.median(v) for n, v in by_server.items()}
        base = med.get("redis-server")
        line = "%-14s %3d " % (label(test), pipeline) + "".join(
            "%14.0f" % med.get(n, 0) for n in names)
        for n in names[1:]:
            line += "%18s" % ("%.2fx" % (med[n] / base) if base and n in med
                              else "-")
        print(line)
    if suite == "proxy":
        print("\nreborn-proxy ratios")
        for (test, pipeline), by_server in results.items():
            med = {n: statistics.median(v) for n, v in by_server.items()}
            rp, nc = med.get("reborn-proxy"), med.get("nutcracker")
            base = med.get("redis-server")
            print("%-14s -P %-3d proxy/nutcracker %5.2fx  proxy/direct %5.2fx"
                  % (test, pipeline, rp / nc if rp and nc else 0,
                     rp / base if rp and base else 0))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--requests", type=int, default=200000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--suite",
                        default="ping,kv,types,script,evalsha,publish,proxy",
                        help="comma-separated: " + ",".join(SUITES) +
                        ",migrate")
    args, rest = parser.parse_known_args()
    harness.BUILD_DIR = os.path.abspath(args.build_dir)
    for suite in args.suite.split(","):
        if suite == "migrate":  # its own table (bench/macro/migrate.py)
            import migrate
            sys.argv = [sys.argv[0], "--repeat", str(args.repeat)] + rest
            migrate.main()
            continue
        names, results = run_suite(suite, args)
        print_table(suite, names, results, args)
        print_targets(suite, results)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
