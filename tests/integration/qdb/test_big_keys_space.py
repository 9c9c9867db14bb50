"""Big keys on disk: deleting a 1,000,000-field hash and letting a
300,000-member sorted set expire take constant time (a version bump), the
keys are gone at once for every command, and COMPACT gives their disk space
back (the members of dead versions are dropped by the compaction filter).
Runs on the rocksdb and leveldb engines."""

import os
import sys
import time
import unittest

import redis

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import start_qdb  # noqa: E402

HASH_FIELDS = 1000000
ZSET_MEMBERS = 300000
BATCH = 2000


def disk_bytes(r):
    return int(r.info("persistence")["storage_disk_bytes"])


def compact(r, timeout=120):
    done = int(r.info("persistence")["compactions"])
    assert r.execute_command("COMPACT") == b"OK"
    deadline = time.time() + timeout
    while True:
        p = r.info("persistence")
        if int(p["compactions"]) > done and int(p["compacting"]) == 0:
            return
        assert time.time() < deadline, "COMPACT did not finish"
        time.sleep(0.1)


class BigKeysGiveSpaceBack(unittest.TestCase):

    def check_engine(self, engine):
        qdb = start_qdb(engine=engine)
        try:
            r = redis.Redis(port=qdb.port, socket_timeout=120)
            pipe = r.pipeline(transaction=False)
            for start in range(0, HASH_FIELDS, BATCH):
                pipe.hset("big:hash", mapping={
                    "field:%d" % i: "value-%012d" % i
                    for i in range(start, start + BATCH)})
            for start in range(0, ZSET_MEMBERS, BATCH):
                pipe.zadd("big:zset", {"member:%d" % i: i
                                       for i in range(start, start + BATCH)})
            pipe.execute()
            r.set("small", "stays")
            self.assertEqual(r.hlen("big:hash"), HASH_FIELDS)
            compact(r)
            full = disk_bytes(r)
            # ~1.3M members, compressed on disk (the values are alike).
            self.assertGreater(full, 4 << 20, engine)

            begin = time.time()
            self.assertEqual(r.delete("big:hash"), 1)
            self.assertTrue(r.pexpire("big:zset", 200))
            took_ms = (time.time() - begin) * 1000
            self.assertLess(took_ms, 200, engine)  # no member is touched
            time.sleep(0.4)
            for key in ("big:hash", "big:zset"):
                self.assertEqual(r.exists(key), 0)
                self.assertEqual(r.type(key), b"none")
            self.assertEqual(r.zcard("big:zset"), 0)
            self.assertEqual(r.keys("big:*"), [])
            self.assertEqual(r.dbsize(), 1)

            compact(r)
            after = disk_bytes(r)
            print("%s: %.1f MiB on disk with the big keys, %.1f MiB after "
                  "DEL/expiry and COMPACT; DEL+PEXPIRE took %.1f ms" % (
                      engine, full / 2**20, after / 2**20, took_ms))
            self.assertLess(after, full / 10, engine)
            self.assertEqual(r.get("small"), b"stays")
            # A new key of the same name starts empty: no old member shows.
            r.hset("big:hash", "field:7", "new")
            self.assertEqual(r.hgetall("big:hash"), {b"field:7": b"new"})
        finally:
            qdb.cleanup()

    def test_rocksdb(self):
        self.check_engine("rocksdb")

    def test_leveldb(self):
        self.check_engine("leveldb")


if __name__ == "__main__":
    unittest.main(verbosity=2)
