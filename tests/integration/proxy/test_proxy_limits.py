"""reborn-proxy against peers that misbehave: a client that pipelines and
never reads (client-output-buffer-limit; redis-server beside it closes such a
client too), a multibulk of millions of empty arguments
(client-query-buffer-limit), and a hung backend (SIGSTOP: the backend
timeout fails its requests while the other group keeps serving)."""

import signal
import socket
import threading
import time
import unittest
import warnings

from harness import RawClient, encode, start_qdb, start_redis
from proxy_harness import start_proxy

MB = 1024 * 1024


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def flood_without_reading(port, request, seconds=15.0, max_bytes=64 * MB):
    """Sends `request` over and over and never reads; returns (bytes sent,
    True if the server closed the connection) once it closed, the budget is
    spent or nothing could be sent for 3 s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.connect(("127.0.0.1", port))
    s.settimeout(0.2)
    chunk = request * max(1, 65536 // len(request))
    sent = 0
    closed = False
    deadline = time.time() + seconds
    stalled_since = None
    try:
        while time.time() < deadline and sent < max_bytes:
            try:
                n = s.send(chunk)
                sent += n
                stalled_since = None
            except socket.timeout:
                stalled_since = stalled_since or time.time()
                if time.time() - stalled_since > 3:
                    break
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        if not closed:
            # Whatever the server sent before closing, then EOF or reset.
            s.settimeout(5)
            end = time.time() + 10
            while time.time() < end:
                try:
                    if not s.recv(1 << 20):
                        closed = True
                        break
                except ConnectionResetError:
                    closed = True
                    break
                except socket.timeout:
                    break
    finally:
        s.close()
    return sent, closed


class OutputBufferLimit(unittest.TestCase):
    """A client pipelining GETs of a 100 KB value and reading nothing."""

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g = start_redis()
        cls.proxy = start_proxy([cls.g.port], None,
                                "--client-output-buffer-limit", "8mb 2mb 1")
        # Redis' own behaviour, the same limit.
        cls.redis = start_redis("--client-output-buffer-limit",
                                "normal 8mb 2mb 1")
        value = "v" * 100000
        for port in (cls.proxy.port, cls.redis.port):
            c = RawClient(port)
            assert c.call("SET", "big", value) == b"+OK\r\n"
            c.close()

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g, cls.redis):
            p.cleanup()

    def test_non_reading_client_is_disconnected(self):
        before = rss_bytes(self.proxy.proc.pid)
        sent, closed = flood_without_reading(self.proxy.port,
                                             encode("GET", "big"))
        grown = rss_bytes(self.proxy.proc.pid) - before
        print("proxy: sent %d bytes of GETs, closed=%s, RSS grew %.1f MB"
              % (sent, closed, grown / MB))
        self.assertTrue(closed, "the proxy kept a client that never reads")
        self.assertLess(grown, 64 * MB)
        self.assertIn("output buffer limits", self.proxy.output())
        # Others are served as before.
        c = RawClient(self.proxy.port)
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        c.close()

    def test_redis_closes_it_too(self):
        sent, closed = flood_without_reading(self.redis.port,
                                             encode("GET", "big"))
        print("redis-server: sent %d bytes, closed=%s" % (sent, closed))
        self.assertTrue(closed)

    def test_reading_client_is_not_limited(self):
        # 200 replies of 100 KB (20 MB, over the hard limit in total), ten
        # at a time (1 MB, under the soft limit): the limit is on what is
        # owed at once, not on the total. (Sent at once, 20 MB would be owed
        # at once, and the client closed, by Redis too.)
        c = RawClient(self.proxy.port, timeout=10)
        for _ in range(20):
            c.send(encode("GET", "big") * 10)
            for _ in range(10):
                self.assertTrue(c.read_reply().startswith(b"$100000\r\n"))
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        c.close()


class QueryBufferLimit(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g = start_redis()
        cls.proxy = start_proxy([cls.g.port], None,
                                "--client-query-buffer-limit", "16mb")

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g):
            p.cleanup()

    def test_millions_of_empty_arguments_close_the_client(self):
        before = rss_bytes(self.proxy.proc.pid)
        s = socket.create_connection(("127.0.0.1", self.proxy.port),
                                     timeout=5)
        s.sendall(b"*20000000\r\n$3\r\nDEL\r\n")
        chunk = b"$0\r\n\r\n" * 100000
        sent, closed = 0, False
        deadline = time.time() + 20
        try:
            # 2M arguments at most (12 MB): far past the limit.
            while sent < 12 * MB and time.time() < deadline:
                s.sendall(chunk)
                sent += len(chunk)
            s.settimeout(5)
            closed = s.recv(100) == b""
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        except socket.timeout:
            closed = False
        finally:
            s.close()
        grown = rss_bytes(self.proxy.proc.pid) - before
        print("sent %d bytes of empty arguments, closed=%s, RSS grew %.1f MB"
              % (sent, closed, grown / MB))
        self.assertTrue(closed)
        self.assertLess(grown, 64 * MB)
        self.assertIn("query buffer limit", self.proxy.output())
        c = RawClient(self.proxy.port)
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        c.close()

    def test_big_argument_under_the_limit_is_fine(self):
        c = RawClient(self.proxy.port, timeout=10)
        self.assertEqual(c.call("SET", "k", "x" * (4 * MB)), b"+OK\r\n")
        self.assertEqual(c.call("STRLEN", "k"), b":%d\r\n" % (4 * MB))
        c.close()


def keys_of_groups(proxy_port, g1_port, g2_port, n=100):
    c = RawClient(proxy_port)
    for i in range(n):
        c.call("SET", "probe:%d" % i, "v%d" % i)
    c.close()

    def keys(port):
        r = RawClient(port)
        out = []
        for i in range(n):
            if r.call("EXISTS", "probe:%d" % i) == b":1\r\n":
                out.append("probe:%d" % i)
        r.close()
        return out
    return keys(g1_port), keys(g2_port)


class PasswordGuessing(unittest.TestCase):
    """Failed AUTHs through the proxy are counted and slowed down, pipelined
    guesses included (each waits behind the one before)."""

    def test_failed_auth_is_counted_and_slowed(self):
        qdb = start_qdb("--engine", "memory")
        proxy = start_proxy([qdb.port], None, "--requirepass", "secret")
        try:
            c = RawClient(proxy.port, timeout=10)
            wrong = (b"-WRONGPASS invalid username-password pair or user is "
                     b"disabled.\r\n")
            start = time.time()
            c.send(b"".join(encode("AUTH", "guess%d" % i) for i in range(6)))
            for _ in range(6):
                self.assertEqual(c.read_reply(), wrong)
            # Failures 4, 5 and 6 wait 100, 200 and 400 ms in turn.
            self.assertGreaterEqual(time.time() - start, 0.65)
            self.assertEqual(c.call("AUTH", "secret"), b"+OK\r\n")
            info = c.call("INFO", "proxy").decode()
            self.assertIn("auth_failures:6\r\n", info)
            c.close()
            self.assertIn("AUTH failed", proxy.output())
        finally:
            proxy.cleanup()
            qdb.cleanup()


class HungBackend(unittest.TestCase):
    """Two qdb-server groups; one is SIGSTOPped."""

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1 = start_qdb()
        cls.g2 = start_qdb()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port], None,
                                "--backend-timeout-ms", "1000")
        cls.k1, cls.k2 = keys_of_groups(cls.proxy.port, cls.g1.port,
                                        cls.g2.port)
        assert cls.k1 and cls.k2

    @classmethod
    def tearDownClass(cls):
        cls.g1.send_signal(signal.SIGCONT)
        for p in (cls.proxy, cls.g1, cls.g2):
            p.cleanup()

    def test_stopped_group_fails_fast_and_the_other_serves(self):
        stop = threading.Event()
        other = {"ops": 0, "errors": [], "max": 0.0}

        def load():
            c = RawClient(self.proxy.port, timeout=5)
            key = self.k2[0]
            end = time.time() + 30
            while not stop.is_set() and time.time() < end:
                t = time.time()
                try:
                    r = c.call("GET", key)
                except OSError as e:
                    other["errors"].append(repr(e))
                    break
                other["max"] = max(other["max"], time.time() - t)
                if not r.startswith(b"$"):
                    other["errors"].append(r)
                other["ops"] += 1
                time.sleep(0.002)
            c.close()

        worker = threading.Thread(target=load)
        worker.start()
        try:
            time.sleep(0.3)
            self.g1.freeze()
            c = RawClient(self.proxy.port, timeout=10)
            times = []
            for i in range(3):
                t = time.time()
                r = c.call("GET", self.k1[i % len(self.k1)])
                times.append(time.time() - t)
                self.assertTrue(r.startswith(b"-ERR backend 127.0.0.1:%d"
                                             % self.g1.port), r)
            print("stopped group: errors after %s s" %
                  ["%.2f" % x for x in times])
            self.assertLess(max(times), 2.5)
            self.g1.send_signal(signal.SIGCONT)
            deadline = time.time() + 10
            while True:
                r = c.call("GET", self.k1[0])
                if r.startswith(b"$"):
                    break
                self.assertLess(time.time(), deadline, r)
                time.sleep(0.1)
            c.close()
        finally:
            self.g1.send_signal(signal.SIGCONT)
            stop.set()
            worker.join()
        print("other group: %d GETs, max latency %.3f s" %
              (other["ops"], other["max"]))
        self.assertEqual(other["errors"], [])
        self.assertGreater(other["ops"], 50)
        self.assertLess(other["max"], 0.5)

    def test_blocking_command_outlives_the_backend_timeout(self):
        c = RawClient(self.proxy.port, timeout=10)
        t = time.time()
        r = c.call("BLPOP", "{%s}:empty" % self.k2[0], "2")
        took = time.time() - t
        self.assertIn(r, (b"*-1\r\n", b"$-1\r\n"))  # nil, not an error
        self.assertGreater(took, 1.8)
        c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
