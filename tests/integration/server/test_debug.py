"""DEBUG against a real redis-server: the enable-debug-command refusal
(no, local from a loopback client), which counts as a rejected call, and
the subcommands qdb-server supports (SLEEP), byte for byte."""

import time
import unittest

from harness import RawClient, start_qdb, start_redis
from test_slowlog import call


class DebugDisabled(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis("--enable-debug-command", "no")
        cls.qdb = start_qdb("--engine", "memory")  # the default is no
        cls.ports = (cls.redis.port, cls.qdb.port)

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def test_refused_and_rejected(self):
        replies = []
        for port in self.ports:
            c = RawClient(port)
            call(c, "CONFIG", "RESETSTAT")
            replies.append((c.call("DEBUG", "SLEEP", "0"), c.call("DEBUG"),
                            c.call("CONFIG", "GET", "enable-debug-command")))
            stats = call(c, "INFO", "commandstats").split(b"\r\n")
            replies.append([l.split(b",", 3)[3] for l in stats
                            if l.startswith(b"cmdstat_debug:")])
            c.close()
        self.assertEqual(replies[0], replies[2])
        self.assertEqual(replies[1], replies[3])
        self.assertTrue(replies[0][0].startswith(b"-ERR DEBUG command not"))
        self.assertEqual(replies[1], [b"rejected_calls=2,failed_calls=0"])


class DebugLocal(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis("--enable-debug-command", "local")
        cls.qdb = start_qdb("--engine", "memory", "--enable-debug-command",
                            "local")
        cls.ports = (cls.redis.port, cls.qdb.port)

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def test_same_replies(self):
        cases = [["DEBUG", "SLEEP", "0"], ["DEBUG", "SLEEP", "abc"],
                 ["DEBUG", "SLEEP"], ["DEBUG", "NOSUCH"],
                 ["DEBUG", "nosuch", "x", "y"], ["DEBUG"]]
        for args in cases:
            got = []
            for port in self.ports:
                c = RawClient(port)
                got.append(c.call(*args))
                c.close()
            self.assertEqual(got[0], got[1], args)

    def test_sleep_sleeps(self):
        c = RawClient(self.qdb.port)
        begin = time.monotonic()
        self.assertEqual(c.call("DEBUG", "SLEEP", "0.2"), b"+OK\r\n")
        self.assertGreaterEqual(time.monotonic() - begin, 0.2)
        help_lines = call(c, "DEBUG", "HELP")
        self.assertIn(b"SLEEP <seconds>", help_lines)
        c.close()

    def test_change_repl_id(self):
        def replid(c):
            for line in call(c, "INFO", "replication").split(b"\r\n"):
                if line.startswith(b"master_replid:"):
                    return line
            return None
        for port in self.ports:
            c = RawClient(port)
            before = replid(c)
            self.assertEqual(c.call("DEBUG", "CHANGE-REPL-ID"), b"+OK\r\n")
            after = replid(c)
            self.assertIsNotNone(after, port)
            self.assertNotEqual(before, after, port)
            c.close()


if __name__ == "__main__":
    unittest.main()
