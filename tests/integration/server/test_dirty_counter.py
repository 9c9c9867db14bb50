"""INFO persistence's rdb_changes_since_last_save against a real
redis-server: how much each write adds to Redis' dirty counter (a key or an
element per change, nothing for a write that changed nothing: SETBIT of an
equal bit, ZADD of an equal score, SADD of a member already there), and
that SAVE and BGSAVE bring it back to 0. Also OBJECT ENCODING of a set that
Redis converted from intset to hashtable: it stays hashtable after the
members that caused it are removed."""

import os
import shutil
import tempfile
import time
import unittest

from harness import RawClient, start_qdb, start_redis

# (setup commands, the command whose dirty increment is compared)
CASES = [
    ([], ["SET", "k", "v"]),
    ([["SET", "k", "v"]], ["SET", "k", "v", "NX"]),
    ([["SET", "k", "v"]], ["SET", "k", "w", "XX"]),
    ([], ["SET", "k", "v", "XX"]),
    ([["SET", "k", "v"]], ["SET", "k", "w", "NX", "GET"]),
    ([], ["SET", "k", "w", "NX", "GET"]),
    ([], ["SET", "k", "w", "XX", "GET"]),
    ([["SET", "k", "v"]], ["SET", "k", "w", "GET"]),
    ([], ["MSET", "a", "1", "b", "2", "c", "3"]),
    ([], ["MSETNX", "a", "1", "b", "2"]),
    ([["SET", "b", "x"]], ["MSETNX", "a", "1", "b", "2"]),
    ([["SET", "k", "v"]], ["SETNX", "k", "w"]),
    ([], ["SETNX", "k", "w"]),
    ([["SET", "k", "v"]], ["APPEND", "k", "w"]),
    ([], ["INCR", "n"]),
    ([], ["INCRBYFLOAT", "n", "1.5"]),
    ([["SET", "k", "v"]], ["SETRANGE", "k", "0", ""]),
    ([["SET", "k", "v"]], ["SETRANGE", "k", "3", "x"]),
    ([["SET", "k", "v"]], ["GETEX", "k"]),
    ([["SET", "k", "v"]], ["GETEX", "k", "EX", "100"]),
    ([["SET", "k", "v"]], ["GETDEL", "k"]),
    ([], ["GETDEL", "k"]),
    ([["SET", "k", "v"]], ["GETSET", "k", "w"]),
    ([["SET", "a", "1"], ["SET", "b", "2"]], ["DEL", "a", "b", "c"]),
    ([["SET", "a", "1"]], ["UNLINK", "a", "b"]),
    ([["SET", "k", "v"]], ["EXPIRE", "k", "100"]),
    ([], ["EXPIRE", "k", "100"]),
    ([["SET", "k", "v", "EX", "100"]], ["PERSIST", "k"]),
    ([["SET", "k", "v"]], ["RENAME", "k", "j"]),
    ([["SET", "k", "v"]], ["COPY", "k", "j"]),
    # SETBIT: a new key, an equal bit, a flipped bit, a longer string.
    ([], ["SETBIT", "b", "0", "0"]),
    ([["SETBIT", "b", "0", "0"]], ["SETBIT", "b", "0", "0"]),
    ([["SETBIT", "b", "0", "0"]], ["SETBIT", "b", "0", "1"]),
    ([["SETBIT", "b", "0", "1"]], ["SETBIT", "b", "0", "1"]),
    ([["SETBIT", "b", "0", "0"]], ["SETBIT", "b", "90", "0"]),
    # BITFIELD: the same, per write; INCRBY always changes; FAIL does not.
    ([], ["BITFIELD", "f", "SET", "i5", "0", "0"]),
    ([["BITFIELD", "f", "SET", "i5", "0", "0"]],
     ["BITFIELD", "f", "SET", "i5", "0", "0"]),
    ([["BITFIELD", "f", "SET", "i5", "0", "0"]],
     ["BITFIELD", "f", "SET", "i5", "0", "1", "SET", "i5", "0", "1",
      "GET", "u4", "0"]),
    ([["BITFIELD", "f", "SET", "i5", "0", "0"]],
     ["BITFIELD", "f", "INCRBY", "i5", "0", "1", "INCRBY", "i5", "0", "1"]),
    ([["BITFIELD", "f", "SET", "u2", "0", "3"]],
     ["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "1"]),
    ([["BITFIELD", "f", "SET", "i5", "0", "0"]],
     ["BITFIELD", "f", "SET", "i5", "90", "0"]),
    ([["BITFIELD", "f", "SET", "i5", "0", "3"]],
     ["BITFIELD", "f", "GET", "i5", "0"]),
    ([], ["HSET", "h", "a", "1", "b", "2"]),
    ([["HSET", "h", "a", "1"]], ["HSET", "h", "a", "1", "b", "2"]),
    ([["HSET", "h", "a", "1"]], ["HSETNX", "h", "a", "2"]),
    ([["HSET", "h", "a", "1", "b", "2"]], ["HDEL", "h", "a", "b", "c"]),
    ([["HSET", "h", "a", "1"]], ["HINCRBY", "h", "a", "2"]),
    ([["SADD", "s", "a"]], ["SADD", "s", "a", "b", "c"]),
    ([["SADD", "s", "a", "b"]], ["SREM", "s", "a", "x"]),
    ([["SADD", "s", "a", "b", "c"]], ["SPOP", "s", "2"]),
    ([["SADD", "s", "a", "b", "c"]], ["SPOP", "s"]),
    ([], ["SPOP", "s"]),
    ([], ["LPUSH", "l", "a", "b", "c"]),
    ([], ["LPUSHX", "l", "a", "b"]),
    ([["RPUSH", "l", "x"]], ["RPUSHX", "l", "a", "b"]),
    ([["RPUSH", "l", "a", "b", "c"]], ["LPOP", "l", "2"]),
    ([["RPUSH", "l", "a", "b", "c"]], ["RPOP", "l"]),
    ([["RPUSH", "l", "a", "b", "c"]], ["LMPOP", "1", "l", "LEFT", "COUNT",
                                       "5"]),
    ([["RPUSH", "l", "a", "b", "a"]], ["LREM", "l", "0", "a"]),
    ([["RPUSH", "l", "a", "b"]], ["LINSERT", "l", "BEFORE", "b", "x"]),
    ([["RPUSH", "l", "a", "b"]], ["LSET", "l", "0", "x"]),
    ([["RPUSH", "l", "a", "b"]], ["LMOVE", "l", "m", "LEFT", "RIGHT"]),
    ([], ["ZADD", "z", "1", "a", "2", "b"]),
    ([["ZADD", "z", "1", "a"]], ["ZADD", "z", "1", "a"]),
    ([["ZADD", "z", "1", "a"]], ["ZADD", "z", "2", "a", "3", "b"]),
    ([["ZADD", "z", "1", "a"]], ["ZADD", "z", "CH", "2", "a"]),
    ([["ZADD", "z", "1", "a"]], ["ZADD", "z", "NX", "INCR", "2", "a"]),
    ([["ZADD", "z", "1", "a"]], ["ZINCRBY", "z", "2", "a"]),
    ([["ZADD", "z", "1", "a", "2", "b"]], ["ZREM", "z", "a", "x"]),
    ([["ZADD", "z", "1", "a", "2", "b", "3", "c"]], ["ZPOPMIN", "z", "2"]),
    ([["ZADD", "z", "1", "a", "2", "b"]], ["ZPOPMAX", "z"]),
    ([["ZADD", "z", "1", "a", "2", "b"]], ["ZMPOP", "1", "z", "MIN", "COUNT",
                                           "5"]),
    ([["ZADD", "z", "1", "a", "2", "b", "3", "c"]],
     ["ZREMRANGEBYSCORE", "z", "1", "2"]),
    ([], ["GEOADD", "g", "13.36", "38.11", "p"]),
    ([["GEOADD", "g", "13.36", "38.11", "p"]],
     ["GEOADD", "g", "13.36", "38.11", "p"]),
    ([], ["XADD", "x", "1-1", "f", "v"]),
    ([["XADD", "x", "1-1", "f", "v"], ["XADD", "x", "2-1", "f", "v"]],
     ["XDEL", "x", "1-1", "2-1", "3-1"]),
    ([["XADD", "x", "1-1", "f", "v"]], ["XGROUP", "CREATE", "x", "g", "0"]),
    ([], ["PFADD", "p", "a", "b"]),
    ([["PFADD", "p", "a", "b"]], ["PFADD", "p", "a"]),
    ([["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]],
     ["FLUSHDB"]),
    ([["SET", "a", "1"], ["SET", "b", "2"]], ["FLUSHALL"]),
    ([["SET", "a", "1"]], ["EVAL",
                           "redis.call('set', KEYS[1], 'x') "
                           "redis.call('incr', 'n') "
                           "return redis.call('del', KEYS[1], 'zz')",
                           "1", "a"]),
]


def dirty(client):
    info = client.call("INFO", "persistence").decode()
    for line in info.split("\r\n"):
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":", 1)[1])
    raise AssertionError("no rdb_changes_since_last_save in " + info)


class DirtyCounterTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis_dir = tempfile.mkdtemp(prefix="reborn-redis-dirty-")
        cls.redis = start_redis("--dir", cls.redis_dir)
        cls.qdb = start_qdb("--engine", "memory")

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()
        shutil.rmtree(cls.redis_dir, ignore_errors=True)

    def increment(self, port, setup, command):
        c = RawClient(port)
        try:
            c.call("FLUSHALL")
            for cmd in setup:
                c.call(*cmd)
            before = dirty(c)
            reply = c.call(*command)
            if command[0] == "SPOP":  # random members: their number only
                reply = reply.split(b"\r\n", 1)[0]
            return reply, dirty(c) - before
        finally:
            c.close()

    def test_increments(self):
        for setup, command in CASES:
            with self.subTest(setup=setup, command=command):
                self.assertEqual(
                    self.increment(self.redis.port, setup, command),
                    self.increment(self.qdb.port, setup, command))

    def test_multi_exec(self):
        def run(port):
            c = RawClient(port)
            try:
                c.call("FLUSHALL")
                before = dirty(c)
                for cmd in (["MULTI"], ["SET", "a", "1"],
                            ["SADD", "s", "x", "y"], ["SETBIT", "b", "1", "0"],
                            ["SETBIT", "b", "1", "0"], ["EXEC"]):
                    c.call(*cmd)
                return dirty(c) - before
            finally:
                c.close()

        self.assertEqual(run(self.redis.port), run(self.qdb.port))

    def test_save_resets(self):
        for port in (self.redis.port, self.qdb.port):
            c = RawClient(port)
            try:
                c.call("SET", "k", "v")
                self.assertGreater(dirty(c), 0)
                self.assertEqual(c.call("SAVE"), b"+OK\r\n")
                self.assertEqual(dirty(c), 0)
                c.call("MSET", "a", "1", "b", "2")
                self.assertEqual(dirty(c), 2)
                self.assertEqual(c.call("BGSAVE"),
                                 b"+Background saving started\r\n")
                deadline = time.time() + 20
                while (b"rdb_bgsave_in_progress:1"
                       in c.call("INFO", "persistence")
                       and time.time() < deadline):
                    time.sleep(0.05)
                self.assertEqual(dirty(c), 0, port)
            finally:
                c.close()

    def test_set_encoding_is_sticky(self):
        def run(port):
            c = RawClient(port)
            out = []
            try:
                c.call("FLUSHALL")
                c.call("CONFIG", "SET", "set-max-intset-entries", "4")
                c.call("SADD", "s", "1", "2", "3")
                out.append(c.call("OBJECT", "ENCODING", "s"))
                c.call("SADD", "s", "a")
                out.append(c.call("OBJECT", "ENCODING", "s"))
                c.call("SREM", "s", "a")
                out.append(c.call("OBJECT", "ENCODING", "s"))
                c.call("SADD", "t", "1", "2", "3", "4", "5")
                out.append(c.call("OBJECT", "ENCODING", "t"))
                c.call("SREM", "t", "5", "4")
                out.append(c.call("OBJECT", "ENCODING", "t"))
                c.call("SADD", "u", "1")
                c.call("SADD", "v", "x", "2")
                c.call("SMOVE", "v", "u", "x")
                c.call("SREM", "u", "x")
                out.append(c.call("OBJECT", "ENCODING", "u"))
                # A key made again starts as an intset.
                c.call("DEL", "s")
                c.call("SADD", "s", "7")
                out.append(c.call("OBJECT", "ENCODING", "s"))
                # A stored result is encoded by its contents.
                c.call("SINTERSTORE", "w", "t", "t")
                out.append(c.call("OBJECT", "ENCODING", "w"))
                c.call("CONFIG", "SET", "set-max-intset-entries", "512")
            finally:
                c.close()
            return out

        self.assertEqual(run(self.redis.port), run(self.qdb.port))


if __name__ == "__main__":
    unittest.main()
