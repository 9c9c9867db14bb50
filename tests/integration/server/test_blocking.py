"""Blocking list and sorted-set commands against redis-server: replies byte
for byte, FIFO wake-up order, timeouts, keys deleted or changing type while
clients wait, disconnects, and blocking commands inside MULTI."""

import threading
import time
import unittest

from harness import RawClient, encode, start_qdb, start_redis


class BlockingAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "rocksdb", "--io-threads", "2")

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def both(self):
        return [self.redis.port, self.qdb.port]

    def compare(self, *commands):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        for cmd in [["FLUSHALL"]] + list(commands):
            self.assertEqual(r.call(*cmd), q.call(*cmd), cmd)
        r.close()
        q.close()

    def test_immediate_replies_and_errors(self):
        self.compare(["RPUSH", "l", "a", "b"], ["BLPOP", "x", "l", "1"],
                     ["BRPOP", "l", "1"], ["BLPOP", "l", "0.01"],
                     ["SET", "s", "v"], ["BLPOP", "s", "1"],
                     ["BLPOP", "l", "-1"], ["BLPOP", "l", "abc"],
                     ["BLPOP", "l", "1e20"], ["BLPOP", "l", "inf"],
                     ["BLPOP", "l", "9.3e15"], ["BLPOP", "l", "nan"],
                     ["BLPOP", "l", "1e5000"], ["BLPOP", "none", "1e-5"],
                     ["RPUSH", "l", "v"], ["BLPOP", "l", "0x10"],
                     ["BZPOPMIN", "z", "-inf"],
                     ["ZADD", "z", "1", "a", "2", "b"],
                     ["BZPOPMIN", "z", "1"], ["BZPOPMAX", "z", "1"],
                     ["BZPOPMIN", "z", "0.01"],
                     ["RPUSH", "src", "1", "2"],
                     ["BLMOVE", "src", "dst", "LEFT", "RIGHT", "1"],
                     ["BRPOPLPUSH", "src", "dst", "1"],
                     ["LRANGE", "dst", "0", "-1"],
                     ["RPUSH", "m", "1", "2", "3"],
                     ["BLMPOP", "1", "2", "x", "m", "LEFT", "COUNT", "2"],
                     ["BLMPOP", "1", "0", "m", "LEFT"],
                     ["ZADD", "zz", "1", "a"],
                     ["BZMPOP", "1", "1", "zz", "MIN"],
                     ["MULTI"], ["BLPOP", "empty", "0"], ["EXEC"])

    def test_resp3_pop_replies(self):
        # ZPOPMIN/ZPOPMAX without a count stay flat in RESP3; BZPOPMIN is
        # [key, member, score], served at once and after a wake-up.
        cmds = [["HELLO", "3"], ["FLUSHALL"], ["ZADD", "z", "1", "a", "2", "b"],
                ["ZPOPMIN", "z"], ["ZPOPMAX", "z"], ["ZPOPMIN", "z"],
                ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
                ["ZPOPMIN", "z", "2"], ["ZPOPMAX", "z", "1"],
                ["ZADD", "z", "1.5", "a"], ["BZPOPMIN", "z", "1"],
                ["RPUSH", "l", "x"], ["BLPOP", "l", "1"],
                ["BZMPOP", "0.01", "1", "z", "MIN"]]
        replies = {}
        for port in self.both():
            c, pusher = RawClient(port), RawClient(port)
            out = [c.call(*cmd) for cmd in cmds[1:]] if c.call(*cmds[0]) else []
            c.send(encode("BZPOPMAX", "w", "5"))
            time.sleep(0.1)
            pusher.call("ZADD", "w", "7", "m")
            out.append(c.read_reply())
            replies[port] = out
            c.close()
            pusher.close()
        self.assertEqual(replies[self.redis.port], replies[self.qdb.port])

    def test_waiters_see_a_transaction_whole(self):
        # A waiter is served after EXEC: it sees the transaction's end state.
        for port in self.both():
            w, c = RawClient(port), RawClient(port)
            c.call("DEL", "k", "sorted", "src")
            w.send(encode("BLPOP", "k", "0.5"))
            time.sleep(0.1)
            for cmd in (["MULTI"], ["RPUSH", "k", "a", "b"], ["LPOP", "k"]):
                c.call(*cmd)
            self.assertEqual(c.call("EXEC"),
                             b"*2\r\n:2\r\n$1\r\na\r\n", port)
            self.assertEqual(w.read_reply(),
                             b"*2\r\n$1\r\nk\r\n$1\r\nb\r\n", port)
            w.send(encode("BLPOP", "k", "0.3"))
            time.sleep(0.1)
            for cmd in (["MULTI"], ["RPUSH", "k", "a"], ["DEL", "k"]):
                c.call(*cmd)
            self.assertEqual(c.call("EXEC"), b"*2\r\n:1\r\n:1\r\n", port)
            self.assertEqual(w.read_reply(), b"*-1\r\n", port)
            # SORT ... STORE fills its destination for a waiter.
            w.send(encode("BLPOP", "sorted", "5"))
            time.sleep(0.1)
            c.call("RPUSH", "src", "2", "1")
            self.assertEqual(c.call("SORT", "src", "STORE", "sorted"),
                             b":2\r\n")
            self.assertEqual(w.read_reply(),
                             b"*2\r\n$6\r\nsorted\r\n$1\r\n1\r\n", port)
            w.close()
            c.close()

    def test_move_wakes_a_waiter_in_the_target_db(self):
        for port in self.both():
            w, c = RawClient(port), RawClient(port)
            c.call("DEL", "mv")
            w.send(encode("BLPOP", "mv", "5"))
            time.sleep(0.1)
            c.call("SELECT", "1")
            c.call("DEL", "mv")
            c.call("RPUSH", "mv", "x")
            self.assertEqual(c.call("MOVE", "mv", "0"), b":1\r\n", port)
            self.assertEqual(w.read_reply(),
                             b"*2\r\n$2\r\nmv\r\n$1\r\nx\r\n", port)
            w.close()
            c.close()

    def test_swapdb_wakes_a_waiter_whose_key_arrives(self):
        for port in self.both():
            w, c = RawClient(port), RawClient(port)
            c.call("FLUSHALL")
            w.send(encode("BLPOP", "sw", "5"))
            time.sleep(0.1)
            c.call("SELECT", "1")
            c.call("RPUSH", "sw", "x")
            self.assertEqual(c.call("SWAPDB", "0", "1"), b"+OK\r\n", port)
            self.assertEqual(w.read_reply(),
                             b"*2\r\n$2\r\nsw\r\n$1\r\nx\r\n", port)
            w.close()
            c.close()

    def test_blmove_to_a_wrong_type_destination_after_waiting(self):
        # Redis wakes the waiter with WRONGTYPE and leaves the pushed element
        # in the source; a later waiter with a good destination gets it.
        for port in self.both():
            w, c = RawClient(port), RawClient(port)
            c.call("DEL", "bsrc", "bdst", "bok")
            c.call("SET", "bdst", "string")
            w.send(encode("BLMOVE", "bsrc", "bdst", "LEFT", "RIGHT", "5"))
            time.sleep(0.1)
            self.assertEqual(c.call("RPUSH", "bsrc", "x"), b":1\r\n", port)
            self.assertEqual(
                w.read_reply(),
                b"-WRONGTYPE Operation against a key holding the wrong kind "
                b"of value\r\n", port)
            self.assertEqual(c.call("LRANGE", "bsrc", "0", "-1"),
                             b"*1\r\n$1\r\nx\r\n", port)
            self.assertEqual(c.call("BRPOPLPUSH", "bsrc", "bok", "1"),
                             b"$1\r\nx\r\n", port)
            w.close()
            c.close()

    def test_wakeup_order_is_fifo_across_threads(self):
        for port in self.both():
            waiters = [RawClient(port) for _ in range(4)]
            for i, w in enumerate(waiters):
                w.send(encode("BLPOP", "q", "5"))
                time.sleep(0.05)
            pusher = RawClient(port)
            pusher.call("RPUSH", "q", "0", "1", "2", "3")
            for i, w in enumerate(waiters):
                self.assertEqual(w.read_reply(),
                                 b"*2\r\n$1\r\nq\r\n$1\r\n%d\r\n" % i, port)
                w.close()
            pusher.close()

    def test_timeout_and_type_change_while_waiting(self):
        for port in self.both():
            w, other = RawClient(port), RawClient(port)
            other.call("DEL", "t")
            w.send(encode("BLPOP", "t", "0.5"))
            time.sleep(0.1)
            other.call("SET", "t", "string")  # wrong type: stays blocked
            start = time.time()
            self.assertEqual(w.read_reply(), b"*-1\r\n", port)
            self.assertGreater(time.time() - start, 0.2)
            other.call("DEL", "t")
            w.close()
            other.close()

    def test_disconnected_waiter_does_not_take_the_value(self):
        for port in self.both():
            gone, waiter, pusher = RawClient(port), RawClient(port), RawClient(port)
            pusher.call("DEL", "d")
            gone.send(encode("BLPOP", "d", "0"))
            time.sleep(0.1)
            waiter.send(encode("BLPOP", "d", "5"))
            time.sleep(0.1)
            gone.close()
            time.sleep(0.2)
            pusher.call("RPUSH", "d", "v")
            self.assertEqual(waiter.read_reply(),
                             b"*2\r\n$1\r\nd\r\n$1\r\nv\r\n", port)
            waiter.close()
            pusher.close()

    def test_pipelined_commands_wait_behind_a_blocked_one(self):
        for port in self.both():
            c, pusher = RawClient(port), RawClient(port)
            pusher.call("DEL", "p")
            c.send(encode("BLPOP", "p", "5") + encode("PING"))
            time.sleep(0.2)
            pusher.call("LPUSH", "p", "x")
            self.assertEqual(c.read_reply(), b"*2\r\n$1\r\np\r\n$1\r\nx\r\n")
            self.assertEqual(c.read_reply(), b"+PONG\r\n")
            c.close()
            pusher.close()

    def test_many_producers_and_consumers_lose_nothing(self):
        port = self.qdb.port
        n = 200
        got = []
        lock = threading.Lock()

        def consume():
            c = RawClient(port)
            while True:
                reply = c.call("BLPOP", "work", "2")
                if reply == b"*-1\r\n":
                    break
                with lock:
                    got.append(reply.split(b"\r\n")[4])
            c.close()

        consumers = [threading.Thread(target=consume) for _ in range(4)]
        for t in consumers:
            t.start()
        producer = RawClient(port)
        for i in range(n):
            producer.call("RPUSH", "work", str(i))
        for t in consumers:
            t.join()
        producer.close()
        self.assertEqual(sorted(int(x) for x in got), list(range(n)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
