#!/usr/bin/python3
"""OBJECT IDLETIME, RESTORE IDLETIME/FREQ and OBJECT ENCODING of strings
changed in place, qdb-server (every engine) against redis-server 7.0.

Idle times are compared within a second (Redis' LRU clock ticks in
serverCron); everything else byte for byte.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import harness  # noqa: E402

SETUP = [
    ["SET", "a", "1"], ["SET", "b", "x"], ["RPUSH", "l", "x"],
    ["HSET", "h", "f", "v"], ["SADD", "s", "m"], ["ZADD", "z", "1", "m"],
    ["SET", "t", "y"], ["SET", "u", "y"],
]
# Looks that are no access in Redis (LOOKUP_NOTOUCH) and ones that are.
NO_TOUCH = [["EXISTS", "a"], ["TYPE", "a"], ["TTL", "a"], ["PTTL", "a"],
            ["OBJECT", "ENCODING", "a"], ["OBJECT", "REFCOUNT", "a"],
            ["SCAN", "0"], ["KEYS", "*"], ["DBSIZE"]]
TOUCH = [["GET", "a"], ["TOUCH", "b"], ["LRANGE", "l", "0", "-1"],
         ["HSET", "h", "g", "w"], ["SISMEMBER", "s", "m"],
         ["ZSCORE", "z", "m"], ["EXPIRE", "t", "100"], ["MGET", "u", "zz"]]
ENCODINGS = [
    ["APPEND", "e1", "12"], ["OBJECT", "ENCODING", "e1"],
    ["APPEND", "e1", "3"], ["OBJECT", "ENCODING", "e1"],
    ["INCR", "e1"], ["OBJECT", "ENCODING", "e1"],
    ["SETRANGE", "e2", "0", "7"], ["OBJECT", "ENCODING", "e2"],
    ["SET", "e3", "5"], ["SETRANGE", "e3", "0", ""],
    ["OBJECT", "ENCODING", "e3"],
    ["SETBIT", "e4", "3", "1"], ["OBJECT", "ENCODING", "e4"],
    ["BITOP", "OR", "e5", "e1", "e4"], ["OBJECT", "ENCODING", "e5"],
    ["SET", "e6", "1"], ["INCRBYFLOAT", "e6", "2"], ["GET", "e6"],
    ["OBJECT", "ENCODING", "e6"], ["INCRBYFLOAT", "e6", "0.5"],
    ["OBJECT", "ENCODING", "e6"],
    ["SET", "e7", "x" * 50], ["INCRBYFLOAT", "e8", "1e30"],
    ["OBJECT", "ENCODING", "e8"],
    ["COPY", "e1", "e9"], ["OBJECT", "ENCODING", "e9"],
    ["SET", "e11", "5"], ["COPY", "e11", "e12"], ["OBJECT", "REFCOUNT", "e12"],
    ["OBJECT", "ENCODING", "e12"], ["OBJECT", "REFCOUNT", "e11"],
    ["MOVE", "e11", "1"], ["COPY", "e12", "e13", "DB", "1"],
    ["RENAME", "e12", "e14"], ["OBJECT", "REFCOUNT", "e14"],
    ["INCR", "e14"], ["OBJECT", "REFCOUNT", "e14"],
    ["RENAME", "e2", "e10"], ["OBJECT", "ENCODING", "e10"],
    ["EXPIRE", "e10", "100"], ["OBJECT", "ENCODING", "e10"],
    ["SET", "e10", "12"], ["OBJECT", "ENCODING", "e10"],
    ["GETSET", "e4", "5"], ["OBJECT", "ENCODING", "e4"],
]


def idle(client, key):
    reply = client.call("OBJECT", "IDLETIME", key)
    assert reply.startswith(b":"), (key, reply)
    return int(reply[1:-2])


def check_idle(servers, key, low, high):
    got = [idle(c, key) for c in servers]
    if not all(low <= g <= high for g in got) or abs(got[0] - got[1]) > 1:
        raise AssertionError("IDLETIME %s: redis %d qdb %d, want %d..%d" %
                             (key, got[0], got[1], low, high))


def same(servers, cmd):
    a, b = (c.call(*cmd) for c in servers)
    if a != b:
        raise AssertionError("%r: redis %r qdb %r" % (cmd, a, b))
    return a


def run(engine):
    redis = harness.start_redis()
    qdb = harness.start_qdb(engine=engine)
    try:
        servers = [harness.RawClient(redis.port), harness.RawClient(qdb.port)]
        for cmd in SETUP:
            same(servers, cmd)
        time.sleep(2.3)
        for cmd in NO_TOUCH:
            for c in servers:
                c.call(*cmd)
        for key in ("a", "b", "l", "h", "s", "z", "t", "u"):
            check_idle(servers, key, 2, 3)
        for cmd in TOUCH:
            same(servers, cmd)
        for key in ("a", "b", "l", "h", "s", "z", "t", "u"):
            check_idle(servers, key, 0, 0)
        same(servers, ["OBJECT", "IDLETIME", "missing"])

        # Not "a": Redis shares the object of a small integer, idle time
        # included.
        payload = servers[0].call("DUMP", "b").split(b"\r\n", 1)[1][:-2]
        for cmd in (["RESTORE", "r1", "0", payload, "IDLETIME", "1000"],
                    ["RESTORE", "r2", "0", payload, "FREQ", "5"],
                    ["RESTORE", "r3", "0", payload, "IDLETIME", "-1"],
                    ["RESTORE", "r3", "0", payload, "FREQ", "256"],
                    ["RESTORE", "r3", "0", payload, "IDLETIME", "5", "FREQ",
                     "5"],
                    ["OBJECT", "FREQ", "r2"]):
            same(servers, cmd)
        check_idle(servers, "r1", 1000, 1001)
        check_idle(servers, "r2", 0, 0)

        # Under an LFU policy FREQ counts and IDLETIME is refused (and the
        # other way round); a fresh key starts at 5, restored ones at
        # their FREQ, and a hundred reads raise the counter (Redis' log
        # counter: from 5, with lfu-log-factor 10, to about 6-7).
        for cmd in (["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
                    ["RESTORE", "f1", "0", payload, "FREQ", "100"],
                    ["OBJECT", "FREQ", "f1"],
                    ["RESTORE", "f2", "0", payload, "IDLETIME", "100"],
                    ["OBJECT", "IDLETIME", "f2"],
                    ["CONFIG", "SET", "lfu-log-factor", "0"]):
            same(servers, cmd)
        for c in servers:
            for _ in range(100):
                c.call("GET", "f2")
        same(servers, ["OBJECT", "FREQ", "f2"])  # +1 per access: 105
        for cmd in (["CONFIG", "SET", "lfu-log-factor", "10"],
                    ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
                    ["OBJECT", "FREQ", "f1"]):
            same(servers, cmd)

        for cmd in ENCODINGS:
            same(servers, cmd)
        for c in servers:
            c.close()
        print("%s: idle times and string encodings as redis-server" % engine)
    finally:
        redis.cleanup()
        qdb.cleanup()


def main():
    for engine in ("rocksdb", "leveldb", "memory"):
        run(engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
