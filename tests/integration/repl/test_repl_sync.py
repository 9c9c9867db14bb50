"""Synchronous replication (`repl-sync-replicas`, `repl-sync-timeout`): a
write is answered only once enough replicas acknowledged it; a write that
cannot be is refused before it runs (no replica online) or answered with an
error after the timeout (a replica that stopped acknowledging). Also
`min-replicas-to-write` against redis-server 7.0: the same replies for a
write, a write queued in MULTI, and `min-replicas-max-lag 0` (off)."""

import os
import signal
import sys
import threading
import time
import unittest

import redis

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import repl_util as ru  # noqa: E402
from harness import start_qdb, start_redis  # noqa: E402


def reply_of(c, *args):
    try:
        return c.execute_command(*args)
    except redis.exceptions.ResponseError as e:
        return "ERR:" + str(e)


class SyncReplication(unittest.TestCase):
    def test_min_replicas_like_redis(self):
        """No replica: the same answers from redis-server and qdb-server."""
        servers = [start_redis(), start_qdb(engine="memory")]
        try:
            outs = []
            for s in servers:
                c = ru.client(s.port)
                out = [reply_of(c, "CONFIG", "SET", "min-replicas-to-write",
                                "1"),
                       reply_of(c, "SET", "a", "1"),
                       reply_of(c, "GET", "a"),
                       reply_of(c, "MULTI"),
                       reply_of(c, "SET", "a", "2"),
                       reply_of(c, "EXEC"),
                       reply_of(c, "CONFIG", "SET", "min-replicas-max-lag",
                                "0"),
                       reply_of(c, "SET", "a", "3"),
                       reply_of(c, "GET", "a")]
                outs.append(out)
            self.assertEqual(outs[0], outs[1])
            self.assertIn("Not enough good replicas", outs[1][1])
        finally:
            for s in servers:
                s.cleanup()

    def test_write_waits_for_the_replica(self):
        master = start_qdb(engine="memory")
        replica = start_qdb(engine="memory")
        try:
            m = ru.client(master.port)
            self.assertEqual(m.config_get("repl-sync-replicas"),
                             {"repl-sync-replicas": "0"})
            m.config_set("repl-sync-replicas", 1)
            m.config_set("repl-sync-timeout", 500)
            # No replica: refused before it runs.
            with self.assertRaisesRegex(redis.exceptions.ResponseError,
                                        "Not enough good replicas"):
                m.set("x", 1)
            self.assertIsNone(m.get("x"))
            r = ru.client(replica.port)
            r.replicaof("127.0.0.1", master.port)
            ru.wait_for(lambda: int(ru.info(master.port)["connected_slaves"])
                        == 1, what="replica online")
            ru.wait_for(lambda: reply_of(m, "SET", "probe", "1") is True,
                        what="writes accepted")
            # Every acknowledged write is already on the replica: read it
            # there right after the reply, many times, from 4 clients.
            errors = []

            def writer(n):
                mc = ru.client(master.port)
                rc = ru.client(replica.port)
                for i in range(300):
                    k = "k%d-%d" % (n, i)
                    mc.set(k, i)
                    if rc.get(k) != str(i).encode():
                        errors.append(k)
            threads = [threading.Thread(target=writer, args=(n,))
                       for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            # Pipelined writes, a transaction and a script, same guarantee.
            p = m.pipeline(transaction=False)
            for i in range(100):
                p.set("p%d" % i, i)
            self.assertEqual(p.execute(), [True] * 100)
            self.assertEqual(r.get("p99"), b"99")
            p = m.pipeline(transaction=True)
            p.set("t1", 1).incr("t2")
            self.assertEqual(p.execute(), [True, 1])
            self.assertEqual(r.get("t2"), b"1")
            self.assertEqual(m.eval("return redis.call('SET', KEYS[1], 'e')",
                                    1, "ev"), b"OK")
            self.assertEqual(r.get("ev"), b"e")
            # Reads and failed writes do not wait.
            self.assertEqual(m.get("t1"), b"1")
            with self.assertRaisesRegex(redis.exceptions.ResponseError,
                                        "WRONGTYPE"):
                m.lpush("t1", 1)
            # The replica stops acknowledging: the write runs but its reply
            # is the timeout error, after repl-sync-timeout.
            replica.freeze()
            try:
                begin = time.time()
                with self.assertRaisesRegex(redis.exceptions.ResponseError,
                                            "not acknowledged by enough "
                                            "replicas"):
                    m.set("late", 1)
                took = time.time() - begin
                self.assertGreaterEqual(took, 0.45)
                self.assertLess(took, 3)
                self.assertEqual(m.get("late"), b"1")
            finally:
                replica.send_signal(signal.SIGCONT)
            ru.wait_for(lambda: reply_of(m, "SET", "after", "1") is True,
                        what="acknowledged again")
            m.config_set("repl-sync-replicas", 0)
            with self.assertRaisesRegex(redis.exceptions.ResponseError,
                                        "WAIT cannot be used with replica"):
                r.execute_command("WAIT", 1, 0)
            # A replica never waits for itself: its own config is ignored.
            r.config_set("repl-sync-replicas", 1)
            ru.wait_caught_up(master.port, replica.port)
            self.assertEqual(r.get("after"), b"1")
        finally:
            replica.send_signal(signal.SIGCONT)
            replica.cleanup()
            master.cleanup()


if __name__ == "__main__":
    unittest.main()
