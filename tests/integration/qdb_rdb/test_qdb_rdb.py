#!/usr/bin/python3
"""qdb-server's RDB import and export against a real redis-server 7.0.

  1. redis-server holds every type in every encoding Redis 7.0 uses, TTLs,
     several dbs and ~20k keys; SAVE; qdb-server --rdb-import loads the file
     before serving; every key (type, value, TTL) matches.
  2. qdb-server holds the same data; SAVE (and BGSAVE, LASTSAVE, INFO
     persistence); redis-server started on that dump has every key;
     redis-check-rdb accepts the file.
  3. Throughput of import and SAVE for 200k small keys (printed).
"""
import os
import re
import random
import shutil
import subprocess
import sys
import tempfile
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "rdb"))
from harness import binary, free_port, start_qdb, start_redis  # noqa: E402
from rdb_redis_test import populate, read_value  # noqa: E402

BULK = 20000
SPEED_KEYS = 200000


def client(port, db=0):
    return redis.Redis(host="127.0.0.1", port=port, db=db,
                       socket_timeout=60)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def fill(port, rng):
    """The dataset of the test: every encoding, TTLs, dbs 0, 3, 9, 15."""
    populate(client(port, 0), rng)
    populate(client(port, 9), rng)
    r = client(port, 0)
    r.set("ttl:s", "v", px=3600 * 1000)
    r.hset("ttl:h", mapping={"a": "1"})
    r.expire("ttl:h", 7200)
    r.rpush("ttl:l", "x")
    r.pexpireat("ttl:l", int(time.time() * 1000) + 86400 * 1000)
    client(port, 15).set("last", "db15")
    r3 = client(port, 3)
    pipe = r3.pipeline(transaction=False)
    for i in range(BULK):
        if i % 10 == 0:
            pipe.set("bulk:%d" % i, "v%d" % i, ex=1000 + i)
        elif i % 10 == 1:
            pipe.sadd("bulk:%d" % i, i, i + 1)
        else:
            pipe.set("bulk:%d" % i, i)
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def snapshot(port):
    """{(db, key): (value, absolute expiry ms or -1)} of every key."""
    out = {}
    for db in range(16):
        r = client(port, db)
        for k in r.scan_iter(count=1000):
            out[(db, k)] = (read_value(r, k),
                            r.execute_command("PEXPIRETIME", k))
    return out


def compare(want, got, what):
    check(len(want) > BULK, "%s: only %d keys" % (what, len(want)))
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    check(not missing, "%s: missing %s" % (what, missing[:5]))
    check(not extra, "%s: extra %s" % (what, extra[:5]))
    for k, (value, ttl) in want.items():
        gvalue, gttl = got[k]
        check(gvalue == value, "%s: %r differs" % (what, k))
        if ttl < 0:
            check(gttl == ttl, "%s: %r ttl %d vs %d" % (what, k, gttl, ttl))
        else:
            check(abs(gttl - ttl) <= 1,
                  "%s: %r ttl %d vs %d" % (what, k, gttl, ttl))
    print("%s: %d keys identical" % (what, len(want)))


def redis_with_dump(path):
    d, name = os.path.split(path)
    return start_redis("--dir", d, "--dbfilename", name)


def main():
    rng = random.Random(11)
    tmp = tempfile.mkdtemp(prefix="qdb_rdb_test_")
    procs = []
    try:
        # 1. Redis -> qdb.
        red = start_redis("--dir", tmp, "--dbfilename", "redis.rdb",
                          "--rdbcompression", "yes")
        procs.append(red)
        fill(red.port, rng)
        encodings = set()
        for db in (0, 9):
            r = client(red.port, db)
            encodings |= {r.object("encoding", k).decode()
                          for k in r.scan_iter(count=1000)}
        for want in ("embstr", "int", "raw", "quicklist", "listpack",
                     "intset", "hashtable", "skiplist"):
            check(want in encodings, "no Redis key with encoding " + want)
        client(red.port).save()
        want = snapshot(red.port)
        qdb = start_qdb("--rdb-import", os.path.join(tmp, "redis.rdb"))
        procs.append(qdb)
        compare(want, snapshot(qdb.port), "redis -> qdb")
        check(client(qdb.port).execute_command("SLOTSCHECK") in (b"OK", True),
              "SLOTSCHECK")
        qdb.cleanup()
        procs.remove(qdb)

        # A corrupt file stops the server before it serves.
        bad = os.path.join(tmp, "bad.rdb")
        data = bytearray(open(os.path.join(tmp, "redis.rdb"), "rb").read())
        data[-1] ^= 0xff
        open(bad, "wb").write(bytes(data))
        data_dir = os.path.join(tmp, "bad-data")
        out = subprocess.run(
            [binary("qdb-server"), "--port", str(free_port()), "--dir",
             data_dir, "--rdb-import", bad],
            capture_output=True, text=True, timeout=60)
        check(out.returncode != 0, "qdb-server started with a corrupt RDB")
        check("checksum" in out.stdout + out.stderr,
              "corrupt import error: " + out.stdout + out.stderr)
        print("corrupt RDB refused")

        # 2. qdb -> Redis.
        qdb = start_qdb()
        procs.append(qdb)
        fill(qdb.port, rng)
        q = client(qdb.port)
        before = q.lastsave()
        time.sleep(1.1)
        check(q.save(), "SAVE")
        check(q.lastsave() > before, "LASTSAVE did not move")
        info = q.info("persistence")
        check(info["rdb_last_bgsave_status"] == "ok", str(info))
        check(info["rdb_bgsave_in_progress"] == 0, str(info))
        want = snapshot(qdb.port)
        dump = os.path.join(qdb.data_dir, "dump.rdb")
        check(os.path.exists(dump), "no dump.rdb in " + qdb.data_dir)
        if shutil.which("redis-check-rdb"):
            out = subprocess.run(["redis-check-rdb", dump],
                                 capture_output=True, text=True, timeout=120)
            check(out.returncode == 0 and "RDB looks OK" in out.stdout,
                  "redis-check-rdb: " + out.stdout + out.stderr)
            print("redis-check-rdb: RDB looks OK")
        red2 = redis_with_dump(dump)
        procs.append(red2)
        deadline = time.time() + 60
        while True:
            try:
                client(red2.port).ping()
                break
            except redis.exceptions.BusyLoadingError:
                check(time.time() < deadline, "redis load timed out")
                time.sleep(0.1)
        compare(want, snapshot(red2.port), "qdb -> redis")
        # BGSAVE, and a second one while it runs.
        q.set("after", "1")
        reply = q.execute_command("BGSAVE")
        check(reply in (b"Background saving started",
                        "Background saving started", True), str(reply))
        try:
            q.execute_command("BGSAVE")
            second = "accepted"
        except redis.exceptions.ResponseError as e:
            second = str(e)
        check(second in ("accepted", "Background save already in progress"),
              second)
        deadline = time.time() + 60
        while q.info("persistence")["rdb_bgsave_in_progress"]:
            check(time.time() < deadline, "BGSAVE did not finish")
            time.sleep(0.05)
        check(q.info("persistence")["rdb_last_bgsave_status"] == "ok", "bg")
        red2.cleanup()
        procs.remove(red2)
        red3 = redis_with_dump(dump)
        procs.append(red3)
        check(client(red3.port).get("after") == b"1", "BGSAVE lost a key")
        print("BGSAVE file loads in redis")
        for p in (red3, qdb):
            p.cleanup()
            procs.remove(p)

        # 3. Throughput, 200k small keys.
        red.cleanup()
        procs.remove(red)
        red = start_redis("--dir", tmp, "--dbfilename", "speed.rdb")
        procs.append(red)
        pipe = client(red.port).pipeline(transaction=False)
        for i in range(SPEED_KEYS):
            pipe.set("key:%08d" % i, "value-%d" % i)
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        client(red.port).save()
        path = os.path.join(tmp, "speed.rdb")
        size_mb = os.path.getsize(path) / 1048576.0
        qdb = start_qdb("--rdb-import", path)
        procs.append(qdb)
        m = re.search(r"RDB imported .* ([0-9.]+) s \(([0-9]+) keys/s, "
                      r"([0-9.]+) MB/s\)", qdb.output())
        check(m is not None, "no import log line:\n" + qdb.output())
        check(client(qdb.port).dbsize() == SPEED_KEYS, "dbsize after import")
        print("LOAD %d keys (%.1f MB): %s s, %s keys/s, %s MB/s" %
              (SPEED_KEYS, size_mb, m.group(1), m.group(2), m.group(3)))
        t0 = time.time()
        client(qdb.port).save()
        dt = max(time.time() - t0, 1e-3)
        out_mb = os.path.getsize(os.path.join(qdb.data_dir, "dump.rdb")) / \
            1048576.0
        print("SAVE %d keys (%.1f MB): %.2f s, %.0f keys/s, %.1f MB/s" %
              (SPEED_KEYS, out_mb, dt, SPEED_KEYS / dt, out_mb / dt))
        print("OK")
        return 0
    finally:
        for p in procs:
            p.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
