"""COMMAND GETKEYS and GETKEYSANDFLAGS against a real redis-server: the
keys of command lines across the command table and the key-spec flags
Redis 7.0 gives each (RW/RO/OW/RM, access/update/insert/delete), errors
included, byte for byte."""

import unittest

from harness import RawClient, RedisAndQdbCase
from test_slowlog import call

LINES = [
    ["get", "a"],
    ["set", "a", "b"],
    ["set", "a", "b", "GET"],
    ["set", "a", "b", "EX", "10"],
    ["getex", "a"],
    ["getdel", "a"],
    ["del", "a", "b", "c"],
    ["unlink", "a", "b"],
    ["exists", "a", "b"],
    ["mget", "a", "b"],
    ["mset", "a", "1", "b", "2"],
    ["msetnx", "a", "1", "b", "2"],
    ["rename", "a", "b"],
    ["renamenx", "a", "b"],
    ["copy", "a", "b"],
    ["append", "a", "x"],
    ["incr", "a"],
    ["setrange", "a", "0", "x"],
    ["bitop", "AND", "d", "a", "b"],
    ["lcs", "a", "b"],
    ["expire", "a", "10"],
    ["persist", "a"],
    ["ttl", "a"],
    ["type", "a"],
    ["touch", "a", "b"],
    ["dump", "a"],
    ["restore", "a", "0", "x"],
    ["object", "encoding", "a"],
    ["memory", "usage", "a"],
    ["memory", "usage", "a", "SAMPLES", "5"],
    ["memory", "stats"],
    ["sort", "a"],
    ["sort", "a", "STORE", "b"],
    ["sort_ro", "a"],
    ["hset", "h", "f", "v"],
    ["hget", "h", "f"],
    ["hdel", "h", "f"],
    ["hincrby", "h", "f", "1"],
    ["hgetall", "h"],
    ["lpush", "l", "a"],
    ["lpop", "l"],
    ["linsert", "l", "BEFORE", "a", "b"],
    ["lrange", "l", "0", "-1"],
    ["lmove", "a", "b", "LEFT", "RIGHT"],
    ["rpoplpush", "a", "b"],
    ["blpop", "a", "b", "0"],
    ["blmpop", "0", "2", "a", "b", "LEFT"],
    ["lmpop", "2", "a", "b", "LEFT"],
    ["sadd", "s", "a"],
    ["srem", "s", "a"],
    ["smove", "a", "b", "m"],
    ["sinterstore", "d", "a", "b"],
    ["sunion", "a", "b"],
    ["sintercard", "2", "a", "b"],
    ["zadd", "z", "1", "a"],
    ["zincrby", "z", "1", "a"],
    ["zrangestore", "d", "z", "0", "-1"],
    ["zunionstore", "d", "2", "a", "b"],
    ["zinter", "2", "a", "b"],
    ["zmpop", "2", "a", "b", "MIN"],
    ["bzpopmin", "a", "b", "0"],
    ["zrem", "z", "a"],
    ["geoadd", "g", "1", "2", "m"],
    ["georadius", "g", "1", "2", "3", "km", "STORE", "d"],
    ["geosearchstore", "d", "g", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
    ["eval", "return 1", "2", "a", "b"],
    ["eval", "return 1", "0"],
    ["eval", "return 1", "3", "a"],
    ["eval", "return 1", "-1"],
    ["zunionstore", "d", "x", "a"],
    ["zinter", "3", "a", "b"],
    ["evalsha_ro", "abc", "1", "a"],
    ["watch", "a", "b"],
    ["spublish", "c", "m"],
    ["get"],
    ["get", "a", "b"],
    ["ping"],
    ["nosuchcommand", "a"],
    ["zunionstore", "d", "0", "a"],
    ["lmpop", "0", "LEFT"],
]


class GetKeysAgainstRedis(RedisAndQdbCase):

    def test_getkeys_and_flags_match_redis(self):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        for proto in ("2", "3"):
            r.call("HELLO", proto)
            q.call("HELLO", proto)
            for line in LINES:
                for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
                    cmd = ["COMMAND", sub] + line
                    self.assertEqual(r.call(*cmd), q.call(*cmd), cmd)
        for cmd in (["COMMAND", "HELP"],
                    ["COMMAND", "GETKEYSANDFLAGS"],
                    ["COMMAND", "GETKEYSANDFLAGS", "get"]):
            self.assertEqual(r.call(*cmd), q.call(*cmd), cmd)

    def test_acl_categories_in_info_and_list_filter(self):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        for name in ("get", "set", "del", "hset", "lpush", "zadd", "eval",
                     "publish", "blpop", "multi", "ping", "incr"):
            # Name, arity, key range and ACL categories.
            want = call(r, "COMMAND", "INFO", name)[0]
            got = call(q, "COMMAND", "INFO", name)[0]
            self.assertEqual(want[:2] + want[3:7], got[:2] + got[3:7], name)
        cmd = ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "non_existing"]
        self.assertEqual(r.call(*cmd), q.call(*cmd))
        scripting = call(q, "COMMAND", "LIST", "FILTERBY", "ACLCAT",
                         "scripting")
        self.assertIn(b"eval", scripting)
        self.assertIn(b"script|kill", scripting)
        self.assertNotIn(b"set", scripting)
        # What qdb lists is what Redis lists, for the commands qdb has.
        ours = set(call(q, "COMMAND", "LIST"))
        redis_all = set(call(r, "COMMAND", "LIST"))
        for cat in ("string", "hash", "keyspace", "dangerous", "fast"):
            theirs = set(call(r, "COMMAND", "LIST", "FILTERBY", "ACLCAT",
                              cat))
            mine = set(call(q, "COMMAND", "LIST", "FILTERBY", "ACLCAT", cat))
            self.assertEqual(mine & redis_all, theirs & ours, cat)
        self.assertIn(b"config|get", call(q, "COMMAND", "LIST", "FILTERBY",
                                          "PATTERN", "config*"))


if __name__ == "__main__":
    unittest.main()
