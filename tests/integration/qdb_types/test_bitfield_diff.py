#!/usr/bin/python3
"""BITFIELD and BITFIELD_RO of qdb-server against redis-server 7.0.

A seeded random stream of BITFIELD / BITFIELD_RO calls (several GET, SET,
INCRBY and OVERFLOW subcommands each; signed and unsigned widths 1..64,
"#N" offsets, values at and past the limits of each width, and invalid
types, offsets, values, subcommands and overflow kinds), mixed with plain
string writes and wrong-type keys, goes to both servers over RESP2 and RESP3.
Replies are compared byte for byte, and every string value after the run.
Usage: test_bitfield_diff.py [seed] [commands]
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, client_pair, start_qdb, start_redis  # noqa: E402

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 3
N = int(sys.argv[2]) if len(sys.argv) > 2 else 4000

KEYS = ["b1", "b2", "b3", "str", "lst", "nokey"]
BAD_TYPES = ["i0", "u0", "u64", "i65", "I8", "U8", "x8", "", "i", "i08",
             "u-1", "i+8", b"i8\x00junk", "i 8", "i99999999999999999999"]
BAD_OFFSETS = ["-1", "x", "", "#", "#-1", "1.5", " 1", "4294967296",
               "#4294967296", "#9223372036854775807", "9223372036854775808",
               "#x"]
BAD_VALUES = ["x", "1.5", "", "9223372036854775808", "-9223372036854775809",
              " 1", "0x10"]


def field_type(rnd):
    if rnd.random() < 0.02:
        return rnd.choice(BAD_TYPES), 8, True
    signed = rnd.random() < 0.5
    bits = rnd.choice([1, 2, 3, 5, 7, 8, 8, 13, 16, 31, 32, 33, 63, 64]
                      if signed else [1, 2, 3, 5, 7, 8, 8, 13, 16, 31, 32, 33,
                                      62, 63])
    return ("i" if signed else "u") + str(bits), bits, signed


def offset(rnd, bits):
    r = rnd.random()
    if r < 0.02:
        return rnd.choice(BAD_OFFSETS)
    if r < 0.30:
        return "#%d" % rnd.randint(0, 12)
    return str(rnd.choice([0, 1, 3, 7, 8, 9, 15, 63, 64, 65, 100, 200,
                           rnd.randint(0, 400)]))


def value(rnd, bits, signed):
    r = rnd.random()
    if r < 0.02:
        return rnd.choice(BAD_VALUES)
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    span = hi - lo + 1
    v = rnd.choice([lo, hi, 0, 1, -1, lo - 1, hi + 1, lo * 2, hi * 2,
                    rnd.randint(lo, hi), rnd.randint(lo - span, hi + span),
                    (1 << 63) - 1, -(1 << 63), rnd.randint(-300, 300)])
    return str(max(-(1 << 63), min((1 << 63) - 1, v)))


def random_bitfield(rnd):
    name = "bitfield_ro" if rnd.random() < 0.2 else "bitfield"
    cmd = [name, rnd.choice(KEYS if rnd.random() < 0.2 else KEYS[:3])]
    for _ in range(rnd.randint(0, 5)):
        r = rnd.random()
        if r < 0.15:
            cmd += ["overflow", rnd.choice(["wrap", "SAT", "fail", "Fail",
                                            "sat", "bogus"])]
            continue
        if r < 0.16:
            cmd.append(rnd.choice(["get", "set", "incrby", "overflow", "nope",
                                   "i8"]))
            continue
        t, bits, signed = field_type(rnd)
        if r < 0.45 or name == "bitfield_ro" and rnd.random() < 0.8:
            cmd += [rnd.choice(["get", "GET"]), t, offset(rnd, bits)]
        else:
            cmd += [rnd.choice(["set", "incrby", "INCRBY", "SET"]), t,
                    offset(rnd, bits), value(rnd, bits, signed)]
    return cmd


def random_command(rnd):
    r = rnd.random()
    if r < 0.85:
        return random_bitfield(rnd)
    if r < 0.90:
        return ["get", rnd.choice(KEYS)]
    if r < 0.93:
        return ["del", rnd.choice(["b1", "b2", "b3"])]
    if r < 0.96:
        return ["set", rnd.choice(["b1", "b2", "b3"]),
                rnd.choice(["1", "abc", "", "\xff" * 3, "12345678901"])]
    return ["setbit", rnd.choice(["b1", "b2"]), str(rnd.randint(0, 300)),
            rnd.choice(["0", "1"])]


def setup(c):
    c.call("flushall")
    c.call("set", "str", "hello")
    c.call("rpush", "lst", "x")


def differential(rc, qc, rnd, n, proto):
    bad = 0
    for i in range(n):
        cmd = random_command(rnd)
        a, b = rc.call(*cmd), qc.call(*cmd)
        if a != b:
            bad += 1
            print("MISMATCH (resp%d #%d) %r\n  redis: %r\n  qdb:   %r" %
                  (proto, i, cmd, a[:300], b[:300]))
            if bad > 10:
                return bad
    for k in KEYS:
        a, b = rc.call("get", k), qc.call("get", k)
        if a != b:
            bad += 1
            print("FINAL VALUE MISMATCH %s: %r %r" % (k, a[:100], b[:100]))
    return bad


def fixed_cases(rc, qc):
    """The arity errors and Redis' own regression shapes."""
    bad = 0
    cases = [
        ["bitfield"], ["bitfield_ro"], ["bitfield", "k"], ["bitfield_ro", "k"],
        ["bitfield", "lst"], ["bitfield_ro", "lst", "get", "u8", "0"],
        ["bitfield", "lst", "set", "u8", "0", "1"],
        ["bitfield_ro", "lst", "set", "u8", "0", "1"],
        ["set", "bits", "1"], ["bitfield", "bits", "get", "u1", "0"],
        ["bitfield", "m", "SET", "i8", "0", "10", "SET", "i8", "64", "10",
         "INCRBY", "i8", "10", "99900"], ["get", "m"],
        ["bitfield", "f", "overflow", "fail", "set", "u8", "0", "256"],
        ["exists", "f"], ["get", "f"],
        ["bitfield", "g", "set", "u1", "#7", "1", "get", "u8", "0"],
        ["bitfield", "g", "get", "i64", "0", "get", "u63", "1"],
        ["bitfield", "g", "set", "i64", "0", "-9223372036854775808",
         "incrby", "i64", "0", "-1", "overflow", "sat", "incrby", "i64", "0",
         "-1", "overflow", "fail", "incrby", "i64", "0", "-1"],
        ["bitfield", "g", "overflow", "wrap"], ["bitfield", "g", "overflow"],
        ["bitfield", "g", "get", "u8"], ["bitfield", "g", "set", "u8", "0"],
        ["object", "encoding", "g"], ["strlen", "g"],
    ]
    for cmd in cases:
        a, b = rc.call(*cmd), qc.call(*cmd)
        if a != b:
            bad += 1
            print("CASE MISMATCH %r\n  redis: %r\n  qdb:   %r" % (cmd, a, b))
    return bad


def main():
    rnd = random.Random(SEED)
    redis = start_redis()
    qdb = start_qdb(engine="rocksdb")
    bad = 0
    t0 = time.time()
    try:
        for proto in (2, 3):
            rc, qc = client_pair(redis.port, qdb.port, proto)
            for c in (rc, qc):
                setup(c)
            bad += differential(rc, qc, rnd, N // 2, proto)
            bad += fixed_cases(rc, qc)
            rc.close()
            qc.close()
    finally:
        redis.cleanup()
        qdb.cleanup()
    print("seed %d, %d commands, %.1fs, %d mismatches" %
          (SEED, N, time.time() - t0, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
