#!/usr/bin/python3
"""Streams of qdb-server against redis-server 7.0, byte for byte.

1. A seeded random sequence of stream commands (XADD with its trimming
   options, XRANGE/XREVRANGE, XDEL, XTRIM, XSETID, XREAD, XGROUP, XREADGROUP,
   XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO, and keyspace commands on stream
   keys), valid and invalid, goes to both servers over RESP2 and RESP3.
   Replies are compared byte for byte after masking what legitimately
   differs: idle times, delivery and seen timestamps, and the rax node count.
   IDs are explicit (`ms-seq` or `ms-*`), so both servers generate the same.
2. Auto-generated IDs (`*`): both answer an id after the last one.
3. Blocking XREAD / XREADGROUP: a waiting client is served by another
   client's XADD, a timeout answers nil, a deleted stream or destroyed group
   ends an XREADGROUP wait with the same error.
4. DUMP/RESTORE between redis-server and qdb-server both ways, and a
   slot migration (SLOTSMGRTONE) of a stream key between qdb-servers.
5. Replication: a qdb-server replica and a redis-server replica of a
   qdb-server master end with the same stream, groups and PEL as the master
   after XADD *, XADD ~ trimming, XREADGROUP, XCLAIM and XAUTOCLAIM.
Usage: test_streams_diff.py [seed] [commands]
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import (RawClient, TIME_SCALE, client_pair, start_qdb,  # noqa: E402
                     start_redis)

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 11
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000

KEYS = ["s1", "s2", "str", "nokey"]
GROUPS = ["g1", "g2", "nogroup"]
CONSUMERS = ["alice", "bob", "carol"]
FIELDS = ["a", "b", "f", "", "x" * 70]
VALUES = ["1", "v", "", "hello world", "9" * 30]
NUMS = ["0", "1", "2", "3", "5", "10", "-1", "x", "", "100",
        "9223372036854775808"]
BAD_IDS = ["abc", "1-x", "-1", "1-", "18446744073709551616", "1--1", "+",
           "-", "0-0", "$", ">"]


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


MASK = (b"#", b"masked")


def mask_map(tree, names, fn=None):
    """Masks the values of `names` in a map (RESP3) or flat array (RESP2)."""
    t, v = tree
    if not isinstance(v, list):
        return tree
    out = list(v)
    for i in range(0, len(out) - 1, 2):
        if out[i][1] in names:
            out[i + 1] = MASK if fn is None else fn(out[i][1], out[i + 1])
    return (t, out)


def mask_rows(tree, col):
    t, v = tree
    if not isinstance(v, list):
        return tree
    rows = []
    for row in v:
        if isinstance(row[1], list) and len(row[1]) > col:
            items = list(row[1])
            items[col] = MASK
            row = (row[0], items)
        rows.append(row)
    return (t, rows)


def mask(cmd, tree):
    """Hides what differs between two correct servers."""
    name = cmd[0].lower()
    if tree[0] == b"-":
        return tree
    if name == "scan":  # key order is the server's
        t, (cursor, (kt, keys)) = tree
        return (t, [cursor, (kt, sorted(keys))])
    if name == "xpending" and len(cmd) > 3:
        return mask_rows(tree, 2)  # idle time
    if name == "xinfo" and cmd[1].lower() == "consumers":
        t, v = tree
        return (t, [mask_map(c, {b"idle"}) for c in v])
    if name == "xinfo" and cmd[1].lower() == "stream":
        def group(_, g):
            def fix(key, value):
                if key == b"pending":
                    return mask_rows(value, 2)
                t, cs = value
                return (t, [mask_map(c, {b"seen-time", b"pending"},
                                     lambda k, v: MASK if k == b"seen-time"
                                     else mask_rows(v, 1)) for c in cs])
            t, gs = g
            return (t, [mask_map(x, {b"pending", b"consumers"}, fix)
                        for x in gs])
        return mask_map(tree, {b"radix-tree-nodes", b"groups"},
                        lambda k, v: MASK if k == b"radix-tree-nodes"
                        else (group(k, v) if isinstance(v[1], list) else v))
    return tree


class IdGen:
    """IDs that mostly grow, so that most XADDs succeed on both servers."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.ms = 1

    def add_id(self):
        r = self.rnd.random()
        self.ms += self.rnd.choice([0, 0, 1, 1, 2, 5])
        if r < 0.45:
            return "%d-*" % self.ms
        if r < 0.85:
            return "%d-%d" % (self.ms, self.rnd.randint(0, 3))
        if r < 0.92:
            return str(self.ms)
        return self.rnd.choice(BAD_IDS + ["1-1", "0-1", "0-*"])

    def any_id(self, open_ok=False):
        r = self.rnd.random()
        if r < 0.6:
            s = "%d-%d" % (self.rnd.randint(0, self.ms + 1),
                           self.rnd.randint(0, 3))
        elif r < 0.75:
            s = str(self.rnd.randint(0, self.ms + 1))
        elif r < 0.9:
            s = self.rnd.choice(["-", "+", "0", "0-0"])
        else:
            s = self.rnd.choice(BAD_IDS)
        if open_ok and self.rnd.random() < 0.25:
            s = "(" + s
        return s


def random_command(rnd, ids):
    key = rnd.choice(KEYS[:2] * 4 + KEYS)
    group = rnd.choice(GROUPS[:2] * 3 + GROUPS)
    consumer = rnd.choice(CONSUMERS)
    pick = rnd.random()

    def fields():
        n = rnd.choice([1, 1, 2, 3])
        out = []
        for _ in range(n):
            out += [rnd.choice(FIELDS), rnd.choice(VALUES)]
        if rnd.random() < 0.03:
            out = out[:-1]  # odd: wrong arity
        return out

    def trim_opts():
        out = []
        r = rnd.random()
        if r < 0.25:
            out += ["MAXLEN"] + rnd.choice([[], ["="], ["~"]]) + \
                [rnd.choice(NUMS[:7] + ["20", "100"])]
        elif r < 0.4:
            out += ["MINID"] + rnd.choice([[], ["="], ["~"]]) + \
                [ids.any_id()]
        if rnd.random() < 0.1:
            out += ["LIMIT", rnd.choice(NUMS)]
        if rnd.random() < 0.03:
            out += ["MAXLEN", "1", "MINID", "1"]
        return out

    if pick < 0.30:
        opts = []
        if rnd.random() < 0.1:
            opts.append("NOMKSTREAM")
        opts += trim_opts()
        return ["XADD", key] + opts + [ids.add_id()] + fields()
    if pick < 0.36:
        c = ["XRANGE" if rnd.random() < 0.6 else "XREVRANGE", key,
             ids.any_id(True), ids.any_id(True)]
        if rnd.random() < 0.4:
            c += ["COUNT", rnd.choice(NUMS)]
        return c
    if pick < 0.39:
        return ["XLEN", key]
    if pick < 0.43:
        return ["XDEL", key] + [ids.any_id() for _ in range(rnd.randint(1, 3))]
    if pick < 0.46:
        return ["XTRIM", key] + (trim_opts() or ["MAXLEN", "3"])
    if pick < 0.48:
        c = ["XSETID", key, rnd.choice([ids.any_id(), "%d-9" % (ids.ms + 3)])]
        if rnd.random() < 0.3:
            c += ["ENTRIESADDED", rnd.choice(NUMS + ["50", "1000"])]
        if rnd.random() < 0.3:
            c += ["MAXDELETEDID", ids.any_id()]
        return c
    if pick < 0.54:
        c = ["XREAD"]
        if rnd.random() < 0.5:
            c += ["COUNT", rnd.choice(NUMS[:6])]
        ks = rnd.sample(KEYS, rnd.randint(1, 2))
        c += ["STREAMS"] + ks + [rnd.choice([ids.any_id(), "$", "0"])
                                 for _ in ks]
        if rnd.random() < 0.05:
            c = c[:-1]
        return c
    if pick < 0.64:
        sub = rnd.choice(["CREATE", "CREATE", "SETID", "DESTROY",
                          "CREATECONSUMER", "DELCONSUMER", "HELP", "BOGUS"])
        if sub == "CREATE":
            c = ["XGROUP", sub, key, group, rnd.choice(["$", "0", "0-0",
                                                       ids.any_id()])]
            if rnd.random() < 0.3:
                c.append("MKSTREAM")
            if rnd.random() < 0.2:
                c += ["ENTRIESREAD", rnd.choice(NUMS)]
            return c
        if sub == "SETID":
            c = ["XGROUP", sub, key, group, rnd.choice(["$", "0",
                                                       ids.any_id()])]
            if rnd.random() < 0.3:
                c += ["ENTRIESREAD", rnd.choice(NUMS)]
            return c
        if sub == "DESTROY":
            return ["XGROUP", sub, key, group]
        if sub in ("CREATECONSUMER", "DELCONSUMER"):
            return ["XGROUP", sub, key, group, consumer]
        if sub == "HELP":
            return ["XGROUP", "HELP"]
        return ["XGROUP", "BOGUS", key]
    if pick < 0.76:
        c = ["XREADGROUP", "GROUP", group, consumer]
        if rnd.random() < 0.5:
            c += ["COUNT", rnd.choice(NUMS[:6])]
        if rnd.random() < 0.15:
            c.append("NOACK")
        c += ["STREAMS", key, rnd.choice([">", ">", ">", "0", ids.any_id()])]
        return c
    if pick < 0.81:
        return ["XACK", key, group] + [ids.any_id()
                                       for _ in range(rnd.randint(1, 3))]
    if pick < 0.87:
        c = ["XPENDING", key, group]
        if rnd.random() < 0.6:
            if rnd.random() < 0.2:
                c += ["IDLE", rnd.choice(["0", "100000000", "x"])]
            c += [ids.any_id(True), ids.any_id(True),
                  rnd.choice(NUMS[:6] + ["100"])]
            if rnd.random() < 0.3:
                c.append(consumer)
        return c
    if pick < 0.91:
        c = ["XCLAIM", key, group, consumer,
             rnd.choice(["0", "0", "100000000", "-5", "x"])]
        c += [ids.any_id() for _ in range(rnd.randint(1, 3))]
        for opt in rnd.sample(["FORCE", "JUSTID", "RETRYCOUNT", "LASTID",
                               "BOGUS"], rnd.randint(0, 2)):
            c.append(opt)
            if opt == "RETRYCOUNT":
                c.append(rnd.choice(NUMS[:6]))
            elif opt == "LASTID":
                c.append(ids.any_id())
        return c
    if pick < 0.94:
        c = ["XAUTOCLAIM", key, group, consumer,
             rnd.choice(["0", "0", "100000000", "x"]), ids.any_id(True)]
        if rnd.random() < 0.5:
            c += ["COUNT", rnd.choice(NUMS[:6])]
        if rnd.random() < 0.3:
            c.append("JUSTID")
        return c
    if pick < 0.98:
        sub = rnd.choice(["STREAM", "STREAM", "GROUPS", "CONSUMERS", "HELP"])
        if sub == "STREAM":
            c = ["XINFO", sub, key]
            if rnd.random() < 0.4:
                c.append("FULL")
                if rnd.random() < 0.5:
                    c += ["COUNT", rnd.choice(NUMS[:6])]
            return c
        if sub == "CONSUMERS":
            return ["XINFO", sub, key, group]
        if sub == "HELP":
            return ["XINFO", "HELP"]
        return ["XINFO", sub, key]
    return rnd.choice([["TYPE", key], ["EXISTS", key], ["DEL", key],
                       ["SET", "str", "x"], ["RENAME", key, "s2"],
                       ["SCAN", "0", "TYPE", "stream", "COUNT", "100"],
                       ["OBJECT", "ENCODING", key],
                       ["EXPIRE", key, "1000"], ["TTL", key]])


def state_probes():
    out = []
    for k in KEYS:
        out += [["TYPE", k], ["XRANGE", k, "-", "+"], ["XINFO", "STREAM", k,
                                                      "FULL"],
                ["XINFO", "GROUPS", k]]
        for g in GROUPS:
            out.append(["XPENDING", k, g])
    return out


def differential(rc, qc, rnd, n, proto):
    bad = 0
    ids = IdGen(rnd)
    for i in range(n):
        cmd = random_command(rnd, ids)
        a = rc.call(*cmd)
        b = qc.call(*cmd)
        if a == b:
            continue
        ta, tb = parse(a)[0], parse(b)[0]
        if mask(cmd, ta) == mask(cmd, tb):
            continue
        bad += 1
        print("MISMATCH (resp%d #%d) %r\n  redis: %r\n  qdb:   %r" %
              (proto, i, cmd, a[:400], b[:400]))
        if bad > 20:
            break
    for probe in state_probes():
        a, b = rc.call(*probe), qc.call(*probe)
        if a != b and mask(probe, parse(a)[0]) != mask(probe, parse(b)[0]):
            bad += 1
            print("STATE MISMATCH %r\n  redis: %r\n  qdb:   %r" %
                  (probe, a[:400], b[:400]))
    return bad


def auto_ids(qc):
    """XADD * gives growing ms-seq ids; ms-* continues the sequence."""
    bad = 0
    qc.call("DEL", "auto")
    last = (0, 0)
    for _ in range(50):
        r = parse(qc.call("XADD", "auto", "*", "f", "v"))[0]
        ms, seq = (int(x) for x in r[1].split(b"-"))
        if (ms, seq) <= last or abs(ms - time.time() * 1000) > 5000:
            bad += 1
            print("XADD * gave %r after %r" % (r, last))
        last = (ms, seq)
    r = qc.call("XADD", "auto", "%d-*" % last[0], "f", "v")
    if r != b"$%d\r\n%d-%d\r\n" % (len("%d-%d" % (last[0], last[1] + 1)),
                                   last[0], last[1] + 1):
        bad += 1
        print("XADD ms-* after *: %r" % r)
    return bad


def blocking(rport, qport):
    """Blocked readers are served, time out and fail as redis-server's."""
    bad = 0
    scenarios = [
        # (setup, blocking command, what another client does meanwhile)
        ([["DEL", "bs"], ["XADD", "bs", "1-1", "a", "1"]],
         ["XREAD", "BLOCK", "5000", "STREAMS", "bs", "$"],
         [["XADD", "bs", "2-1", "b", "2"]]),
        ([["DEL", "bs"]],
         ["XREAD", "BLOCK", "5000", "COUNT", "1", "STREAMS", "nokey", "bs",
          "0", "0"],
         [["XADD", "bs", "3-1", "c", "3"], ["XADD", "bs", "3-2", "d", "4"]]),
        ([["DEL", "bs"]],
         ["XREAD", "BLOCK", "100", "STREAMS", "bs", "$"], []),
        ([["DEL", "bs"], ["XGROUP", "CREATE", "bs", "g", "$", "MKSTREAM"]],
         ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "bs",
          ">"],
         [["XADD", "bs", "5-1", "e", "5"]]),
        ([["DEL", "bs"], ["XGROUP", "CREATE", "bs", "g", "$", "MKSTREAM"]],
         ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "bs",
          ">"],
         [["DEL", "bs"]]),
        ([["DEL", "bs"], ["XGROUP", "CREATE", "bs", "g", "$", "MKSTREAM"]],
         ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "bs",
          ">"],
         [["XGROUP", "DESTROY", "bs", "g"]]),
        ([["DEL", "bs"], ["XADD", "bs", "1-1", "a", "1"]],
         ["XREAD", "BLOCK", "5000", "STREAMS", "bs", "5-0"],
         [["XADD", "bs", "2-1", "b", "2"], ["XADD", "bs", "6-1", "c", "3"]]),
    ]
    for proto in (2, 3):
        for setup, cmd, meanwhile in scenarios:
            replies = []
            for port in (rport, qport):
                ctl, waiter = RawClient(port), RawClient(port, timeout=10)
                if proto == 3:
                    waiter.call("HELLO", "3")
                for c in setup:
                    ctl.call(*c)
                result = {}

                def wait(w=waiter, out=result):
                    out["reply"] = w.call(*cmd)

                t = threading.Thread(target=wait)
                t.start()
                time.sleep(0.3)
                for c in meanwhile:
                    ctl.call(*c)
                t.join(10)
                replies.append(result.get("reply"))
                if proto == 3:
                    for c in (["XINFO", "GROUPS", "bs"], ["XPENDING", "bs",
                                                          "g"]):
                        replies.append(ctl.call(*c))
                ctl.close()
                waiter.close()
            half = len(replies) // 2
            if replies[:half] != replies[half:]:
                bad += 1
                print("BLOCKING MISMATCH (resp%d) %r\n  redis: %r\n  qdb:   %r"
                      % (proto, cmd, replies[:half], replies[half:]))
    return bad


def dump_restore(rport, qport):
    """Streams DUMPed by redis-server RESTORE into qdb-server and back, and a
    stream key moved between two qdb-servers by SLOTSMGRTONE, keep entries,
    ids, counters, nodes, groups, PELs and consumers."""
    bad = 0
    rc, qc = RawClient(rport), RawClient(qport)
    for c in (rc, qc):
        c.call("FLUSHALL")
        c.call("CONFIG", "SET", "stream-node-max-entries", "3")
    for i in range(10):
        rc.call("XADD", "d", "%d-1" % (i + 1), "f", str(i), "g", "x" * i)
    rc.call("XADD", "d", "20-0", "other", "1")
    rc.call("XDEL", "d", "3-1")
    rc.call("XGROUP", "CREATE", "d", "g1", "0")
    rc.call("XGROUP", "CREATE", "d", "g0", "$")
    rc.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS",
            "d", ">")
    rc.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "d",
            ">")
    rc.call("XGROUP", "CREATECONSUMER", "d", "g1", "zed")
    rc.call("XADD", "empty", "1-1", "a", "b")
    rc.call("XDEL", "empty", "1-1")
    probes = [["XRANGE", "%s", "-", "+"], ["XINFO", "STREAM", "%s", "FULL"],
              ["XINFO", "GROUPS", "%s"], ["XPENDING", "%s", "g1", "-", "+",
                                          "10"]]

    def same(a_client, a_key, b_client, b_key, what):
        nonlocal bad
        for p in probes:
            a = a_client.call(*[x % a_key if x == "%s" else x for x in p])
            b = b_client.call(*[x % b_key if x == "%s" else x for x in p])
            if a[:1] == b[:1] == b"-":
                continue  # the texts name the (different) keys
            if a != b and mask(p, parse(a)[0]) != mask(p, parse(b)[0]):
                bad += 1
                print("DUMP MISMATCH %s %r\n  %r\n  %r" % (what, p, a, b))

    for key in ("d", "empty"):
        payload = parse(rc.call("DUMP", key))[0][1]
        r = qc.call("RESTORE", key, "0", payload)
        if r != b"+OK\r\n":
            bad += 1
            print("RESTORE into qdb of %s: %r" % (key, r))
        same(rc, key, qc, key, "redis->qdb")
        back = parse(qc.call("DUMP", key))[0][1]
        r = rc.call("RESTORE", key + "2", "0", back)
        if r != b"+OK\r\n":
            bad += 1
            print("RESTORE into redis of %s: %r" % (key, r))
        same(rc, key, rc, key + "2", "qdb->redis")
    # A corrupt payload is refused with Redis' text.
    payload = bytearray(parse(rc.call("DUMP", "d"))[0][1])
    payload[5] ^= 0xFF
    for c in (rc, qc):
        r = c.call("RESTORE", "bad", "0", bytes(payload))
        if r != b"-ERR DUMP payload version or checksum are wrong\r\n":
            bad += 1
            print("corrupt RESTORE: %r" % r)
    # Slot migration of a stream key between two qdb-servers.
    target = start_qdb(engine="rocksdb")
    try:
        r = qc.call("SLOTSMGRTONE", "127.0.0.1", str(target.port), "5000",
                    "d")
        if r != b":1\r\n":
            bad += 1
            print("SLOTSMGRTONE of a stream: %r" % r)
        tc = RawClient(target.port)
        same(rc, "d", tc, "d", "migrated")
        tc.close()
    finally:
        target.cleanup()
    rc.close()
    qc.close()
    return bad


def wait_synced(master, replica, probes, timeout=10.0):
    deadline = time.time() + timeout * TIME_SCALE
    while True:
        a = [master.call(*p) for p in probes]
        b = [replica.call(*p) for p in probes]
        if a == b or time.time() > deadline:
            return a, b
        time.sleep(0.1)


def replication():
    """Replicas of a qdb master (qdb and redis) end with the master's data."""
    bad = 0
    master = start_qdb(engine="rocksdb")
    qrep = start_qdb(engine="rocksdb")
    rrep = start_redis()
    try:
        mc = RawClient(master.port)
        for rep in (qrep, rrep):
            c = RawClient(rep.port)
            c.call("REPLICAOF", "127.0.0.1", str(master.port))
            c.close()
        time.sleep(1.5)
        mc.call("CONFIG", "SET", "stream-node-max-entries", "4")
        for i in range(40):
            mc.call("XADD", "rs", "MAXLEN", "~", "20", "*", "i", str(i))
        mc.call("XADD", "rs", "MINID", "~", "0-1", "*", "i", "x")
        mc.call("XGROUP", "CREATE", "rs", "g", "0")
        mc.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS",
                "rs", ">")
        mc.call("XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "NOACK",
                "STREAMS", "rs", ">")
        first = parse(mc.call("XRANGE", "rs", "-", "+", "COUNT", "2"))[0]
        id0 = first[1][0][1][0][1].decode()
        id1 = first[1][1][1][0][1].decode()
        mc.call("XCLAIM", "rs", "g", "carol", "0", id0, "RETRYCOUNT", "7")
        mc.call("XDEL", "rs", id1)
        mc.call("XAUTOCLAIM", "rs", "g", "dave", "0", "0", "COUNT", "10")
        mc.call("XACK", "rs", "g", id0)
        mc.call("XTRIM", "rs", "MAXLEN", "~", "10")
        probes = [["XRANGE", "rs", "-", "+"], ["XLEN", "rs"],
                  ["XINFO", "GROUPS", "rs"], ["XPENDING", "rs", "g"],
                  ["XPENDING", "rs", "g", "-", "+", "100"]]
        for rep, name in ((qrep, "qdb"), (rrep, "redis")):
            rc = RawClient(rep.port)
            a, b = wait_synced(mc, rc, probes[:4])
            if a != b:
                bad += 1
                print("REPLICA (%s) MISMATCH\n  master:  %r\n  replica: %r" %
                      (name, a, b))
            # The PEL: same ids, owners and delivery counts.
            pa = parse(mc.call(*probes[4]))[0]
            pb = parse(rc.call(*probes[4]))[0]
            if mask(probes[4], pa) != mask(probes[4], pb):
                bad += 1
                print("REPLICA (%s) PEL MISMATCH\n  master:  %r\n  replica: %r"
                      % (name, pa, pb))
            rc.close()
        mc.close()
    finally:
        master.cleanup()
        qrep.cleanup()
        rrep.cleanup()
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
                c.call("FLUSHALL")
                c.call("CONFIG", "SET", "stream-node-max-entries",
                       "5" if proto == 2 else "100")
            bad += differential(rc, qc, rnd, N // 2, proto)
            rc.close()
            qc.close()
        qc = RawClient(qdb.port)
        bad += auto_ids(qc)
        qc.close()
        bad += blocking(redis.port, qdb.port)
        bad += dump_restore(redis.port, qdb.port)
    finally:
        redis.cleanup()
        qdb.cleanup()
    bad += replication()
    print("seed %d, %d commands, %.1fs, %d mismatches" %
          (SEED, N, time.time() - t0, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
