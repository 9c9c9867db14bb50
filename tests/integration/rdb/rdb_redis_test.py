#!/usr/bin/python3
"""The rdb library against a real redis-server 7.0.

Values of every type in several encodings are created in Redis, then:
  1. Redis' DUMP payloads decode (rdb_tool decode-dumps) to exactly the data
     Redis returns for the key;
  2. payloads encoded by the library (compact and plain encodings) RESTORE
     into Redis and read back equal;
  3. a SAVE'd dump.rdb (several dbs, TTLs, all types) read by the streaming
     reader fed 1..7 bytes at a time equals Redis' data and PEXPIRETIMEs;
  4. an RDB file written by the library loads into a fresh redis-server
     (--dir/--dbfilename) with every key, value and TTL.
Needs the rdb_tool target built in $REBORN_BUILD_DIR.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

BUILD = os.environ.get("REBORN_BUILD_DIR",
                       os.path.join(os.path.dirname(__file__), "../../../build"))
TOOL = os.path.join(BUILD, "tests/unit/rdb/rdb_tool")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, workdir, dbfilename="dump.rdb"):
        self.port = free_port()
        self.dir = workdir
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", workdir, "--dbfilename", dbfilename, "--save", "",
             "--appendonly", "no", "--rdbcompression", "yes",
             "--daemonize", "no", "--logfile", os.path.join(workdir, "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                self.client(0).ping()
                return
            except redis.exceptions.BusyLoadingError:
                pass
            except redis.exceptions.ConnectionError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("redis-server did not start: " +
                                   open(os.path.join(workdir, "log")).read())
            time.sleep(0.05)

    def client(self, db):
        return redis.Redis(host="127.0.0.1", port=self.port, db=db)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def tool(args, lines):
    out = subprocess.run([TOOL] + args, input="".join(l + "\n" for l in lines),
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError("rdb_tool %s failed: %s" % (args, out.stderr))
    return [l for l in out.stdout.split("\n") if l]


def populate(r, rng):
    """Values of every type and several encodings; returns nothing."""
    rb = lambda n: bytes(rng.getrandbits(8) for _ in range(n))
    r.set("s:emb", "hello")
    r.set("s:int", "12345")
    r.set("s:neg", "-7")
    r.set("s:int64", "1234567890123")
    r.set("s:lead0", "007")
    r.set("s:empty", "")
    r.set("s:compress", "abcdefgh" * 2000)
    r.set("s:binary", rb(500))
    r.set("s:medium", "x" * 30)
    r.rpush("l:small", "a", "b", "1", "2", "-300", "70000", "9999999999")
    r.rpush("l:big", *[("e%d-" % i) * (i % 20) + str(i) for i in range(3000)])
    r.rpush("l:ints", *range(-1000, 1000))
    r.rpush("l:bigelem", "y" * 20000, "z", "w" * 9000)
    r.rpush("l:binary", *[rb(i % 40) for i in range(200)])
    r.sadd("set:intset", 1, 2, 3, -40000, 1 << 40)
    r.sadd("set:intset512", *range(0, 5120, 10))
    r.sadd("set:ints_big", *range(0, 600))
    r.sadd("set:small", "x", "y", "zz")
    r.sadd("set:big", *["member-%d" % i for i in range(2000)])
    r.zadd("z:small", {"a": 1.5, "b": 2, "c": -0.25, "d": float("inf"),
                       "e": float("-inf"), "f": 1e300, "g": 0.1})
    r.zadd("z:big", {"m%d" % i: i / 7.0 for i in range(1000)})
    r.zadd("z:longmember", {"q" * 100: 3, "r": 4})
    r.hset("h:small", mapping={"f": "v", "n": "7", "neg": "-1"})
    r.hset("h:big", mapping={"f%d" % i: "v%d" % i for i in range(1000)})
    r.hset("h:longval", mapping={"a": "b" * 100, "c": "d"})
    r.hset("h:binary", mapping={rb(8): rb(30) for _ in range(50)})


def read_value(r, key):
    t = r.type(key).decode()
    if t == "string":
        return ("string", r.get(key))
    if t == "list":
        return ("list", r.lrange(key, 0, -1))
    if t == "set":
        return ("set", sorted(r.smembers(key)))
    if t == "zset":
        return ("zset", sorted(r.zrange(key, 0, -1, withscores=True)))
    if t == "hash":
        return ("hash", sorted(r.hgetall(key).items()))
    raise AssertionError("unexpected type %s" % t)


def canon(j):
    """Tool JSON value -> the form read_value returns."""
    t = j["type"]
    h = bytes.fromhex
    if t == "string":
        return ("string", h(j["str"]))
    if t == "list":
        return ("list", [h(x) for x in j["items"]])
    if t == "set":
        return ("set", sorted(h(x) for x in j["items"]))
    if t == "zset":
        return ("zset", sorted((h(m), float(s)) for m, s in j["scores"]))
    return ("hash", sorted((h(f), h(v)) for f, v in j["fields"]))


def to_json(value):
    t, data = value
    if t == "string":
        return {"type": t, "str": data.hex()}
    if t in ("list", "set"):
        return {"type": t, "items": [x.hex() for x in data]}
    if t == "zset":
        return {"type": t, "scores": [[m.hex(), repr(s)] for m, s in data]}
    return {"type": t, "fields": [[f.hex(), v.hex()] for f, v in data]}


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    if not os.path.exists(TOOL):
        print("missing %s (build the rdb_tool target)" % TOOL)
        return 1
    rng = random.Random(7)
    tmp = tempfile.mkdtemp(prefix="rdb_redis_test_")
    servers = []
    try:
        src = RedisServer(tmp)
        servers.append(src)
        r0 = src.client(0)
        populate(r0, rng)
        keys = sorted(r0.keys("*"))
        encodings = {k: r0.object("encoding", k).decode() for k in keys}
        print("encodings:", sorted(set(encodings.values())))
        for want in ("embstr", "int", "raw", "quicklist", "listpack",
                     "intset", "hashtable", "skiplist"):
            check(want in encodings.values(), "no key with encoding " + want)

        # 1. Redis DUMP -> our decoder.
        dumps = [r0.dump(k) for k in keys]
        decoded = tool(["decode-dumps"], [d.hex() for d in dumps])
        for k, line in zip(keys, decoded):
            j = json.loads(line)
            check("error" not in j, "decode %s: %s" % (k, j))
            check(canon(j) == read_value(r0, k),
                  "DUMP of %s (%s) decoded differently" % (k, encodings[k]))
        print("decoded %d Redis DUMP payloads" % len(keys))

        # 2. Our encoder -> Redis RESTORE.
        values = {k: read_value(r0, k) for k in keys}
        for mode in ([], ["plain"]):
            payloads = tool(["encode-dumps"] + mode,
                            [json.dumps(to_json(values[k])) for k in keys])
            for k, p in zip(keys, payloads):
                nk = b"restored:" + k
                r0.restore(nk, 0, bytes.fromhex(p), replace=True)
                check(read_value(r0, nk) == values[k],
                      "RESTORE of our %s payload for %s differs" % (mode, k))
                r0.delete(nk)
            print("restored %d payloads (%s)" % (len(keys), mode or "compact"))
        # A bad checksum is refused by Redis too.
        bad = bytearray(dumps[0])
        bad[-1] ^= 1
        try:
            r0.restore("bad", 0, bytes(bad))
            check(False, "Redis accepted a bad payload")
        except redis.exceptions.ResponseError as e:
            check("checksum" in str(e), str(e))
        bad_ours = tool(["decode-dumps"], [bytes(bad).hex()])
        check(json.loads(bad_ours[0])["error"] ==
              "ERR DUMP payload version or checksum are wrong", bad_ours[0])

        # 3. SAVE with several dbs and TTLs -> streaming reader, 1..7 bytes.
        now_ms = int(time.time() * 1000)
        for i, k in enumerate(keys):
            if i % 3 == 0:
                r0.pexpire(k, 1000000 + i)
        for db in (1, 5, 15):
            c = src.client(db)
            populate(c, random.Random(db))
            for i, k in enumerate(sorted(c.keys("*"))):
                if i % 2:
                    c.pexpireat(k, now_ms + 5000000 + i)
        expected = {}
        for db in (0, 1, 5, 15):
            c = src.client(db)
            for k in c.keys("*"):
                expected[(db, k)] = (read_value(c, k), c.pexpiretime(k))
        # Streams load too (their entries are compared here; groups and
        # PELs through a qdb-server in tests/integration/qdb_rdb).
        c1 = src.client(1)
        for i in range(300):
            c1.xadd("stream:a", {"f": "v%d" % i, "n": i})
        c1.xgroup_create("stream:a", "g1", id="0")
        c1.xgroup_create("stream:a", "g2", id="$")
        c1.xreadgroup("g1", "alice", {"stream:a": ">"}, count=5)
        c1.xreadgroup("g1", "bob", {"stream:a": ">"}, count=3)
        c1.xadd("stream:empty", {"x": "y"})
        c1.xdel("stream:empty", c1.xrange("stream:empty")[0][0])
        r0.save()
        rdb_path = os.path.join(tmp, "dump.rdb")
        lines = tool(["read-rdb", rdb_path, "7"], [])
        trailer = json.loads(lines[-1])
        check(trailer.get("done"), lines[-1])
        got = {}
        streams = {}
        for line in lines[:-1]:
            e = json.loads(line)
            key = (e["db"], bytes.fromhex(e["key"]))
            if e["value"]["type"] == "stream":
                streams[key] = [
                    (i.encode(), [bytes.fromhex(f) for f in fields])
                    for i, fields in e["value"]["entries"]]
                continue
            got[key] = (canon(e["value"]), e["expire_ms"])
        want_streams = {
            (1, k): [(i, [x for fv in sorted(f.items(), key=lambda p: p[0])
                          for x in fv]) for i, f in c1.xrange(k)]
            for k in (b"stream:a", b"stream:empty")}
        check(set(streams) == set(want_streams),
              "streams read: %s" % set(streams))
        for key, entries in streams.items():
            # Field order within an entry is the stream's; compare sorted
            # pairs as xrange hands back a dict.
            pairs = [(i, [x for fv in sorted(zip(f[::2], f[1::2]))
                          for x in fv]) for i, f in entries]
            check(pairs == want_streams[key], "stream %s differs" % (key,))
        check(set(got) == set(expected),
              "key sets differ: %s" % (set(got) ^ set(expected)))
        for key, (value, pexpiretime) in expected.items():
            gv, gexp = got[key]
            check(gv == value, "dump.rdb value of %s differs" % (key,))
            check(gexp == pexpiretime,
                  "TTL of %s: %s vs %s" % (key, gexp, pexpiretime))
        print("read dump.rdb (%d bytes, %d keys, max buffered %d bytes)" %
              (os.path.getsize(rdb_path), len(got), trailer["max_buffered"]))

        # 4. Our writer -> a fresh redis-server loads it.
        entries = sorted(
            ({"db": db, "key": k.hex(), "expire_ms": exp,
              "value": to_json(value)}
             for (db, k), (value, exp) in expected.items()),
            key=lambda e: e["db"])
        ours = os.path.join(tmp, "ours")
        os.mkdir(ours)
        tool(["write-rdb", os.path.join(ours, "mine.rdb")],
             [json.dumps(e) for e in entries])
        dst = RedisServer(ours, "mine.rdb")
        servers.append(dst)
        total = 0
        for db in (0, 1, 5, 15):
            c = dst.client(db)
            for k in c.keys("*"):
                total += 1
                value, exp = expected[(db, k)]
                check(read_value(c, k) == value,
                      "loaded value of %s/%s differs" % (db, k))
                check(c.pexpiretime(k) == exp, "loaded TTL of %s differs" % k)
        check(total == len(expected),
              "redis loaded %d of %d keys" % (total, len(expected)))
        print("redis-server loaded our RDB file: %d keys" % total)
        print("OK")
        return 0
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
