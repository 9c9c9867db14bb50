#!/usr/bin/python3
"""LCS of qdb-server against redis-server 7.0.

Hand-picked cases (every option, option errors, wrong types, missing keys,
the proto-max-bulk-len limit) and a seeded random stream of LCS calls over
random strings from small alphabets with random option lists go to both
servers over RESP2 and RESP3; replies are compared byte for byte.
Usage: test_lcs_diff.py [seed] [commands]
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, client_pair, start_qdb, start_redis  # noqa: E402

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 7
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1500

KEYS = ["a", "b", "c", "empty", "nokey", "h", "z", "num"]
OPTIONS = ["LEN", "len", "IDX", "idx", "WITHMATCHLEN", "withmatchlen",
           "MINMATCHLEN", "minmatchlen", "foo"]
MINLENS = ["0", "1", "2", "3", "4", "-5", "x", "1.5", "",
           "9223372036854775807", "9223372036854775808"]

FIXED = [
    ["set", "k1", "ohmytext"], ["set", "k2", "mynewtext"],
    ["lcs", "k1", "k2"], ["lcs", "k1", "k2", "len"],
    ["lcs", "k1", "k2", "idx"],
    ["lcs", "k1", "k2", "idx", "minmatchlen", "4"],
    ["lcs", "k1", "k2", "idx", "minmatchlen", "4", "withmatchlen"],
    ["lcs", "k1", "k2", "idx", "withmatchlen"],
    ["lcs", "k1", "k2", "len", "idx"], ["lcs", "k1", "k2", "idx", "len"],
    ["lcs", "k1", "k2", "minmatchlen"], ["lcs", "k1", "k2", "minmatchlen",
                                         "x"],
    ["lcs", "k1", "k2", "minmatchlen", "-1", "idx"],
    ["lcs", "k1", "k2", "bad"], ["lcs", "k1"], ["lcs"],
    ["lcs", "k1", "missing"], ["lcs", "missing", "missing2", "idx"],
    ["lcs", "missing", "missing2", "len"],
    ["hset", "h", "f", "v"], ["lcs", "k1", "h"], ["lcs", "h", "k1"],
    ["lcs", "h", "k1", "bad"], ["lcs", "missing", "h", "len", "idx"],
    ["set", "n1", "12345"], ["set", "n2", "2345"], ["lcs", "n1", "n2", "idx"],
    ["set", "same", "abcdefgh"], ["lcs", "same", "same", "idx",
                                  "withmatchlen"],
    ["set", "rep", "aaaa"], ["set", "rep2", "aa"],
    ["lcs", "rep", "rep2", "idx", "withmatchlen"],
    ["set", "big1", "x" * 600], ["set", "big2", "y" * 600],
    ["config", "set", "proto-max-bulk-len", "1048576"],
    ["lcs", "big1", "big2"],
    ["set", "big2", "x" * 500],
    ["lcs", "big1", "big2", "len"],
    ["config", "set", "proto-max-bulk-len", "536870912"],
    ["lcs", "big1", "big2", "len"],
]


def rand_string(rnd):
    alphabet = rnd.choice(["ab", "abc", "acgt", "abcdefgh"])
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 24)))


def setup(c, rnd):
    c.call("flushall")
    for k in ("a", "b", "c"):
        c.call("set", k, rand_string(rnd))
    c.call("set", "empty", "")
    c.call("hset", "h", "f", "v")
    c.call("zadd", "z", "1", "m")
    c.call("set", "num", "1234567")


def random_command(rnd):
    cmd = ["lcs", rnd.choice(KEYS), rnd.choice(KEYS)]
    for _ in range(rnd.choice([0, 1, 1, 2, 2, 3, 4])):
        opt = rnd.choice(OPTIONS)
        cmd.append(opt)
        if opt.lower() == "minmatchlen" and rnd.random() < 0.9:
            cmd.append(rnd.choice(MINLENS))
    return cmd


def compare(rc, qc, cmd, label):
    a, b = rc.call(*cmd), qc.call(*cmd)
    if a != b:
        print("MISMATCH %s %r\n  redis: %r\n  qdb:   %r" %
              (label, cmd, a[:300], b[:300]))
        return 1
    return 0


def main():
    redis = start_redis()
    qdb = start_qdb(engine="rocksdb")
    bad = 0
    try:
        for proto in (2, 3):
            rc, qc = client_pair(redis.port, qdb.port, proto)
            for cmd in FIXED:
                bad += compare(rc, qc, cmd, "fixed resp%d" % proto)
            rnd = random.Random(SEED + proto)
            for c in (rc, qc):
                setup(c, random.Random(SEED))
            for i in range(N):
                if rnd.random() < 0.15:
                    w = ["set", rnd.choice(["a", "b", "c"]), rand_string(rnd)]
                    rc.call(*w)
                    qc.call(*w)
                    continue
                bad += compare(rc, qc, random_command(rnd),
                               "resp%d #%d" % (proto, i))
                if bad > 20:
                    break
            rc.close()
            qc.close()
    finally:
        redis.cleanup()
        qdb.cleanup()
    if bad:
        print("FAIL: %d mismatches" % bad)
        return 1
    print("OK: LCS matches redis-server (seed %d, %d commands x 2 protocols)" %
          (SEED, N))
    return 0


if __name__ == "__main__":
    sys.exit(main())
