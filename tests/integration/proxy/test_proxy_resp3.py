"""RESP3 through reborn-proxy (issue 24): a client that says HELLO 3 gets
Redis 7's RESP3 replies — maps, sets, doubles, score pairs, verbatim
strings, pushes, nulls — byte for byte as redis-server sends them, although
the qdb-server groups behind the proxy speak RESP2."""

import unittest

from harness import RawClient
from proxy_harness import ProxyOverQdbCase

T = "{t}"  # one slot for multi-key commands

COMMANDS = [
    ["SET", "s", "v"], ["GET", "s"], ["GET", "nokey"], ["INCRBYFLOAT", "f", "1.5"],
    ["MGET", "s", "nokey", "f", "a1", "a2", "a3"],
    ["MSET", "a1", 1, "a2", 2], ["MGET", "a1", "nokey2", "a2"],
    ["EXISTS", "s", "a1", "nokey"], ["TYPE", "s"], ["TTL", "s"],
    ["HSET", "h", "f1", "v1", "f2", "v2"], ["HGETALL", "h"], ["HGETALL", "noh"],
    ["HGET", "h", "nof"], ["HMGET", "h", "f1", "nof"], ["HKEYS", "h"],
    ["HSET", "h1", "only", "x"],
    ["HRANDFIELD", "h1", 1, "WITHVALUES"], ["HINCRBYFLOAT", "h", "n", "2.5"],
    ["RPUSH", "l", "a", "b", "c"], ["LRANGE", "l", 0, -1], ["LPOP", "nol"],
    ["LPOP", "l", 2], ["LPOS", "l", "zz"], ["BLPOP", "nol", "0.05"],
    ["SADD", "st", "x"], ["SMEMBERS", "st"], ["SMEMBERS", "nost"],
    ["SADD", T + "s1", "a"], ["SADD", T + "s2", "a"],
    ["SINTER", T + "s1", T + "s2"], ["SUNION", T + "s1", T + "s2"],
    ["SDIFF", T + "s1", T + "s2"], ["SPOP", "st", 5], ["SPOP", "nost", 2],
    ["SISMEMBER", "st", "x"], ["SMISMEMBER", T + "s1", "a", "b"],
    ["ZADD", "z", 1, "a", "2.5", "b", "inf", "c"], ["ZSCORE", "z", "b"],
    ["ZSCORE", "z", "c"], ["ZSCORE", "z", "nom"], ["ZINCRBY", "z", 1, "a"],
    ["ZADD", "z", "INCR", 1, "a"], ["ZADD", "z", "NX", "INCR", 1, "a"],
    ["ZMSCORE", "z", "a", "nom", "b"], ["ZRANGE", "z", 0, -1],
    ["ZRANGE", "z", 0, -1, "WITHSCORES"],
    ["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"],
    ["ZREVRANGE", "z", 0, 1, "WITHSCORES"], ["ZRANK", "z", "b"],
    ["ZADD", T + "z1", 1, "a", 2, "b"], ["ZADD", T + "z2", 3, "b"],
    ["ZUNION", 2, T + "z1", T + "z2", "WITHSCORES"],
    ["ZINTER", 2, T + "z1", T + "z2", "WITHSCORES"],
    ["ZDIFF", 2, T + "z1", T + "z2", "WITHSCORES"],
    ["ZPOPMIN", T + "z1"], ["ZPOPMAX", T + "z2", 2], ["ZPOPMIN", "noz"],
    ["ZPOPMIN", "noz", 3],
    ["ZADD", T + "z3", 7, "m", 8, "n"], ["ZMPOP", 1, T + "z3", "MIN"],
    ["ZMPOP", 1, "noz", "MIN"], ["BZPOPMAX", T + "z3", 1],
    ["BZPOPMIN", "noz", "0.05"], ["ZADD", "zz", 4, "q"],
    ["BZMPOP", 1, 1, "zz", "MAX", "COUNT", 2],
    ["ZADD", "z9", 9, "only"], ["ZRANDMEMBER", "z9", 1, "WITHSCORES"],
    ["ZSCAN", "z9", 0],
    ["DEL", "s", "nokey", "a1"], ["DBSIZE"], ["CLIENT", "GETNAME"],
    ["PING"], ["PING", "x"], ["ECHO", "e"], ["SELECT", 0],
    ["EVAL", "return {1, 'a', false}", 0],
    ["EVAL", "return redis.call('zscore', KEYS[1], 'b')", 1, "z"],
    ["MULTI"], ["ZADD", T + "mz", "1.5", "a"], ["ZSCORE", T + "mz", "a"],
    ["HSET", T + "mh", "f", "v"], ["HGETALL", T + "mh"], ["GET", T + "no"],
    ["SMEMBERS", T + "nost"], ["ZRANGE", T + "mz", 0, 0, "WITHSCORES"],
    ["EXEC"],
    ["GEOADD", "geo", "13.361389", "38.115556", "Palermo", "15.087269",
     "37.502669", "Catania"],
    ["GEOPOS", "geo", "Palermo", "nomember"], ["GEODIST", "geo", "Palermo",
                                               "Catania"],
    ["GEOSEARCH", "geo", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km",
     "WITHCOORD", "WITHDIST", "ASC"],
    ["GEORADIUS", "geo", 15, 37, 200, "km", "WITHCOORD", "ASC"],
    ["SET", T + "l1", "ohmytext"], ["SET", T + "l2", "mynewtext"],
    ["LCS", T + "l1", T + "l2"], ["LCS", T + "l1", T + "l2", "IDX"],
    ["LCS", T + "l1", T + "l2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", 2],
    ["GET"], ["NOSUCHCOMMAND"], ["HELLO", 4],
]


class ProxyResp3(ProxyOverQdbCase):


    def clients(self):
        r, p = RawClient(self.redis.port), RawClient(self.proxy.port)
        for c in (r, p):
            c.call("FLUSHALL")
            self.assertTrue(c.call("HELLO", 3).startswith(b"%7\r\n"))
        return r, p

    def test_hello_map_has_redis_shape(self):
        p = RawClient(self.proxy.port)
        reply = p.call("HELLO", 3)
        lines = reply.split(b"\r\n")
        self.assertEqual(lines[0], b"%7")
        keys = [lines[i] for i in (2, 6, 10, 13, 16, 20, 24)]
        self.assertEqual(keys, [b"server", b"version", b"proto", b"id",
                                b"mode", b"role", b"modules"])
        self.assertEqual(lines[11], b":3")
        self.assertTrue(reply.endswith(b"$7\r\nmodules\r\n*0\r\n"))
        # Back to RESP2: the same fields as a flat array, nulls as $-1.
        self.assertTrue(p.call("HELLO", 2).startswith(b"*14\r\n"))
        self.assertEqual(p.call("GET", "nokey"), b"$-1\r\n")
        p.call("HELLO", 3)
        self.assertEqual(p.call("GET", "nokey"), b"_\r\n")
        self.assertEqual(p.call("RESET"), b"+RESET\r\n")
        self.assertEqual(p.call("GET", "nokey"), b"$-1\r\n")  # RESP2 again
        p.close()

    def test_replies_match_redis(self):
        r, p = self.clients()
        for cmd in COMMANDS:
            want, got = r.call(*cmd), p.call(*cmd)
            self.assertEqual(want, got, "command %r" % (cmd,))
        r.close()
        p.close()

    def test_info_is_verbatim(self):
        _, p = self.clients()
        reply = p.call("INFO", "keyspace")
        self.assertTrue(reply.startswith(b"="), reply)
        self.assertIn(b"\r\ntxt:# Keyspace", reply)
        p.close()

    def test_pubsub_pushes(self):
        r, p = self.clients()
        for c in (r, p):
            self.assertEqual(c.call("SUBSCRIBE", "ch"),
                             b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
            # RESP3 lifts the subscribed-context restriction.
            self.assertEqual(c.call("SET", "k", "v"), b"+OK\r\n")
            self.assertEqual(c.call("PING"), b"+PONG\r\n")
        pub = RawClient(self.proxy.port)
        self.assertEqual(pub.call("PUBLISH", "ch", "hi"), b":1\r\n")
        self.assertEqual(p.read_reply(),
                         b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n")
        self.assertEqual(p.call("UNSUBSCRIBE", "ch"),
                         b">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n")
        for c in (r, p, pub):
            c.close()


if __name__ == "__main__":
    unittest.main()
