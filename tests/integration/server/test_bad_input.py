"""Malformed, truncated, oversized and half-sent frames over real sockets.
Errors must match redis-server byte for byte, a protocol error closes only
that connection, and other clients are served throughout."""

import random
import socket
import time
import unittest

from harness import RawClient, start_qdb, start_redis

# Frames on which redis-server answers with an error and closes.
FATAL_FRAMES = [
    b"*abc\r\n",
    b"*3000000000\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$abc\r\n",
    b"*1\r\n$600000000\r\n",
    b"*2\r\n$3\r\nGET\r\nx3\r\n",
    b"*1\r\n:5\r\n",
    b"set \"abc\r\n",
    b"set 'abc\r\n",
    b"set \"abc\"def\r\n",
    b"*1\r\n$3\r\nfoo\r\n*x\r\n",
    b"PING\r\n*1\r\n$1\r\n",  # reply to PING first, then wait: not fatal
]


def exchange(port, frame, timeout=1.5):
    c = RawClient(port)
    c.send(frame)
    data, closed = c.read_until_closed(timeout=timeout)
    c.close()
    return data, closed


class BadInputAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory")
        cls.witness = RawClient(cls.qdb.port)

    @classmethod
    def tearDownClass(cls):
        cls.witness.close()
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def assertServed(self):
        self.assertEqual(self.witness.call("PING"), b"+PONG\r\n")

    def test_protocol_errors_match_redis(self):
        for frame in FATAL_FRAMES:
            want = exchange(self.redis.port, frame)
            got = exchange(self.qdb.port, frame)
            self.assertEqual(want, got, frame)
            self.assertServed()

    def test_too_big_inline_request(self):
        frame = b"a" * (70 * 1024)
        want = exchange(self.redis.port, frame)
        got = exchange(self.qdb.port, frame)
        self.assertEqual(want, got)
        self.assertEqual(got, (b"-ERR Protocol error: too big inline request\r\n",
                               True))
        self.assertServed()

    def test_half_sent_frames_then_disconnect(self):
        full = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
        for cut in range(1, len(full)):
            s = socket.create_connection(("127.0.0.1", self.qdb.port))
            s.sendall(full[:cut])
            s.close()
        self.assertServed()

    def test_random_garbage_never_crashes(self):
        rng = random.Random(1234)
        for _ in range(300):
            frame = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
            if rng.random() < 0.5:
                frame = b"*" + frame
            s = socket.create_connection(("127.0.0.1", self.qdb.port))
            s.sendall(frame)
            s.close()
        self.assertServed()
        self.assertIsNone(self.qdb.proc.poll())

    def test_split_frames_at_every_byte(self):
        c = RawClient(self.qdb.port)
        frame = b"*2\r\n$4\r\nECHO\r\n$12\r\nhello\r\nworld\r\n"
        for cut in range(1, len(frame)):
            c.send(frame[:cut])
            time.sleep(0.001)
            c.send(frame[cut:])
            self.assertEqual(c.read_reply(), b"$12\r\nhello\r\nworld\r\n")
        c.close()


class Limits(unittest.TestCase):

    def test_configured_bulk_and_query_buffer_limits(self):
        qdb = start_qdb("--engine", "memory", "--proto-max-bulk-len", "1mb",
                        "--client-query-buffer-limit", "2mb")
        try:
            data, closed = exchange(qdb.port, b"*1\r\n$2000000\r\n")
            self.assertEqual(data, b"-ERR Protocol error: invalid bulk length\r\n")
            self.assertTrue(closed)
            # Many pipelined arguments past the query buffer limit: dropped.
            c = RawClient(qdb.port)
            big = b"*5\r\n" + (b"$1000000\r\n" + b"x" * 1000000 + b"\r\n") * 4
            try:
                c.send(big)
            except (BrokenPipeError, ConnectionResetError):
                pass
            data, closed = c.read_until_closed(timeout=5)
            self.assertTrue(closed or data == b"")
            witness = RawClient(qdb.port)
            self.assertEqual(witness.call("PING"), b"+PONG\r\n")
            witness.close()
        finally:
            qdb.cleanup()

    def test_slow_reader_is_paused_not_killed(self):
        qdb = start_qdb("--engine", "memory", "--client-output-buffer-limit",
                        "normal 0 64kb 60")
        try:
            c = RawClient(qdb.port)
            value = b"v" * 1000
            n = 5000
            c.send((b"*2\r\n$4\r\nECHO\r\n$1000\r\n" + value + b"\r\n") * n)
            time.sleep(0.5)  # the server stops reading; replies queue up
            for _ in range(n):
                self.assertEqual(c.read_reply(), b"$1000\r\n" + value + b"\r\n")
            c.close()
        finally:
            qdb.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
