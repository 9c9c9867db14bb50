"""SLOWLOG against a real redis-server: the same command sequences, then
the logged entries compared (arguments, trimming, redactions, client
names, what EXEC, scripts and blocked commands leave) - ids, times,
durations and client ports are checked for shape, as they differ by
nature. Errors and help byte for byte."""

import re
import threading
import time
import unittest

from harness import RawClient, start_qdb, start_redis

SAME_REPLIES = [
    ["SLOWLOG", "HELP"],
    ["SLOWLOG", "HELP", "x"],
    ["SLOWLOG", "LEN", "x"],
    ["SLOWLOG", "RESET", "x"],
    ["SLOWLOG", "NOSUCH"],
    ["SLOWLOG", "GET", "1", "2"],
    ["SLOWLOG", "GET", "x"],
    ["SLOWLOG", "GET", "-2"],
    ["SLOWLOG", "GET", "-222"],
    ["SLOWLOG", "GET", "1.5"],
    ["SLOWLOG"],
    ["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
    ["CONFIG", "SET", "slowlog-log-slower-than", "x"],
    ["CONFIG", "SET", "slowlog-max-len", "-1"],
    ["CONFIG", "SET", "slowlog-max-len", "64"],
    ["CONFIG", "GET", "slowlog-max-len"],
    ["CONFIG", "SET", "slowlog-max-len", "128"],
    ["CONFIG", "GET", "slowlog-log-slower-than"],
]

# Run with slowlog-log-slower-than 0 on one connection, then compared.
SEQUENCE = [
    ["SET", "key", "test"],
    ["SADD", "set"] + [str(i) for i in range(3, 34)],   # 33 arguments
    ["SADD", "set", "foo", "A" * 129],                   # one too long
    ["SADD", "set", "bar", "B" * 128],                   # just fits
    ["AUTH", "a", "b", "c", "d"],                        # syntax error
    ["AUTH", "onlypass"],
    ["AUTH", "someuser", "somepass"],
    ["HELLO", "2", "AUTH", "default", "x", "SETNAME", "cli"],
    ["HELLO", "9", "AUTH", "default", "x"],              # no redaction
    ["HELLO", "2", "SETNAME", "named"],
    ["CONFIG", "SET", "masterauth", "secret", "maxmemory-policy",
     "noeviction"],
    ["CONFIG", "SET", "masteruser", "u"],
    ["CONFIG", "SET", "requirepass", ""],
    ["CLIENT", "SETNAME", "lastclient"],
    ["MULTI"],
    ["INCR", "num"],
    ["LPUSH", "list", "a"],
    ["EXEC"],
    ["EVAL", "redis.call('set','a','1') return redis.call('get','a')", "0"],
    ["GET", "a"],
]

# Addresses differ between the servers; the script client has none.
ADDR = re.compile(rb"^127\.0\.0\.1:\d+$")


def parse(data, pos=0):
    """One RESP2 reply from `data` at `pos`: (value, next position)."""
    end = data.index(b"\r\n", pos)
    kind, line = data[pos:pos + 1], data[pos + 1:end]
    pos = end + 2
    if kind in (b"+", b"-"):
        return line, pos
    if kind == b":":
        return int(line), pos
    if kind == b"$":
        n = int(line)
        if n < 0:
            return None, pos
        return data[pos:pos + n], pos + n + 2
    if kind == b"*":
        out = []
        for _ in range(int(line)):
            value, pos = parse(data, pos)
            out.append(value)
        return out, pos
    raise ValueError(data[pos - 1:pos + 20])


def call(client, *args):
    return parse(client.call(*args))[0]


class SlowlogAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory")
        cls.ports = (cls.redis.port, cls.qdb.port)

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def setUp(self):
        for port in self.ports:
            c = RawClient(port)
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
            c.call("CONFIG", "SET", "slowlog-max-len", "128")
            c.call("SLOWLOG", "RESET")
            c.close()

    def logged(self, port, commands, count="-1"):
        """Runs `commands` logging everything; returns SLOWLOG GET count."""
        c = RawClient(port)
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        c.call("SLOWLOG", "RESET")
        for cmd in commands:
            c.call(*cmd)
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
        entries = call(c, "SLOWLOG", "GET", count)
        c.close()
        return entries

    def check_shape(self, entries):
        now = time.time()
        ids = [e[0] for e in entries]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(len(set(ids)), len(ids))
        for e in entries:
            self.assertEqual(len(e), 6, e)
            self.assertLessEqual(abs(e[1] - now), 60)
            self.assertGreaterEqual(e[2], 0)
            self.assertTrue(e[4] == b"?:0" or ADDR.match(e[4]), e)

    def comparable(self, entries):
        # Arguments, whether the client had an address, and its name.
        return [(e[3], e[4] == b"?:0", e[5]) for e in entries]

    def test_errors_and_help_match_redis(self):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        for cmd in SAME_REPLIES:
            self.assertEqual(r.call(*cmd), q.call(*cmd), cmd)

    def test_entries_match_redis(self):
        got = {}
        for port in self.ports:
            entries = self.logged(port, SEQUENCE)
            self.check_shape(entries)
            got[port] = self.comparable(entries)
        self.assertEqual(got[self.redis.port], got[self.qdb.port])
        # The trimmed and redacted forms are there (not just equal).
        args = [e[0] for e in got[self.qdb.port]]
        self.assertIn([b"sadd", b"set"] + [b"%d" % i for i in range(3, 32)] +
                      [b"... (2 more arguments)"],
                      [[a.lower() if i == 0 else a for i, a in enumerate(x)]
                       for x in args])
        self.assertIn([b"SADD", b"set", b"foo", b"A" * 128 +
                       b"... (1 more bytes)"], args)
        self.assertIn([b"AUTH", b"(redacted)", b"(redacted)"], args)
        self.assertNotIn([b"EXEC"], args)

    def test_get_count_len_and_max_len(self):
        for port in self.ports:
            c = RawClient(port)
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
            c.call("CONFIG", "SET", "slowlog-max-len", "10")
            for _ in range(100):
                c.call("PING")
            self.assertEqual(c.call("SLOWLOG", "LEN"), b":10\r\n")
            self.assertEqual(len(call(c, "SLOWLOG", "GET", "5")), 5)
            self.assertEqual(len(call(c, "SLOWLOG", "GET")), 10)
            self.assertEqual(len(call(c, "SLOWLOG", "GET", "-1")), 10)
            self.assertEqual(call(c, "SLOWLOG", "GET", "0"), [])
            # A shorter max-len keeps the newest entries only.
            c.call("CONFIG", "SET", "slowlog-max-len", "3")
            c.call("PING")
            newest = call(c, "SLOWLOG", "GET", "1")[0]
            self.assertEqual(newest[3], [b"PING"])
            self.assertEqual(c.call("SLOWLOG", "LEN"), b":3\r\n")
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
            c.call("SLOWLOG", "RESET")
            c.call("PING")
            self.assertEqual(c.call("SLOWLOG", "LEN"), b":0\r\n")
            c.call("CONFIG", "SET", "slowlog-max-len", "128")

    def test_only_slower_commands_are_logged(self):
        slow = ["EVAL", "local i = 0 while i < 4000000 do i = i + 1 end "
                "return i", "0"]
        for port in self.ports:
            c = RawClient(port)
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "5000")
            c.call("SLOWLOG", "RESET")
            c.call("PING")
            c.call("CLIENT", "SETNAME", "slowone")
            c.call(*slow)
            entries = call(c, "SLOWLOG", "GET")
            self.assertEqual(len(entries), 1, port)
            self.assertEqual(entries[0][3], [s.encode() for s in slow])
            self.assertGreaterEqual(entries[0][2], 5000)
            self.assertEqual(entries[0][5], b"slowone")

    def test_blocked_command_is_logged_when_served(self):
        # Redis' own case: the served BLPOP comes after the EXEC that
        # pushed (and reset the log), without its blocked time.
        got = {}
        for port in self.ports:
            c, blocked = RawClient(port), RawClient(port)
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
            blocked.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n0\r\n")
            deadline = time.time() + 5
            while b"blocked_clients:1" not in c.call("INFO", "clients"):
                self.assertLess(time.time(), deadline)
                time.sleep(0.01)
            time.sleep(0.2)  # blocked time that must not count
            c.call("MULTI")
            c.call("LPUSH", "l", "foo")
            c.call("SLOWLOG", "RESET")
            c.call("EXEC")
            self.assertEqual(parse(blocked.read_reply())[0], [b"l", b"foo"])
            entries = call(c, "SLOWLOG", "GET")
            self.assertEqual(entries[0][3], [b"BLPOP", b"l", b"0"])
            self.assertLess(entries[0][2], 150000)
            got[port] = [e[3] for e in entries]
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        self.assertEqual(got[self.redis.port], got[self.qdb.port])

    def test_many_clients_at_once_stay_bounded(self):
        q = RawClient(self.qdb.port)
        q.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        q.call("CONFIG", "SET", "slowlog-max-len", "50")
        errors = []

        def worker(n):
            try:
                c = RawClient(self.qdb.port)
                for i in range(300):
                    c.call("SET", "k%d" % n, "v" * (i % 200))
                c.close()
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,))
                   for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        entries = call(q, "SLOWLOG", "GET", "-1")
        self.assertLessEqual(len(entries), 50)
        self.check_shape(entries)
        q.call("CONFIG", "SET", "slowlog-max-len", "128")


if __name__ == "__main__":
    unittest.main()
