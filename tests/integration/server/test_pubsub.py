"""Pub/Sub and keyspace notifications against redis-server 7.0: the same
commands on both, replies and pushed messages compared byte for byte (RESP2
and RESP3), PUBSUB introspection, subscribed-mode errors, RESET and
disconnect unsubscribing, delivery to a replica's subscribers, the pubsub
class of client-output-buffer-limit cutting a subscriber that never reads,
keyspace events in Redis' order (stream events included), and redis-py's own
pubsub API."""

import os
import socket
import sys
import time
import unittest

import redis

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "repl"))
import repl_util as ru  # noqa: E402
from harness import RawClient, encode, start_qdb, start_redis  # noqa: E402


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


KEYSPACE_COMMANDS = [
    ["SET", "s", "1"], ["SET", "s", "2", "EX", "100"],
    ["SET", "s", "3", "NX"], ["SETEX", "s2", "100", "v"],
    ["SETNX", "s3", "v"], ["SETNX", "s3", "v"], ["GETSET", "s3", "w"],
    ["MSET", "m1", "1", "m2", "2"], ["APPEND", "s3", "x"],
    ["SETRANGE", "s3", "1", "yy"], ["INCR", "n"], ["DECRBY", "n", "3"],
    ["INCRBYFLOAT", "n", "1.5"], ["GETDEL", "s3"], ["GETDEL", "s3"],
    ["GETEX", "m1", "EX", "100"], ["GETEX", "m1", "PERSIST"],
    ["GETEX", "m2", "PERSIST"],
    ["EXPIRE", "m1", "100"], ["PERSIST", "m1"], ["PERSIST", "m1"],
    ["EXPIRE", "m1", "-1"], ["DEL", "m2", "nokey", "s"],
    ["SET", "a", "1"], ["RENAME", "a", "b"], ["RENAMENX", "b", "n"],
    ["MOVE", "b", "1"], ["SET", "c", "1"], ["COPY", "c", "d"],
    ["RPUSH", "l", "a", "b", "c"], ["LPUSH", "l", "z"],
    ["LPUSHX", "nolist", "a"], ["LINSERT", "l", "BEFORE", "a", "q"],
    ["LSET", "l", "0", "y"], ["LREM", "l", "1", "q"],
    ["LTRIM", "l", "0", "1"], ["LPOP", "l"], ["RPOP", "l"],
    ["RPUSH", "l", "1", "2"], ["RPOPLPUSH", "l", "l2"],
    ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["LMPOP", "1", "l2", "LEFT"],
    ["LPOP", "l2", "5"],
    ["HSET", "h", "f", "1", "g", "2"], ["HSETNX", "h", "f", "x"],
    ["HINCRBY", "h", "f", "2"], ["HINCRBYFLOAT", "h", "f", "0.5"],
    ["HDEL", "h", "f", "nof"], ["HDEL", "h", "g"],
    ["SADD", "st", "a", "b", "c"], ["SADD", "st", "a"],
    ["SREM", "st", "a"], ["SMOVE", "st", "st2", "b"],
    ["SPOP", "st"], ["SADD", "u1", "x"], ["SUNIONSTORE", "u", "u1"],
    ["SINTERSTORE", "u", "u1", "nokey"],
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZADD", "z", "INCR", "5", "a"], ["ZINCRBY", "z", "1", "b"],
    ["ZREM", "z", "a"], ["ZREMRANGEBYSCORE", "z", "0", "4"],
    ["ZADD", "z", "1", "x", "2", "y"], ["ZPOPMIN", "z"],
    ["ZREMRANGEBYRANK", "z", "0", "0"], ["ZPOPMAX", "z"],
    ["ZADD", "z1", "1", "a"], ["ZUNIONSTORE", "zu", "1", "z1"],
    ["ZINTERSTORE", "zu", "2", "z1", "nokey"],
    ["ZADD", "z2", "1", "a", "2", "b"], ["ZMPOP", "1", "z2", "MAX"],
    ["FLUSHDB"], ["SELECT", "1"], ["SET", "k1", "v"], ["SELECT", "0"],
]


STREAM_COMMANDS = [
    ["XADD", "nos", "NOMKSTREAM", "*", "f", "v"],
    ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
    ["XGROUP", "CREATE", "s", "g", "$"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "Bob"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "Bob"],
    ["XADD", "s", "1-1", "f", "a"], ["XADD", "s", "2-1", "f", "b"],
    ["XADD", "s", "MAXLEN", "5", "3-1", "f", "c"],
    ["XADD", "s", "MAXLEN", "=", "2", "4-1", "f", "d"],
    ["XADD", "s", "MAXLEN", "~", "1", "5-1", "f", "e"],
    ["XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS",
     "s", ">"],
    ["XREADGROUP", "GROUP", "g", "Alice", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "Carl", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "Dan", "NOACK", "STREAMS", "s", "0"],
    ["XCLAIM", "s", "g", "Mike", "0", "9-9"],
    ["XCLAIM", "s", "g", "Mike", "0", "4-1", "FORCE"],
    ["XAUTOCLAIM", "s", "g", "Bob", "0", "0"],
    ["XAUTOCLAIM", "s", "g", "Eve", "0", "0"],
    ["XGROUP", "DELCONSUMER", "s", "g", "Lee"],
    ["XGROUP", "DELCONSUMER", "s", "g", "Bob"],
    ["XGROUP", "SETID", "s", "g", "0"],
    ["XDEL", "s", "9-9"], ["XDEL", "s", "4-1"],
    ["XTRIM", "s", "MAXLEN", "100"], ["XTRIM", "s", "MAXLEN", "0"],
    ["XSETID", "s", "10-1"],
    ["XGROUP", "DESTROY", "s", "nog"], ["XGROUP", "DESTROY", "s", "g"],
    ["MULTI"], ["XADD", "s", "11-1", "f", "x"],
    ["XGROUP", "CREATE", "s", "g2", "0"], ["EXEC"],
    ["XGROUP", "CREATE", "s2", "g2", "$", "MKSTREAM"],
    ["XREADGROUP", "GROUP", "g2", "Zed", "STREAMS", "s", "s2", ">",
     ">"],
]


# Writes that create keys (Redis' dbAdd publishes "new" before the
# command's own event) and some that do not, for every type.
NEW_KEY_COMMANDS = [
    ["SET", "s", "1"], ["SET", "s", "2"], ["SET", "s2", "1", "GET"],
    ["SET", "s3", "1", "NX", "GET"], ["SET", "s3", "2", "XX"],
    ["SET", "s4", "1", "XX"], ["SET", "s5", "1", "PX", "100000"],
    ["PSETEX", "s6", "100000", "v"], ["SETNX", "s7", "v"],
    ["GETSET", "s8", "v"], ["MSET", "m1", "1", "m1", "2", "m2", "3"],
    ["MSETNX", "m3", "1", "m4", "2"], ["MSETNX", "m3", "1", "m5", "2"],
    ["APPEND", "ap", ""], ["APPEND", "ap", "x"], ["SETRANGE", "sr", "0", ""],
    ["SETRANGE", "sr", "2", "ab"], ["SETRANGE", "sr", "0", ""],
    ["INCR", "i1"], ["DECR", "i2"], ["INCRBY", "i3", "5"],
    ["INCRBYFLOAT", "i4", "1.5"],
    ["SETBIT", "b1", "3", "1"], ["SETBIT", "b1", "3", "1"],
    ["SETBIT", "b1", "3", "0"], ["SETBIT", "b1", "100", "0"],
    ["SETBIT", "b2", "0", "0"],
    ["BITFIELD", "bf1", "GET", "u8", "0"],
    ["BITFIELD", "bf2", "SET", "u8", "0", "255", "GET", "u4", "0"],
    ["BITFIELD", "bf3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"],
    ["BITFIELD", "bf2", "INCRBY", "u8", "0", "1"],
    ["BITOP", "OR", "bo", "b1", "b2"], ["BITOP", "OR", "bo", "b1"],
    ["BITOP", "AND", "bo", "nokey"], ["BITOP", "AND", "bo2", "nokey"],
    ["PFADD", "hll"], ["PFADD", "hll", "a"], ["PFADD", "hll", "a"],
    ["PFMERGE", "hll2", "hll"], ["PFMERGE", "hll2", "hll"],
    ["RPUSH", "l", "a", "b"], ["LPUSH", "l", "c"], ["LPUSHX", "lx", "a"],
    ["RPOPLPUSH", "l", "l2"], ["LMOVE", "l", "l2", "RIGHT", "LEFT"],
    ["LMOVE", "l", "l3", "LEFT", "LEFT"], ["LMOVE", "l3", "l3", "LEFT",
                                           "RIGHT"],
    ["HSET", "h", "f", "1"], ["HSETNX", "h2", "f", "1"],
    ["HMSET", "h3", "f", "1"], ["HINCRBY", "h4", "f", "1"],
    ["HINCRBYFLOAT", "h5", "f", "1.5"], ["HSET", "h", "g", "2"],
    ["SADD", "st", "a", "b"], ["SADD", "st", "c"], ["SMOVE", "st", "st2", "a"],
    ["SMOVE", "st", "st2", "b"], ["SMOVE", "st2", "st", "a"],
    ["SADD", "t1", "x", "y"], ["SINTERSTORE", "t2", "t1", "st2"],
    ["SUNIONSTORE", "t3", "t1"], ["SDIFFSTORE", "t3", "t1", "t1"],
    ["SUNIONSTORE", "t4", "t1"],
    ["ZADD", "z", "1", "a"], ["ZADD", "zx", "XX", "1", "a"],
    ["ZADD", "z2", "INCR", "1", "a"], ["ZINCRBY", "z3", "1", "a"],
    ["ZADD", "z", "2", "b"], ["ZUNIONSTORE", "zu", "2", "z", "z2"],
    ["ZINTERSTORE", "zi", "2", "z", "nokey"], ["ZRANGESTORE", "zr", "z", "0",
                                               "-1"],
    ["ZDIFFSTORE", "zd", "1", "z"],
    ["GEOADD", "g", "13.36", "38.11", "Palermo"],
    ["GEOADD", "g", "13.36", "38.11", "Palermo"],
    ["GEOADD", "gx", "XX", "13.36", "38.11", "Palermo"],
    ["GEOSEARCHSTORE", "gs", "g", "FROMLONLAT", "13.36", "38.11",
     "BYRADIUS", "10", "km"],
    ["GEORADIUS", "g", "13.36", "38.11", "10", "km", "STORE", "gr"],
    ["SORT", "t1", "ALPHA", "STORE", "so"], ["SORT", "t1", "ALPHA", "STORE",
                                             "so"],
    ["XADD", "x", "1-1", "f", "v"], ["XADD", "x2", "NOMKSTREAM", "*", "f",
                                     "v"],
    ["XADD", "x3", "MAXLEN", "0", "1-1", "f", "v"],
    ["XGROUP", "CREATE", "x4", "g", "$", "MKSTREAM"],
    ["XGROUP", "CREATE", "x", "g", "$", "MKSTREAM"],
    ["SET", "r1", "v"], ["RENAME", "r1", "r2"], ["SET", "r1", "w"],
    ["RENAME", "r1", "r2"], ["RENAME", "r2", "r2"], ["RENAMENX", "r2", "s"],
    ["RENAMENX", "r2", "r3"], ["COPY", "r3", "r4"], ["COPY", "r3", "r4"],
    ["COPY", "r3", "r4", "REPLACE"], ["MOVE", "r4", "1"],
    ["EVAL", "redis.call('set', KEYS[1], 'v') "
     "redis.call('rpush', KEYS[2], 'a') return 1", "2", "e1", "e2"],
    ["MULTI"], ["SET", "tx1", "v"], ["SADD", "tx2", "a"], ["EXEC"],
    ["DEL", "s"], ["SET", "s", "again"],
    ["SET", "p1", "v"], ["SET", "p1", "w", "EXAT", "1"],
    ["ZADD", "zg", "GT", "1", "a"], ["SMOVE", "st", "st", "c"],
    ["HSETNX", "h", "f", "again"], ["COPY", "s", "c1", "DB", "1"],
    ["BITFIELD", "bf4", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"],
    ["SORT", "nokey", "STORE", "so2"],
    ["EVAL", "redis.call('set', KEYS[1], '1') redis.call('del', KEYS[1]) "
     "redis.call('set', KEYS[1], '2') return 1", "1", "e3"],
]


class PubSubAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory", "--io-threads", "2")

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def ports(self):
        return [self.redis.port, self.qdb.port]

    def run_both(self, script):
        """`script(port)` returns a list of raw replies; both servers must
        give the same list."""
        results = [script(port) for port in self.ports()]
        self.assertEqual(results[0], results[1])
        return results[1]

    def test_subscribe_confirmations_and_subscribed_mode_resp2(self):
        def script(port):
            c = RawClient(port)
            out = [c.call("SUBSCRIBE", "a")]
            c.send(encode("SUBSCRIBE", "b", "a"))
            out += [c.read_reply(), c.read_reply()]
            out.append(c.call("PSUBSCRIBE", "p*"))
            out.append(c.call("PING"))
            out.append(c.call("PING", "hello"))
            out.append(c.call("GET", "x"))
            out.append(c.call("SET", "x", "1"))
            out.append(c.call("MULTI"))
            out.append(c.call("SSUBSCRIBE", "s1"))
            c.send(encode("UNSUBSCRIBE", "a", "zz"))
            out += [c.read_reply(), c.read_reply()]
            out.append(c.call("PUNSUBSCRIBE"))
            out.append(c.call("UNSUBSCRIBE"))
            out.append(c.call("SUNSUBSCRIBE"))
            out.append(c.call("UNSUBSCRIBE"))
            out.append(c.call("PUNSUBSCRIBE"))
            out.append(c.call("SUNSUBSCRIBE"))
            out.append(c.call("PING"))
            out.append(c.call("GET", "x"))
            c.close()
            return out
        self.run_both(script)

    def test_messages_patterns_and_receiver_counts(self):
        def script(port):
            sub = RawClient(port)
            pub = RawClient(port)
            sub.call("SUBSCRIBE", "news.tech")
            sub.call("PSUBSCRIBE", "news.*")
            sub.call("PSUBSCRIBE", "n?ws.[tx]ech")
            sub.call("SSUBSCRIBE", "shard{1}")
            out = [pub.call("PUBLISH", "news.tech", "hello")]
            # redis-server tries patterns in its dict's (seeded hash) order.
            out += sorted(sub.read_reply() for _ in range(3))
            out.append(pub.call("PUBLISH", "news.art", "x" * 300))
            out.append(sub.read_reply())
            out.append(pub.call("PUBLISH", "other", "nobody"))
            out.append(pub.call("SPUBLISH", "shard{1}", "s-msg"))
            out.append(sub.read_reply())
            # Patterns do not see shard channels, SPUBLISH does not reach
            # global subscribers.
            out.append(pub.call("SPUBLISH", "news.tech", "s"))
            out.append(pub.call("PUBLISH", "shard{1}", "g"))
            out.append(pub.call("PUBLISH", "", "empty channel"))
            sub.close()
            pub.close()
            return out
        self.run_both(script)

    def test_resp3_pushes_and_any_command(self):
        def script(port):
            c = RawClient(port)
            c.call("HELLO", "3")
            out = [c.call("SUBSCRIBE", "a", "b")]
            out.append(c.read_reply())
            out.append(c.call("PSUBSCRIBE", "a*"))
            out.append(c.call("SET", "k", "v"))
            out.append(c.call("GET", "k"))
            out.append(c.call("PING"))
            # Its own message comes before PUBLISH's reply.
            c.send(encode("PUBLISH", "a", "self"))
            out += [c.read_reply() for _ in range(3)]
            out.append(c.call("UNSUBSCRIBE", "b"))
            out.append(c.call("UNSUBSCRIBE", "zz"))
            out.append(c.call("PUNSUBSCRIBE"))
            out.append(c.call("UNSUBSCRIBE"))
            out.append(c.call("UNSUBSCRIBE"))
            out.append(c.call("SSUBSCRIBE", "s"))
            out.append(c.call("SUNSUBSCRIBE", "s", "t"))
            c.call("DEL", "k")
            c.close()
            return out
        self.run_both(script)

    def test_client_reply_keeps_pushes(self):
        def script(port):
            c = RawClient(port)
            c.call("HELLO", "3")
            c.send(encode("CLIENT", "REPLY", "OFF"))
            c.send(encode("SET", "cr", "1"))
            c.send(encode("SUBSCRIBE", "cr"))
            out = [c.read_reply()]
            c.send(encode("CLIENT", "REPLY", "ON"))
            out.append(c.read_reply())
            c.send(encode("CLIENT", "REPLY", "SKIP"))
            c.send(encode("GET", "cr"))
            out.append(c.call("GET", "cr"))
            out.append(c.call("CLIENT", "REPLY", "MAYBE"))
            c.call("DEL", "cr")
            c.close()
            return out
        self.run_both(script)

    def test_pubsub_introspection(self):
        def script(port):
            s1, s2, q = RawClient(port), RawClient(port), RawClient(port)
            s1.call("SUBSCRIBE", "c1")
            s1.call("SUBSCRIBE", "c2")
            s2.call("SUBSCRIBE", "c1")
            s1.call("PSUBSCRIBE", "x*")
            s2.call("PSUBSCRIBE", "x*")
            s2.call("PSUBSCRIBE", "y*")
            s2.call("SSUBSCRIBE", "sc")
            channels = q.call("PUBSUB", "CHANNELS")
            out = [sorted(channels.split(b"\r\n")),
                   q.call("PUBSUB", "CHANNELS", "c[2]"),
                   q.call("PUBSUB", "NUMSUB", "c1", "c2", "c3"),
                   q.call("PUBSUB", "NUMSUB"),
                   q.call("PUBSUB", "NUMPAT"),
                   q.call("PUBSUB", "SHARDCHANNELS"),
                   q.call("PUBSUB", "SHARDCHANNELS", "zz*"),
                   q.call("PUBSUB", "SHARDNUMSUB", "sc", "c1"),
                   q.call("PUBSUB", "HELP"),
                   q.call("PUBSUB", "NOPE"),
                   q.call("PUBSUB", "NUMPAT", "x"),
                   q.call("PUBSUB", "CHANNELS", "a", "b"),
                   q.call("PUBSUB"),
                   q.call("PUBLISH", "c1"),
                   q.call("SUBSCRIBE")]
            info = redis.Redis(port=port).info("stats")
            out.append((info["pubsub_channels"], info["pubsub_patterns"]))
            for c in (s1, s2, q):
                c.close()
            return out
        self.run_both(script)

    def test_reset_and_disconnect_unsubscribe(self):
        for port in self.ports():
            q = RawClient(port)
            c = RawClient(port)
            c.call("SUBSCRIBE", "gone")
            c.call("PSUBSCRIBE", "gone*")
            self.assertEqual(c.call("RESET"), b"+RESET\r\n")
            self.assertEqual(c.call("GET", "nokey"), b"$-1\r\n")
            self.assertEqual(q.call("PUBSUB", "NUMSUB", "gone"),
                             b"*2\r\n$4\r\ngone\r\n:0\r\n")
            self.assertEqual(q.call("PUBSUB", "NUMPAT"), b":0\r\n")
            c.call("SUBSCRIBE", "gone")
            c.close()
            wait_for(lambda: q.call("PUBSUB", "NUMSUB", "gone") ==
                     b"*2\r\n$4\r\ngone\r\n:0\r\n", what="unsubscribed")
            q.close()

    def test_client_list_fields(self):
        c = RawClient(self.qdb.port)
        c.call("SUBSCRIBE", "a", "b")
        c.read_reply()
        c.call("PSUBSCRIBE", "p*")
        line = redis.Redis(port=self.qdb.port).client_list()
        mine = [e for e in line if e["sub"] == "2"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["psub"], "1")
        self.assertEqual(mine[0]["flags"], "P")
        c.close()

    def test_keyspace_notifications_in_redis_order(self):
        def run(c, port):
            for cmd in KEYSPACE_COMMANDS:
                c.call(*cmd)
        self.run_both(lambda port: self.record_events(port, "KEA", run))

    def record_events(self, port, flags, drive):
        """The keyspace messages published under `flags` while
        `drive(c, port)` sends its commands on client `c`, in order, as raw
        replies. `drive` may return more clients it opened, closed at the
        end."""
        r = redis.Redis(port=port)
        r.flushall()
        r.config_set("notify-keyspace-events", flags)
        sub = RawClient(port)
        sub.call("PSUBSCRIBE", "__key*__:*")
        sub.call("SUBSCRIBE", "end")
        c = RawClient(port)
        extra = drive(c, port) or []
        c.call("PUBLISH", "end", "x")
        events = []
        while True:
            msg = sub.read_reply()
            if msg.startswith(b"*3\r\n$7\r\nmessage"):
                break
            events.append(msg)
        r.config_set("notify-keyspace-events", "")
        r.flushall()
        for client in [sub, c] + extra:
            client.close()
        return events

    def keyspace_events(self, port, commands, flags):
        """The keyspace messages `commands` publish under `flags`, in
        order, as raw replies (then RESTORE of a DUMP of "h", if any)."""
        def run(c, port):
            for cmd in commands:
                c.call(*cmd)
            payload = redis.Redis(port=port).dump("h")
            if payload is not None:
                c.call("RESTORE", "rs", "0", payload)
                c.call("RESTORE", "rs", "0", payload, "REPLACE")
        return self.record_events(port, flags, run)

    def test_new_key_events_in_redis_order(self):
        # "new" (the n class, outside A) for every key a write creates,
        # before the write's own event, alone and with every other class.
        for flags in ("En", "Kn", "KEAn", "An"):
            with self.subTest(flags=flags):
                events = self.run_both(lambda port: self.keyspace_events(
                    port, NEW_KEY_COMMANDS, flags))
                joined = b"".join(events)
                if flags == "An":  # neither K nor E: nothing is published
                    self.assertEqual(events, [])
                    continue
                self.assertIn(b"new", joined)
                if flags == "KEAn":
                    # The order of "new" among the command's own events.
                    self.assertIn(b"__keyevent@0__:new\r\n$2\r\nr2\r\n"
                                  b"*4\r\n$8\r\npmessage\r\n", joined)
        # The whole keyspace and stream sequences with "new" added.
        for commands in (KEYSPACE_COMMANDS, STREAM_COMMANDS):
            self.run_both(lambda port: self.keyspace_events(
                port, commands, "KEAn"))

    def test_new_key_event_of_a_served_blocked_client(self):
        def run(c, port):
            blocked = RawClient(port)
            blocked.send(encode("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"))
            wait_for(lambda: b"blocked_clients:1" in c.call("INFO",
                                                            "clients"),
                     what="the BLMOVE to block")
            c.call("RPUSH", "src", "a")
            blocked.read_reply()
            return [blocked]
        events = self.run_both(
            lambda port: self.record_events(port, "KEAn", run))
        self.assertEqual(sum(b"__keyevent@0__:new" in e for e in events), 2)

    def test_stream_keyspace_events_in_redis_order(self):
        # t_stream.c's events: consumers created by XREADGROUP (also when a
        # blocked one is served), XCLAIM and XAUTOCLAIM only when they give
        # it an entry; trims only when entries went; nothing for no-ops.
        def run(c, port):
            for cmd in STREAM_COMMANDS:
                c.call(*cmd)
            # A consumer created when a blocked XREADGROUP is served.
            blocked = RawClient(port)
            blocked.send(encode("XREADGROUP", "GROUP", "g2", "Blocky",
                                "BLOCK", "0", "STREAMS", "s2", ">"))
            wait_for(lambda: b"blocked_clients:1" in c.call("INFO",
                                                            "clients"),
                     what="the XREADGROUP to block")
            c.call("XADD", "s2", "1-1", "f", "v")
            blocked.read_reply()
            return [blocked]
        events = self.run_both(
            lambda port: self.record_events(port, "KEA", run))
        self.assertIn(b"xgroup-createconsumer", b"".join(events))

    def test_notify_keyspace_events_config(self):
        def script(port):
            c = RawClient(port)
            out = []
            for value in ["KEA", "Elg$x", "AKEmn", "K", "", "gsKzh", "xyz",
                          "tdE"]:
                out.append(c.call("CONFIG", "SET", "notify-keyspace-events",
                                  value)[:1])
                out.append(c.call("CONFIG", "GET", "notify-keyspace-events"))
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
            c.close()
            return out
        self.run_both(script)

    def test_expired_events(self):
        for port in self.ports():
            r = redis.Redis(port=port)
            r.config_set("notify-keyspace-events", "Ex")
            sub = RawClient(port)
            sub.call("SUBSCRIBE", "__keyevent@0__:expired")
            r.set("soon", "v", px=30)
            r.set("lazy", "v", px=1)
            time.sleep(0.05)
            r.get("lazy")  # lazy expiry, if the sweep has not got it yet
            got = sorted(sub.read_reply() for _ in range(2))
            self.assertEqual(got, [
                b"*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n"
                b"$4\r\nlazy\r\n",
                b"*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n"
                b"$4\r\nsoon\r\n"])
            r.config_set("notify-keyspace-events", "")
            sub.close()

    def test_redis_py_pubsub(self):
        r = redis.Redis(port=self.qdb.port, decode_responses=True)
        p = r.pubsub()
        p.subscribe("rp")
        p.psubscribe("rp.*")
        self.assertEqual(p.get_message(timeout=2)["type"], "subscribe")
        self.assertEqual(p.get_message(timeout=2)["type"], "psubscribe")
        self.assertIsNone(p.get_message(timeout=0.1))
        self.assertEqual(r.publish("rp", "one"), 1)
        self.assertEqual(r.publish("rp.x", "two"), 1)
        m = p.get_message(timeout=2)
        self.assertEqual((m["type"], m["channel"], m["data"]),
                         ("message", "rp", "one"))
        m = p.get_message(timeout=2)
        self.assertEqual((m["type"], m["pattern"], m["channel"], m["data"]),
                         ("pmessage", "rp.*", "rp.x", "two"))
        self.assertEqual(r.pubsub_numsub("rp"), [("rp", 1)])
        self.assertEqual(r.pubsub_numpat(), 1)
        p.ping()
        self.assertEqual(p.get_message(timeout=2)["type"], "pong")
        r.publish("rp", "three")
        sock = p.connection._sock
        sock.settimeout(2)
        for msg in p.listen():
            if msg["type"] == "message":
                self.assertEqual(msg["data"], "three")
                break
        p.unsubscribe()
        p.punsubscribe()
        p.close()
        wait_for(lambda: r.pubsub_numpat() == 0, what="punsubscribed")
        # Callback handlers in a worker thread, as applications use them.
        got = []
        p2 = r.pubsub()
        p2.subscribe(**{"cb": lambda m: got.append(m["data"])})
        t = p2.run_in_thread(sleep_time=0.01)
        wait_for(lambda: r.pubsub_numsub("cb") == [("cb", 1)],
                 what="thread subscribed")
        r.publish("cb", "via-thread")
        wait_for(lambda: got == ["via-thread"], what="callback")
        t.stop()
        t.join(timeout=5)
        p2.close()


class SlowSubscriber(unittest.TestCase):

    def test_pubsub_output_limit_cuts_a_subscriber_that_never_reads(self):
        qdb = start_qdb("--engine", "memory", "--client-output-buffer-limit",
                        "pubsub 1mb 256kb 1")
        try:
            r = redis.Redis(port=qdb.port)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", qdb.port))
            s.sendall(encode("SUBSCRIBE", "flood"))
            time.sleep(0.1)
            self.assertEqual(r.pubsub_numsub("flood"), [(b"flood", 1)])
            # A normal client with the same backlog would not be cut (the
            # normal class is unlimited here).
            payload = "x" * 64 * 1024
            for _ in range(200):
                if r.publish("flood", payload) == 0:
                    break
            wait_for(lambda: r.pubsub_numsub("flood") == [(b"flood", 0)],
                     what="slow subscriber cut")
            stats = r.info("stats")
            self.assertGreaterEqual(
                stats["client_output_buffer_limit_disconnections"], 1)
            s.close()
        finally:
            qdb.cleanup()

    def test_reading_subscriber_is_not_cut(self):
        qdb = start_qdb("--engine", "memory", "--client-output-buffer-limit",
                        "pubsub 1mb 256kb 1")
        try:
            r = redis.Redis(port=qdb.port)
            sub = RawClient(qdb.port)
            sub.call("SUBSCRIBE", "steady")
            payload = "y" * 1024
            for i in range(2000):
                self.assertEqual(r.publish("steady", payload), 1)
                sub.read_reply()
            self.assertEqual(r.info("stats")[
                "client_output_buffer_limit_disconnections"], 0)
            sub.close()
        finally:
            qdb.cleanup()


class ReplicaDelivery(unittest.TestCase):

    def test_publish_on_master_reaches_replica_subscribers(self):
        master = start_qdb("--engine", "memory")
        replica = start_qdb("--engine", "memory")
        try:
            ru.client(replica.port).replicaof("127.0.0.1", master.port)
            ru.wait_caught_up(master.port, replica.port, timeout=30)
            sub = RawClient(replica.port)
            sub.call("SUBSCRIBE", "repl")
            sub.call("SSUBSCRIBE", "srepl")
            sub.call("PSUBSCRIBE", "re*")
            m = redis.Redis(port=master.port)
            # Receivers counted on the master only, as in Redis.
            self.assertEqual(m.publish("repl", "from-master"), 0)
            self.assertEqual(m.execute_command("SPUBLISH", "srepl", "s"), 0)
            got = [sub.read_reply() for _ in range(3)]
            self.assertEqual(got, [
                b"*3\r\n$7\r\nmessage\r\n$4\r\nrepl\r\n$11\r\nfrom-master\r\n",
                b"*4\r\n$8\r\npmessage\r\n$3\r\nre*\r\n$4\r\nrepl\r\n"
                b"$11\r\nfrom-master\r\n",
                b"*3\r\n$8\r\nsmessage\r\n$5\r\nsrepl\r\n$1\r\ns\r\n"])
            # PUBLISH on the replica itself is local (channel + pattern).
            self.assertEqual(
                redis.Redis(port=replica.port).publish("repl", "local"), 2)
            sub.close()
        finally:
            replica.cleanup()
            master.cleanup()


if __name__ == "__main__":
    unittest.main()
