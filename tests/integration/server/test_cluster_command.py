"""CLUSTER on qdb-server against redis-server 7.0 with cluster-enabled no:
the command is known (COMMAND INFO, COMMAND LIST, the subcommands' arity and
flags) and every subcommand answers Redis' non-cluster error, byte for byte,
from a client, inside MULTI/EXEC and from scripts (CLUSTER RESET is
noscript), in RESP2 and RESP3."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, RedisAndQdbCase  # noqa: E402

SUBCOMMANDS = [
    "addslots", "addslotsrange", "bumpepoch", "count-failure-reports",
    "countkeysinslot", "delslots", "delslotsrange", "failover",
    "flushslots", "forget", "getkeysinslot", "help", "info", "keyslot",
    "links", "meet", "myid", "nodes", "replicas", "replicate", "reset",
    "saveconfig", "set-config-epoch", "setslot", "shards", "slaves", "slots",
]


def parse(raw):
    """A raw RESP reply as nested Python values (arrays and sets as lists,
    maps as lists of pairs), for comparisons that ignore element order."""
    pos = 0

    def line():
        nonlocal pos
        end = raw.index(b"\r\n", pos)
        text = raw[pos:end]
        pos = end + 2
        return text

    def one():
        nonlocal pos
        head = line()
        kind, rest = head[:1], head[1:]
        if kind in (b"+", b"-", b":", b",", b"#"):
            return (kind, rest)
        if kind == b"_":
            return None
        if kind in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return None
            data = raw[pos:pos + n]
            pos += n + 2
            return data
        n = int(rest)
        if n < 0:
            return None
        if kind == b"%":
            return [(one(), one()) for _ in range(n)]
        return [one() for _ in range(n)]

    return one()


class ClusterAgainstRedis(RedisAndQdbCase):

    def run_both(self, script):
        results = [script(port) for port in (self.redis.port, self.qdb.port)]
        self.assertEqual(results[0], results[1])
        return results[1]

    def test_every_subcommand_answers_the_non_cluster_error(self):
        def script(port):
            c = RawClient(port)
            out = []
            for proto in ("2", "3"):
                out.append(c.call("HELLO", proto)[:1])
                out.append(c.call("CLUSTER"))
                out.append(c.call("CLUSTER", "nosuch"))
                out.append(c.call("CLUSTER", "nosuch", "x", "y"))
                for sub in SUBCOMMANDS:
                    # Right arity (one or four arguments), then wrong.
                    for extra in ([], ["1"], ["1", "2", "3"], ["1"] * 5):
                        out.append(c.call("CLUSTER", sub.upper(), *extra))
                out.append(c.call("CLUSTER", "Info"))
            c.close()
            return out
        out = self.run_both(script)
        self.assertIn(b"-ERR This instance has cluster support disabled\r\n",
                      out)
        self.assertIn(b"-ERR wrong number of arguments for 'cluster|info' "
                      b"command\r\n", out)

    def test_transactions(self):
        def script(port):
            c = RawClient(port)
            out = [c.call("MULTI"), c.call("CLUSTER", "INFO"),
                   c.call("SET", "k", "v"), c.call("CLUSTER", "RESET"),
                   c.call("EXEC")]
            # An unknown subcommand or a wrong arity aborts the transaction.
            for bad in (["CLUSTER", "FOO"], ["CLUSTER", "INFO", "x"]):
                out += [c.call("MULTI"), c.call(*bad), c.call("SET", "k", "w"),
                        c.call("EXEC")]
            out.append(c.call("GET", "k"))
            out.append(c.call("DEL", "k"))
            c.close()
            return out
        self.run_both(script)

    def test_scripts(self):
        def script(port):
            c = RawClient(port)
            out = []
            for call in ("redis.call('cluster', 'reset', 'hard')",
                         "redis.call('cluster', 'reset')",
                         "redis.call('cluster', 'info')",
                         "redis.call('cluster', 'help')",
                         "redis.call('cluster', 'foo')",
                         "redis.call('cluster')",
                         "redis.call('cluster', 'info', 'x')"):
                out.append(c.call("EVAL", "return " + call, "0"))
                pcall = call.replace("redis.call", "redis.pcall")
                out.append(c.call("EVAL", "return " + pcall, "0"))
            out.append(c.call("FUNCTION", "LOAD",
                              "#!lua name=cl\nredis.register_function('r', "
                              "function() return redis.call('cluster', "
                              "'reset', 'hard') end)"))
            out.append(c.call("FCALL", "r", "0"))
            out.append(c.call("FUNCTION", "DELETE", "cl"))
            c.close()
            return out
        out = self.run_both(script)
        self.assertTrue(any(b"This Redis command is not allowed from script"
                            in o for o in out))

    def test_command_introspection(self):
        def script(port):
            c = RawClient(port)
            out = []
            for proto in ("2", "3"):
                c.call("HELLO", proto)
                for name in ["cluster|" + s for s in SUBCOMMANDS] + [
                        "CLUSTER|HELP", "cluster|nosuch", "cluster|info|x",
                        "get|key"]:
                    out.append(c.call("COMMAND", "INFO", name))
                # The container's own fields; its subcommands, in the
                # order of a hash table on redis-server, as a sorted list.
                info = parse(c.call("COMMAND", "INFO", "cluster"))[0]
                out.append(repr(info[:9]).encode())
                out.append(repr(sorted(info[9])).encode())
                out.append(repr(sorted(parse(c.call(
                    "COMMAND", "LIST", "FILTERBY", "PATTERN",
                    "cluster*")))).encode())
                out.append(repr(sorted(parse(c.call(
                    "COMMAND", "LIST", "FILTERBY", "PATTERN",
                    "cl*help")))).encode())
            out.append(c.call("COMMAND", "GETKEYS", "CLUSTER", "INFO"))
            c.close()
            return out
        self.run_both(script)

    def test_monitor_hides_admin_subcommands(self):
        def script(port):
            m = RawClient(port)
            m.call("MONITOR")
            c = RawClient(port)
            c.call("CLUSTER", "RESET")
            c.call("CLUSTER", "SETSLOT", "1", "STABLE")
            c.call("CLUSTER", "INFO")
            c.call("ECHO", "end")
            lines = []
            while not lines or b'"end"' not in lines[-1]:
                lines.append(m.read_reply())
            m.close()
            c.close()
            # Drop the timestamp and the client's address.
            return [line.split(b"] ", 1)[1] for line in lines]
        self.assertEqual(self.run_both(script),
                         [b'"CLUSTER" "INFO"\r\n', b'"ECHO" "end"\r\n'])

    def test_command_count_includes_cluster(self):
        c = RawClient(self.qdb.port)
        listed = parse(c.call("COMMAND", "LIST"))
        count = parse(c.call("COMMAND", "COUNT"))
        c.close()
        self.assertIn(b"cluster", listed)
        self.assertIn(b"cluster|reset", listed)
        self.assertEqual(int(count[1]), len([n for n in listed
                                             if b"|" not in n]))


if __name__ == "__main__":
    unittest.main()
