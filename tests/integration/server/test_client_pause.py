"""CLIENT PAUSE / UNPAUSE against redis-server 7.0: which commands a WRITE
pause holds (writes, EVAL, PUBLISH, PFCOUNT, an EXEC with writes) and which
run (reads, EVAL_RO, MULTI queuing reads), ALL holding everything, the held
command running once when the pause ends (by UNPAUSE or by its timeout),
pauses only growing stricter and longer, blocked_clients counting held
clients, and the error texts."""

import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, start_qdb, start_redis  # noqa: E402


def held(c, timeout=0.3):
    """True when no reply arrives within `timeout` seconds."""
    c.sock.settimeout(timeout)
    try:
        c._fill()
        return False
    except socket.timeout:
        return True
    finally:
        c.sock.settimeout(5.0)


def blocked_clients(c):
    text = c.call("INFO", "clients").decode()
    return int(re.search(r"blocked_clients:(\d+)", text).group(1))


class ClientPauseAgainstRedis(unittest.TestCase):

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
        results = [script(port) for port in self.ports()]
        self.assertEqual(results[0], results[1])
        return results[1]

    def test_errors(self):
        def script(port):
            c = RawClient(port)
            out = [c.call("CLIENT", "PAUSE"),
                   c.call("CLIENT", "PAUSE", "abc"),
                   c.call("CLIENT", "PAUSE", "-1"),
                   c.call("CLIENT", "PAUSE", "10", "READ"),
                   c.call("CLIENT", "PAUSE", "10", "WRITE", "x"),
                   c.call("CLIENT", "UNPAUSE", "x"),
                   c.call("CLIENT", "UNPAUSE")]
            c.close()
            return out
        self.run_both(script)

    def test_write_pause_holds_writes_until_unpause(self):
        def script(port):
            admin, w, r = RawClient(port), RawClient(port), RawClient(port)
            out = [admin.call("SET", "k", "0"),
                   admin.call("CLIENT", "PAUSE", "100000", "WRITE")]
            # Reads and read-only scripts run.
            out.append(r.call("GET", "k"))
            out.append(r.call("EVAL_RO", "return redis.call('get', KEYS[1])",
                              "1", "k"))
            out.append(r.call("MULTI"))
            out.append(r.call("GET", "k"))
            out.append(r.call("EXEC"))
            out.append(r.call("PING"))
            # A write is held, and counted as a blocked client.
            w.send(b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n")
            out.append(held(w))
            out.append(blocked_clients(admin))
            out.append(admin.call("GET", "k"))
            out.append(admin.call("CLIENT", "UNPAUSE"))
            out.append(w.read_reply())
            out.append(admin.call("GET", "k"))
            out.append(blocked_clients(admin))
            for c in (admin, w, r):
                c.close()
            return out
        self.run_both(script)

    def test_write_pause_holds_may_replicate_commands(self):
        def script(port):
            admin = RawClient(port)
            out = [admin.call("CLIENT", "PAUSE", "100000", "WRITE")]
            for args in (("EVAL", "return 1", "0"), ("PUBLISH", "ch", "m"),
                         ("PFCOUNT", "hll")):
                c = RawClient(port)
                c.send(b"*%d\r\n" % len(args) + b"".join(
                    b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
                out.append(held(c, 0.2))
                admin.call("CLIENT", "UNPAUSE")
                out.append(c.read_reply())
                admin.call("CLIENT", "PAUSE", "100000", "WRITE")
                c.close()
            # An EXEC with a queued write is held; the queuing is too.
            c = RawClient(port)
            out.append(c.call("MULTI"))
            c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n")
            out.append(held(c, 0.2))
            out.append(admin.call("CLIENT", "UNPAUSE"))
            out.append(c.read_reply())
            out.append(admin.call("CLIENT", "PAUSE", "100000", "WRITE"))
            c.send(b"*1\r\n$4\r\nEXEC\r\n")
            out.append(held(c, 0.2))
            out.append(admin.call("CLIENT", "UNPAUSE"))
            out.append(c.read_reply())
            c.close()
            admin.close()
            return out
        self.run_both(script)

    def test_read_only_scripts_refuse_may_replicate_commands(self):
        def script(port):
            c = RawClient(port)
            out = [c.call("EVAL_RO", "return redis.call('%s', 'x', 'y')" % n,
                          "0") for n in ("publish", "pfcount", "get")]
            c.close()
            return out
        out = self.run_both(script)
        self.assertTrue(out[0].startswith(b"-ERR Write commands are not"))

    def test_no_writes_scripts_run_under_write_pause(self):
        def script(port):
            admin, c = RawClient(port), RawClient(port)
            out = [admin.call(
                "FUNCTION", "LOAD", "REPLACE",
                "#!lua name=pauselib\n"
                "redis.register_function{function_name='ro_f', "
                "callback=function() return 'hi' end, flags={'no-writes'}}")]
            sha = c.call("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 2")
            out.append(sha)
            sha = sha.split(b"\r\n")[1].decode()
            out.append(admin.call("CLIENT", "PAUSE", "100000", "WRITE"))
            out.append(c.call("EVAL", "#!lua flags=no-writes\nreturn 1", "0"))
            out.append(c.call("EVALSHA", sha, "0"))
            out.append(c.call("FCALL", "ro_f", "0"))
            c.send(b"*3\r\n$4\r\nEVAL\r\n$14\r\n#!lua\nreturn 3\r\n"
                   b"$1\r\n0\r\n")
            out.append(held(c, 0.2))  # a shebang without no-writes writes
            out.append(admin.call("CLIENT", "UNPAUSE"))
            out.append(c.read_reply())
            out.append(admin.call("FUNCTION", "DELETE", "pauselib"))
            admin.close()
            c.close()
            return out
        self.run_both(script)

    def test_pause_ends_by_itself_and_all_holds_reads(self):
        def script(port):
            admin, c = RawClient(port), RawClient(port)
            out = [admin.call("CLIENT", "PAUSE", "300", "ALL")]
            start = time.time()
            out.append(c.call("PING"))  # held until the pause ends
            waited = time.time() - start
            out.append(0.2 < waited < 3)
            # A shorter or weaker second pause changes nothing.
            out.append(admin.call("CLIENT", "PAUSE", "400", "WRITE"))
            out.append(admin.call("CLIENT", "PAUSE", "10", "WRITE"))
            c.send(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
            out.append(c.read_reply())  # a read under WRITE runs
            start = time.time()
            out.append(c.call("SET", "k", "v"))
            out.append(0.2 < time.time() - start < 3)
            admin.close()
            c.close()
            return out
        self.run_both(script)


if __name__ == "__main__":
    unittest.main()
