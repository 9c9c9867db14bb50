"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against a real redis-server: the same
sequences, replies compared byte for byte; WATCH invalidated by other
clients and by expiry; EXEC atomic with respect to other clients."""

import threading
import time
import unittest

import redis

from harness import RawClient, RedisAndQdbCase

SEQUENCES = [
    [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["GET", "a"], ["EXEC"]],
    [["MULTI"], ["SET", "a", "1"], ["DISCARD"], ["GET", "a"]],
    [["EXEC"], ["DISCARD"], ["MULTI"], ["MULTI"], ["EXEC"]],
    [["MULTI"], ["NOSUCH"], ["SET", "a", "1"], ["EXEC"], ["GET", "a"]],
    [["MULTI"], ["GET"], ["EXEC"]],
    [["MULTI"], ["SET", "s", "x"], ["INCR", "s"], ["GET", "s"], ["EXEC"]],
    [["MULTI"], ["WATCH", "a"], ["EXEC"]],
    [["WATCH", "a"], ["SET", "a", "2"], ["MULTI"], ["GET", "a"], ["EXEC"]],
    [["WATCH", "a"], ["UNWATCH"], ["SET", "a", "3"], ["MULTI"], ["GET", "a"],
     ["EXEC"]],
    [["SET", "b", "1"], ["WATCH", "b"], ["MULTI"], ["DEL", "b"], ["EXEC"],
     ["EXISTS", "b"]],
    [["MULTI"], ["PING"], ["ECHO", "x"], ["EXEC"]],
    [["MULTI"], ["EXEC"]],
    # A flush touches only the watched keys it deletes; SORT ... STORE
    # touches its destination even when it stores nothing.
    [["WATCH", "x"], ["FLUSHALL"], ["MULTI"], ["PING"], ["EXEC"]],
    [["SET", "x", "1"], ["WATCH", "x"], ["FLUSHDB"], ["MULTI"], ["PING"],
     ["EXEC"]],
    [["WATCH", "x"], ["FLUSHDB"], ["MULTI"], ["PING"], ["EXEC"]],
    [["LPUSH", "foo", "bar"], ["WATCH", "foo"], ["SORT", "empty", "STORE",
                                                 "foo"],
     ["MULTI"], ["PING"], ["EXEC"]],
]


class TransactionsAgainstRedis(RedisAndQdbCase):

    def test_sequences_match_redis(self):
        for seq in SEQUENCES:
            r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
            for cmd in [["FLUSHALL"]] + seq:
                self.assertEqual(r.call(*cmd), q.call(*cmd), (seq, cmd))
            r.close()
            q.close()

    def test_replication_state_inside_and_at_exec(self):
        # REPLICAOF inside MULTI runs at EXEC and the rest of the
        # transaction with it; EXEC is judged by its queue against
        # min-replicas-to-write and a stale replica (the state changed by a
        # second connection, "2", after queuing); no-multi commands abort
        # the transaction. Replies compared byte for byte.
        steps = [
            ["SET", "foo", "bar"], ["MULTI"], ["SET", "foo2", "bar"],
            ["REPLICAOF", "127.0.0.1", "1"], ["SET", "foo3", "bar"],
            ["EXEC"], ["SET", "foo4", "bar"], ["GET", "foo3"],
            ["REPLICAOF", "NO", "ONE"], ["SET", "foo4", "bar"],
            ["MULTI"], ["SLAVEOF", "127.0.0.1", "notaport"], ["EXEC"],
            ["SET", "xx", "1"], ["MULTI"], ["INCR", "xx"],
            ["2", "CONFIG", "SET", "min-replicas-to-write", "2"],
            ["EXEC"], ["GET", "xx"], ["MULTI"], ["GET", "xx"], ["EXEC"],
            ["2", "CONFIG", "SET", "min-replicas-to-write", "0"],
            ["CONFIG", "SET", "replica-serve-stale-data", "no"],
            ["MULTI"], ["PING"], ["2", "REPLICAOF", "localhsot", "0"],
            ["EXEC"], ["MULTI"], ["GET", "xx"], ["EXEC"], ["GET", "xx"],
            ["MULTI"], ["2", "REPLICAOF", "NO", "ONE"], ["GET", "xx"],
            ["EXEC"], ["CONFIG", "GET", "slave-serve-stale-data"],
            ["CONFIG", "SET", "replica-serve-stale-data", "yes"],
            ["MULTI"], ["SAVE"], ["EXEC"], ["MULTI"], ["SHUTDOWN"],
            ["PING"], ["EXEC"],
        ]
        ports = (self.redis.port, self.qdb.port)
        first = [RawClient(p) for p in ports]
        second = [RawClient(p) for p in ports]
        for step in steps:
            conns, cmd = (second, step[1:]) if step[0] == "2" else (first,
                                                                    step)
            got = [c.call(*cmd) for c in conns]
            self.assertEqual(got[0], got[1], (step, got))
        for c in first + second:
            c.close()

    def test_watch_invalidated_by_another_client(self):
        for port in (self.redis.port, self.qdb.port):
            a, b = RawClient(port), RawClient(port)
            a.call("SET", "w", "1")
            self.assertEqual(a.call("WATCH", "w"), b"+OK\r\n")
            b.call("SET", "w", "2")
            a.call("MULTI")
            a.call("SET", "w", "3")
            self.assertEqual(a.call("EXEC"), b"*-1\r\n", port)
            self.assertEqual(a.call("GET", "w"), b"$1\r\n2\r\n")
            a.close()
            b.close()

    def test_writes_that_change_nothing_keep_the_watch(self):
        # Redis invalidates a WATCH only when the key is modified: an SMOVE
        # of a missing member, an SADD of a present one, a DEL or LPOP of
        # nothing leave the transaction to run.
        no_ops = [["SMOVE", "src", "w", "missing"], ["SADD", "w", "m"],
                  ["SREM", "w", "missing"], ["DEL", "nothing"],
                  ["LPOP", "nothing"], ["HDEL", "w", "f"],
                  ["EXPIRE", "nothing", "10"], ["SPOP", "nothing"],
                  ["PERSIST", "w"]]
        for no_op in no_ops:
            results = []
            for port in (self.redis.port, self.qdb.port):
                a, b = RawClient(port), RawClient(port)
                a.call("FLUSHALL")
                a.call("SADD", "w", "m")
                a.call("SADD", "src", "x")
                a.call("WATCH", "w", "nothing")
                results.append(b.call(*no_op))
                a.call("MULTI")
                a.call("SCARD", "w")
                results.append(a.call("EXEC"))
                a.close()
                b.close()
            self.assertEqual(results[0], results[2], no_op)
            self.assertEqual(results[1], results[3], no_op)
            self.assertEqual(results[3], b"*1\r\n:1\r\n", no_op)
        # A real change still invalidates.
        a, b = RawClient(self.qdb.port), RawClient(self.qdb.port)
        a.call("FLUSHALL")
        a.call("SADD", "src", "x")
        a.call("WATCH", "w")
        b.call("SMOVE", "src", "w", "x")
        a.call("MULTI")
        a.call("SCARD", "w")
        self.assertEqual(a.call("EXEC"), b"*-1\r\n")
        a.close()
        b.close()

    def test_srandmember_picks_every_member_of_a_small_set(self):
        q = RawClient(self.qdb.port)
        q.call("DEL", "small")
        q.call("SADD", "small", "a", "b", "c")
        seen = {q.call("SRANDMEMBER", "small") for _ in range(200)}
        seen |= {q.call("SPOP", "small")}
        self.assertEqual(
            seen, {b"$1\r\na\r\n", b"$1\r\nb\r\n", b"$1\r\nc\r\n"})
        q.close()

    def test_watch_invalidated_by_expiry(self):
        for port in (self.redis.port, self.qdb.port):
            a = RawClient(port)
            a.call("SET", "e", "1", "PX", "100")
            a.call("WATCH", "e")
            time.sleep(0.3)
            a.call("MULTI")
            a.call("SET", "x", "1")
            self.assertEqual(a.call("EXEC"), b"*-1\r\n", port)
            a.close()

    def test_exec_is_atomic(self):
        r = redis.Redis(port=self.qdb.port)
        r.set("c1", 0)
        r.set("c2", 0)
        stop = threading.Event()
        bad = []

        def writer():
            w = redis.Redis(port=self.qdb.port)
            while not stop.is_set():
                p = w.pipeline(transaction=True)
                p.incr("c1")
                p.incr("c2")
                p.execute()
            w.close()

        def reader():
            rd = redis.Redis(port=self.qdb.port)
            deadline = time.time() + 2
            while time.time() < deadline:
                p = rd.pipeline(transaction=True)
                p.get("c1")
                p.get("c2")
                a, b = p.execute()
                if a != b:
                    bad.append((a, b))
            rd.close()

        threads = [threading.Thread(target=writer) for _ in range(2)]
        for t in threads:
            t.start()
        reader()
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(bad, [])
        self.assertEqual(r.get("c1"), r.get("c2"))
        r.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
