"""What an attacker or a careless operator tries first against qdb-server:
file writes through CONFIG, config injection through CONFIG REWRITE, one
command that makes the server allocate without bound, clients that never
read, password guessing and protected mode. Where Redis has an answer the
reply is compared with redis-server's byte for byte."""

import os
import socket
import subprocess
import tempfile
import time
import unittest

from harness import (Process, RawClient, RedisAndQdbCase, binary, encode,
                     free_port, start_qdb, start_redis, wait_for_port)


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def info_field(client, section, name):
    reply = client.call("INFO", section).decode()
    for line in reply.split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return None


def connect_from(port, source_ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source_ip, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_all(sock, timeout=3.0):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return data
        if not chunk:
            return data
        data += chunk


def pump_without_reading(sock, frame, seconds):
    """Sends `frame` again and again for at most `seconds`, never reading,
    until the server stops taking bytes or closes. Returns bytes sent."""
    sock.setblocking(False)
    sent = 0
    deadline = time.time() + seconds
    pending = b""
    while time.time() < deadline:
        if not pending:
            pending = frame
        try:
            n = sock.send(pending)
        except BlockingIOError:
            time.sleep(0.01)
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += n
        pending = pending[n:]
    sock.setblocking(True)
    return sent


class ProtectedConfigs(RedisAndQdbCase):
    """Item 1: no file write anywhere through CONFIG SET + SAVE."""

    def both(self, *args):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        try:
            return r.call(*args), q.call(*args)
        finally:
            r.close()
            q.close()

    def test_dbfilename_is_protected_like_redis(self):
        for value in ("/tmp/evil.rdb", "../evil.rdb", "evil.rdb"):
            want, got = self.both("CONFIG", "SET", "dbfilename", value)
            self.assertEqual(want, got)
            self.assertTrue(got.startswith(b"-ERR CONFIG SET failed"), got)
            self.assertIn(b"can't set protected config", got)

    def test_save_never_writes_outside_the_data_dir(self):
        target = os.path.join(tempfile.gettempdir(),
                              "qdb-evil-%d.rdb" % os.getpid())
        c = RawClient(self.qdb.port)
        c.call("SET", "k", "v")
        c.call("CONFIG", "SET", "dbfilename", target)
        self.assertEqual(c.call("SAVE"), b"+OK\r\n")
        c.close()
        self.assertFalse(os.path.exists(target))
        self.assertTrue(os.path.exists(
            os.path.join(self.qdb.data_dir, "dump.rdb")))

    def test_with_protected_configs_enabled_names_only(self):
        redis = start_redis("--enable-protected-configs", "yes")
        qdb = start_qdb("--engine", "memory", "--enable-protected-configs",
                        "yes")
        try:
            for value in ("/etc/passwd", "../x.rdb", "a/b.rdb"):
                r, q = RawClient(redis.port), RawClient(qdb.port)
                want = r.call("CONFIG", "SET", "dbfilename", value)
                got = q.call("CONFIG", "SET", "dbfilename", value)
                self.assertEqual(want, got)
                self.assertIn(b"dbfilename can't be a path, just a filename",
                              got)
                r.close()
                q.close()
            q = RawClient(qdb.port)
            self.assertEqual(q.call("CONFIG", "SET", "dbfilename", "x.rdb"),
                             b"+OK\r\n")
            self.assertEqual(q.call("SAVE"), b"+OK\r\n")
            q.close()
            self.assertTrue(os.path.exists(
                os.path.join(qdb.data_dir, "x.rdb")))
        finally:
            redis.cleanup()
            qdb.cleanup()

    def test_file_directives_are_read_only_at_runtime(self):
        c = RawClient(self.qdb.port)
        for name in ("dir", "logfile", "pidfile", "rdb-import",
                     "enable-protected-configs"):
            reply = c.call("CONFIG", "SET", name, "/tmp/x")
            self.assertTrue(reply.startswith(b"-ERR CONFIG SET failed"),
                            (name, reply))
        c.close()


class RewriteInjection(unittest.TestCase):
    """Item 2: CONFIG REWRITE writes values that read back as themselves."""

    def test_newline_in_a_value_plants_nothing(self):
        tmp = tempfile.mkdtemp(prefix="reborn-rewrite-")
        conf = os.path.join(tmp, "qdb.conf")
        port = free_port()
        with open(conf, "w") as f:
            f.write("# operator's comment\nport %d\nengine memory\n"
                    "dir %s\n" % (port, tmp))
        hostile = {
            "masterauth": "pw\nport 1\nrequirepass x",
            "requirepass": 'sp ace "q" back\\slash \x00 \xe9 \x01',
            "masteruser": "'quoted'",
        }
        proc = Process([binary("qdb-server"), conf], port=port, name="qdb")
        try:
            c = RawClient(port)
            for name, value in hostile.items():
                self.assertEqual(c.call("CONFIG", "SET", name,
                                        value.encode("latin-1")),
                                 b"+OK\r\n")
            c.call("AUTH", hostile["requirepass"].encode("latin-1"))
            self.assertEqual(c.call("CONFIG", "REWRITE"), b"+OK\r\n")
            c.close()
        finally:
            proc.stop()
        with open(conf, "rb") as f:
            text = f.read()
        self.assertIn(b"# operator's comment", text)
        self.assertNotIn(b"\nport 1\n", text)
        self.assertNotIn(b"\nrequirepass x\n", text)
        # Starts from the file, on the same port, with the same values.
        proc = Process([binary("qdb-server"), conf], port=port, name="qdb")
        try:
            c = RawClient(port)
            password = hostile["requirepass"].encode("latin-1")
            self.assertEqual(c.call("AUTH", password), b"+OK\r\n")
            for name, value in hostile.items():
                raw = value.encode("latin-1")
                self.assertEqual(
                    c.call("CONFIG", "GET", name),
                    b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" %
                    (len(name), name.encode(), len(raw), raw))
            c.close()
        finally:
            proc.cleanup()


class ClientSizedAllocations(unittest.TestCase):
    """Item 3: one command must not take the server down."""

    def setUp(self):
        self.qdb = start_qdb("--engine", "memory")
        self.c = RawClient(self.qdb.port, timeout=30)

    def tearDown(self):
        self.c.close()
        self.qdb.cleanup()

    def alive(self):
        self.assertIsNone(self.qdb.proc.poll(), self.qdb.output())
        w = RawClient(self.qdb.port)
        self.assertEqual(w.call("PING"), b"+PONG\r\n")
        w.close()

    def test_huge_backlog_size_and_psync(self):
        before = rss_bytes(self.qdb.proc.pid)
        self.assertEqual(
            self.c.call("CONFIG", "SET", "repl-backlog-size", "100gb"),
            b"+OK\r\n")
        replica = socket.create_connection(("127.0.0.1", self.qdb.port))
        replica.sendall(encode("PSYNC", "?", "-1"))
        replica.settimeout(5)
        self.assertTrue(replica.recv(100).startswith(b"+FULLRESYNC"))
        for i in range(200):
            self.c.call("SET", "k%d" % i, "v" * 1000)
        self.alive()
        self.assertLess(rss_bytes(self.qdb.proc.pid) - before, 256 << 20)
        replica.close()

    def test_setrange_past_memory_is_an_oom_error(self):
        self.assertEqual(
            self.c.call("CONFIG", "SET", "proto-max-bulk-len", "1000gb"),
            b"+OK\r\n")
        for cmd in (("SETRANGE", "k", str(900 << 30), "x"),
                    ("APPEND", "k", "x"),
                    ("SETRANGE", "k", str(500 << 30), "x")):
            reply = self.c.call(*cmd)
            if cmd[0] == "APPEND":
                self.assertEqual(reply, b":1\r\n")
                continue
            self.assertTrue(reply.startswith(b"-OOM "), reply)
        self.alive()
        self.assertEqual(self.c.call("GET", "k"), b"$1\r\nx\r\n")


class ClientsThatNeverRead(unittest.TestCase):
    """Item 4: output and query limits hold per reply and per argument."""

    def test_pipelining_client_that_never_reads_is_bounded(self):
        qdb = start_qdb("--engine", "memory")
        try:
            c = RawClient(qdb.port)
            c.call("SET", "mb", "x" * (1 << 20))
            before = rss_bytes(qdb.proc.pid)
            hog = socket.create_connection(("127.0.0.1", qdb.port))
            sent = pump_without_reading(hog, encode("GET", "mb") * 1000, 4)
            self.assertGreater(sent, 100000)
            grown = rss_bytes(qdb.proc.pid) - before
            # Paused at 32 MiB of pending output plus one reply, where it
            # used to reach hundreds of MB.
            self.assertLess(grown, 160 << 20, "grew %d bytes" % grown)
            self.assertEqual(c.call("PING"), b"+PONG\r\n")
            hog.close()
            c.close()
        finally:
            qdb.cleanup()

    def test_soft_limit_with_seconds_disconnects_like_redis(self):
        qdb = start_qdb("--engine", "memory", "--client-output-buffer-limit",
                        "normal 0 1mb 1")
        try:
            c = RawClient(qdb.port)
            c.call("SET", "v", "x" * 100000)
            slow = socket.create_connection(("127.0.0.1", qdb.port))
            slow.sendall(encode("GET", "v") * 100)
            time.sleep(2.5)
            data = read_all(slow, timeout=3)
            self.assertLess(len(data), 100 * 100000)  # cut before the end
            self.assertEqual(
                info_field(c, "stats",
                           "client_output_buffer_limit_disconnections"), "1")
            c.close()
        finally:
            qdb.cleanup()

    def test_hard_limit_checked_per_reply(self):
        qdb = start_qdb("--engine", "memory", "--client-output-buffer-limit",
                        "normal 2mb 0 0")
        try:
            c = RawClient(qdb.port)
            c.call("SET", "v", "x" * 100000)
            hog = RawClient(qdb.port, timeout=10)
            # One read of the server holds all 1000 commands: the limit must
            # cut inside the batch, not after it.
            hog.send(encode("GET", "v") * 1000)
            data, closed = hog.read_until_closed(timeout=10)
            self.assertTrue(closed)
            self.assertLess(len(data), 4 << 20)
            self.assertEqual(c.call("PING"), b"+PONG\r\n")
            c.close()
        finally:
            qdb.cleanup()

    def test_millions_of_empty_arguments_are_refused(self):
        qdb = start_qdb("--engine", "memory", "--client-query-buffer-limit",
                        "16mb")
        try:
            before = rss_bytes(qdb.proc.pid)
            s = socket.create_connection(("127.0.0.1", qdb.port))
            s.sendall(b"*10000000\r\n")
            pump_without_reading(s, b"$0\r\n\r\n" * 10000, 5)
            data = read_all(s, timeout=3)
            self.assertIn(b"client-query-buffer-limit", data)
            grown = rss_bytes(qdb.proc.pid) - before
            self.assertLess(grown, 96 << 20, "grew %d bytes" % grown)
            w = RawClient(qdb.port)
            self.assertEqual(w.call("PING"), b"+PONG\r\n")
            w.close()
        finally:
            qdb.cleanup()


class PasswordGuessing(unittest.TestCase):
    """Item 8: failures are counted, logged and slowed down."""

    def test_failed_auth_is_counted_logged_and_slowed(self):
        qdb = start_qdb("--engine", "memory", "--requirepass", "secret")
        try:
            c = RawClient(qdb.port, timeout=10)
            start = time.time()
            for i in range(6):
                self.assertEqual(
                    c.call("AUTH", "guess%d" % i),
                    b"-WRONGPASS invalid username-password pair or user is "
                    b"disabled.\r\n")
            elapsed = time.time() - start
            # Failures 4, 5 and 6 wait 100, 200 and 400 ms.
            self.assertGreaterEqual(elapsed, 0.65)
            self.assertEqual(c.call("AUTH", "secret"), b"+OK\r\n")
            self.assertEqual(info_field(c, "stats", "auth_failures"), "6")
            c.close()
            self.assertIn("AUTH failed", qdb.output())
        finally:
            qdb.cleanup()


class ProtectedMode(unittest.TestCase):
    """Item 9: Redis' protected mode, compared with redis-server."""

    def exchange(self, port, source):
        s = connect_from(port, source)
        s.sendall(encode("PING"))
        data = read_all(s, timeout=2)
        s.close()
        return data

    def test_non_local_clients_are_denied_without_a_password(self):
        # Redis counts only 127.0.0.1 and ::1 as local: a client from
        # 127.0.0.2 stands for one from another host, without leaving
        # loopback.
        redis = start_redis()
        qdb = start_qdb("--engine", "memory")
        try:
            want = self.exchange(redis.port, "127.0.0.2")
            got = self.exchange(qdb.port, "127.0.0.2")
            self.assertTrue(want.startswith(b"-DENIED"), want)
            self.assertEqual(want, got)
            self.assertEqual(self.exchange(qdb.port, "127.0.0.1"),
                             b"+PONG\r\n")
        finally:
            redis.cleanup()
            qdb.cleanup()

    def test_a_password_or_protected_mode_off_lets_them_in(self):
        for extra in (("--requirepass", "pw"), ("--protected-mode", "no")):
            qdb = start_qdb("--engine", "memory", *extra)
            try:
                got = self.exchange(qdb.port, "127.0.0.2")
                self.assertFalse(got.startswith(b"-DENIED"), (extra, got))
            finally:
                qdb.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
