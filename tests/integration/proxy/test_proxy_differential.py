"""reborn-proxy in front of two redis-server groups versus one redis-server:
the same commands, the same bytes back — for single-slot commands and for the
multi-key commands the proxy splits over groups and merges."""

import unittest
import warnings

from harness import RawClient, start_redis
from proxy_harness import start_proxy

KEYS = ["key:%d" % i for i in range(40)]


class ProxyDifferential(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1 = start_redis()
        cls.g2 = start_redis()
        cls.single = start_redis()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port])

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2, cls.single):
            p.cleanup()

    def setUp(self):
        for port in (self.single.port, self.g1.port, self.g2.port):
            c = RawClient(port)
            c.call("FLUSHALL")
            c.call("SCRIPT", "FLUSH")
            c.call("FUNCTION", "FLUSH")
            c.close()

    def compare(self, *commands, sort=False):
        r, p = RawClient(self.single.port), RawClient(self.proxy.port)
        try:
            for cmd in commands:
                want, got = r.call(*cmd), p.call(*cmd)
                if sort:
                    want = sorted(want.split(b"\r\n"))
                    got = sorted(got.split(b"\r\n"))
                self.assertEqual(want, got, "command %r" % (cmd,))
        finally:
            r.close()
            p.close()

    def test_keys_are_spread_over_both_groups(self):
        p = RawClient(self.proxy.port)
        for k in KEYS:
            p.call("SET", k, "v")
        counts = []
        for port in (self.g1.port, self.g2.port):
            c = RawClient(port)
            counts.append(int(c.call("DBSIZE")[1:-2]))
            c.close()
        self.assertEqual(sum(counts), len(KEYS))
        self.assertTrue(all(n > 0 for n in counts), counts)

    def test_single_slot_commands(self):
        self.compare(
            ["SET", "a", "1"], ["GET", "a"], ["INCR", "a"], ["INCRBY", "a", 5],
            ["APPEND", "s", "hello"], ["GETRANGE", "s", 1, 3],
            ["GET", "missing"], ["SETEX", "t", 100, "x"], ["TTL", "t"],
            ["HSET", "h", "f1", "v1", "f2", "v2"], ["HGET", "h", "f1"],
            ["HGETALL", "h"], ["LPUSH", "l", 1, 2, 3], ["LRANGE", "l", 0, -1],
            ["RPOP", "l"], ["SADD", "st", "x"], ["SISMEMBER", "st", "x"],
            ["ZADD", "z", 1, "a", 2, "b"], ["ZRANGE", "z", 0, -1, "WITHSCORES"],
            ["ZSCORE", "z", "b"], ["TYPE", "z"], ["GET", "h"],
            ["LPUSH", "a", 1], ["GET"], ["SET", "x"],
            ["NOSUCHCOMMAND", "x", "y"], ["EXPIRE", "a", 100],
            ["PERSIST", "a"], ["STRLEN", "s"], ["GETDEL", "s"],
            ["SET", "{tag}a", "1"], ["SET", "{tag}b", "2"],
            ["SUNION", "{tag}s1", "{tag}s2"],
            ["RENAME", "{tag}a", "{tag}c"], ["GET", "{tag}c"],
            ["PING"], ["PING", "hi"], ["ECHO", "x" * 5000], ["SELECT", 0],
            ["SELECT", "x"])

    def test_split_commands_match_redis(self):
        mset = ["MSET"]
        for i, k in enumerate(KEYS[:20]):
            mset += [k, "v%d" % i]
        self.compare(
            mset, ["MGET"] + KEYS[:25] + ["nope"], ["EXISTS"] + KEYS,
            ["TOUCH"] + KEYS[5:30], ["DEL"] + KEYS[0:10] + KEYS[0:3],
            ["MGET"] + KEYS[:12], ["UNLINK"] + KEYS[10:15] + ["nope"],
            ["EXISTS"] + KEYS, ["DBSIZE"], ["MSET", "a"], ["MGET"],
            ["DEL"], ["MSET", "a", "1", "b"])

    def test_split_commands_report_type_errors(self):
        self.compare(["LPUSH", "key:3", "x"], ["SET", "key:4", "s"],
                     ["MGET", "key:3", "key:4", "key:5"])

    def test_fanout(self):
        p = RawClient(self.proxy.port)
        r = RawClient(self.single.port)
        for k in KEYS:
            p.call("SET", k, "v")
            r.call("SET", k, "v")
        self.compare(["DBSIZE"])
        self.compare(["KEYS", "key:1*"], sort=True)
        # SCAN through the proxy visits every group and every key once.
        seen, cursor = [], b"0"
        while True:
            reply = p.call("SCAN", cursor, "COUNT", 7)
            lines = reply.split(b"\r\n")
            cursor = lines[2]
            seen += [x for x in lines[4:] if x and not x.startswith(b"$")]
            if cursor == b"0":
                break
        self.assertEqual(sorted(seen), sorted(k.encode() for k in KEYS))
        self.assertIn(b"db0:keys=40", p.call("INFO", "keyspace"))
        self.assertEqual(p.call("FLUSHDB"), b"+OK\r\n")
        self.assertEqual(p.call("DBSIZE"), b":0\r\n")

    def test_scripts_and_functions_reach_every_group(self):
        # SCRIPT LOAD / FUNCTION LOAD go to every group, so EVALSHA and
        # FCALL work on keys of any group; MEMORY USAGE finds its key.
        lib = ("#!lua name=difflib\nredis.register_function('getk', "
               "function(keys, args) return redis.call('get', keys[1]) end)")
        cmds = [["SCRIPT", "LOAD", "return redis.call('get', KEYS[1])"],
                ["FUNCTION", "LOAD", lib]]
        sha = "4e6d8fc8bb01276962cce5371fa795a7763657ae"
        for k in KEYS[:10]:
            cmds += [["SET", k, k], ["EVALSHA", sha, 1, k],
                     ["FCALL", "getk", 1, k], ["MEMORY", "USAGE", k]]
        cmds += [["SCRIPT", "EXISTS", sha, "0" * 40],
                 ["FUNCTION", "DELETE", "difflib"],
                 ["FCALL", "getk", 1, KEYS[3]], ["SCRIPT", "FLUSH"],
                 ["EVALSHA", sha, 1, KEYS[4]], ["SCRIPT", "EXISTS", sha]]
        self.compare(*cmds)

    def test_crossslot(self):
        p = RawClient(self.proxy.port)
        err = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        for cmd in (["SINTER", "a", "b", "c"], ["RENAME", "a", "b"],
                    ["RPOPLPUSH", "a", "b"], ["MSETNX", "a", 1, "b", 2],
                    ["SUNIONSTORE", "a", "b", "c"],
                    ["ZUNIONSTORE", "d", 2, "a", "b"],
                    ["LMOVE", "a", "b", "LEFT", "RIGHT"]):
            self.assertEqual(p.call(*cmd), err, cmd)
        self.assertEqual(p.call("MSETNX", "{x}a", 1, "{x}b", 2), b":1\r\n")

    def test_transactions_pinned_to_one_group(self):
        self.compare(["MULTI"], ["SET", "{u}a", 1], ["INCR", "{u}a"],
                     ["GET", "{u}a"], ["EXEC"])
        self.compare(["WATCH", "{u}a"], ["MULTI"], ["INCR", "{u}a"],
                     ["EXEC"], ["EXEC"], ["DISCARD"])
        # Slots 0-511 on g1, 512-1023 on g2: "a" (579) and "b" (1017) are
        # other slots of one group, which runs the transaction atomically;
        # so do "k1" (169) and "k2" (275) on the other group.
        self.compare(["MULTI"], ["SET", "a", 1], ["INCR", "b"],
                     ["MGET", "a", "b"], ["EXEC"])
        self.compare(["WATCH", "k1", "k2"], ["WATCH", "k2"], ["MULTI"],
                     ["SET", "k1", 1], ["APPEND", "k2", "x"], ["EXEC"])
        p = RawClient(self.proxy.port)
        # Keys of two groups: CROSSSLOT, and EXEC aborts.
        self.assertEqual(p.call("MULTI"), b"+OK\r\n")
        self.assertEqual(p.call("SET", "a", 1), b"+QUEUED\r\n")
        self.assertEqual(p.call("SET", "b", 1), b"+QUEUED\r\n")
        self.assertTrue(p.call("SET", "k1", 1).startswith(b"-CROSSSLOT"))
        self.assertTrue(p.call("EXEC").startswith(b"-EXECABORT"))
        self.assertEqual(p.call("WATCH", "k1"), b"+OK\r\n")
        self.assertTrue(p.call("WATCH", "a").startswith(b"-CROSSSLOT"))
        self.assertEqual(p.call("UNWATCH"), b"+OK\r\n")
        self.assertEqual(p.call("WATCH", "a"), b"+OK\r\n")  # forgotten
        self.assertEqual(p.call("UNWATCH"), b"+OK\r\n")
        # Each group ran its own: the keys are where the proxy routes them.
        g1, g2 = RawClient(self.g1.port), RawClient(self.g2.port)
        self.assertEqual(g2.call("MGET", "a", "b"),
                         b"*2\r\n$1\r\n1\r\n$1\r\n1\r\n")
        self.assertEqual(g1.call("MGET", "k1", "k2"),
                         b"*2\r\n$1\r\n1\r\n$1\r\nx\r\n")

    def test_unsupported_commands_are_named(self):
        p = RawClient(self.proxy.port)
        self.assertEqual(
            p.call("MONITOR"),
            b"-ERR MONITOR is not supported by reborn-proxy: it would need "
            b"every backend's command stream\r\n")
        self.assertEqual(p.call("SELECT", 1),
                         b"-ERR DB index is out of range\r\n")
        self.assertEqual(p.call("PING"), b"+PONG\r\n")
        p.close()

    def test_pipelined_replies_keep_order(self):
        p = RawClient(self.proxy.port)
        batch = b""
        for i in range(500):
            k = KEYS[i % len(KEYS)]
            batch += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%d\r\n" % (
                len(k), k.encode(), len(str(i)), i)
            batch += b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(k), k.encode())
        p.send(batch)
        for i in range(500):
            self.assertEqual(p.read_reply(), b"+OK\r\n")
            self.assertEqual(p.read_reply(),
                             b"$%d\r\n%d\r\n" % (len(str(i)), i))


if __name__ == "__main__":
    unittest.main()
