"""examples/custom_coordinator: a user-registered read-only file://
coordinator backend, routed through by the in-process Client against real
redis-servers."""

import subprocess
import sys
import unittest

import redis

from harness import start_redis

BINARY = None


class CustomCoordinatorExample(unittest.TestCase):

    def run_example(self, *servers):
        out = subprocess.run([BINARY] + ["127.0.0.1:%d" % s.port
                                         for s in servers],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("all checks passed", out.stdout)
        self.assertFalse([l for l in out.stdout.splitlines()
                          if l.startswith("FAIL")], out.stdout)
        self.assertIn("writes refused: FAILED_PRECONDITION", out.stdout)
        return out.stdout

    def test_one_group(self):
        g = start_redis()
        try:
            out = self.run_example(g)
            self.assertIn("1 group(s)", out)
            r = redis.Redis(port=g.port, decode_responses=True)
            self.assertEqual(r.get("cc:tree:greeting"), "hello")
            self.assertEqual(r.get("cc:json:visits"), "2")
        finally:
            g.cleanup()

    def test_two_groups_split_slots(self):
        g1, g2 = start_redis(), start_redis()
        try:
            out = self.run_example(g1, g2)
            self.assertIn("2 group(s)", out)
            k1 = redis.Redis(port=g1.port).keys("cc:tree:user:*")
            k2 = redis.Redis(port=g2.port).keys("cc:tree:user:*")
            # The 16 MSET keys landed on both groups, none twice.
            self.assertGreater(len(k1), 0)
            self.assertGreater(len(k2), 0)
            self.assertEqual(len(k1) + len(k2), 16)
        finally:
            g1.cleanup()
            g2.cleanup()

    def test_unreachable_server_fails(self):
        # Nothing listens on port 1: the commands fail, the example says so.
        out = subprocess.run([BINARY, "127.0.0.1:1"], capture_output=True,
                             text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertTrue([l for l in out.stdout.splitlines()
                         if l.startswith("FAIL ")], out.stdout)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
