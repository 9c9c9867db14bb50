#!/usr/bin/python3
"""HyperLogLog commands of qdb-server against redis-server 7.0.

An HLL is a string holding Redis' own representation, so beyond the replies
the values themselves must be the same bytes on both servers.
1. A seeded random stream of PFADD / PFCOUNT / PFMERGE / PFDEBUG, GETs of
   the raw values, corruptions (SETRANGE, APPEND, SET of broken headers),
   wrong types and hll-sparse-max-bytes changes goes to both servers over
   RESP2 and RESP3; replies are compared byte for byte.
2. Sparse to dense promotion, one element at a time: the value after every
   PFADD is the same bytes, and the switch happens at the same element.
3. HLLs DUMPed by redis-server RESTORE into qdb-server (and GET/SET) count
   the same there, keep growing identically, and go back the same way.
4. Error texts: WRONGTYPE (both kinds), INVALIDOBJ, PFDEBUG's errors, arity;
   huge corrupted sparse values that would overflow a run counter.
Usage: test_hll_diff.py [seed] [commands]
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, client_pair, start_qdb, start_redis  # noqa: E402

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 5
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000

HLLS = ["h1", "h2", "h3", "h4"]
OTHERS = ["str", "lst", "nokey", "bad"]
WORDS = ["a", "b", "c", "", "foo", "bar", "x" * 60, "ü", "1", "2", "-3"]


def element(rnd):
    r = rnd.random()
    if r < 0.3:
        return rnd.choice(WORDS)
    if r < 0.6:
        return str(rnd.randint(0, 5000))
    return "e%d" % rnd.getrandbits(40)


def random_command(rnd):
    r = rnd.random()
    key = rnd.choice(HLLS if rnd.random() < 0.85 else OTHERS)
    if r < 0.34:
        n = rnd.choice([0, 1, 1, 2, 3, 5, 10, 40])
        return ["pfadd", key] + [element(rnd) for _ in range(n)]
    if r < 0.40:
        # Enough to go dense with the default hll-sparse-max-bytes.
        n = rnd.choice([200, 600, 1500])
        return ["pfadd", key] + [element(rnd) for _ in range(n)]
    if r < 0.54:
        keys = [rnd.choice(HLLS + HLLS + OTHERS)
                for _ in range(rnd.randint(1, 4))]
        return ["pfcount"] + keys
    if r < 0.62:
        keys = [rnd.choice(HLLS + OTHERS) for _ in range(rnd.randint(0, 3))]
        return ["pfmerge", rnd.choice(HLLS + ["dst"])] + keys
    if r < 0.72:
        sub = rnd.choice(["encoding", "ENCODING", "decode", "getreg",
                          "todense", "nosuch"])
        return ["pfdebug", sub, rnd.choice(HLLS + OTHERS)]
    if r < 0.82:
        return ["get", rnd.choice(HLLS + ["dst"])]
    if r < 0.84:
        # A corrupted header (magic, encoding, dense length) or body.
        return ["setrange", rnd.choice(HLLS),
                str(rnd.choice([0, 4, 10, 15]) if rnd.random() < 0.3 else
                    rnd.randint(16, 40)),
                rnd.choice([b"0", b"\x00", b"\x01", b"x", b"\x7f\xff", b"\x80",
                            b"\xc0\x01"])]
    if r < 0.85:
        return ["append", rnd.choice(HLLS), rnd.choice(["hello", "\x00"])]
    if r < 0.91:
        return ["del", rnd.choice(HLLS + ["dst"])]
    if r < 0.93:
        return ["config", "set", "hll-sparse-max-bytes",
                rnd.choice(["0", "30", "200", "3000", "3000", "20000"])]
    if r < 0.95:
        return ["set", "bad", rnd.choice([b"HYLL", b"HYLL" + b"\x00" * 12,
                                          b"HYLL\x01" + b"\x00" * 11,
                                          b"HYLL\x00" + b"\x00" * 11,
                                          b"HYLL\x02" + b"\x00" * 13,
                                          b"nope"])]
    if r < 0.97:
        return ["object", "encoding", rnd.choice(HLLS)]
    return ["pfcount", rnd.choice(HLLS)]


def setup(c):
    c.call("flushall")
    c.call("config", "set", "hll-sparse-max-bytes", "3000")
    c.call("set", "str", "plain")
    c.call("rpush", "lst", "x")


def differential(rc, qc, rnd, n, proto):
    bad = 0
    for i in range(n):
        cmd = random_command(rnd)
        a, b = rc.call(*cmd), qc.call(*cmd)
        if a != b:
            bad += 1
            print("MISMATCH (resp%d #%d) %r\n  redis: %r\n  qdb:   %r" %
                  (proto, i, [x[:40] for x in cmd][:8], a[:300], b[:300]))
            if bad > 10:
                return bad
    for k in HLLS + ["dst", "bad"]:
        a, b = rc.call("get", k), qc.call("get", k)
        if a != b:
            bad += 1
            print("FINAL VALUE MISMATCH %s" % k)
    return bad


def promotion(rc, qc, rnd):
    """The value after every PFADD, through the switch to dense."""
    bad = 0
    switched = {}
    for limit in ("3000", "200", "0"):
        for c in (rc, qc):
            c.call("del", "p")
            c.call("config", "set", "hll-sparse-max-bytes", limit)
        for i in range(6000):
            if limit in switched and i > switched[limit] + 50:
                break
            e = "p%d-%d" % (i, rnd.getrandbits(20))
            a, b = rc.call("pfadd", "p", e), qc.call("pfadd", "p", e)
            va, vb = rc.call("get", "p"), qc.call("get", "p")
            if a != b or va != vb:
                print("PROMOTION MISMATCH limit %s element %d: %r %r" %
                      (limit, i, a, b))
                return bad + 1
            enc = qc.call("pfdebug", "encoding", "p")
            if enc == b"+dense\r\n" and limit not in switched:
                switched[limit] = i
                if rc.call("pfdebug", "encoding", "p") != enc:
                    print("PROMOTION encoding differs at %d" % i)
                    bad += 1
            if i % 97 == 0 and (rc.call("pfcount", "p") !=
                                qc.call("pfcount", "p")):
                print("PROMOTION count differs at %d" % i)
                bad += 1
    # With 3000 bytes the switch comes after a thousand elements or more
    # (Redis' own test: sparse below 1000, dense above 10000); with 0 at the
    # first one.
    if (switched.get("0") != 0 or not 1000 < switched.get("3000", 0) < 6000
            or not 0 < switched.get("200", 0) < 1000):
        print("PROMOTION at unexpected points: %r" % switched)
        bad += 1
    for c in (rc, qc):
        c.call("config", "set", "hll-sparse-max-bytes", "3000")
    return bad


def dump_restore(rc, qc, rnd):
    bad = 0

    def expect(what, got, want):
        nonlocal bad
        if got != want:
            bad += 1
            print("DUMP/RESTORE MISMATCH %s: got %r want %r" %
                  (what, got[:120], want[:120]))

    sizes = {"small": 5, "sparse": 150, "dense": 4000}
    for name, n in sizes.items():
        key = "d:" + name
        rc.call("del", key)
        rc.call("pfadd", key, *["%s-%d" % (name, i) for i in range(n)])
        if name == "small":
            rc.call("pfcount", key)  # a valid cached cardinality travels too
        payload = rc.call("dump", key)
        body = payload[payload.index(b"\r\n") + 2:-2]
        qc.call("del", key)
        expect("restore " + key, qc.call("restore", key, "0", body),
               b"+OK\r\n")
        expect("get " + key, qc.call("get", key), rc.call("get", key))
        expect("pfcount " + key, qc.call("pfcount", key),
               rc.call("pfcount", key))
        expect("encoding " + key, qc.call("pfdebug", "encoding", key),
               rc.call("pfdebug", "encoding", key))
        more = ["m%d" % rnd.getrandbits(30) for _ in range(300)]
        expect("pfadd after restore", qc.call("pfadd", key, *more),
               rc.call("pfadd", key, *more))
        expect("value after pfadd", qc.call("get", key), rc.call("get", key))
        # And back: qdb's DUMP restores in Redis to the same value.
        payload = qc.call("dump", key)
        body = payload[payload.index(b"\r\n") + 2:-2]
        expect("restore back", rc.call("restore", key + ":back", "0", body),
               b"+OK\r\n")
        expect("pfcount back", rc.call("pfcount", key + ":back"),
               qc.call("pfcount", key))
        expect("get back", rc.call("get", key + ":back"), qc.call("get", key))
        # GET/SET carries an HLL as well.
        raw = rc.call("get", key)
        value = raw[raw.index(b"\r\n") + 2:-2]
        qc.call("set", key + ":set", value)
        expect("pfcount via set", qc.call("pfcount", key + ":set"),
               rc.call("pfcount", key))
    # A union of an HLL made in Redis and one made in qdb.
    rc.call("pfadd", "u1", *["u%d" % i for i in range(500)])
    qc.call("pfadd", "u2", *["v%d" % i for i in range(700)])
    payload = rc.call("dump", "u1")
    qc.call("restore", "u1", "0", payload[payload.index(b"\r\n") + 2:-2])
    payload = qc.call("dump", "u2")
    rc.call("restore", "u2", "0", payload[payload.index(b"\r\n") + 2:-2])
    expect("union", qc.call("pfcount", "u1", "u2"),
           rc.call("pfcount", "u1", "u2"))
    for c in (rc, qc):
        c.call("pfmerge", "u3", "u1", "u2")
    expect("merged", qc.call("get", "u3"), rc.call("get", "u3"))
    return bad


def errors(rc, qc):
    bad = 0
    sparse_hdr = b"HYLL\x01" + b"\x00" * 11
    xzero = b"\x7f\xff"
    cases = [
        ["set", "s", "v"], ["pfadd", "s", "a"], ["pfcount", "s"],
        ["pfcount", "s", "h"], ["pfmerge", "s"], ["pfmerge", "h", "s"],
        ["rpush", "l", "1"], ["pfadd", "l"], ["pfcount", "l"],
        ["pfcount", "nokey", "l"], ["pfmerge", "l", "nokey"],
        ["pfdebug", "encoding", "l"], ["pfdebug", "getreg", "s"],
        ["pfdebug", "encoding", "missing"], ["pfdebug", "nosuch", "missing"],
        ["pfdebug", "getreg"], ["pfdebug", "getreg", "h", "x"],
        ["pfadd"], ["pfcount"], ["pfmerge"], ["pfselftest", "x"],
        ["pfadd", "h", "a", "b", "c"], ["pfdebug", "NoSuch", "h"],
        ["pfdebug", "todense", "h"], ["pfdebug", "todense", "h"],
        ["pfdebug", "decode", "h"],
        # Sparse opcodes that do not cover 16384 registers, or too many.
        ["set", "c1", sparse_hdr + xzero + b"\x80"], ["pfcount", "c1"],
        ["pfcount", "c1", "c1"], ["pfdebug", "getreg", "c1"],
        ["pfdebug", "decode", "c1"], ["pfadd", "c1", "a", "b"],
        ["pfmerge", "c2", "c1"],
        ["set", "c3", sparse_hdr + b"\x3f"], ["pfcount", "c3"],
        ["pfadd", "c3", "a", "b", "c", "d"], ["get", "c3"],
        ["set", "c4", sparse_hdr], ["pfcount", "c4"], ["pfadd", "c4", "x"],
        ["set", "c5", sparse_hdr + b"\x7f"], ["pfcount", "c5"],
        ["pfadd", "c5", "x"], ["get", "c5"],
        ["set", "c6", sparse_hdr + xzero * 3], ["pfcount", "c6"],
        ["pfadd", "c6", "q"], ["get", "c6"], ["pfdebug", "decode", "c6"],
        # A short dense value, a bad magic, a bad encoding byte.
        ["set", "d1", b"HYLL\x00" + b"\x00" * 111],
        ["pfcount", "d1"], ["set", "d2", b"HYLX\x01" + b"\x00" * 11 + xzero],
        ["pfadd", "d2", "a"], ["set", "d3", b"HYLL\x05" + b"\x00" * 11],
        ["pfmerge", "d4", "d3"], ["set", "d5", b"HYLL\x01"],
        ["pfcount", "d5"], ["set", "n", "12345678901234567890"],
        ["pfcount", "n"],
    ]
    for cmd in cases:
        a, b = rc.call(*cmd), qc.call(*cmd)
        if a != b:
            bad += 1
            print("ERROR CASE MISMATCH %r\n  redis: %r\n  qdb:   %r" %
                  (cmd, a[:200], b[:200]))
    # Runs that add up past 2^32 must not wrap around (Redis' regression
    # tests use the same shapes).
    huge = sparse_hdr + xzero * (131072 + 1000) + b"\xff"
    for c in (rc, qc):
        c.call("set", "big", huge)
    for cmd in (["pfcount", "big", "big"], ["pfdebug", "getreg", "big"],
                ["pfcount", "big"], ["pfadd", "big", "z"], ["ping"]):
        a, b = rc.call(*cmd), qc.call(*cmd)
        if a != b:
            bad += 1
            print("OVERFLOW CASE MISMATCH %r: %r %r" % (cmd, a[:100], b[:100]))
    # PFSELFTEST's own register and estimation checks pass.
    a, b = rc.call("pfselftest"), qc.call("pfselftest")
    if a != b or b != b"+OK\r\n":
        bad += 1
        print("PFSELFTEST redis %r qdb %r" % (a, b))
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
            rc.close()
            qc.close()
        rc, qc = RawClient(redis.port), RawClient(qdb.port)
        for c in (rc, qc):
            setup(c)
        bad += promotion(rc, qc, rnd)
        bad += dump_restore(rc, qc, rnd)
        bad += errors(rc, qc)
    finally:
        redis.cleanup()
        qdb.cleanup()
    print("seed %d, %d commands, %.1fs, %d mismatches" %
          (SEED, N, time.time() - t0, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
