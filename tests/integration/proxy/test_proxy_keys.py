"""Every key of a command is seen by reborn-proxy (issue 24): a table of
commands whose keys are not at fixed positions — SORT's STORE, the numkeys
forms, EVAL/FCALL, OBJECT — run through the proxy in front of two qdb-server
groups and against redis-server. Keys on one slot must give Redis' reply;
keys spread over slots give what Redis Cluster gives (CROSSSLOT, compared
with a cluster-mode redis-server) and nothing is written anywhere."""

import unittest
import warnings
import zlib

from harness import RawClient, start_qdb, start_redis
from proxy_harness import start_cluster_redis, start_proxy

CROSSSLOT = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
BY_DENIED = (b"-ERR BY option of SORT denied in Cluster mode when keys formed "
             b"by the pattern may be in different slots.\r\n")
GET_DENIED = (b"-ERR GET option of SORT denied in Cluster mode when keys "
              b"formed by the pattern may be in different slots.\r\n")


def tag_in_half(half):
    """A hash tag whose RebornDB slot (crc32 % 1024) is served by group
    `half` of two (--backends splits the slots evenly)."""
    for i in range(1000):
        t = "t%d" % i
        if (zlib.crc32(t.encode()) % 1024) // 512 == half:
            return t
    raise AssertionError("no tag")


A = "{%s}" % tag_in_half(0)  # group 1
B = "{%s}" % tag_in_half(1)  # group 2

LIB = ("#!lua name=keylib\n"
       "redis.register_function('getk', function(keys, args) "
       "return redis.call('get', keys[1]) end)")

SETUP = [
    ["RPUSH", A + "src", 3, 1, 2],
    ["MSET", A + "w_1", 30, A + "w_2", 10, A + "w_3", 20,
     A + "o_1", "one", A + "o_2", "two", A + "o_3", "three"],
    ["SADD", B + "set", "b", "a", "c"],
    ["ZADD", A + "z1", 1, "x", 2, "y"], ["ZADD", A + "z2", 3, "y", 4, "w"],
    ["ZADD", B + "z2", 5, "q", 6, "r"],
    ["RPUSH", B + "l1", "p1", "p2"], ["RPUSH", B + "l2", "q1"],
    ["RPUSH", A + "l", "a1"],
    ["SET", B + "k", "42"], ["SET", B + "str", "hello"],
    ["GEOADD", A + "geo", "13.361389", "38.115556", "Palermo",
     "15.087269", "37.502669", "Catania"],
    ["SET", A + "s1", "ohmytext"], ["SET", A + "s2", "mynewtext"],
]

# (command, expectation): "same" = redis-server's reply; "cluster" = a
# cluster-mode redis-server's reply (CROSSSLOT); bytes = that exact reply
# (Redis Cluster's newer pattern-slot rule, which 7.0 lacks).
TABLE = [
    (["SORT", A + "src", "STORE", A + "dst"], "same"),
    (["LRANGE", A + "dst", 0, -1], "same"),
    (["SORT", A + "src", "STORE", B + "dst"], "cluster"),
    (["SORT", A + "src", "LIMIT", 0, 1, "STORE", B + "dst"], "cluster"),
    (["EXISTS", B + "dst"], "same"),
    (["SORT", B + "set", "ALPHA", "STORE", B + "sorted"], "same"),
    (["LRANGE", B + "sorted", 0, -1], "same"),
    (["SORT", A + "src", "BY", A + "w_*", "GET", A + "o_*", "GET", "#"],
     "same"),
    (["SORT", A + "src", "BY", A + "w_*", "STORE", A + "dst2"], "same"),
    (["LRANGE", A + "dst2", 0, -1], "same"),
    (["SORT_RO", A + "src", "BY", A + "w_*", "DESC"], "same"),
    (["SORT", A + "src", "BY", "nosort", "DESC"], "same"),
    (["SORT", A + "src", "BY", "w_*"], BY_DENIED),
    (["SORT", A + "src", "BY", B + "w_*"], BY_DENIED),
    (["SORT", A + "src", "GET", "o_*"], GET_DENIED),
    (["SORT", A + "src", "GET", "#", "GET", B + "o_*"], GET_DENIED),
    (["SORT_RO", A + "src", "GET", B + "o_*"], GET_DENIED),
    (["SORT", A + "src", "LIMIT", "x", 1, "BY", "w_*"], "same"),
    (["OBJECT", "ENCODING", B + "k"], "same"),
    (["OBJECT", "ENCODING", B + "nokey"], "same"),
    (["ZUNION", 2, A + "z1", A + "z2", "WITHSCORES"], "same"),
    (["ZINTER", 2, A + "z1", A + "z2"], "same"),
    (["ZDIFF", 2, A + "z1", A + "z2"], "same"),
    (["ZUNION", 2, A + "z1", B + "z2"], "cluster"),
    (["ZINTER", 2, A + "z1", B + "z2"], "cluster"),
    (["ZDIFF", 2, B + "z2", A + "z1"], "cluster"),
    (["ZUNIONSTORE", B + "zd", 2, A + "z1", A + "z2"], "cluster"),
    (["ZUNIONSTORE", A + "zd", 2, A + "z1", A + "z2"], "same"),
    (["ZRANGE", A + "zd", 0, -1, "WITHSCORES"], "same"),
    (["LMPOP", 2, B + "l1", B + "l2", "LEFT"], "same"),
    (["LMPOP", 2, A + "l", B + "l1", "RIGHT"], "cluster"),
    (["ZMPOP", 1, B + "z2", "MIN"], "same"),
    (["ZMPOP", 2, A + "z1", B + "z2", "MAX"], "cluster"),
    (["BLMPOP", "0.1", 1, B + "l2", "LEFT"], "same"),
    (["BLMPOP", "0.1", 2, B + "l1", A + "l", "LEFT"], "cluster"),
    (["BZMPOP", "0.1", 1, B + "z2", "MIN"], "same"),
    (["BZMPOP", "0.1", 2, A + "z1", B + "z2", "MIN"], "cluster"),
    (["EVAL", "return redis.call('get', KEYS[1])", 1, B + "k"], "same"),
    (["EVAL", "return {KEYS[1], KEYS[2]}", 2, B + "k", B + "str"], "same"),
    (["EVAL", "return 1", 2, A + "x", B + "y"], "cluster"),
    (["FCALL", "getk", 1, B + "k"], "same"),
    (["FCALL_RO", "getk", 2, A + "x", B + "k"], "cluster"),
    (["GEORADIUS", A + "geo", 15, 37, 200, "km", "STORE", A + "gs"], "same"),
    (["ZRANGE", A + "gs", 0, -1], "same"),
    (["GEORADIUS", A + "geo", 15, 37, 200, "km", "STORE", B + "gs"],
     "cluster"),
    (["GEORADIUSBYMEMBER", A + "geo", "Palermo", 200, "km", "STOREDIST",
      B + "gd"], "cluster"),
    (["GEORADIUSBYMEMBER", A + "geo", "Palermo", 200, "km", "STORE",
      B + "gd", "STOREDIST", A + "gd"], "same"),
    (["ZRANGE", A + "gd", 0, -1], "same"),
    (["EXISTS", B + "gs", B + "gd"], "same"),
    (["LCS", A + "s1", A + "s2"], "same"),
    (["LCS", A + "s1", B + "str", "LEN"], "cluster"),
    (["DBSIZE"], "same"),
]


class ProxyKeys(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1 = start_qdb()
        cls.g2 = start_qdb()
        cls.redis = start_redis()
        cls.cluster = start_cluster_redis()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port])

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2, cls.redis, cls.cluster):
            p.cleanup()

    def test_table(self):
        r, p = RawClient(self.redis.port), RawClient(self.proxy.port)
        for c in (r, p):  # the proxy loads it on every group
            c.call("FLUSHALL")
            c.call("FUNCTION", "FLUSH")
            self.assertEqual(c.call("FUNCTION", "LOAD", LIB),
                             b"$6\r\nkeylib\r\n")
        cl = RawClient(self.cluster.port)
        for cmd in SETUP:
            self.assertEqual(r.call(*cmd), p.call(*cmd), cmd)
        for cmd, expect in TABLE:
            got = p.call(*cmd)
            if expect == "same":
                want = r.call(*cmd)
            elif expect == "cluster":
                want = cl.call(*cmd)
                self.assertEqual(want, CROSSSLOT, cmd)  # the oracle agrees
            else:
                want = expect
            self.assertEqual(got, want, "command %r" % (cmd,))
        # Nothing was written where the proxy cannot see it: every key a
        # group holds is one the proxy finds (no orphan SORT STORE target).
        keys = []
        for port in (self.g1.port, self.g2.port):
            c = RawClient(port)
            keys += [k for k in c.call("KEYS", "*").split(b"\r\n")
                     if k and k[:1] not in (b"*", b"$")]
            c.close()
        for k in keys:
            self.assertEqual(p.call("EXISTS", k), b":1\r\n", k)
        self.assertNotIn((B + "dst").encode(), keys)
        for c in (r, p, cl):
            c.close()


if __name__ == "__main__":
    unittest.main()
