"""hiredis (C) through reborn-proxy in front of two redis-server groups:
SET/GET, MSET/MGET split across slots, INCR, and a deep pipeline
(redisAppendCommand/redisGetReply) — see hiredis_client.c."""

import subprocess
import sys
import unittest
import warnings

import redis

from harness import start_redis
from proxy_harness import start_proxy

BINARY = None


class HiredisThroughProxy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1 = start_redis()
        cls.g2 = start_redis()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port])

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2):
            p.cleanup()

    def test_hiredis_client(self):
        out = subprocess.run([BINARY, "127.0.0.1", str(self.proxy.port)],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0,
                         out.stdout + out.stderr + self.proxy.output())
        self.assertIn("checks passed", out.stdout)
        # The keys really are spread over both groups.
        n1 = redis.Redis(port=self.g1.port).dbsize()
        n2 = redis.Redis(port=self.g2.port).dbsize()
        self.assertGreater(n1, 0)
        self.assertGreater(n2, 0)
        self.assertEqual(n1 + n2, 367)

    def test_client_fails_against_nothing(self):
        # The helper reports a failure (non-zero) when it cannot connect.
        out = subprocess.run([BINARY, "127.0.0.1", "1"], capture_output=True,
                             text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("FAIL", out.stderr)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
