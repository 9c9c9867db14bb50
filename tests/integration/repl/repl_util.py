"""Shared pieces of the replication tests: a dataset of every type with TTLs,
a mixed write workload (expiries, INCRBYFLOAT, SPOP, blocking pops, MULTI,
other dbs, FLUSHDB, SWAPDB), waiting for a replica to catch up, and a
key-by-key comparison of two servers (type, value, TTL within a tolerance).

The runs are the issue's: 100,000 keys of every type, then 30 s of mixed
writes while the replica syncs. REPL_TEST_KEYS and REPL_TEST_SECONDS
override both (smaller for a quick local loop)."""

import os
import random
import threading
import time

import redis

KEYS = int(os.environ.get("REPL_TEST_KEYS", "0")) or None


def keys(default):
    """The dataset size of a test: REPL_TEST_KEYS, else `default`."""
    return KEYS or default


SECONDS = float(os.environ.get("REPL_TEST_SECONDS", "30"))
DBS = [0, 1, 3, 4, 5]
TTL_TOLERANCE_MS = 2500


def client(port, db=0):
    return redis.Redis(host="127.0.0.1", port=port, db=db,
                       socket_timeout=30, decode_responses=False)


def load_dataset(port, n, seed=1):
    """n keys in db 0 (and a few in db 1): strings, ints, hashes, lists,
    sets, int sets, sorted sets, small and large encodings, ~30% with TTLs."""
    rnd = random.Random(seed)
    r = client(port)
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        kind = i % 8
        key = "k:%d" % i
        if kind == 0:
            pipe.set(key, "v%d" % rnd.randint(0, 1 << 30))
        elif kind == 1:
            pipe.set(key, rnd.randint(-1 << 40, 1 << 40))
        elif kind == 2:
            pipe.hset(key, mapping={"f%d" % j: "x" * (j % 7)
                                    for j in range(1 + i % 5)})
        elif kind == 3:
            pipe.rpush(key, *["e%d" % j for j in range(1 + i % 6)])
        elif kind == 4:
            pipe.sadd(key, *["m%d" % j for j in range(1 + i % 4)])
        elif kind == 5:
            pipe.sadd(key, *range(1 + i % 9))
        elif kind == 6:
            pipe.zadd(key, {"z%d" % j: j * 1.5 for j in range(1 + i % 5)})
        else:
            # now and then a value large enough for the non-compact encodings
            if i % 800 == 7:
                pipe.hset(key, mapping={"f%d" % j: "v" * 80 for j in range(200)})
            elif i % 800 == 15:
                pipe.zadd(key, {"z%d" % j: j for j in range(300)})
            else:
                pipe.set(key, "s" * (i % 100))
        if i % 10 < 3:
            pipe.pexpire(key, rnd.randint(200_000, 2_000_000))
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    r1 = client(port, 1)
    for i in range(200):
        r1.set("db1:%d" % i, i, ex=1000 if i % 2 else None)


class Workload:
    """Mixed writes on a master from a few threads for `seconds`."""

    def __init__(self, port, seconds=SECONDS, seed=7):
        self.port = port
        self.seconds = seconds
        self.seed = seed
        self.errors = []
        self.ops = 0
        self.threads = []

    def start(self):
        self.stop_at = time.time() + self.seconds
        self.threads = [threading.Thread(target=self._guard, args=(f,))
                        for f in (self._writer, self._other_dbs,
                                  self._blocking)]
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join(self.seconds + 60)
            assert not t.is_alive(), "workload thread still running"
        assert not self.errors, self.errors

    def _guard(self, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - reported by join()
            self.errors.append(repr(e))

    def _writer(self):
        rnd = random.Random(self.seed)
        r = client(self.port)
        while time.time() < self.stop_at:
            pipe = r.pipeline(transaction=False)
            for _ in range(50):
                i = rnd.randrange(100000)
                key = "k:%d" % i
                op = rnd.randrange(16)
                w = "w:%d" % rnd.randrange(2000)
                if op == 0:
                    pipe.set(w, rnd.random(), ex=rnd.randint(100, 1000))
                elif op == 1:
                    pipe.incrbyfloat("f:%d" % rnd.randrange(100), 0.1)
                elif op == 2:
                    pipe.hincrbyfloat("hf", "f%d" % rnd.randrange(10), 1.25)
                elif op == 3:
                    pipe.sadd("sp:%d" % rnd.randrange(50), *range(5))
                    pipe.spop("sp:%d" % rnd.randrange(50))
                elif op == 4:
                    pipe.expire(key, rnd.randint(100, 5000))
                elif op == 5:
                    pipe.pexpire(w, rnd.randint(1, 300))  # expires soon
                    pipe.set("short:%d" % rnd.randrange(500), 1,
                             px=rnd.randint(1, 300))
                elif op == 6:
                    pipe.setex(w, 500, "x")
                elif op == 7:
                    pipe.getex(w, ex=700)
                elif op == 8:
                    pipe.delete(key)
                elif op == 9:
                    pipe.lpush("l:%d" % rnd.randrange(100), rnd.random())
                    pipe.rpop("l:%d" % rnd.randrange(100))
                elif op == 10:
                    pipe.zincrby("zz", 0.5, "m%d" % rnd.randrange(50))
                elif op == 11:
                    pipe.incr("cnt")
                elif op == 12:
                    pipe.persist(key)
                elif op == 13:
                    pipe.expire(w, -1)  # a past expiry deletes
                elif op == 14:
                    pipe.psetex("ps:%d" % rnd.randrange(200), 900000, "p")
                else:
                    pipe.append(w, "a")
            pipe.execute()
            tx = r.pipeline(transaction=True)
            tx.incr("tx:a")
            tx.set("tx:b", rnd.random(), px=600000)
            tx.hincrbyfloat("tx:h", "f", 0.5)
            tx.execute()
            self.ops += 53

    def _other_dbs(self):
        rnd = random.Random(self.seed + 1)
        rs = {db: client(self.port, db) for db in (1, 3, 4, 5)}
        n = 0
        while time.time() < self.stop_at:
            db = rnd.choice([1, 3, 4, 5])
            r = rs[db]
            r.set("o:%d" % rnd.randrange(300), rnd.random())
            r.rpush("ol", n)
            r.sadd("os", rnd.randrange(1000))
            if n % 200 == 199:
                rs[3].flushdb()
            if n % 500 == 250:
                rs[4].swapdb(4, 5)
            n += 1
            time.sleep(0.001)

    def _blocking(self):
        rnd = random.Random(self.seed + 2)
        r = client(self.port)
        pusher = client(self.port)
        while time.time() < self.stop_at:
            key = "bq:%d" % rnd.randrange(3)
            threading.Timer(0.01, lambda k=key: pusher.lpush(k, "x", "y")).start()
            r.blpop([key], timeout=1)
            r.blmove("bq:0", "bq:moved", 0.01, "LEFT", "RIGHT")
            r.bzpopmin("bz", timeout=0.01)
            pusher.zadd("bz", {"m%d" % rnd.randrange(5): rnd.random()})


def info(port, section="replication"):
    return client(port).info(section)


def master_offset(port):
    return int(info(port)["master_repl_offset"])


def replica_offset(port):
    i = info(port)
    if "slave_repl_offset" in i:
        return int(i["slave_repl_offset"])
    return int(i["master_repl_offset"])


def wait_caught_up(master_port, replica_port, timeout=60):
    """Until the replica's link is up and it processed the master's offset
    (a bounded wait)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ri = info(replica_port)
        if ri.get("master_link_status") == "up":
            if replica_offset(replica_port) >= master_offset(master_port):
                return
        time.sleep(0.05)
    raise AssertionError("replica %d did not catch up: master %s replica %s"
                         % (replica_port, info(master_port), info(replica_port)))


def _dump_db(r, keys):
    """{key: (type, value, pttl)} for `keys`, pipelined."""
    out = {}
    keys = list(keys)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        pipe = r.pipeline(transaction=False)
        for k in chunk:
            pipe.type(k)
        types = pipe.execute()
        pipe = r.pipeline(transaction=False)
        for k, t in zip(chunk, types):
            if t == b"string":
                pipe.get(k)
            elif t == b"hash":
                pipe.hgetall(k)
            elif t == b"list":
                pipe.lrange(k, 0, -1)
            elif t == b"set":
                pipe.smembers(k)
            elif t == b"zset":
                pipe.zrange(k, 0, -1, withscores=True)
            else:
                pipe.exists(k)
            pipe.pttl(k)
        values = pipe.execute()
        for i, (k, t) in enumerate(zip(chunk, types)):
            if t == b"none":
                continue
            out[k] = (t, values[2 * i], values[2 * i + 1])
    return out


def compare(port_a, port_b, dbs=DBS):
    """Asserts both servers hold the same keys with the same type, value and
    TTL (within TTL_TOLERANCE_MS; both sides are read chunk by chunk, close
    in time). Returns the number of keys compared."""
    total = 0
    for db in dbs:
        a, b = client(port_a, db), client(port_b, db)
        keys = sorted(set(a.scan_iter(count=1000)) |
                      set(b.scan_iter(count=1000)))
        diffs = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            da, dbb = _dump_db(a, chunk), _dump_db(b, chunk)
            for k in chunk:
                va, vb = da.get(k), dbb.get(k)
                if va is None and vb is None:
                    continue
                if va is None or vb is None:
                    # A key about to expire may be gone on one side only.
                    left = (va or vb)[2]
                    if 0 <= left < TTL_TOLERANCE_MS:
                        continue
                    diffs.append((k, va, vb))
                    continue
                if va[0] != vb[0] or va[1] != vb[1]:
                    diffs.append((k, va, vb))
                    continue
                ta, tb = va[2], vb[2]
                if (ta < 0) != (tb < 0) or abs(ta - tb) > TTL_TOLERANCE_MS:
                    diffs.append((k, va, vb))
            total += len(da)
        assert not diffs, "db %d: %d differences, first: %r" % (
            db, len(diffs), diffs[:5])
    return total


def sync_stats(port):
    i = info(port, "stats")
    return int(i["sync_full"]), int(i["sync_partial_ok"])


def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def sync_under_load(master_port, replica_port, n):
    """Loads n keys into the master, starts the replica syncing while a
    workload writes, then compares both. Returns the keys compared."""
    load_dataset(master_port, n)
    work = Workload(master_port).start()
    time.sleep(min(1.0, SECONDS / 3))
    client(replica_port).replicaof("127.0.0.1", master_port)
    work.join()
    time.sleep(0.5)  # let the short TTLs (<= 300 ms) pass
    wait_caught_up(master_port, replica_port)
    return compare(master_port, replica_port)


def cut_and_resume(master_port, replica_port):
    """Kills the replication link from the master's side, writes on, and
    asserts the replica came back by partial resync (no new full sync) and
    equals the master."""
    full, partial = sync_stats(master_port)
    killed = client(master_port).execute_command(
        "CLIENT", "KILL", "TYPE", "replica")
    assert killed == 1, killed
    Workload(master_port, seconds=1, seed=11).start().join()
    wait_for(lambda: sync_stats(master_port)[1] > partial,
             what="partial resync")
    assert sync_stats(master_port)[0] == full, "a full sync happened"
    time.sleep(0.5)
    wait_caught_up(master_port, replica_port)
    compare(master_port, replica_port)
