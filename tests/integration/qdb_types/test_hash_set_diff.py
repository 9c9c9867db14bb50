#!/usr/bin/python3
"""Hashes, sets, DUMP/RESTORE and OBJECT of qdb-server against redis-server 7.0.

1. A seeded random stream of hash and set commands (valid and invalid
   arguments, wrong types, missing keys) goes to both servers over RESP2 and
   RESP3; replies are compared byte for byte, after sorting the elements of
   unordered replies. Random picks (SPOP, SRANDMEMBER, HRANDFIELD) are checked
   for shape and membership only.
2. Values DUMPed by redis-server RESTORE into qdb-server and the reverse,
   with TTLs, REPLACE and ABSTTL, and the error texts of RESTORE.
Usage: test_hash_set_diff.py [seed] [commands]
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, client_pair, start_qdb, start_redis  # noqa: E402

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 7
N = int(sys.argv[2]) if len(sys.argv) > 2 else 4000

KEYS = ["h1", "h2", "s1", "s2", "s3", "str", "nokey"]
FIELDS = ["a", "b", "c", "1", "2", "10", "-3", "x" * 70, "ü", ""]
VALUES = ["1", "0", "-5", "3.5", "abc", "9223372036854775807", "1e3", "",
          " 2", "v" * 80]
NUMS = ["0", "1", "2", "3", "-1", "-2", "-5", "10", "x", "1.5", "",
        "9223372036854775808", "-9223372036854775808"]

ORDERED = {"hget", "hmget", "hlen", "hstrlen", "hexists", "hincrby",
           "hincrbyfloat", "hset", "hsetnx", "hmset", "hdel", "sadd", "srem",
           "sismember", "smismember", "scard", "smove", "sintercard",
           "sinterstore", "sunionstore", "sdiffstore", "type", "del",
           "object", "exists", "rename", "copy"}


def parse(data, pos=0):
    """Parses one RESP2/3 reply from bytes: (tree, next_pos)."""
    t = data[pos:pos + 1]
    end = data.index(b"\r\n", pos)
    head = data[pos + 1:end]
    pos = end + 2
    if t == b"_":
        return (t, None), pos
    if t in (b"+", b"-", b":", b",", b"#"):
        return (t, head), pos
    if t in (b"$", b"="):
        n = int(head)
        if n < 0:
            return (t, None), pos
        return (t, data[pos:pos + n]), pos + n + 2
    if t in (b"*", b"~", b">", b"%"):
        n = int(head)
        if n < 0:
            return (t, None), pos
        if t == b"%":
            n *= 2
        items = []
        for _ in range(n):
            item, pos = parse(data, pos)
            items.append(item)
        return (t, items), pos
    raise ValueError("bad reply %r" % data[pos - 1:pos + 20])


def normalize(cmd, tree):
    """Sorts the elements of unordered replies."""
    t, v = tree
    if not isinstance(v, list):
        return tree
    if cmd in ("hgetall",) or (cmd == "hscan"):
        if cmd == "hscan":
            return (t, [v[0], normalize("hgetall", v[1])])
        pairs = sorted(zip(v[0::2], v[1::2]))
        return (t, [x for p in pairs for x in p])
    if cmd == "sscan":
        return (t, [v[0], (v[1][0], sorted(v[1][1]))])
    return (t, sorted(v, key=repr))


def random_command(rnd):
    key = lambda: rnd.choice(KEYS)  # noqa: E731
    f = lambda: rnd.choice(FIELDS)  # noqa: E731
    val = lambda: rnd.choice(VALUES)  # noqa: E731
    num = lambda: rnd.choice(NUMS)  # noqa: E731
    many = lambda g, lo=0, hi=4: [g() for _ in range(rnd.randint(lo, hi))]  # noqa: E731
    c = rnd.choice([
        lambda: ["hset", key()] + [x for _ in range(rnd.randint(0, 3))
                                   for x in (f(), val())]
        + ([f()] if rnd.random() < 0.1 else []),
        lambda: ["hsetnx", key(), f(), val()],
        lambda: ["hmset", key()] + [x for _ in range(rnd.randint(0, 3))
                                    for x in (f(), val())],
        lambda: ["hget", key(), f()],
        lambda: ["hmget", key()] + many(f),
        lambda: ["hdel", key()] + many(f),
        lambda: ["hlen", key()],
        lambda: ["hstrlen", key(), f()],
        lambda: ["hexists", key(), f()],
        lambda: ["hgetall", key()],
        lambda: ["hkeys", key()],
        lambda: ["hvals", key()],
        lambda: ["hincrby", key(), f(), num()],
        lambda: ["hincrbyfloat", key(), f(), rnd.choice(NUMS + VALUES)],
        lambda: ["hrandfield", key()] + many(num, 0, 1)
        + (["withvalues"] if rnd.random() < 0.4 else []),
        lambda: ["hscan", key(), rnd.choice(["0", "x", "-1"])]
        + rnd.choice([[], ["count", num()], ["match", "*"], ["match"],
                      ["foo", "bar"]]),
        lambda: ["sadd", key()] + many(f),
        lambda: ["srem", key()] + many(f),
        lambda: ["smembers", key()],
        lambda: ["sismember", key(), f()],
        lambda: ["smismember", key()] + many(f),
        lambda: ["scard", key()],
        lambda: ["spop", key()] + many(num, 0, 2),
        lambda: ["srandmember", key()] + many(num, 0, 2),
        lambda: ["smove", key(), key(), f()],
        lambda: ["sinter"] + many(key),
        lambda: ["sunion"] + many(key),
        lambda: ["sdiff"] + many(key),
        lambda: ["sinterstore", key()] + many(key),
        lambda: ["sunionstore", key()] + many(key),
        lambda: ["sdiffstore", key()] + many(key),
        lambda: ["sintercard", num()] + many(key)
        + rnd.choice([[], ["limit", num()], ["limit"], ["foo"]]),
        lambda: ["sscan", key(), rnd.choice(["0", "x"])]
        + rnd.choice([[], ["count", num()], ["match", "?"]]),
        lambda: ["type", key()],
        lambda: ["object", rnd.choice(["encoding", "refcount", "foo"]), key()],
        lambda: ["set", "str", val()],
        lambda: ["del", key()],
        lambda: ["exists", key(), key()],
        lambda: ["copy", key(), key()] + (["replace"] if rnd.random() < 0.5
                                          else []),
        lambda: ["rename", key(), key()],
    ])()
    return c


def members_of(tree):
    t, v = tree
    return [x[1] for x in v] if isinstance(v, list) else []


def check_random(cmd, a, b, mismatch):
    """SPOP/SRANDMEMBER/HRANDFIELD: same type and shape."""
    ta, va = a
    tb, vb = b
    if ta != tb or (va is None) != (vb is None):
        return mismatch()
    if isinstance(va, list) and len(va) != len(vb):
        return mismatch()


def sync_key(rc, qc, key):
    """After a random pick, copies redis' value of `key` into qdb."""
    d = rc.call("DUMP", key)
    qc.call("DEL", key)
    tree, _ = parse(d)
    if tree[1] is not None:
        r = qc.call("RESTORE", key, "0", tree[1])
        assert r == b"+OK\r\n", (key, d, r)


def differential(rc, qc, rnd, n, proto):
    bad = 0
    for i in range(n):
        cmd = random_command(rnd)
        name = cmd[0]
        a = rc.call(*cmd)
        b = qc.call(*cmd)
        ta, _ = parse(a)
        tb, _ = parse(b)

        def mismatch():
            nonlocal bad
            bad += 1
            print("MISMATCH (resp%d #%d) %r\n  redis: %r\n  qdb:   %r" %
                  (proto, i, cmd, a[:300], b[:300]))

        if name in ("spop", "srandmember", "hrandfield"):
            check_random(name, ta, tb, mismatch)
            if name == "spop":
                sync_key(rc, qc, cmd[1])
            continue
        if name == "object" and cmd[1] in ("encoding", "refcount"):
            # Redis' encodings are sticky (no conversion back) and COPY
            # unshares integers; ours follow the current contents. Compare
            # only nil vs value.
            if (ta[1] is None) != (tb[1] is None):
                mismatch()
            continue
        if name in ("hscan", "sscan") and ta[0] == b"*" and \
                (ta[1][0][1] != b"0" or cmd[2] != "0"):
            # Multi-page scans and made-up cursors differ by design (cursor
            # semantics); big_values() compares completed iterations.
            continue
        if a != b and normalize(name, ta) != normalize(name, tb):
            mismatch()
        if bad > 20:
            break
    # The final state must be equal.
    for k in KEYS:
        for probe in (["type", k], ["hgetall", k], ["smembers", k],
                      ["pttl", k]):
            try:
                a, b = rc.call(*probe), qc.call(*probe)
            except Exception:
                continue
            if normalize(probe[0], parse(a)[0]) != \
                    normalize(probe[0], parse(b)[0]):
                if probe[0] == "pttl" and abs(int(a[1:-2]) - int(b[1:-2])) < 50:
                    continue
                bad += 1
                print("STATE MISMATCH %r redis=%r qdb=%r" % (probe, a, b))
    return bad


def full_scan(client, cmd, key):
    cursor, out = b"0", []
    for _ in range(10000):
        tree, _ = parse(client.call(cmd, key, cursor, "count", "7"))
        cursor = tree[1][0][1]
        out += [x[1] for x in tree[1][1][1]]
        if cursor == b"0":
            return out
    raise AssertionError("scan did not finish")


def big_values(rc, qc):
    """Big hashes and sets: full scans and intersections agree."""
    bad = 0
    for c in (rc, qc):
        for i in range(0, 3000, 500):
            c.call("hset", "bigh", *[x for j in range(i, i + 500)
                                     for x in ("f%d" % j, "v%d" % j)])
            c.call("sadd", "bigs", *["m%d" % j for j in range(i, i + 500)])
            c.call("sadd", "bigs2", *["m%d" % j for j in range(i, i + 500, 3)])
    for cmd, key in (("hscan", "bigh"), ("sscan", "bigs")):
        a, b = sorted(full_scan(rc, cmd, key)), sorted(full_scan(qc, cmd, key))
        if sorted(set(b)) != a:
            bad += 1
            print("SCAN MISMATCH", cmd, len(a), len(b))
    for cmd in (["sinter", "bigs", "bigs2"], ["sdiff", "bigs", "bigs2"],
                ["sintercard", "2", "bigs", "bigs2", "limit", "100"],
                ["sunionstore", "u", "bigs", "bigs2"], ["hlen", "bigh"],
                ["object", "encoding", "bigh"], ["object", "encoding", "bigs"]):
        a, b = rc.call(*cmd), qc.call(*cmd)
        if normalize(cmd[0], parse(a)[0]) != normalize(cmd[0], parse(b)[0]):
            bad += 1
            print("BIG MISMATCH", cmd, a[:100], b[:100])
    return bad


def dump_restore(rc, qc):
    bad = 0

    def expect(what, got, want):
        nonlocal bad
        if got != want:
            bad += 1
            print("DUMP/RESTORE MISMATCH %s: got %r want %r" % (what, got, want))

    samples = [
        ["set", "d:int", "12345"], ["set", "d:str", "hello"],
        ["set", "d:long", "x" * 300], ["set", "d:lzf", "ab" * 200],
        ["hset", "d:h", "a", "1", "b", "2"],
        ["hset", "d:hbig"] + [x for j in range(300)
                              for x in ("f%d" % j, "v" * (j % 90))],
        ["sadd", "d:ints", "1", "2", "300", "-70000", "5000000000"],
        ["sadd", "d:s", "a", "b", "c"],
        ["sadd", "d:sbig"] + ["m%d" % j for j in range(700)],
        ["sadd", "d:intsbig"] + [str(j) for j in range(600)],
    ]
    keys = [s[1] for s in samples]
    for direction, src, dst in (("redis->qdb", rc, qc), ("qdb->redis", qc, rc)):
        for c in (rc, qc):
            c.call("flushall")
        for s in samples:
            src.call(*s)
        src.call("pexpire", "d:h", "100000")
        src.call("pexpire", "d:ints", "5000")
        for k in keys:
            payload = parse(src.call("dump", k))[0][1]
            pttl = int(src.call("pttl", k)[1:-2])
            ttl = str(max(pttl, 0))
            expect(direction + " restore " + k,
                   dst.call("restore", k, ttl, payload), b"+OK\r\n")
            for probe in (["type", k], ["get", k], ["hgetall", k],
                          ["smembers", k]):
                a = normalize(probe[0], parse(src.call(*probe))[0])
                b = normalize(probe[0], parse(dst.call(*probe))[0])
                expect(direction + " " + " ".join(probe), b, a)
            dp = int(dst.call("pttl", k)[1:-2])
            if (pttl < 0) != (dp < 0) or abs(pttl - dp) > 1000:
                expect(direction + " pttl " + k, dp, pttl)
            # Error texts and options, identical on both servers.
            for extra in (["restore", k, "0", payload],
                          ["restore", k, "-1", payload, "replace"],
                          ["restore", k, "x", payload, "replace"],
                          ["restore", k, "0", payload[:-1] + b"\x00",
                           "replace"],
                          ["restore", k, "0", b"\x00\x01", "replace"],
                          ["restore", k, "0", payload, "idletime", "-1"],
                          ["restore", k, "0", payload, "freq", "300"],
                          ["restore", k, "0", payload, "freq", "1",
                           "idletime", "1"],
                          ["restore", k, "0", payload, "foo"]):
                expect(direction + " " + repr(extra[:2] + extra[4:]),
                       dst.call(*extra), src.call(*extra))
    # ABSTTL in the past: OK, and the key is gone.
    payload = parse(rc.call("dump", "d:s"))[0][1]
    for c in (rc, qc):
        expect("absttl past", c.call("restore", "d:s", "1000", payload,
                                     "replace", "absttl"), b"+OK\r\n")
        expect("absttl past exists", c.call("exists", "d:s"), b":0\r\n")
        expect("absttl future", c.call(
            "restore", "d:s", str(int(time.time() * 1000) + 60000), payload,
            "absttl"), b"+OK\r\n")
        ttl = int(c.call("ttl", "d:s")[1:-2])
        expect("absttl ttl", 58 <= ttl <= 60, True)
    expect("dump missing", qc.call("dump", "nope"), rc.call("dump", "nope"))
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
                c.call("flushall")
            bad += differential(rc, qc, rnd, N // 2, proto)
            rc.close()
            qc.close()
        rc, qc = RawClient(redis.port), RawClient(qdb.port)
        bad += big_values(rc, qc)
        bad += dump_restore(rc, qc)
    finally:
        redis.cleanup()
        qdb.cleanup()
    print("seed %d, %d commands, %.1fs, %d mismatches" %
          (SEED, N, time.time() - t0, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
