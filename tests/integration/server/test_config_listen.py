"""CONFIG SET bind and port against a real redis-server: both rebind the
listener live (the connections stay, new clients reach the new address), a
rebind that cannot listen keeps the old listener and answers Redis' error
text, and the other values of the same CONFIG SET are rolled back. Also the
CONFIG GET * round trip of Redis' own "CONFIG sanity" test, and how
immutable directives answer CONFIG SET of their current value."""

import socket
import unittest

from harness import RawClient, free_port, start_qdb, start_redis
from test_slowlog import call

# Directives Redis' unit/introspection "CONFIG sanity" leaves out of its
# round trip (immutable, protected or special in Redis).
REDIS_SKIPS = {
    "rdbchecksum", "daemonize", "io-threads-do-reads", "tcp-backlog",
    "always-show-logo", "syslog-enabled", "cluster-enabled", "disable-thp",
    "aclfile", "unixsocket", "pidfile", "syslog-ident", "appendfilename",
    "appenddirname", "supervised", "syslog-facility", "databases",
    "io-threads", "logfile", "unixsocketperm", "replicaof", "slaveof",
    "requirepass", "server_cpulist", "bio_cpulist", "aof_rewrite_cpulist",
    "bgsave_cpulist", "set-proc-title", "cluster-config-file",
    "cluster-port", "oom-score-adj", "oom-score-adj-values",
    "enable-protected-configs", "enable-debug-command",
    "enable-module-command", "dbfilename", "dir", "socket-mark-id"}


def listening(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


class ConfigListenTest(unittest.TestCase):

    def setUp(self):
        self.redis = start_redis()
        self.qdb = start_qdb(engine="memory")
        self.ports = {"redis": self.redis.port, "qdb": self.qdb.port}
        self.clients = {"redis": RawClient(self.redis.port),
                        "qdb": RawClient(self.qdb.port)}
        # A port something else listens on: neither server can take it.
        self.taken = socket.socket()
        self.taken.bind(("127.0.0.1", 0))
        self.taken.listen(1)
        self.taken_port = self.taken.getsockname()[1]

    def tearDown(self):
        for c in self.clients.values():
            c.close()
        self.taken.close()
        self.redis.cleanup()
        self.qdb.cleanup()

    def same(self, *args):
        replies = {k: c.call(*args) for k, c in self.clients.items()}
        self.assertEqual(replies["redis"], replies["qdb"], args)
        return replies["qdb"]

    def test_port_moves_live_and_connections_stay(self):
        for kind, client in self.clients.items():
            new_port = free_port()
            self.assertEqual(
                client.call("CONFIG", "SET", "port", str(new_port)), b"+OK\r\n")
            self.assertTrue(listening(new_port), kind)
            self.assertFalse(listening(self.ports[kind]), kind)
            # The connection that asked stays, on the old port.
            self.assertEqual(client.call("PING"), b"+PONG\r\n")
            fresh = RawClient(new_port)
            self.assertEqual(fresh.call("CONFIG", "GET", "port"),
                             b"*2\r\n$4\r\nport\r\n$%d\r\n%d\r\n" %
                             (len(str(new_port)), new_port))
            fresh.close()

    def test_port_taken_keeps_old_listener_and_rolls_back(self):
        self.same("CONFIG", "SET", "maxmemory", "10000002")
        self.same("CONFIG", "SET", "maxmemory", "10000001", "port",
                  str(self.taken_port), "client-query-buffer-limit", "10m")
        self.same("CONFIG", "GET", "maxmemory")
        self.same("CONFIG", "GET", "client-query-buffer-limit")
        for kind in self.clients:
            self.assertTrue(listening(self.ports[kind]), kind)
            fresh = RawClient(self.ports[kind])
            self.assertEqual(fresh.call("PING"), b"+PONG\r\n")
            fresh.close()

    def test_bind_errors(self):
        # Not an address of this machine: the bind fails, the old stays.
        self.same("CONFIG", "SET", "bind", "10.255.255.1")
        self.same("CONFIG", "GET", "bind")
        self.same("CONFIG", "SET", "bind", " ".join(["127.0.0.1"] * 17))
        self.same("CONFIG", "SET", "bind", "127.0.0.1 127.0.0.1")
        self.same("CONFIG", "GET", "bind")
        for kind in self.clients:
            self.assertTrue(listening(self.ports[kind]), kind)

    def test_bind_lists_and_optional_addresses(self):
        # "-" marks an address that may be missing: skipped.
        self.same("CONFIG", "SET", "bind", "-10.255.255.1 127.0.0.1")
        self.same("CONFIG", "GET", "bind")
        for kind in self.clients:
            self.assertTrue(listening(self.ports[kind]), kind)
        self.same("CONFIG", "SET", "bind", "127.0.0.1 -::1")
        self.same("CONFIG", "GET", "bind")
        self.same("CONFIG", "SET", "bind", "* -::*")
        self.same("CONFIG", "GET", "bind")
        for kind in self.clients:
            self.assertTrue(listening(self.ports[kind]), kind)
        # Back from every interface to loopback only, on the same port.
        self.same("CONFIG", "SET", "bind", "127.0.0.1")
        for kind in self.clients:
            self.assertTrue(listening(self.ports[kind]), kind)
        self.same("PING")

    def test_immutable_directives(self):
        # Redis' immutable directives refuse even their current value.
        self.same("CONFIG", "SET", "daemonize", "no")
        self.same("CONFIG", "SET", "databases", "16")
        # qdb's own start-time directives accept their current value only.
        qdb = self.clients["qdb"]
        self.assertEqual(qdb.call("CONFIG", "SET", "engine", "memory"),
                         b"+OK\r\n")
        self.assertEqual(
            qdb.call("CONFIG", "SET", "engine", "rocksdb"),
            b"-ERR CONFIG SET failed (possibly related to argument 'engine')"
            b" - can't set immutable config\r\n")
        self.assertEqual(qdb.call("CONFIG", "SET", "write-buffer-size", "8mb"),
                         b"+OK\r\n")

    def test_hidden_directive(self):
        # key-load-delay answers only by its exact name, as in Redis.
        self.same("CONFIG", "GET", "key-load-delay")
        self.same("CONFIG", "SET", "key-load-delay", "-10")
        self.same("CONFIG", "GET", "key-load-delay")
        self.same("CONFIG", "GET", "key-load-del*")
        self.same("CONFIG", "SET", "key-load-delay", "0")

    def test_config_get_all_sets_back(self):
        # Redis' "CONFIG sanity": every value CONFIG GET * shows can be set
        # back, and reads back the same.
        for kind, client in self.clients.items():
            before = pairs(call(client, "CONFIG", "GET", "*"))
            for name, value in before.items():
                if name.decode() in REDIS_SKIPS:
                    continue
                reply = client.call("CONFIG", "SET", name, value)
                self.assertEqual(reply, b"+OK\r\n", (kind, name, value))
            after = pairs(call(client, "CONFIG", "GET", "*"))
            self.assertEqual(before, after, kind)


if __name__ == "__main__":
    unittest.main()
