#!/usr/bin/python3
"""SORT and SORT_RO of qdb-server against redis-server 7.0.

A seeded random stream of SORT / SORT_RO variants (valid and invalid options,
BY / GET patterns with "#" and "key->field", LIMIT, ASC/DESC, ALPHA, STORE)
over lists, sets, sorted sets, strings and missing keys, mixed with writes
that change the data, goes to both servers over RESP2 and RESP3. Replies are
compared byte for byte, and after every STORE the destination too. The only
relaxation: SORT of a non-integer set BY nosort without STORE returns the set
in its internal order, so there only the sorted elements (or, with LIMIT, the
count) are compared.
Usage: test_sort_diff.py [seed] [commands]
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, client_pair, start_qdb, start_redis  # noqa: E402

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 11
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000

# Every element any key may hold; each has a unique a_<e> (ALPHA BY is
# unordered between equal values in Redis, so those are kept distinct).
# No value overflows a double: Redis checks errno == ERANGE after strtod
# without clearing errno, so one "1e400" makes later numeric SORTs on the
# same server fail at random.
NUMERIC = ["0", "1", "2", "3", "10", "-1", "-7", "1.5", "2.50", "1e3", "-0",
           "100", "33", "0x10", " 4", "inf", "-inf"]
WORDS = ["a", "b", "c", "abc", "B", "zz", "apple", "x" * 40, "1a", "nan", "", "m", "A"]
UNIVERSE = NUMERIC + WORDS
KEYS = ["l_num", "l_word", "l_mix", "s_int", "s_word", "s_num", "z_num",
        "z_word", "str", "h", "nokey", "big"]
DESTS = ["dst", "dst2", "str", "l_num"]
BY = ["nosort", "w_*", "w_*", "h_*->f", "bad_*", "missing_*", "w_*->",
      "a_*", "#", "h_*->", "x*->f", "w_*->nofield"]
GET = ["#", "w_*", "h_*->f", "a_*", "nostar", "h_*->g", "str*"]
NUMS = ["0", "1", "2", "3", "-1", "-2", "5", "100", "x", "1.5", "",
        "9223372036854775807", "-9223372036854775808",
        "9223372036854775808"]


def setup(c, rnd):
    c.call("flushall")
    c.call("rpush", "l_num", *[rnd.choice(NUMERIC[:11]) for _ in range(12)])
    c.call("rpush", "l_word", *WORDS[:10])
    c.call("rpush", "l_mix", *NUMERIC + WORDS[:4])
    c.call("sadd", "s_int", "5", "-3", "100", "7", "0", "42")
    c.call("sadd", "s_word", *WORDS[:9])
    c.call("sadd", "s_num", *NUMERIC[:12])
    c.call("zadd", "z_num", *[x for i, m in enumerate(NUMERIC[:12])
                              for x in (str(i % 4), m)])
    c.call("zadd", "z_word", *[x for i, m in enumerate(WORDS[:9])
                               for x in (str(-i % 3), m)])
    c.call("set", "str", "v")
    c.call("hset", "h", "f", "1")
    c.call("rpush", "big", *[str((i * 7919) % 1000) for i in range(700)])
    for i, e in enumerate(UNIVERSE):
        c.call("set", "a_" + e, "k%03d" % ((i * 37) % 101))
    for e in UNIVERSE:
        if e not in ("3", "b"):
            c.call("set", "w_" + e, str(len(e) * 3 % 7))
        if e not in ("1", "a", "c"):
            c.call("hset", "h_" + e, "f", str((len(e) * 5) % 9), "g",
                   "G" + e)
        c.call("set", "bad_" + e, "x" if e == "2" else "1")
    for i in range(-60, 1000):
        if str(i) not in UNIVERSE:
            c.call("set", "a_%d" % i, "n%05d" % ((i * 7919) % 10007))
        if i % 3 == 0 and i >= 0:
            c.call("set", "w_%d" % i, str((i * 31) % 17))


def random_command(rnd):
    name = rnd.choice(["sort", "sort", "sort", "sort_ro"])
    cmd = [name, rnd.choice(KEYS)]
    alpha = False
    for _ in range(rnd.randint(0, 5)):
        r = rnd.random()
        if r < 0.12:
            cmd.append(rnd.choice(["asc", "DESC", "desc"]))
        elif r < 0.22:
            cmd.append(rnd.choice(["alpha", "ALPHA"]))
            alpha = True
        elif r < 0.40:
            cmd += ["limit", rnd.choice(NUMS), rnd.choice(NUMS)]
        elif r < 0.55:
            cmd += ["by", rnd.choice(BY)]
        elif r < 0.75:
            cmd += ["get", rnd.choice(GET)]
        elif r < 0.85:
            cmd += ["store", rnd.choice(DESTS)]
        elif r < 0.87:
            cmd.append(rnd.choice(["limit", "by", "get", "store"]))
        elif r < 0.89:
            cmd.append(rnd.choice(["foo", "limit", "1"]))
        else:
            cmd.append(rnd.choice(["asc", "desc"]))
    if alpha:
        # Keep ALPHA BY deterministic: only unique sort values. STORE
        # destinations may hold GET results, which have no a_* key.
        for i in range(2, len(cmd) - 1):
            if cmd[i] == "by" and cmd[i + 1] not in ("nosort", "#"):
                cmd[i + 1] = "#" if cmd[1] in DESTS else "a_*"
    return cmd


def random_write(rnd):
    e = rnd.choice(UNIVERSE)
    return rnd.choice([
        ["rpush", rnd.choice(["l_num", "l_word", "l_mix"]), e],
        ["lpop", rnd.choice(["l_num", "l_word", "l_mix"])],
        ["sadd", rnd.choice(["s_word", "s_num"]), e],
        ["sadd", "s_int", str(rnd.randint(-50, 600))],
        ["srem", rnd.choice(["s_word", "s_num", "s_int"]), e],
        ["zadd", rnd.choice(["z_num", "z_word"]), str(rnd.randint(-2, 2)), e],
        ["set", "w_" + e, rnd.choice(["1", "-2", "0.5", "abc", "7", ""])],
        ["del", "w_" + e],
        ["hset", "h_" + e, "f", rnd.choice(["3", "-1", "q", "2.5"])],
        ["del", rnd.choice(["dst", "dst2"])],
    ])


def unordered_set(cmd):
    """True for a set walked in internal order (no intset order): any BY
    without '*' means no sorting, unless STORE forces it."""
    lower = [c.lower() for c in cmd]
    nosort = any(lower[i] == "by" and "*" not in cmd[i + 1]
                 for i in range(2, len(cmd) - 1))
    return (cmd[1] in ("s_word", "s_num") and nosort and
            "store" not in lower)


def parse(data, pos=0):
    t = data[pos:pos + 1]
    end = data.index(b"\r\n", pos)
    head = data[pos + 1:end]
    pos = end + 2
    if t in (b"$",):
        n = int(head)
        if n < 0:
            return None, pos
        return data[pos:pos + n], pos + n + 2
    if t == b"*":
        items = []
        for _ in range(int(head)):
            item, pos = parse(data, pos)
            items.append(item)
        return items, pos
    return (t, head), pos


def differential(rc, qc, rnd, n, proto):
    bad = 0
    for i in range(n):
        if rnd.random() < 0.25:
            w = random_write(rnd)
            a, b = rc.call(*w), qc.call(*w)
            if a != b:
                bad += 1
                print("WRITE MISMATCH %r redis=%r qdb=%r" % (w, a, b))
            continue
        cmd = random_command(rnd)
        a, b = rc.call(*cmd), qc.call(*cmd)
        if a != b:
            same = False
            if unordered_set(cmd) and a[:1] == b"*" and b[:1] == b"*":
                pa, pb = parse(a)[0], parse(b)[0]
                lower = [c.lower() for c in cmd]
                if "limit" in lower:
                    same = len(pa) == len(pb)
                else:
                    ngets = max(1, lower.count("get"))
                    ga = sorted(repr(pa[j:j + ngets])
                                for j in range(0, len(pa), ngets))
                    gb = sorted(repr(pb[j:j + ngets])
                                for j in range(0, len(pb), ngets))
                    same = ga == gb
            if not same:
                bad += 1
                print("MISMATCH (resp%d #%d) %r\n  redis: %r\n  qdb:   %r" %
                      (proto, i, cmd, a[:400], b[:400]))
        if a[:1] == b":" and "store" in [c.lower() for c in cmd]:
            for dst in DESTS:
                for probe in (["type", dst], ["lrange", dst, "0", "-1"],
                              ["pttl", dst]):
                    x, y = rc.call(*probe), qc.call(*probe)
                    if x != y and not (probe[0] == "lrange" and
                                       x.startswith(b"-WRONGTYPE") and
                                       y.startswith(b"-WRONGTYPE")):
                        bad += 1
                        print("STORE MISMATCH %r after %r redis=%r qdb=%r" %
                              (probe, cmd, x[:300], y[:300]))
        if bad > 20:
            break
    return bad


def fixed_cases(rc, qc):
    """Hand-picked cases, including STORE over other types and TTLs."""
    bad = 0
    cases = [
        ["set", "dst", "x"], ["pexpire", "dst", "100000"],
        ["sort", "l_num", "store", "dst"], ["pttl", "dst"], ["type", "dst"],
        ["sort", "nokey", "store", "dst"], ["exists", "dst"],
        ["sort", "s_word", "by", "nosort", "store", "dst"],
        ["lrange", "dst", "0", "-1"],
        ["sort", "s_word", "by", "nosort", "get", "#", "get", "w_*",
         "store", "dst"], ["lrange", "dst", "0", "-1"],
        ["sort", "s_int", "by", "nosort"],
        ["sort", "s_int", "by", "nosort", "desc", "limit", "1", "3"],
        ["sort", "z_word", "by", "nosort", "desc", "limit", "2", "100"],
        ["sort", "big"], ["sort", "big", "desc", "limit", "500", "300"],
        ["sort", "big", "alpha", "limit", "10", "5", "get", "w_*"],
        ["sort", "big", "by", "w_*", "limit", "0", "20"],
        ["sort", "big", "by", "w_*", "store", "dst"],
        ["lrange", "dst", "0", "-1"],
        ["sort", "h"], ["sort", "str", "limit"], ["sort_ro", "str"],
        ["sort", "l_word", "alpha", "store", "dst"],
        ["lrange", "dst", "0", "-1"],
        ["sort", "l_word", "by", "a_*", "alpha", "desc"],
        ["sort", "l_word", "by", "a_*", "alpha", "store", "dst2"],
        ["lrange", "dst2", "0", "-1"],
    ]
    for cmd in cases:
        a, b = rc.call(*cmd), qc.call(*cmd)
        if cmd[0] == "pttl" and a[:1] == b":" and b[:1] == b":":
            continue
        if a != b:
            bad += 1
            print("FIXED MISMATCH %r\n  redis: %r\n  qdb:   %r" %
                  (cmd, a[:300], b[:300]))
    return bad


def main():
    redis = start_redis()
    qdb = start_qdb(engine="rocksdb")
    bad = 0
    try:
        for proto in (2, 3):
            rc, qc = client_pair(redis.port, qdb.port, proto)
            for c in (rc, qc):
                setup(c, random.Random(SEED))
            bad += fixed_cases(rc, qc)
            bad += differential(rc, qc, random.Random(SEED + proto), N, proto)
            rc.close()
            qc.close()
    finally:
        redis.cleanup()
        qdb.cleanup()
    if bad:
        print("FAIL: %d mismatches" % bad)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
