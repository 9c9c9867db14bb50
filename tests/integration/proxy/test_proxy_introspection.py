"""What reborn-proxy tells about itself (issue 24): INFO with the sections
clients read (numbers summed over the groups where they are the groups'),
CLIENT ID/SETNAME/GETNAME/INFO/LIST/KILL over the proxy's own client
connections, ROLE, CONFIG GET of the proxy's own settings, and refused
commands that say why."""

import shutil
import subprocess
import time
import unittest
import warnings

import redis

from harness import RawClient, start_qdb, start_redis
from proxy_harness import start_proxy


def info_fields(reply):
    out = {}
    for line in reply.split(b"\r\n"):
        if b":" in line and not line.startswith((b"#", b"$", b"=")):
            k, v = line.split(b":", 1)
            out[k.decode()] = v.decode()
    return out


class ProxyIntrospection(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1, cls.g2 = start_qdb(), start_qdb()
        cls.redis = start_redis()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port])

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2, cls.redis):
            p.cleanup()

    def test_info_sections(self):
        p = RawClient(self.proxy.port)
        p.call("FLUSHALL")
        for i in range(30):
            p.call("SET", "k%d" % i, "v")
        p.call("EXPIRE", "k1", 100)
        info = p.call("INFO")
        for section in (b"# Server", b"# Clients", b"# Memory", b"# Stats",
                        b"# Proxy", b"# Cluster", b"# Keyspace"):
            self.assertIn(section + b"\r\n", info)
        f = info_fields(info)
        self.assertEqual(f["arch_bits"], "64")
        self.assertEqual(f["cluster_enabled"], "1")
        self.assertEqual(f["tcp_port"], str(self.proxy.port))
        self.assertEqual(f["db0"], "keys=30,expires=1,avg_ttl=%s" %
                         f["db0"].split("avg_ttl=")[1])
        self.assertGreaterEqual(int(f["connected_clients"]), 1)
        self.assertGreater(int(f["total_commands_processed"]), 30)
        # used_memory is the groups' sum.
        groups = 0
        for port in (self.g1.port, self.g2.port):
            c = RawClient(port)
            groups += int(info_fields(c.call("INFO", "memory"))["used_memory"])
            c.close()
        self.assertGreater(int(f["used_memory"]), groups // 2)
        self.assertLess(int(f["used_memory"]), groups * 2)
        # Sections asked for, and only those.
        server = p.call("INFO", "server")
        self.assertIn(b"redis_version:", server)
        self.assertNotIn(b"# Keyspace", server)
        two = p.call("INFO", "keyspace", "CLIENTS")
        self.assertIn(b"# Keyspace", two)
        self.assertIn(b"# Clients", two)
        self.assertNotIn(b"# Server", two)
        self.assertEqual(p.call("INFO", "nosuchsection"), b"$0\r\n\r\n")
        # What redis-py reads.
        r = redis.Redis(port=self.proxy.port)
        parsed = r.info()
        self.assertEqual(parsed["cluster_enabled"], 1)
        self.assertEqual(parsed["db0"]["keys"], 30)
        r.close()
        p.close()

    @unittest.skipUnless(shutil.which("redis-cli"), "no redis-cli")
    def test_redis_cli_stat_shows_numbers(self):
        p = RawClient(self.proxy.port)
        p.call("FLUSHALL")
        for i in range(12):
            p.call("SET", "s%d" % i, "v")
        out = subprocess.run(["timeout", "1.5", "stdbuf", "-o0", "redis-cli",
                              "-p",
                              str(self.proxy.port), "--stat", "-i", "0.2"],
                             capture_output=True, text=True)
        rows = [line.split() for line in out.stdout.splitlines()
                if line.strip() and line.strip()[0].isdigit()]
        self.assertTrue(rows, out.stdout + out.stderr)
        self.assertEqual(rows[0][0], "12")  # keys
        p.close()

    def test_client_commands(self):
        a, b = RawClient(self.proxy.port), RawClient(self.proxy.port)
        a_id = int(a.call("CLIENT", "ID")[1:-2])
        b_id = int(b.call("CLIENT", "ID")[1:-2])
        self.assertNotEqual(a_id, b_id)
        self.assertEqual(a.call("CLIENT", "GETNAME"), b"$-1\r\n")
        self.assertEqual(a.call("CLIENT", "SETNAME", "alpha"), b"+OK\r\n")
        self.assertEqual(a.call("CLIENT", "GETNAME"), b"$5\r\nalpha\r\n")
        info = a.call("CLIENT", "INFO")
        self.assertIn(b"id=%d " % a_id, info)
        self.assertIn(b" name=alpha ", info)
        self.assertIn(b" cmd=client ", info)
        b.call("SUBSCRIBE", "ch")
        listing = a.call("CLIENT", "LIST")
        self.assertIn(b"id=%d " % a_id, listing)
        self.assertIn(b"id=%d " % b_id, listing)
        pubsub = a.call("CLIENT", "LIST", "TYPE", "pubsub")
        self.assertIn(b"id=%d " % b_id, pubsub)
        self.assertIn(b" sub=1 ", pubsub)
        self.assertNotIn(b"id=%d " % a_id, pubsub)
        only = a.call("CLIENT", "LIST", "ID", a_id)
        self.assertEqual(only.count(b"id="), 1)
        self.assertEqual(a.call("CLIENT", "KILL", "ID", b_id), b":1\r\n")
        _, closed = b.read_until_closed(timeout=3)
        self.assertTrue(closed)
        deadline = time.time() + 3  # the registry forgets it after the close
        while a.call("CLIENT", "KILL", "ID", b_id) != b":0\r\n":
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        # Error texts as Redis'.
        r = RawClient(self.redis.port)
        for cmd in (["CLIENT", "SETNAME", "a b"], ["CLIENT", "KILL", "ID", 0],
                    ["CLIENT", "KILL", "127.0.0.1:1"],
                    ["CLIENT", "KILL", "ADDR", "127.0.0.1:1"],
                    ["CLIENT", "KILL", "TYPE", "bogus"],
                    ["CLIENT", "KILL", "ID"], ["CLIENT", "ID", "x"],
                    ["CLIENT", "LIST", "TYPE", "bogus"], ["CLIENT"]):
            self.assertEqual(r.call(*cmd), a.call(*cmd), cmd)
        r.close()
        a.close()

    def test_config_get_answers_the_proxys_settings(self):
        c = redis.Redis(port=self.proxy.port)
        p = RawClient(self.proxy.port)
        r = RawClient(self.redis.port)
        self.assertEqual(c.config_get("port"), {"port": str(self.proxy.port)})
        self.assertEqual(c.config_get("bind"), {"bind": "127.0.0.1"})
        every = c.config_get("*")
        for name in ("databases", "maxclients", "threads", "requirepass",
                     "client-output-buffer-limit",
                     "client-query-buffer-limit", "script-cache-bytes"):
            self.assertIn(name, every)
        self.assertNotIn("backend-password", every)
        self.assertEqual(every["databases"], "1")
        self.assertEqual(every["threads"], "2")  # proxy_harness: --threads 2
        self.assertEqual(every["client-output-buffer-limit"],
                         "normal 268435456 67108864 60 "
                         "pubsub 33554432 8388608 60")
        # Several patterns, each setting once (Redis 7), case-insensitive.
        self.assertEqual(
            set(c.execute_command("CONFIG", "GET", "PORT", "port", "max*")
                [0::2]), {b"port", b"maxclients"})
        # Unknown names, arity and subcommand errors as Redis words them.
        for cmd in (["CONFIG", "GET", "no-such-thing"], ["CONFIG"],
                    ["CONFIG", "GET"], ["CONFIG", "BOGUS"]):
            self.assertEqual(p.call(*cmd), r.call(*cmd), cmd)
        self.assertEqual(
            p.call("CONFIG", "SET", "maxmemory", "1"),
            b"-ERR CONFIG SET is not supported by reborn-proxy: its settings "
            b"are fixed at start (restart it with new flags); run it on each "
            b"qdb-server for theirs\r\n")
        # A RESP3 session gets a map, like redis-server's.
        p.call("HELLO", "3")
        self.assertEqual(p.call("CONFIG", "GET", "databases"),
                         b"%1\r\n$9\r\ndatabases\r\n$1\r\n1\r\n")
        c.close()
        p.close()
        r.close()

    def test_refused_commands_say_why(self):
        p = RawClient(self.proxy.port)
        for cmd, reason in (
                (["MONITOR"], b"it would need every backend's command stream"),
                (["SWAPDB", 0, 1], b"the proxy serves database 0 only"),
                (["REPLICAOF", "h", 1],
                 b"replication is set up per group by reborn-config"),
                (["SAVE"], b"it acts on one server: run it on each qdb-server"),
                (["SLOTSINFO"], b"slot migration is driven by reborn-config")):
            self.assertEqual(
                p.call(*cmd),
                b"-ERR %s is not supported by reborn-proxy: %s\r\n" % (
                    cmd[0].encode(), reason), cmd)
        self.assertEqual(p.call("ROLE"), b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n")
        p.close()


if __name__ == "__main__":
    unittest.main()
