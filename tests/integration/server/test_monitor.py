"""MONITOR against redis-server 7.0: the same commands on both servers and
the monitor's lines compared after the parts that must differ (timestamp,
client port) are masked - argument quoting, databases, redaction of AUTH,
HELLO and MIGRATE passwords, scripts' commands as [db lua] after their
EVAL, MULTI/EXEC order, admin commands left out, MONITOR refused inside a
transaction, RESET leaving monitor mode, plus CLIENT NO-EVICT."""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, start_qdb, start_redis  # noqa: E402

STAMP = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\]")


def mask(line):
    """+1339518083.107412 [0 127.0.0.1:60866] ... -> +TS [0 ADDR] ..."""
    m = STAMP.match(line)
    assert m, line
    where = m.group(4) if m.group(4) == b"lua" else b"ADDR"
    return b"+TS [" + m.group(3) + b" " + where + b"]" + line[m.end():]


class MonitorAgainstRedis(unittest.TestCase):

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

    maxDiff = None

    def run_both(self, script):
        results = [script(port) for port in self.ports()]
        self.assertEqual(results[0], results[1])
        return results[1]

    def test_lines(self):
        def script(port):
            m, c = RawClient(port), RawClient(port)
            out = [m.call("MONITOR")]
            commands = [
                ("SET", "foo", "bar"),
                ("GET", "foo"),
                ("SELECT", "1"),
                ("SET", "a b", "x\ny\"z\\\t\x01\xff"),
                ("SELECT", "0"),
                ("AUTH", "not-a-password"),
                ("AUTH", "someone", "not-a-password"),
                ("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "n"),
                ("CONFIG", "GET", "maxmemory"),  # admin: not shown
                ("EVAL", "redis.call('set', KEYS[1], ARGV[1])", "1", "k",
                 "v"),
                ("MULTI",), ("SET", "x", "1"), ("INCR", "x"), ("EXEC",),
                ("MULTI",), ("NOSUCHCOMMAND",), ("EXEC",),
                ("GET",),  # arity error: never ran, not shown
                ("PING",),
            ]
            for args in commands:
                c.call(*args)
            lines = []
            # 17 commands ran and are shown (EVAL's SET counts).
            for _ in range(17):
                lines.append(mask(m.read_reply()))
            out += lines
            out.append(m.call("RESET"))
            c.call("SET", "after", "reset")
            out.append(m.call("PING"))  # no monitor line before it
            m.close()
            c.close()
            return out
        out = self.run_both(script)
        self.assertIn(b'+TS [0 lua] "set" "k" "v"\r\n', out)

    def test_monitor_in_transaction_and_own_commands(self):
        def script(port):
            m = RawClient(port)
            out = [m.call("MULTI"), m.call("MONITOR"), m.call("EXEC")]
            out.append(m.call("MONITOR"))
            m.send(b"*1\r\n$4\r\nPING\r\n")
            out.append(m.read_reply())
            out.append(mask(m.read_reply()))
            m.close()
            return out
        self.run_both(script)

    def test_client_no_evict(self):
        def script(port):
            c = RawClient(port)
            out = [c.call("CLIENT", "NO-EVICT", "on")]
            line = c.call("CLIENT", "INFO").decode()
            out.append(re.search(r"flags=\S+", line).group(0))
            out.append(c.call("CLIENT", "NO-EVICT", "off"))
            line = c.call("CLIENT", "INFO").decode()
            out.append(re.search(r"flags=\S+", line).group(0))
            out.append(c.call("CLIENT", "NO-EVICT", "maybe"))
            out.append(c.call("CLIENT", "NO-EVICT"))
            c.close()
            return out
        self.run_both(script)


    def test_client_list_fields_kill_user_and_reset_name(self):
        def script(port):
            c = RawClient(port)
            out = []
            for sub in ("INFO", "LIST"):
                line = c.call("CLIENT", sub).decode()
                out += re.findall(r"(?:cmd|qbuf|name)=\S*", line)
            out.append(c.call("CLIENT", "KILL", "USER", "wrong_user"))
            out.append(c.call("CLIENT", "KILL", "USER", "default",
                              "SKIPME", "yes"))
            out.append(c.call("CLIENT", "SETNAME", "someone"))
            out.append(c.call("RESET"))
            line = c.call("CLIENT", "INFO").decode()
            out += re.findall(r"(?:cmd|name)=\S*", line)
            c.close()
            return out
        self.run_both(script)


if __name__ == "__main__":
    unittest.main()
