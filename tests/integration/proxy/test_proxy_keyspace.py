"""RANDOMKEY and SCAN through reborn-proxy over two qdb-server groups
(issue 24): RANDOMKEY is nil only when every group is empty; SCAN returns
no empty batch before the last one and every key exactly once (no slot
moves here; test_proxy_scan_migration.py covers SCAN during migrations),
also over a plain redis-server group (the group fallback)."""

import unittest
import warnings
import zlib

from harness import RawClient, start_qdb, start_redis
from proxy_harness import ProxyOverQdbCase, start_proxy


def keys_in_half(half, n, prefix="k"):
    """`n` keys whose RebornDB slot is served by group `half` of two."""
    out, i = [], 0
    while len(out) < n:
        k = "%s%d" % (prefix, i)
        if (zlib.crc32(k.encode()) % 1024) // 512 == half:
            out.append(k)
        i += 1
    return out


def parse_scan(reply):
    lines = reply.split(b"\r\n")
    assert lines[0] == b"*2", reply
    cursor = lines[2]
    n = int(lines[3][1:])
    keys = [lines[5 + 2 * i] for i in range(n)]
    return cursor, keys


class ProxyKeyspace(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1 = start_qdb()
        cls.g2 = start_qdb()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port])

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2):
            p.cleanup()

    def setUp(self):
        self.p = RawClient(self.proxy.port)
        self.assertEqual(self.p.call("FLUSHALL"), b"+OK\r\n")

    def tearDown(self):
        self.p.close()

    def test_randomkey_finds_keys_on_any_group(self):
        self.assertEqual(self.p.call("RANDOMKEY"), b"$-1\r\n")
        for half in (1, 0):
            self.p.call("FLUSHALL")
            keys = keys_in_half(half, 3)
            for k in keys:
                self.p.call("SET", k, "v")
            self.assertEqual(self.p.call("DBSIZE"), b":3\r\n")
            for _ in range(20):  # both group orders come up
                reply = self.p.call("RANDOMKEY")
                self.assertTrue(reply.startswith(b"$"), reply)
                self.assertIn(reply.split(b"\r\n")[1].decode(), keys)

    def scan_all(self, *opts):
        seen, cursor, calls = [], b"0", 0
        while True:
            cursor, keys = parse_scan(self.p.call("SCAN", cursor, *opts))
            calls += 1
            if cursor != b"0":
                self.assertTrue(keys, "empty non-final batch %r" % (opts,))
            seen += keys
            if cursor == b"0":
                return seen, calls
            self.assertLess(calls, 1000)

    def test_scan_has_no_empty_batch_between_groups(self):
        keys = keys_in_half(1, 5)  # only the second group has keys
        for k in keys:
            self.p.call("SET", k, "v")
        seen, calls = self.scan_all("COUNT", 2)
        self.assertEqual(sorted(seen), sorted(k.encode() for k in keys))
        # Keys only on the first group: the empty second group adds no
        # trailing batch with a non-zero cursor either.
        self.p.call("FLUSHALL")
        keys = keys_in_half(0, 5)
        for k in keys:
            self.p.call("SET", k, "v")
        seen, _ = self.scan_all("COUNT", 100)
        self.assertEqual(sorted(seen), sorted(k.encode() for k in keys))

    def test_scan_every_key_once_with_match_and_type(self):
        keys = keys_in_half(0, 60, "a") + keys_in_half(1, 60, "b")
        for k in keys:
            self.p.call("SET", k, "v")
        lists = keys_in_half(1, 3, "list")
        for k in lists:
            self.p.call("RPUSH", k, "x")
        seen, _ = self.scan_all("COUNT", 7)
        self.assertEqual(sorted(seen), sorted(k.encode() for k in keys + lists))
        seen, _ = self.scan_all("MATCH", "b1*", "COUNT", 5)
        self.assertEqual(sorted(seen),
                         sorted(k.encode() for k in keys if k.startswith("b1")))
        seen, _ = self.scan_all("TYPE", "list", "COUNT", 3)
        self.assertEqual(sorted(seen), sorted(k.encode() for k in lists))


def backend_scan_calls(clients):
    """SLOTSSCAN + SCAN calls the backends served since CONFIG RESETSTAT."""
    total = 0
    for c in clients:
        info = c.call("INFO", "commandstats").decode()
        for line in info.split("\r\n"):
            name, _, rest = line.partition(":")
            if name in ("cmdstat_slotsscan", "cmdstat_scan"):
                total += int(rest.split(",")[0].split("=")[1])
    return total


class ProxyScanCost(ProxyOverQdbCase):
    """What one SCAN costs in backend calls (issue 24): consecutive slots of
    one group are walked as one SLOTSSCAN ... SLOTS range, so a sparse
    keyspace costs about one backend call per group and client call (it
    cost one per slot, 1024 per iteration); a MATCH with a literal hash tag
    walks its one slot only, and returns what redis-server returns."""


    def setUp(self):
        self.p = RawClient(self.proxy.port)
        self.r = RawClient(self.redis.port)
        self.backends = [RawClient(g.port) for g in (self.g1, self.g2)]
        self.assertEqual(self.p.call("FLUSHALL"), b"+OK\r\n")
        self.assertEqual(self.r.call("FLUSHALL"), b"+OK\r\n")

    def tearDown(self):
        for c in [self.p, self.r] + self.backends:
            c.close()

    def full_scan(self, client, *opts):
        """(keys, client calls, backend calls) of one full iteration."""
        for b in self.backends:
            self.assertEqual(b.call("CONFIG", "RESETSTAT"), b"+OK\r\n")
        seen, cursor, calls = [], b"0", 0
        while True:
            cursor, keys = parse_scan(client.call("SCAN", cursor, *opts))
            calls += 1
            if cursor != b"0":
                self.assertTrue(keys, "empty non-final batch %r" % (opts,))
            seen += keys
            if cursor == b"0":
                return seen, calls, backend_scan_calls(self.backends)
            self.assertLess(calls, 10000)

    def test_sparse_keyspace_costs_few_backend_calls(self):
        _, calls, backend = self.full_scan(self.p)
        self.assertEqual(calls, 1)
        self.assertEqual(backend, 2, "an empty keyspace: one call per group")
        keys = keys_in_half(0, 12, "a") + keys_in_half(1, 13, "b")
        for k in keys:
            self.p.call("SET", k, "v")
        seen, calls, backend = self.full_scan(self.p)
        self.assertEqual(sorted(seen), sorted(k.encode() for k in keys))
        self.assertEqual(calls, 3)  # COUNT 10 of 25 keys
        self.assertLessEqual(backend, 2 * calls)
        seen, calls, backend = self.full_scan(self.p, "COUNT", 1000)
        self.assertEqual(sorted(seen), sorted(k.encode() for k in keys))
        self.assertEqual((calls, backend), (1, 2))
        # A filter: COUNT records examined per backend call, across slots.
        seen, calls, backend = self.full_scan(self.p, "MATCH", "b*",
                                              "COUNT", 100)
        self.assertEqual(sorted(seen),
                         sorted(k.encode() for k in keys if k[0] == "b"))
        self.assertEqual((calls, backend), (1, 2))

    def test_tagged_match_walks_one_slot(self):
        data = ["{user1}:%d" % i for i in range(30)] + [
            "{user1}x", "{user2}:1", "user1:1", "{user1", "a{user1}:1"]
        data += keys_in_half(0, 40, "k") + keys_in_half(1, 40, "k")
        for k in data:
            self.assertEqual(self.p.call("SET", k, "v"), b"+OK\r\n")
            self.assertEqual(self.r.call("SET", k, "v"), b"+OK\r\n")
        # The tag's slot holds about 32 keys; COUNT records a backend call.
        for pattern, count, most in (("{user1}:*", 10, 4),
                                     ("{user1}:*", 100, 1),
                                     ("{user1}:1?", 5, 8),
                                     ("{user1}x", 10, 4),
                                     ("{user2}:*", 10, 1)):
            seen, calls, backend = self.full_scan(self.p, "MATCH", pattern,
                                                  "COUNT", count)
            want, _, _ = self.full_scan(self.r, "MATCH", pattern, "COUNT",
                                        1000)
            self.assertEqual(sorted(seen), sorted(want), pattern)
            self.assertTrue(want, pattern)
            self.assertLessEqual(backend, most, (pattern, count, calls))
        # A glob before the tag's closing brace: every slot may match, and
        # the keys are still redis-server's.
        for pattern in ("{user*}:1", "*{user1}:1", "{user1?:1"):
            seen, _, backend = self.full_scan(self.p, "MATCH", pattern,
                                              "COUNT", 1000)
            want, _, _ = self.full_scan(self.r, "MATCH", pattern, "COUNT",
                                        1000)
            self.assertEqual(sorted(seen), sorted(want), pattern)
            self.assertGreaterEqual(backend, 2, pattern)


class ProxyScanPlainRedisGroup(unittest.TestCase):
    """A redis-server group has no SLOTSSCAN: SCAN falls back to walking the
    groups with their own SCAN, and still returns every key."""

    def test_scan_falls_back_to_groups(self):
        warnings.simplefilter("ignore", ResourceWarning)
        qdb, red = start_qdb(), start_redis()
        proxy = start_proxy([qdb.port, red.port])
        p = RawClient(proxy.port)
        try:
            keys = keys_in_half(0, 40, "q") + keys_in_half(1, 40, "r")
            for k in keys:
                self.assertEqual(p.call("SET", k, "v"), b"+OK\r\n")
            want = sorted(k.encode() for k in keys)
            for round_ in range(2):
                seen, cursor, calls, cursors = [], b"0", 0, []
                while True:
                    cursor, batch = parse_scan(
                        p.call("SCAN", cursor, "COUNT", 9))
                    calls += 1
                    if cursor != b"0":
                        self.assertTrue(batch, "empty non-final batch")
                        cursors.append(int(cursor))
                    seen += batch
                    if cursor == b"0":
                        break
                    self.assertLess(calls, 100)
                # The first iteration met the redis group and started over
                # (repeats allowed); the second walks groups from the start.
                self.assertEqual(sorted(set(seen)), want)
                if round_ == 1:
                    self.assertEqual(sorted(seen), want)
                    self.assertTrue(all(c & 1 for c in cursors), cursors)
            self.assertEqual(p.call("SCAN", "1x"),
                             b"-ERR invalid cursor\r\n")
        finally:
            p.close()
            for proc in (proxy, qdb, red):
                proc.cleanup()


if __name__ == "__main__":
    unittest.main()
