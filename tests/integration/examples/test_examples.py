"""The embedding examples, run as a user would run them: sharded_client
against two real redis-servers, embed_proxy serving real clients in front of
them for its two seconds, embed_qdb on each storage engine."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import zlib

import redis

from harness import free_port, start_redis

BIN = {}


def slot_of(key):
    return zlib.crc32(key.encode()) % 1024


class Examples(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.g1, cls.g2 = start_redis(), start_redis()
        cls.addrs = "127.0.0.1:%d,127.0.0.1:%d" % (cls.g1.port, cls.g2.port)

    @classmethod
    def tearDownClass(cls):
        cls.g1.cleanup()
        cls.g2.cleanup()

    def owner(self, key):
        """The server of `key` with the slots split evenly (0..511 first)."""
        return self.g1 if slot_of(key) < 512 else self.g2

    def test_sharded_client(self):
        out = subprocess.run([BIN["sharded_client"], "static://" + self.addrs],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split(),
                         ["ada", "alan", "(nil)", "visits=1", "hits=1",
                          "zadd=1", "top=ada"])
        for key, want in (("user:1", b"ada"), ("user:2", b"alan"),
                          ("visits", b"1"), ("hits", b"1"),
                          ("session:42", b"ada")):
            owner = redis.Redis(host="127.0.0.1", port=self.owner(key).port)
            self.assertEqual(owner.get(key), want, key)
        session = redis.Redis(host="127.0.0.1",
                              port=self.owner("session:42").port)
        self.assertTrue(1700 < session.ttl("session:42") <= 1800)

    def test_embed_proxy(self):
        port = free_port()
        p = subprocess.Popen([BIN["embed_proxy"], self.addrs, str(port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            banner = "proxy on 127.0.0.1:%d" % port
            lines = []
            while not lines or banner not in lines[-1]:  # after the log lines
                lines.append(p.stdout.readline())
                self.assertTrue(lines[-1], "".join(lines))
            c = redis.Redis(host="127.0.0.1", port=port)
            keys = ["ep:%d" % i for i in range(50)]
            c.mset({k: k for k in keys})
            self.assertEqual(c.mget(keys), [k.encode() for k in keys])
            for k in keys[:5]:
                self.assertEqual(
                    redis.Redis(host="127.0.0.1", port=self.owner(k).port).get(k), k.encode())
            c.close()
            rest, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual(p.returncode, 0, err)
        stats = json.loads(rest.strip().splitlines()[-1])
        self.assertEqual(stats["port"], port)
        self.assertGreaterEqual(stats["commands"], 2)  # MSET and MGET
        self.assertGreaterEqual(stats["split_commands"], 2)  # both split

    def test_embed_qdb_on_every_engine(self):
        for engine in ("rocksdb", "leveldb", "memory"):
            tmp = tempfile.mkdtemp(prefix="reborn-embed-qdb-")
            out = subprocess.run([BIN["embed_qdb"], tmp, engine],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, engine + out.stderr)
            self.assertIn("greeting=", out.stdout, engine)
            self.assertIn("scan saw", out.stdout, engine)


if __name__ == "__main__":
    for arg in sys.argv[1:4]:
        BIN[os.path.basename(arg)] = arg
    unittest.main(argv=sys.argv[:1] + sys.argv[4:], verbosity=2)
