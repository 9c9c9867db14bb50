"""Concurrency through the server: 8 clients x 10,000 INCR on one key give
exactly 80,000, and concurrent APPENDs of fixed-size records never tear,
on every engine."""

import os
import shutil
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import harness  # noqa: E402

CLIENTS = 8
INCRS = 10000
BATCH = 100  # pipelined requests per round trip


def incr_worker(port, errors):
    c = harness.RawClient(port, timeout=30)
    try:
        frame = harness.encode("INCR", "counter") * BATCH
        for _ in range(INCRS // BATCH):
            c.send(frame)
            for _ in range(BATCH):
                r = c.read_reply()
                if not r.startswith(b":"):
                    errors.append(r)
    finally:
        c.close()


def append_worker(port, n, errors):
    c = harness.RawClient(port, timeout=30)
    try:
        record = bytes([ord("a") + n]) * 16
        frame = harness.encode("APPEND", "log", record) * BATCH
        for _ in range(5):
            c.send(frame)
            for _ in range(BATCH):
                r = c.read_reply()
                if not r.startswith(b":"):
                    errors.append(r)
    finally:
        c.close()


class ConcurrencyTest(unittest.TestCase):
    def run_engine(self, engine):
        qdb = harness.start_qdb(engine=engine)
        try:
            c = harness.RawClient(qdb.port)
            if c.call("DEL", "counter").startswith(b"-ERR unknown command"):
                raise unittest.SkipTest("engine commands not served")
            errors = []
            threads = [threading.Thread(target=incr_worker,
                                        args=(qdb.port, errors))
                       for _ in range(CLIENTS)]
            threads += [threading.Thread(target=append_worker,
                                         args=(qdb.port, n, errors))
                        for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            self.assertEqual(c.call("GET", "counter"),
                             b"$5\r\n%d\r\n" % (CLIENTS * INCRS))
            log = c.call("GET", "log").split(b"\r\n")[1]
            self.assertEqual(len(log), 4 * 5 * BATCH * 16)
            for i in range(0, len(log), 16):
                rec = log[i:i + 16]
                self.assertEqual(rec, rec[:1] * 16, "torn record at %d" % i)
            c.close()
        finally:
            qdb.cleanup()
            shutil.rmtree(qdb.data_dir, ignore_errors=True)

    def test_rocksdb(self):
        self.run_engine("rocksdb")

    def test_leveldb(self):
        self.run_engine("leveldb")

    def test_memory(self):
        self.run_engine("memory")


if __name__ == "__main__":
    unittest.main(verbosity=2)
