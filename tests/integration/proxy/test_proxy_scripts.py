"""EVAL/EVALSHA through reborn-proxy with two qdb-server groups on a real
ZooKeeper: scripts route by their keys (CROSSSLOT across slots, a keyless
script to the designated group), and an EVALSHA that meets NOSCRIPT on a
group that lacks the script — a promoted master that never saw SCRIPT LOAD,
a group whose cache was flushed — is answered by the proxy loading the
script there and running it again, when the proxy saw the body (EVAL or
SCRIPT LOAD). A proxy that never saw it relays NOSCRIPT as redis-server
words it."""

import os
import sys
import unittest
import warnings
import zlib

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "migrate"))
from cluster import Cluster  # noqa: E402
from harness import RawClient, start_qdb, start_redis  # noqa: E402

SCRIPT = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
OTHER = "return {KEYS[1], ARGV[1], redis.call('GET', KEYS[1])}"


def name_in(prefix, lo, hi):
    for i in range(100000):
        n = "%s%d" % (prefix, i)
        if lo <= zlib.crc32(n.encode()) % 1024 <= hi:
            return n
    raise AssertionError("no name")


class ProxyScripts(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.cluster = Cluster("scripts")
        try:
            cls.cluster.config("slot", "range-set", "512", "1023", "2")
            cls.g1, cls.g2 = cls.cluster.groups[1], cls.cluster.groups[2]
            cls.a = cls.cluster.start_proxy()
            cls.b = cls.cluster.start_proxy()
            cls.nocache = cls.cluster.start_proxy("--script-cache-bytes", "0")
            cls.redis = start_redis()
        except BaseException:
            cls.cluster.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.cluster.cleanup()

    def test_routing_and_errors_as_redis(self):
        k1, k2 = name_in("sk", 0, 511), name_in("sk", 512, 1023)
        r, p = RawClient(self.redis.port), RawClient(self.a.port)
        for argv in (("SCRIPT", "LOAD", SCRIPT),
                     ("EVALSHA", "0" * 40, "1", k1, "1"),
                     ("EVAL", SCRIPT, "1", k1, "5"),
                     ("EVAL", SCRIPT, "1", k2, "7"),
                     ("EVAL", OTHER, "1", k2, "x"),
                     ("EVAL", "return 42", "0"),
                     ("EVAL", SCRIPT, "-1", k1),
                     ("FLUSHALL",)):
            self.assertEqual(p.call(*argv), r.call(*argv), argv)
        self.assertEqual(
            p.call("EVAL", SCRIPT, "2", k1, k2, "1"),
            b"-CROSSSLOT Keys in request don't hash to the same slot\r\n")
        r.close()
        p.close()

    def test_noscript_after_failover_is_reloaded(self):
        sha = redis.Redis(port=self.a.port).script_load(SCRIPT)
        k1 = name_in("fo", 0, 511)
        spare = start_qdb()
        addr = "127.0.0.1:%d" % spare.port
        try:
            self.cluster.config("group", "add-server", "1", addr, "slave")
            self.cluster.config("server", "promote", "1", addr, "--force")
            self.assertEqual(redis.Redis(port=spare.port).script_exists(sha),
                             [False])
            a = redis.Redis(port=self.a.port)
            self.assertEqual(a.evalsha(sha, 1, "probe-{%s}" % k1, 0), 0)
            # The new master had no script: the proxy loaded it there.
            self.assertEqual(redis.Redis(port=spare.port).script_exists(sha),
                             [True])
            self.assertEqual(a.evalsha(sha, 1, k1, 3), 3)
            self.assertEqual(redis.Redis(port=spare.port).get(k1), b"3")
            # A proxy without a cache relays NOSCRIPT (after a flush there).
            redis.Redis(port=spare.port).script_flush()
            n = RawClient(self.nocache.port)
            self.assertEqual(
                n.call("EVALSHA", sha, "1", k1, "1"),
                b"-NOSCRIPT No matching script. Please use EVAL.\r\n")
            n.close()
        finally:
            self.cluster.config("server", "promote", "1",
                                "127.0.0.1:%d" % self.g1.port, "--force")
            self.cluster.config("group", "remove-server", "1", addr)
            spare.cleanup()

    def test_eval_body_remembered_for_a_group_that_never_saw_it(self):
        k2 = name_in("ev", 512, 1023)
        k1 = name_in("ev", 0, 511)
        b = redis.Redis(port=self.b.port)
        self.assertEqual(b.eval(OTHER, 1, k1, "a"), [k1.encode(), b"a", None])
        sha = b.script_load(OTHER)  # the sha of what EVAL ran
        redis.Redis(port=self.g2.port).script_flush()
        self.assertEqual(redis.Redis(port=self.g2.port).script_exists(sha),
                         [False])
        b.set(k2, "v")
        self.assertEqual(b.evalsha(sha, 1, k2, "z"), [k2.encode(), b"z", b"v"])
        self.assertEqual(redis.Redis(port=self.g2.port).script_exists(sha),
                         [True])
        # SCRIPT FLUSH through the proxy forgets the bodies.
        b.script_flush()
        with self.assertRaises(redis.exceptions.NoScriptError):
            b.evalsha(sha, 1, k2, "z")

    def test_fcall_reloads_missing_library(self):
        lib = ("#!lua name=plib\nredis.register_function('pincr', "
               "function(keys, args) return redis.call('INCRBY', keys[1], "
               "args[1]) end)")
        k2 = name_in("fc", 512, 1023)
        a, b = RawClient(self.a.port), RawClient(self.b.port)
        r = RawClient(self.redis.port)
        self.assertEqual(a.call("FUNCTION", "LOAD", lib),
                         r.call("FUNCTION", "LOAD", lib))
        g2 = redis.Redis(port=self.g2.port)
        g2.execute_command("FUNCTION", "FLUSH")
        # Proxy A loaded it: it loads it again where it is missing.
        self.assertEqual(a.call("FCALL", "pincr", "1", k2, "5"), b":5\r\n")
        self.assertEqual(len(g2.execute_command("FUNCTION", "LIST")), 1)
        # Proxy B never saw it: the error redis-server gives.
        g2.execute_command("FUNCTION", "FLUSH")
        self.assertEqual(b.call("FCALL", "pincr", "1", k2, "5"),
                         r.call("FCALL", "nosuch", "0"))
        # FUNCTION DELETE through A forgets it.
        self.assertEqual(a.call("FCALL", "pincr", "1", k2, "1"), b":6\r\n")
        self.assertEqual(a.call("FUNCTION", "DELETE", "plib"), b"+OK\r\n")
        self.assertEqual(a.call("FCALL", "pincr", "1", k2, "1"),
                         b"-ERR Function not found\r\n")
        for c in (a, b, r):
            c.close()


if __name__ == "__main__":
    unittest.main()
