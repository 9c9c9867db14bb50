#!/usr/bin/python3
"""Streams in RDB files between qdb-server and redis-server 7.0.

redis-server holds streams with several listpack nodes, deleted entries,
consumer groups, PELs shared by consumers, an idle consumer, a group with
no PEL and an empty stream. Then, compared byte for byte (only the rax node
count masked, as qdb keeps its own node layout):
  1. SAVE -> qdb-server --rdb-import: XINFO STREAM FULL (delivery and seen
     times included, they travel in the file), XRANGE, XINFO GROUPS,
     XPENDING extended (idle masked) equal.
  2. A qdb-server replica of that redis-server (full sync): the same.
  3. qdb-server as master of a redis-server replica (full sync from qdb's
     RDB), and qdb's SAVE loaded by a fresh redis-server: the same.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, start_qdb, start_redis  # noqa: E402
from test_streams_diff import mask, mask_map, mask_rows, parse  # noqa: E402

STREAMS = ["big", "small", "empty", "nogroups"]


def fill(c):
    c.call("CONFIG", "SET", "stream-node-max-entries", "7")
    for i in range(60):
        c.call("XADD", "big", "%d-%d" % (1000 + i // 3, i % 3), "f", str(i),
               "payload", "x" * (i % 13))
    c.call("XADD", "big", "2000-0", "other", "fields", "here", "3")
    for i in (5, 17, 18, 40):
        c.call("XDEL", "big", "%d-%d" % (1000 + i // 3, i % 3))
    c.call("XGROUP", "CREATE", "big", "g1", "0")
    c.call("XGROUP", "CREATE", "big", "g2", "1010-0")
    c.call("XGROUP", "CREATE", "big", "idle", "$")
    c.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "6", "STREAMS",
           "big", ">")
    c.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "4", "STREAMS",
           "big", ">")
    c.call("XREADGROUP", "GROUP", "g2", "carol", "COUNT", "3", "STREAMS",
           "big", ">")
    c.call("XCLAIM", "big", "g1", "bob", "0", "1000-0", "RETRYCOUNT", "5")
    c.call("XACK", "big", "g1", "1000-2")
    c.call("XGROUP", "CREATECONSUMER", "big", "g1", "zed")
    c.call("XADD", "small", "*", "a", "1")
    c.call("XGROUP", "CREATE", "small", "g", "$", "ENTRIESREAD", "1")
    c.call("XADD", "empty", "5-5", "x", "y")
    c.call("XDEL", "empty", "5-5")
    c.call("XGROUP", "CREATE", "empty", "g", "0")
    c.call("XGROUP", "CREATE", "fresh", "g", "$", "MKSTREAM")
    c.call("XADD", "nogroups", "MAXLEN", "3", "*", "k", "v")
    for i in range(5):
        c.call("XADD", "nogroups", "MAXLEN", "3", "*", "k", str(i))
    c.call("SET", "plain", "string")


def mask_full(tree):
    """XINFO STREAM FULL: only the rax node count is qdb's own."""
    return mask_map(tree, {b"radix-tree-nodes"})


def probes(key):
    return [["XINFO", "STREAM", key, "FULL"], ["XRANGE", key, "-", "+"],
            ["XINFO", "GROUPS", key], ["XPENDING", key, "g1", "-", "+", "100"],
            ["XINFO", "CONSUMERS", key, "g1"], ["TYPE", key]]


def masked(cmd, reply, exact_times):
    tree = parse(reply)[0]
    if cmd[:2] == ["XINFO", "STREAM"]:
        # Delivery and seen times come from the file, unless both servers
        # delivered since (each at its own clock).
        return mask_full(tree) if exact_times else mask(cmd, tree)
    if cmd[0] == "XPENDING":
        return mask_rows(tree, 2)
    if cmd[:2] == ["XINFO", "CONSUMERS"] and isinstance(tree[1], list):
        return (tree[0], [mask_map(c, {b"idle", b"inactive"})
                          for c in tree[1]])
    return tree


def compare(a, b, what, exact_times=True):
    bad = 0
    for key in STREAMS + ["fresh"]:
        for p in probes(key):
            ra, rb = a.call(*p), b.call(*p)
            if masked(p, ra, exact_times) != masked(p, rb, exact_times):
                bad += 1
                print("%s MISMATCH %r\n  want: %r\n  got:  %r" %
                      (what, p, ra, rb))
    if a.call("DBSIZE") != b.call("DBSIZE"):
        bad += 1
        print("%s DBSIZE differs" % what)
    print("%s: %s" % (what, "equal" if bad == 0 else "%d differences" % bad))
    return bad


def wait_link_up(c, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = c.call("INFO", "replication")
        if b"master_link_status:up" in info:
            return True
        time.sleep(0.1)
    return False


def main():
    tmp = tempfile.mkdtemp(prefix="streams_rdb_")
    procs = []
    bad = 0
    try:
        red = start_redis("--dir", tmp, "--dbfilename", "redis.rdb",
                          "--rdbcompression", "yes",
                          "--repl-diskless-sync-delay", "0")
        procs.append(red)
        rc = RawClient(red.port)
        fill(rc)
        rc.call("SAVE")

        # 1. redis dump.rdb -> qdb --rdb-import.
        q1 = start_qdb("--rdb-import", os.path.join(tmp, "redis.rdb"))
        procs.append(q1)
        qc = RawClient(q1.port)
        bad += compare(rc, qc, "rdb-import")
        # The loaded stream is live: new entries and reads go on.
        for c in (rc, qc):
            c.call("XADD", "big", "3000-0", "after", "load")
            c.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2",
                   "STREAMS", "big", ">")
        bad += compare(rc, qc, "rdb-import, then written", exact_times=False)
        qc.close()

        # 2. redis master -> qdb replica (full sync).
        q2 = start_qdb()
        procs.append(q2)
        q2c = RawClient(q2.port)
        q2c.call("REPLICAOF", "127.0.0.1", str(red.port))
        if not wait_link_up(q2c):
            bad += 1
            print("qdb replica link not up:\n" + q2.output()[-3000:])
        else:
            time.sleep(0.5)
            bad += compare(rc, q2c, "redis -> qdb replica")
        q2c.call("REPLICAOF", "NO", "ONE")

        # 3. qdb master (holding redis' streams) -> redis replica, and
        # qdb's SAVE loaded by redis.
        r2 = start_redis("--repl-diskless-load", "disabled")
        procs.append(r2)
        r2c = RawClient(r2.port)
        r2c.call("REPLICAOF", "127.0.0.1", str(q2.port))
        if not wait_link_up(r2c):
            bad += 1
            print("redis replica link not up")
        else:
            time.sleep(0.5)
            bad += compare(q2c, r2c, "qdb master -> redis replica")
        q2c.call("SAVE")
        r3 = start_redis("--dir", q2.data_dir, "--dbfilename", "dump.rdb")
        procs.append(r3)
        r3c = RawClient(r3.port)
        bad += compare(q2c, r3c, "qdb SAVE -> redis load")
        for c in (rc, q2c, r2c, r3c):
            c.close()
    finally:
        for p in procs:
            p.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print("OK" if bad == 0 else "FAILED: %d differences" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
