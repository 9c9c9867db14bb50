"""MIGRATE against real redis-servers: the same sequences run with a
redis-server source and target (the oracle), a qdb-server source and
target, and the mixed pairs (qdb -> redis, redis -> qdb). The source's
replies are compared byte for byte, and both sides' keys (type, value,
whether a TTL survived) after each step."""

import time
import unittest

import redis

from harness import RawClient, free_port, start_qdb, start_redis
from test_slowlog import parse


def snapshot(r, db=0):
    """Every key of `db`: (type, value, has a ttl), order-independent."""
    r.execute_command("SELECT", db)
    out = {}
    for key in r.keys("*"):
        kind = r.type(key)
        if kind == b"string":
            value = r.get(key)
        elif kind == b"hash":
            value = sorted(r.hgetall(key).items())
        elif kind == b"list":
            value = r.lrange(key, 0, -1)
        elif kind == b"set":
            value = sorted(r.smembers(key))
        elif kind == b"zset":
            value = r.zrange(key, 0, -1, withscores=True)
        else:
            value = None
        ttl = r.pttl(key)
        out[key] = (kind, value, ttl > 0)
    r.execute_command("SELECT", 0)
    return out


def fill(r):
    r.set("str", "hello", px=500000)
    r.set("num", "12345")
    r.hset("hash", mapping={"a": "1", "b": "2"})
    r.rpush("list", "x", "y", "z")
    r.sadd("set", "m1", "m2", "m3")
    r.zadd("zset", {"p": 1.5, "q": 2})


class MigrateAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.servers = {
            "redis_a": start_redis(),
            "redis_b": start_redis(),
            "qdb_a": start_qdb("--engine", "memory"),
            "qdb_b": start_qdb("--engine", "memory"),
        }
        cls.dead_port = free_port()

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers.values():
            s.cleanup()

    def client(self, name):
        return redis.Redis(port=self.servers[name].port)

    def setUp(self):
        for name in self.servers:
            self.client(name).flushall()

    def run_pair(self, src, dst, steps, prepare=None):
        """Runs `steps` (lists of arguments; "PORT" is the target's port)
        on `src`; returns (raw replies, source keys, target keys by db)."""
        for name in (src, dst):
            self.client(name).flushall()
        if prepare:
            prepare(self.client(src), self.client(dst))
        port = str(self.servers[dst].port)
        c = RawClient(self.servers[src].port)
        replies = []
        for step in steps:
            args = [port if a == "PORT" else a for a in step]
            replies.append(c.call(*args))
        c.close()
        return (replies, snapshot(self.client(src)),
                snapshot(self.client(dst)), snapshot(self.client(dst), 3))

    def check(self, steps, prepare=None):
        oracle = self.run_pair("redis_a", "redis_b", steps, prepare)
        for src, dst in (("qdb_a", "qdb_b"), ("qdb_a", "redis_b"),
                         ("redis_a", "qdb_b")):
            with self.subTest(src=src, dst=dst):
                got = self.run_pair(src, dst, steps, prepare)
                self.assertEqual(got[0], oracle[0])
                self.assertEqual(got[1:], oracle[1:])
        return oracle

    def test_single_keys_move(self):
        h = "127.0.0.1"
        out = self.check([
            ["MIGRATE", h, "PORT", "str", "0", "5000"],
            ["MIGRATE", h, "PORT", "hash", "0", "5000"],
            ["MIGRATE", h, "PORT", "list", "3", "5000"],
            ["MIGRATE", h, "PORT", "missing", "0", "5000"],
            ["EXISTS", "str", "hash", "list", "num"],
        ], prepare=lambda s, d: fill(s))
        self.assertEqual(out[0][:4], [b"+OK\r\n"] * 3 + [b"+NOKEY\r\n"])
        self.assertTrue(out[2][b"str"][2])  # the TTL travelled

    def test_keys_form_copy_replace(self):
        h = "127.0.0.1"
        self.check([
            ["MIGRATE", h, "PORT", "", "0", "5000", "COPY", "KEYS", "num",
             "set", "nosuch"],
            ["MIGRATE", h, "PORT", "", "0", "5000", "KEYS", "num", "zset"],
            ["MIGRATE", h, "PORT", "", "0", "5000", "KEYS", "a", "b"],
            ["MIGRATE", h, "PORT", "", "0", "5000", "KEYS"],
            ["MIGRATE", h, "PORT", "", "0", "0", "replace", "copy", "KEYS",
             "set"],
        ], prepare=lambda s, d: fill(s))

    def test_target_errors(self):
        h = "127.0.0.1"

        def prepare(s, d):
            fill(s)
            d.set("str", "other")
            d.set("hash", "other")
        out = self.check([
            ["MIGRATE", h, "PORT", "str", "0", "5000"],
            ["MIGRATE", h, "PORT", "", "0", "5000", "KEYS", "num", "hash"],
            ["MIGRATE", h, "PORT", "str", "0", "5000", "REPLACE"],
            ["MIGRATE", h, "PORT", "num", "99", "5000"],
            ["MIGRATE", h, "PORT", "num", "0", "5000", "AUTH", "pw"],
            ["MIGRATE", h, "PORT", "num", "0", "5000", "AUTH2", "u", "pw"],
        ], prepare=prepare)
        self.assertTrue(out[0][0].startswith(
            b"-ERR Target instance replied with error: BUSYKEY"))

    def test_auth_to_target(self):
        h = "127.0.0.1"

        def prepare(s, d):
            fill(s)
            d.execute_command("ACL", "SETUSER", "mig", "on", ">mpw", "~*",
                              "+@all")
        try:
            self.check([
                ["MIGRATE", h, "PORT", "num", "0", "5000", "AUTH2", "mig",
                 "bad"],
                ["MIGRATE", h, "PORT", "num", "0", "5000", "AUTH2", "mig",
                 "mpw"],
            ], prepare=prepare)
        finally:
            for name in ("redis_b", "qdb_b"):
                self.client(name).execute_command("ACL", "DELUSER", "mig")

    def test_argument_errors(self):
        h = "127.0.0.1"
        self.check([
            ["MIGRATE", h, "PORT", "k", "0"],
            ["MIGRATE", h, "PORT", "k", "0", "5000", "KEYS", "a"],
            ["MIGRATE", h, "PORT", "k", "0", "5000", "AUTH"],
            ["MIGRATE", h, "PORT", "k", "0", "5000", "AUTH2", "u"],
            ["MIGRATE", h, "PORT", "k", "0", "5000", "BOGUS"],
            ["MIGRATE", h, "PORT", "k", "x", "5000"],
            ["MIGRATE", h, "PORT", "k", "0", "x"],
            ["MIGRATE", h, "PORT", "k", "x", "x"],
            ["MIGRATE", h, "PORT", "num", "0", "-5", "COPY"],
        ], prepare=lambda s, d: fill(s))

    def test_unreachable_target(self):
        for name in ("redis_a", "qdb_a"):
            r = self.client(name)
            r.set("k", "v")
            c = RawClient(self.servers[name].port)
            start = time.monotonic()
            self.assertEqual(
                c.call("MIGRATE", "127.0.0.1", str(self.dead_port), "k", "0",
                       "500"),
                b"-IOERR error or timeout writing to target instance\r\n")
            self.assertEqual(
                c.call("MIGRATE", "127.0.0.1", "notaport", "k", "0", "500"),
                b"-IOERR error or timeout writing to target instance\r\n")
            self.assertEqual(
                c.call("MIGRATE", "nosuchhost.invalid", "1", "k", "0", "500"),
                b"-IOERR error or timeout connecting to the client\r\n")
            self.assertLess(time.monotonic() - start, 5)
            self.assertEqual(c.call("GET", "k"), b"$1\r\nv\r\n")
            c.close()

    def test_watch_sees_moved_key(self):
        results = []
        for src, dst in (("redis_a", "redis_b"), ("qdb_a", "qdb_b")):
            self.client(src).set("w", "1")
            watcher = RawClient(self.servers[src].port)
            watcher.call("WATCH", "w")
            mover = RawClient(self.servers[src].port)
            moved = mover.call("MIGRATE", "127.0.0.1",
                               str(self.servers[dst].port), "w", "0", "5000")
            watcher.call("MULTI")
            watcher.call("GET", "w")
            results.append((moved, watcher.call("EXEC")))
            watcher.close()
            mover.close()
        self.assertEqual(results[1], results[0])
        self.assertEqual(results[0], (b"+OK\r\n", b"*-1\r\n"))

    def test_command_info_and_getkeys(self):
        # Name, arity, flags, legacy key range, ACL categories (qdb sends
        # no command tips or key specs in COMMAND INFO for any command).
        info = [parse(RawClient(self.servers[n].port).call(
            "COMMAND", "INFO", "migrate"))[0] for n in ("redis_a", "qdb_a")]
        self.assertEqual(info[1][0][:7], info[0][0][:7])
        self.assertIn(b"movablekeys", info[1][0][2])
        queries = [
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "key", "0", "5"],
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "COPY",
             "AUTH", "p", "KEYS", "k1", "k2"],
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "AUTH2",
             "KEYS", "p", "KEYS", "k1"],
            ["COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "key", "0",
             "5"],
        ]
        for q in queries:
            with self.subTest(q=q):
                want = RawClient(self.servers["redis_a"].port).call(*q)
                got = RawClient(self.servers["qdb_a"].port).call(*q)
                self.assertEqual(got, want)


class MigrateReplication(unittest.TestCase):
    """The source's replicas drop the moved keys (MIGRATE propagates DEL)."""

    def test_replica_drops_moved_keys(self):
        master = start_qdb("--engine", "memory")
        replica = start_qdb("--engine", "memory")
        target = start_qdb("--engine", "memory")
        try:
            m = redis.Redis(port=master.port)
            r = redis.Redis(port=replica.port)
            r.execute_command("REPLICAOF", "127.0.0.1", master.port)
            m.set("a", "1")
            m.set("b", "2")
            m.set("c", "3")
            deadline = time.monotonic() + 10
            while r.dbsize() != 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(r.dbsize(), 3)
            self.assertEqual(
                m.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0,
                                  5000, "KEYS", "a", "b"), b"OK")
            self.assertEqual(
                m.execute_command("MIGRATE", "127.0.0.1", target.port, "c", 0,
                                  5000, "COPY"), b"OK")
            while r.dbsize() != 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(sorted(r.keys("*")), [b"c"])
            self.assertEqual(
                sorted(redis.Redis(port=target.port).keys("*")),
                [b"a", b"b", b"c"])
            # d moves, then the target refuses c (BUSYKEY): the error reply
            # still carries the DEL of d to the replica.
            m.set("d", "4")
            with self.assertRaises(redis.ResponseError):
                m.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0,
                                  5000, "KEYS", "d", "c")
            while r.dbsize() != 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(sorted(m.keys("*")), [b"c"])
            self.assertEqual(sorted(r.keys("*")), [b"c"])
        finally:
            for s in (master, replica, target):
                s.cleanup()


if __name__ == "__main__":
    unittest.main()
