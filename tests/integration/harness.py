"""Shared helpers for integration tests: free ports, real server processes
(qdb-server, redis-server, ...) and a raw RESP client that returns replies as
the exact bytes the server sent."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

# Sanitizer builds run slower and set REBORN_TEST_TIME_SCALE (docs/testing.md):
# waits for something to become ready are multiplied by it, what a test
# asserts is not.
TIME_SCALE = float(os.environ.get("REBORN_TEST_TIME_SCALE", "1"))

BUILD_DIR = os.environ.get(
    "REBORN_BUILD_DIR",
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def binary(name):
    """Path of one of our daemons in the build tree."""
    path = os.path.join(BUILD_DIR, "bin", name)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=15.0, proc=None):
    deadline = time.time() + timeout * TIME_SCALE
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("port %d not ready" % port)


class Process:
    """A child process with a log file and a temp dir, stopped on exit."""

    def __init__(self, argv, port=None, name="proc", cwd=None):
        self.tmp = tempfile.mkdtemp(prefix="reborn-%s-" % name)
        self.log_path = os.path.join(self.tmp, "log")
        self.log = open(self.log_path, "wb")
        self.argv = argv
        self.port = port
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     cwd=cwd or self.tmp)
        if port is not None:
            try:
                wait_for_port(port, proc=self.proc)
            except Exception:
                self.stop()
                raise RuntimeError("%s failed to start:\n%s" %
                                   (argv, self.output()))

    def output(self):
        if not self.log.closed:  # stop() closes it; a failed start stops first
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def freeze(self, timeout=5.0):
        """SIGSTOP, returning once every thread is stopped. The kernel wakes
        one thread to start the group stop; on a loaded machine the others
        run on for milliseconds, long enough to answer a request sent right
        after kill() returned."""
        self.send_signal(signal.SIGSTOP)
        pid = self.proc.pid
        deadline = time.time() + timeout
        while time.time() < deadline:
            states = []
            for tid in os.listdir("/proc/%d/task" % pid):
                try:
                    with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
                except FileNotFoundError:
                    continue  # a thread that just ended
            if all(st in ("T", "t") for st in states):
                return
            time.sleep(0.01)
        raise TimeoutError("process %d did not stop" % pid)

    def wait(self, timeout=10):
        return self.proc.wait(timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start_qdb(*extra, port=None, engine=None):
    port = port or free_port()
    tmp = tempfile.mkdtemp(prefix="reborn-qdb-data-")
    argv = [binary("qdb-server"), "--port", str(port),
            "--dir", tmp]
    if engine:
        argv += ["--engine", engine]
    argv += list(extra)
    p = Process(argv, port=port, name="qdb")
    p.data_dir = tmp
    return p


def start_redis(*extra, port=None):
    port = port or free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no"]
    argv += list(extra)
    return Process(argv, port=port, name="redis")


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawClient:
    """A RESP client that hands back each reply as the raw bytes sent."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout * TIME_SCALE)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        self.send(encode(*args))
        return self.read_reply()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _measure(self, pos):
        end = self._line(pos)
        kind = self.buf[pos:pos + 1]
        head = self.buf[pos + 1:end]
        nxt = end + 2
        if kind in (b"$", b"=", b"!"):
            n = int(head)
            if n < 0:
                return nxt
            while len(self.buf) < nxt + n + 2:
                self._fill()
            return nxt + n + 2
        if kind in (b"*", b"%", b"~", b">"):
            n = int(head)
            if kind == b"%":
                n *= 2
            for _ in range(max(n, 0)):
                nxt = self._measure(nxt)
            return nxt
        return nxt

    def read_reply(self):
        end = self._measure(0)
        reply, self.buf = self.buf[:end], self.buf[end:]
        return reply

    def read_until_closed(self, timeout=5.0):
        """Everything the server sends until it closes the connection."""
        self.sock.settimeout(timeout * TIME_SCALE)
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:  # closed with our input unread
                return data, True
            except socket.timeout:
                return data, False
            if not chunk:
                return data, True
            data += chunk


def client_pair(redis_port, qdb_port, proto=2):
    """A RawClient to redis-server and one to qdb-server, both switched to
    RESP `proto` (HELLO 3) when it is 3: the two sides of a differential
    comparison."""
    pair = RawClient(redis_port), RawClient(qdb_port)
    if proto == 3:
        for c in pair:
            c.call("HELLO", "3")
    return pair


class RedisAndQdbCase(unittest.TestCase):
    """A redis-server and a qdb-server (memory engine) shared by the class's
    tests: the oracle and the server under test, side by side."""

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory")

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()
