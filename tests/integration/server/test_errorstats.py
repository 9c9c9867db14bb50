"""INFO errorstats, total_error_replies and the rejected_calls /
failed_calls of INFO commandstats against a real redis-server: the same
command sequence (refusals before running, failures, errors inside
MULTI/EXEC and scripts) must leave the same counts on both."""

import re
import time
import unittest

from harness import RawClient, encode, start_qdb, start_redis
from test_slowlog import call

SEQUENCE = [
    ["SET", "k"],                      # arity: rejected
    ["NOSUCHCOMMAND", "x"],            # unknown: ERR, no command
    ["SET", "a", "b"],
    ["INCR", "a"],                     # failed
    ["LPUSH", "a", "x"],               # WRONGTYPE, failed
    ["AUTH", "k"],                     # failed
    ["MULTI"], ["SET", "x", "y"], ["AUTH", "a"], ["EXEC"],
    ["EXEC"],                          # EXEC without MULTI: exec failed
    ["MULTI"], ["SET"], ["EXEC"],      # rejected set, EXECABORT
    ["EVAL", "redis.pcall('incr', 'a') return 1", "0"],
    ["EVAL", "return redis.call('incr', 'a')", "0"],  # counted once
    ["EVAL", "return redis.error_reply('MYERR boom')", "0"],
    ["EVAL", "a"],                     # arity: rejected
    ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    ["XGROUP", "CREATE", "nostream", "g", "$"],
    ["GET", "a"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["SET", "q", "r"],                 # OOM: rejected
    ["CONFIG", "SET", "maxmemory", "0"],
    ["ACL", "SETUSER", "alice", "on", ">p1", "~cached:*", "+get", "+info",
     "+config"],
]
COMMANDS = ["set", "get", "incr", "lpush", "auth", "multi", "exec", "eval",
            "evalsha"]
CMDSTAT = re.compile(rb"^cmdstat_([a-z|]+):calls=(\d+),usec=\d+,"
                     rb"usec_per_call=[\d.]+,rejected_calls=(\d+),"
                     rb"failed_calls=(\d+)$")


def info(client, section):
    return call(client, "INFO", section).split(b"\r\n")


def counts(port):
    c = RawClient(port)
    errorstats = [l for l in info(c, "errorstats") if l]
    total = [l for l in info(c, "stats")
             if l.startswith(b"total_error_replies:")]
    cmdstats = {}
    for line in info(c, "commandstats"):
        m = CMDSTAT.match(line)
        if m and m.group(1).decode() in COMMANDS:
            cmdstats[m.group(1)] = m.groups()[1:]
    c.close()
    return errorstats, total, cmdstats


class ErrorstatsAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory")
        cls.ports = (cls.redis.port, cls.qdb.port)

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def run_sequence(self, port):
        c = RawClient(port)
        call(c, "CONFIG", "RESETSTAT")
        replies = [call(c, *args) for args in SEQUENCE]
        alice = RawClient(port)
        replies.append(call(alice, "AUTH", "alice", "p1"))
        replies.append(call(alice, "SET", "a", "b"))  # NOPERM: rejected
        alice.close()
        c.close()
        return replies

    def test_same_counts(self):
        results = []
        for port in self.ports:
            replies = self.run_sequence(port)
            results.append((replies, counts(port)))
        (r_replies, r_counts), (q_replies, q_counts) = results
        for args, r, q in zip(SEQUENCE, r_replies, q_replies):
            if isinstance(r, bytes) and r.startswith(b"NOSCRIPT"):
                continue
            self.assertEqual(type(r), type(q), args)
        self.assertEqual(r_counts[0], q_counts[0])
        self.assertEqual(r_counts[1], q_counts[1])
        self.assertEqual(r_counts[2], q_counts[2])
        # Non-trivial: the sequence produced errors of several prefixes.
        self.assertGreater(len(r_counts[0]), 5)

    def test_blocked_command_failing_when_unblocked(self):
        # XGROUP DESTROY answers the blocked XREADGROUP -NOGROUP: Redis
        # counts that error and the command's failure when it unblocks it
        # (unit/type/stream-cgroups).
        results = []
        for port in self.ports:
            c, rd = RawClient(port), RawClient(port)
            call(c, "DEL", "mystream")
            call(c, "XGROUP", "CREATE", "mystream", "mygroup", "$",
                 "MKSTREAM")
            call(c, "CONFIG", "RESETSTAT")
            rd.send(encode("XREADGROUP", "GROUP", "mygroup", "Alice",
                           "BLOCK", "0", "STREAMS", "mystream", ">"))
            deadline = time.time() + 10
            while (b"blocked_clients:1" not in call(c, "INFO", "clients")
                   and time.time() < deadline):
                time.sleep(0.01)
            call(c, "XGROUP", "DESTROY", "mystream", "mygroup")
            reply = rd.read_reply()
            rd.close()
            errorstats, total, _ = counts(port)
            cmdstat = [l for l in info(c, "commandstats")
                       if l.startswith(b"cmdstat_xreadgroup:")]
            c.close()
            results.append((reply[:9], errorstats, total,
                            re.sub(rb"usec=\d+,usec_per_call=[\d.]+", b"",
                                   cmdstat[0]) if cmdstat else None))
        self.assertEqual(results[0], results[1])
        self.assertEqual(results[1][1][1:], [b"errorstat_NOGROUP:count=1"])

    def test_resetstat_clears(self):
        for port in self.ports:
            c = RawClient(port)
            call(c, "LPUSH", "l", "x")
            call(c, "INCR", "l")
            self.assertNotEqual(counts(port)[0], [b"# Errorstats"])
            self.assertEqual(call(c, "CONFIG", "RESETSTAT"), b"OK")
            errorstats, total, _ = counts(port)
            self.assertEqual(errorstats, [b"# Errorstats"], port)
            self.assertEqual(total, [b"total_error_replies:0"], port)
            c.close()


if __name__ == "__main__":
    unittest.main()
