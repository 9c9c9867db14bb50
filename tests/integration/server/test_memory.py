"""MEMORY and maxmemory against a real redis-server: MEMORY's replies and
errors byte for byte (USAGE's numbers are QDB's own: what a key takes in
the store), and over maxmemory the same OOM refusals, inside MULTI and at
EXEC too."""

import unittest

from harness import RawClient, RedisAndQdbCase

# Replies that must match redis-server's exactly.
SAME_REPLIES = [
    ["MEMORY", "HELP"],
    ["MEMORY", "HELP", "x"],
    ["MEMORY", "NOSUCH"],
    ["MEMORY", "USAGE"],
    ["MEMORY", "USAGE", "missing"],
    ["MEMORY", "USAGE", "s", "SAMPLES"],
    ["MEMORY", "USAGE", "s", "SAMPLES", "-1"],
    ["MEMORY", "USAGE", "s", "SAMPLES", "x"],
    ["MEMORY", "USAGE", "s", "BOGUS", "1"],
    ["MEMORY", "STATS", "x"],
    ["MEMORY", "DOCTOR", "x"],
    ["MEMORY", "PURGE", "x"],
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    ["CONFIG", "GET", "maxmemory-policy"],
    ["CONFIG", "SET", "maxmemory-policy", "nosuch"],
    ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    ["CONFIG", "SET", "maxmemory", "100mb"],
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "SET", "maxmemory", "0"],
]

# Sequences run with maxmemory 1 (set by another client, as Redis' own
# tests do), each reply compared.
OOM_SEQUENCES = [
    [["SET", "x", "1"], ["GET", "s"], ["DEL", "s2"], ["PING"]],
    [["MULTI"], ["SET", "x", "1"], ["DISCARD"], ["PING"]],
    [["MULTI"], ["GET", "s"], ["EXEC"]],
    [["LPUSH", "l", "a"], ["SADD", "st", "a"], ["INCR", "n"]],
]


class MemoryAgainstRedis(RedisAndQdbCase):

    def setUp(self):
        for port in (self.redis.port, self.qdb.port):
            c = RawClient(port)
            c.call("FLUSHALL")
            c.call("SET", "s", "hello")
            c.call("CONFIG", "SET", "maxmemory", "0")
            c.close()

    def test_replies_and_errors_match_redis(self):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        for cmd in SAME_REPLIES:
            self.assertEqual(r.call(*cmd), q.call(*cmd), cmd)

    def test_usage_grows_with_the_value_and_samples_all(self):
        q = RawClient(self.qdb.port)
        small = int(q.call("MEMORY", "USAGE", "s")[1:-2])
        q.call("SET", "big", "x" * 10000)
        big = int(q.call("MEMORY", "USAGE", "big")[1:-2])
        self.assertGreater(small, len("s") + len("hello"))
        self.assertGreater(big, 10000)
        self.assertLess(big, 42000)  # Redis' own bound in unit/type/string
        for i in range(200):
            q.call("HSET", "h", f"field{i}", "v" * (i % 7))
        estimate = int(q.call("MEMORY", "USAGE", "h")[1:-2])
        exact = int(q.call("MEMORY", "USAGE", "h", "SAMPLES", "0")[1:-2])
        self.assertGreater(exact, 200 * len("field0"))
        self.assertLess(abs(estimate - exact), exact)  # same magnitude
        q.call("ZADD", "z", "1", "a", "2", "b")
        q.call("RPUSH", "list", "a", "b", "c")
        for key in ("z", "list"):
            self.assertTrue(q.call("MEMORY", "USAGE", key).startswith(b":"))

    def test_stats_and_doctor_have_redis_shapes(self):
        for proto in (2, 3):
            q = RawClient(self.qdb.port)
            q.call("HELLO", str(proto))
            stats = q.call("MEMORY", "STATS")
            self.assertTrue(stats.startswith(b"%" if proto == 3 else b"*"))
            for field in (b"peak.allocated", b"total.allocated",
                          b"keys.count", b"fragmentation"):
                self.assertIn(field, stats)
            doctor = q.call("MEMORY", "DOCTOR")
            self.assertTrue(doctor.startswith(b"=" if proto == 3 else b"$"))
            self.assertIn(b"Sam", doctor)
            self.assertEqual(q.call("MEMORY", "PURGE"), b"+OK\r\n")

    def test_over_maxmemory_refuses_like_redis(self):
        for seq in OOM_SEQUENCES:
            replies = {}
            for port in (self.redis.port, self.qdb.port):
                admin, c = RawClient(port), RawClient(port)
                admin.call("CONFIG", "SET", "maxmemory", "1")
                replies[port] = [c.call(*cmd) for cmd in seq]
                admin.call("CONFIG", "SET", "maxmemory", "0")
                replies[port].append(c.call("EXISTS", "x", "l", "st", "n"))
            self.assertEqual(replies[self.redis.port], replies[self.qdb.port],
                             seq)

    def test_exec_with_a_write_is_aborted_over_maxmemory(self):
        replies = {}
        for port in (self.redis.port, self.qdb.port):
            admin, c = RawClient(port), RawClient(port)
            out = [c.call("MULTI"), c.call("SET", "x", "1"),
                   c.call("GET", "x")]
            admin.call("CONFIG", "SET", "maxmemory", "1")
            out.append(c.call("EXEC"))
            admin.call("CONFIG", "SET", "maxmemory", "0")
            out += [c.call("EXISTS", "x"), c.call("EXEC")]
            replies[port] = out
        self.assertEqual(replies[self.redis.port], replies[self.qdb.port])
        self.assertTrue(replies[self.qdb.port][3].startswith(b"-EXECABORT"))


if __name__ == "__main__":
    unittest.main()
