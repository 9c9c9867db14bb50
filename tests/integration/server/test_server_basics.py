"""qdb-server's connection and server commands, against a real redis-server
where the semantics are Redis' (replies compared byte for byte)."""

import os
import signal
import subprocess
import time
import unittest

import redis

from harness import (RawClient, RedisAndQdbCase, encode, free_port,
                     start_qdb, start_redis)


class DifferentialServerCommands(RedisAndQdbCase):
    """The same commands to redis-server and qdb-server: same bytes back."""

    def compare(self, *commands):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        try:
            for cmd in commands:
                want, got = r.call(*cmd), q.call(*cmd)
                self.assertEqual(want, got, "command %r" % (cmd,))
        finally:
            r.close()
            q.close()

    def test_client_unblock(self):
        """CLIENT UNBLOCK ends a parked BLPOP/BLMOVE with the timeout reply
        or the UNBLOCKED error; its own errors as redis-server's."""
        for how, cmd in ((["ERROR"], ["BLPOP", "ub:list", "0"]),
                         (["TIMEOUT"], ["BLMOVE", "ub:a", "ub:b", "LEFT",
                                        "RIGHT", "0"]),
                         ([], ["BLPOP", "ub:list", "0"])):
            got = []
            for port in (self.redis.port, self.qdb.port):
                blocked, admin = RawClient(port), RawClient(port)
                try:
                    client_id = blocked.call("CLIENT", "ID")[1:-2].decode()
                    blocked.send(encode(*cmd))
                    for _ in range(200):  # until it is parked
                        if b"blocked_clients:1" in admin.call("INFO",
                                                              "clients"):
                            break
                        time.sleep(0.01)
                    got.append((admin.call("CLIENT", "UNBLOCK", client_id,
                                           *how),
                                blocked.read_reply(),
                                admin.call("CLIENT", "UNBLOCK", client_id)))
                finally:
                    blocked.close()
                    admin.close()
            self.assertEqual(got[0], got[1], how)
        self.compare(["CLIENT", "UNBLOCK", "999999", "BAD"],
                     ["CLIENT", "UNBLOCK", "x"], ["CLIENT", "UNBLOCK"],
                     ["CLIENT", "UNBLOCK", "1", "ERROR", "x"],
                     ["CLIENT", "UNBLOCK", "999999", "error"])

    def test_ping_echo(self):
        self.compare(["PING"], ["ping", "hello"], ["PING", "a", "b"],
                     ["ECHO", "x" * 1000], ["ECHO"], ["echo", "a", "b"],
                     ["PING", ""])

    def test_unknown_commands_and_arity(self):
        self.compare(["NOSUCH"], ["nosuch", "a", "b"],
                     ["NOSUCH", "x" * 300, "y" * 300],
                     ["foo"] + ["arg%d" % i for i in range(100)],
                     ["TIME", "x"], ["quit", "x", "y"])

    def test_hello_and_auth_errors(self):
        self.compare(["HELLO", "4"], ["HELLO", "x"], ["AUTH", "pw"],
                     ["AUTH", "someone", "pw"], ["HELLO", "2", "FOO"],
                     ["CLIENT", "SETNAME", "has space"],
                     ["CLIENT", "GETNAME"], ["CLIENT", "SETNAME", "n1"],
                     ["CLIENT", "GETNAME"], ["CLIENT", "NOSUCH"],
                     ["CLIENT", "KILL", "1.2.3.4:5"],
                     ["CLIENT", "KILL", "ID", "0"],
                     ["CONFIG", "NOSUCH"], ["CONFIG", "SET", "nosuch", "1"],
                     ["CONFIG", "GET", "maxclients"],
                     ["CONFIG", "SET", "maxclients", "abc"],
                     ["CONFIG", "GET", "nosuch*"])

    def test_inline_commands(self):
        for raw in [b"PING\r\n", b"ECHO \"a b\"\r\n", b"ping 'x y'\n",
                    b"\r\n\r\nPING\r\n"]:
            r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
            r.send(raw)
            q.send(raw)
            self.assertEqual(r.read_reply(), q.read_reply(), raw)
            r.close()
            q.close()


class ServerBehaviour(unittest.TestCase):

    def setUp(self):
        self.qdb = start_qdb("--engine", "memory")
        self.r = redis.Redis(port=self.qdb.port, decode_responses=True)

    def tearDown(self):
        self.r.close()
        self.qdb.cleanup()

    def test_pipelining_keeps_order(self):
        c = RawClient(self.qdb.port)
        c.send(b"".join(encode("ECHO", str(i)) for i in range(5000)))
        for i in range(5000):
            self.assertEqual(c.read_reply(), b"$%d\r\n%d\r\n" % (len(str(i)), i))
        c.close()

    def test_resp3_after_hello(self):
        c = RawClient(self.qdb.port)
        self.assertTrue(c.call("HELLO", "3").startswith(b"%7\r\n"))
        self.assertEqual(c.call("CONFIG", "GET", "timeout"),
                         b"%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n")
        c.close()

    def test_client_list_kill_and_names(self):
        other = redis.Redis(port=self.qdb.port)
        other.client_setname("victim")
        clients = self.r.client_list()
        names = {c["name"] for c in clients}
        self.assertIn("victim", names)
        victim = [c for c in clients if c["name"] == "victim"][0]
        self.assertEqual(self.r.execute_command("CLIENT", "KILL", "ID",
                                                victim["id"]), 1)
        deadline = time.time() + 10
        while time.time() < deadline and "victim" in {
                c["name"] for c in self.r.client_list()}:
            time.sleep(0.05)
        self.assertNotIn("victim",
                         {c["name"] for c in self.r.client_list()})
        other.close()

    def test_config_set_applies_limits(self):
        self.r.config_set("maxclients", 2)
        a = RawClient(self.qdb.port)
        self.assertEqual(a.call("PING"), b"+PONG\r\n")
        b = RawClient(self.qdb.port)
        data, closed = b.read_until_closed()
        self.assertEqual(data, b"-ERR max number of clients reached\r\n")
        self.assertTrue(closed)
        a.close()
        self.r.config_set("maxclients", 100)
        # sync-writes changes at runtime; maxmemory and its policies are
        # kept (test_memory.py checks what they do).
        raw = RawClient(self.qdb.port)
        for value, flag in (("yes", b"sync_writes:1\r\n"),
                            ("no", b"sync_writes:0\r\n")):
            self.r.config_set("sync-writes", value)
            store = raw.call("INFO", "rocksdb")  # the store's own view
            if b"engine:memory" not in store:
                self.assertIn(flag, store)
            self.assertEqual(self.r.info("persistence")["sync_writes"], value)
        raw.close()
        self.assertEqual(self.r.config_get("maxmemory"), {"maxmemory": "0"})
        self.assertEqual(self.r.config_get("maxmemory-policy"),
                         {"maxmemory-policy": "noeviction"})
        for name, value in (("maxmemory", "1073741824"),
                            ("maxmemory-policy", "allkeys-lru")):
            self.assertTrue(self.r.config_set(name, value))
            self.assertEqual(self.r.config_get(name), {name: value})
        self.assertTrue(self.r.config_set("maxmemory", 0))
        self.assertTrue(self.r.config_set("maxmemory-policy", "noeviction"))
        with self.assertRaises(redis.exceptions.ResponseError):
            self.r.config_set("maxmemory-policy", "evict-everything")

    def test_output_limits(self):
        self.r.set("mb", "x" * (1 << 20))
        get = encode("GET", "mb")
        # Soft limit: a client that does not read is not read either, and
        # gets every reply once it reads again.
        slow = RawClient(self.qdb.port, timeout=10)
        slow.send(get * 40)
        time.sleep(0.5)
        self.assertTrue(self.r.ping())  # others are served meanwhile
        for _ in range(40):
            self.assertEqual(len(slow.read_reply()), (1 << 20) + 12)
        slow.close()
        # Hard limit: past it the client is dropped, nobody else is.
        self.r.config_set("client-output-buffer-limit", "normal 4mb 0 0")
        try:
            hog = RawClient(self.qdb.port, timeout=10)
            hog.send(get * 40)
            data, closed = hog.read_until_closed(timeout=10)
            self.assertTrue(closed)
            self.assertLess(len(data), 40 << 20)
            self.assertEqual(self.r.get("mb"), "x" * (1 << 20))
        finally:
            self.r.config_set("client-output-buffer-limit", "normal 0 0 0")

    def test_idle_timeout_closes_clients(self):
        # A client blocked in BLPOP and a replica stream are not idle, as in
        # Redis: only the plain idle connection is closed.
        blocked = RawClient(self.qdb.port, timeout=10)
        blocked.send(encode("BLPOP", "idle:list", "0"))
        replica = RawClient(self.qdb.port, timeout=10)
        replica.send(encode("PSYNC", "?", "-1"))
        self.r.config_set("timeout", 1)
        c = RawClient(self.qdb.port)
        data, closed = c.read_until_closed(timeout=5)
        self.assertTrue(closed)
        time.sleep(1.5)  # another sweep or two
        pusher = RawClient(self.qdb.port)
        self.assertEqual(pusher.call("RPUSH", "idle:list", "x"), b":1\r\n")
        self.assertEqual(blocked.read_reply(),
                         b"*2\r\n$9\r\nidle:list\r\n$1\r\nx\r\n")
        # The replica got its RDB and is still fed (the RPUSH above).
        deadline = time.time() + 5
        while b"idle:list" not in replica.buf:
            self.assertLess(time.time(), deadline, replica.buf[:200])
            replica._fill()
        blocked.close()
        replica.close()
        pusher.close()
        # Our own idle connection was closed too: use a fresh one.
        fresh = RawClient(self.qdb.port)
        self.assertEqual(fresh.call("CONFIG", "SET", "timeout", "0"), b"+OK\r\n")
        fresh.close()

    def test_info_sections(self):
        info = self.r.info("all")
        for field in ["redis_version", "tcp_port", "connected_clients",
                      "total_commands_processed", "used_memory"]:
            self.assertIn(field, info)
        self.assertEqual(info["tcp_port"], self.qdb.port)
        self.assertIn("cmdstat_info", self.r.info("commandstats"))

    def test_command_introspection(self):
        c = RawClient(self.qdb.port)
        self.assertTrue(c.call("COMMAND", "COUNT").startswith(b":"))
        info = c.call("COMMAND", "INFO", "ping", "nosuch")
        self.assertTrue(info.startswith(b"*2\r\n*10\r\n$4\r\nping\r\n"))
        self.assertTrue(info.endswith(b"$-1\r\n"))
        self.assertEqual(c.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b",
                                "2"), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        c.close()
        # Replies that do not depend on the command table, against Redis.
        oracle = start_redis()
        try:
            ours, theirs = RawClient(self.qdb.port), RawClient(oracle.port)
            for argv in (("COMMAND", "INFO", "nosuch"),
                         ("COMMAND", "COUNT", "x"), ("COMMAND", "GETKEYS"),
                         ("COMMAND", "LIST", "x"),
                         ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"),
                         ("COMMAND", "LIST", "FILTERBY", "PATTERN", "zz*"),
                         ("COMMAND", "LIST", "FILTERBY", "PATTERN", "get"),
                         ("COMMAND", "GETKEYS", "GET"),
                         ("COMMAND", "GETKEYS", "GET", "a", "b"),
                         ("COMMAND", "GETKEYS", "PING", "x"),
                         ("COMMAND", "GETKEYS", "SET", "k"),
                         ("COMMAND", "GETKEYS", "nosuch", "a"),
                         ("COMMAND", "NOSUCH")):
                self.assertEqual(ours.call(*argv), theirs.call(*argv), argv)
            ours.close()
            theirs.close()
        finally:
            oracle.cleanup()

    def test_redis_cli_works(self):
        out = subprocess.run(["redis-cli", "-p", str(self.qdb.port), "ping"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.stdout.strip(), "PONG")

    def test_sigterm_shuts_down_gracefully(self):
        self.qdb.send_signal(signal.SIGTERM)
        self.assertEqual(self.qdb.wait(timeout=10), 0)
        self.assertIn("stopped", self.qdb.output())


class Authentication(unittest.TestCase):

    def test_requirepass(self):
        qdb = start_qdb("--requirepass", "s3cret")
        try:
            c = RawClient(qdb.port)
            self.assertEqual(c.call("PING"),
                             b"-NOAUTH Authentication required.\r\n")
            self.assertEqual(
                c.call("AUTH", "wrong"),
                b"-WRONGPASS invalid username-password pair or user is "
                b"disabled.\r\n")
            self.assertEqual(c.call("AUTH", "s3cret"), b"+OK\r\n")
            self.assertEqual(c.call("PING"), b"+PONG\r\n")
            c.close()
            r = redis.Redis(port=qdb.port, password="s3cret")
            self.assertTrue(r.ping())
            r.close()
        finally:
            qdb.cleanup()

    def test_unauthenticated_request_limits_match_redis(self):
        qdb = start_qdb("--requirepass", "s3cret")
        oracle = start_redis("--requirepass", "s3cret")
        try:
            frames = [b"*11\r\n", b"*1\r\n$16385\r\n",
                      b"*2\r\n$4\r\nAUTH\r\n$16385\r\n"]
            for frame in frames:
                got = []
                for port in (qdb.port, oracle.port):
                    c = RawClient(port)
                    c.send(frame)
                    got.append(c.read_until_closed(timeout=5))
                    c.close()
                self.assertEqual(got[0], got[1], frame)
                self.assertTrue(got[0][1], frame)  # closed
            # Once authenticated, the usual limits apply.
            for port in (qdb.port, oracle.port):
                c = RawClient(port)
                self.assertEqual(c.call("AUTH", "s3cret"), b"+OK\r\n")
                self.assertEqual(c.call("SET", "big", "x" * 20000), b"+OK\r\n")
                self.assertEqual(
                    c.call("DEL", *["k%d" % i for i in range(20)]),
                    b":0\r\n")
                c.close()
        finally:
            qdb.cleanup()
            oracle.cleanup()


class ConfigFile(unittest.TestCase):

    def test_config_file_and_rewrite(self):
        port = free_port()
        import tempfile
        tmp = tempfile.mkdtemp()
        conf = os.path.join(tmp, "qdb.conf")
        with open(conf, "w") as f:
            f.write("# test config\nport %d\ntimeout 7\nmaxclients 50\n" % port)
        from harness import Process, binary
        qdb = Process([binary("qdb-server"), conf, "--dir", tmp,
                       "--engine", "memory"], port=port, name="qdbconf")
        try:
            r = redis.Redis(port=port, decode_responses=True)
            self.assertEqual(r.config_get("timeout"), {"timeout": "7"})
            r.config_set("maxclients", 77)
            r.config_set("client-query-buffer-limit", "2mb")
            self.assertEqual(r.execute_command("CONFIG", "REWRITE"), "OK")
            text = open(conf).read()
            self.assertIn("# test config", text)
            self.assertIn("maxclients 77", text)
            self.assertIn("client-query-buffer-limit 2097152", text)
            r.close()
        finally:
            qdb.cleanup()

    def test_bad_config_is_rejected_at_startup(self):
        from harness import binary
        out = subprocess.run([binary("qdb-server"), "--nosuch", "1"],
                             capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("Bad directive", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
