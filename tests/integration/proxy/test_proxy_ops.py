"""reborn-proxy operations: real clients (redis-cli, redis-benchmark,
python3-redis), Pub/Sub and blocking pops, a group killed and restarted while
the other keeps serving, AUTH, backend passwords, admin HTTP and SIGTERM."""

import json
import signal
import subprocess
import threading
import time
import unittest
import urllib.request
import warnings

import redis

from harness import RawClient, start_redis
from proxy_harness import start_proxy


def slot_owner_keys(proxy_port, g1_port, g2_port, n=200):
    """Keys that land on group 1 and on group 2."""
    p = redis.Redis(port=proxy_port)
    for i in range(n):
        p.set("probe:%d" % i, 1)
    k1 = [k.decode() for k in redis.Redis(port=g1_port).keys("probe:*")]
    k2 = [k.decode() for k in redis.Redis(port=g2_port).keys("probe:*")]
    return k1, k2


class ProxyWithClients(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1 = start_redis()
        cls.g2 = start_redis()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port], admin=True)

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2):
            p.cleanup()

    def test_redis_cli(self):
        out = subprocess.run(["redis-cli", "-p", str(self.proxy.port), "set",
                              "cli", "value"], capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "OK")
        out = subprocess.run(["redis-cli", "-p", str(self.proxy.port), "get",
                              "cli"], capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "value")

    def test_redis_benchmark(self):
        out = subprocess.run(
            ["redis-benchmark", "-p", str(self.proxy.port), "-t",
             "set,get,mset", "-n", "3000", "-c", "10", "-r", "1000", "-P", "8",
             "-q"], capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("MSET", out.stdout)
        r = redis.Redis(port=self.proxy.port)
        self.assertGreater(r.dbsize(), 100)

    def test_python_redis_pipeline(self):
        r = redis.Redis(port=self.proxy.port)
        pipe = r.pipeline(transaction=False)
        for i in range(100):
            pipe.set("py:%d" % i, i)
        pipe.mget(["py:%d" % i for i in range(100)])
        res = pipe.execute()
        self.assertEqual(res[-1], [str(i).encode() for i in range(100)])
        with r.pipeline(transaction=True) as tx:
            tx.incr("{acct}:a").incr("{acct}:b")
            self.assertEqual(tx.execute(), [1, 1])

    def test_reset_and_database_commands(self):
        r = redis.Redis(port=self.proxy.port)
        r.set("{rst}:k", "v")
        c = RawClient(self.proxy.port)
        # RESET leaves a transaction, a WATCH and a subscription behind and
        # answers +RESET only; the connection then works as a new one.
        self.assertEqual(c.call("WATCH", "{rst}:k"), b"+OK\r\n")
        self.assertEqual(c.call("MULTI"), b"+OK\r\n")
        self.assertEqual(c.call("SET", "{rst}:k", "tx"), b"+QUEUED\r\n")
        self.assertEqual(c.call("RESET"), b"+RESET\r\n")
        self.assertEqual(c.call("EXEC"), b"-ERR EXEC without MULTI\r\n")
        self.assertEqual(r.get("{rst}:k"), b"v")
        c.call("SUBSCRIBE", "rst-chan")
        self.assertEqual(c.call("RESET"), b"+RESET\r\n")
        self.assertEqual(c.call("GET", "{rst}:k"), b"$1\r\nv\r\n")
        deadline = time.time() + 5  # the backend sees the close shortly
        while r.pubsub_numsub("rst-chan") != [(b"rst-chan", 0)]:
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        # The proxy serves database 0 only: commands that reach into other
        # databases or reconfigure a backend are refused, not forwarded.
        for argv, reason in (
                (("SWAPDB", "0", "1"), "the proxy serves database 0 only"),
                (("MOVE", "{rst}:k", "1"), "the proxy serves database 0 only"),
                (("REPLICAOF", "127.0.0.1", "1"),
                 "replication is set up per group by reborn-config")):
            self.assertEqual(
                c.call(*argv),
                ("-ERR %s is not supported by reborn-proxy: %s" %
                 (argv[0], reason)).encode() + b"\r\n")
        self.assertEqual(
            c.call("COPY", "{rst}:k", "{rst}:c", "DB", "3"),
            b"-ERR COPY ... DB is not supported by reborn-proxy: the proxy "
            b"serves database 0 only\r\n")
        self.assertEqual(c.call("COPY", "{rst}:k", "{rst}:c", "DB", "0"),
                         b":1\r\n")
        self.assertEqual(r.get("{rst}:c"), b"v")
        self.assertEqual(r.get("{rst}:k"), b"v")
        c.close()

    def test_pubsub(self):
        r = redis.Redis(port=self.proxy.port)
        ps = r.pubsub()
        ps.subscribe("news")
        ps.psubscribe("chan.*")
        deadline = time.time() + 5
        got = []
        while time.time() < deadline and len(got) < 2:
            r.publish("news", "hello")
            r.publish("chan.x", "world")
            m = ps.get_message(timeout=0.2)
            while m:
                if m["type"] in ("message", "pmessage"):
                    got.append(m["data"])
                m = ps.get_message(timeout=0.1)
        self.assertIn(b"hello", got)
        self.assertIn(b"world", got)
        ps.close()

    def test_blocking_pop_does_not_block_others(self):
        r = redis.Redis(port=self.proxy.port)
        r.delete("queue")
        result = {}

        def pop():
            result["v"] = redis.Redis(port=self.proxy.port).blpop("queue", 5)

        t = threading.Thread(target=pop)
        t.start()
        time.sleep(0.3)
        start = time.time()
        self.assertTrue(r.set("other", 1))  # not stuck behind the BLPOP
        self.assertLess(time.time() - start, 0.5)
        r.rpush("queue", "job")
        t.join(5)
        self.assertEqual(result["v"], (b"queue", b"job"))

    def test_admin_http(self):
        base = "http://127.0.0.1:%d" % self.proxy.admin_port
        redis.Redis(port=self.proxy.port).get("metrics-probe")
        text = urllib.request.urlopen(base + "/metrics").read().decode()
        self.assertIn('reborn_proxy_commands_total{command="get"}', text)
        self.assertIn("reborn_proxy_command_latency_seconds_bucket", text)
        self.assertIn("reborn_proxy_backend_connections", text)
        stats = json.loads(urllib.request.urlopen(base + "/api/stats").read())
        self.assertGreater(stats["commands"], 0)
        slots = json.loads(urllib.request.urlopen(base + "/api/slots").read())
        self.assertEqual(len(slots["slots"]), 1024)
        self.assertEqual(len(slots["groups"]), 2)


class GroupFailure(unittest.TestCase):

    def test_down_group_fails_only_its_slots_and_recovers(self):
        warnings.simplefilter("ignore", ResourceWarning)
        g1, g2 = start_redis(), start_redis()
        proxy = start_proxy([g1.port, g2.port])
        try:
            k1, k2 = slot_owner_keys(proxy.port, g1.port, g2.port)
            self.assertTrue(k1 and k2)
            port2 = g2.port
            g2.cleanup()
            c = RawClient(proxy.port)
            # Group 1 keeps serving; group 2's keys fail fast.
            for _ in range(20):
                self.assertEqual(c.call("GET", k1[0]), b"$1\r\n1\r\n")
                start = time.time()
                err = c.call("GET", k2[0])
                self.assertTrue(err.startswith(b"-ERR backend"), err)
                self.assertLess(time.time() - start, 1.5)
            # A split command touching the dead group reports its error.
            self.assertTrue(c.call("MGET", k1[0], k2[0]).startswith(b"-"))
            g2 = start_redis(port=port2)
            deadline = time.time() + 5
            while time.time() < deadline:
                if c.call("SET", k2[0], "back") == b"+OK\r\n":
                    break
                time.sleep(0.1)
            self.assertEqual(c.call("GET", k2[0]), b"$4\r\nback\r\n")
            self.assertEqual(c.call("GET", k1[0]), b"$1\r\n1\r\n")
        finally:
            for p in (proxy, g1, g2):
                p.cleanup()


class Auth(unittest.TestCase):

    def test_requirepass_and_backend_password(self):
        warnings.simplefilter("ignore", ResourceWarning)
        g1 = start_redis("--requirepass", "backpw")
        proxy = start_proxy([g1.port], None, "--requirepass", "s3cret",
                            "--backend-password", "backpw")
        try:
            c = RawClient(proxy.port)
            self.assertEqual(c.call("GET", "a"),
                             b"-NOAUTH Authentication required.\r\n")
            self.assertTrue(c.call("AUTH", "wrong").startswith(b"-WRONGPASS"))
            self.assertEqual(c.call("AUTH", "s3cret"), b"+OK\r\n")
            self.assertEqual(c.call("SET", "a", "1"), b"+OK\r\n")
            self.assertEqual(c.call("GET", "a"), b"$1\r\n1\r\n")
            r = redis.Redis(port=proxy.port, password="s3cret")
            self.assertEqual(r.get("a"), b"1")
        finally:
            proxy.cleanup()
            g1.cleanup()

    def test_sigterm_exits_cleanly(self):
        g1 = start_redis()
        proxy = start_proxy([g1.port])
        try:
            c = RawClient(proxy.port)
            self.assertEqual(c.call("PING"), b"+PONG\r\n")
            proxy.send_signal(signal.SIGTERM)
            self.assertEqual(proxy.wait(10), 0)
        finally:
            proxy.cleanup()
            g1.cleanup()


class ReadFromReplicas(unittest.TestCase):
    """--read-from-replicas: reads go to the group's replica, writes to its
    master."""

    def test_reads_go_to_the_replica(self):
        master, replica = start_redis(), start_redis()
        proxy = None
        try:
            redis.Redis(port=replica.port).replicaof("127.0.0.1", master.port)
            topology = {"groups": [{
                "id": 1, "master": "127.0.0.1:%d" % master.port,
                "replicas": ["127.0.0.1:%d" % replica.port]}]}
            proxy = start_proxy(None, topology, "--read-from-replicas")
            c = redis.Redis(port=proxy.port)
            keys = ["rr:%d" % i for i in range(100)]
            c.mset({k: k for k in keys})
            r = redis.Redis(port=replica.port)
            deadline = time.time() + 10
            while r.dbsize() < len(keys):
                self.assertLess(time.time(), deadline, "replica never synced")
                time.sleep(0.05)
            for k in keys:
                self.assertEqual(c.get(k), k.encode())
            self.assertEqual(c.mget(keys), [k.encode() for k in keys])
            on_replica = r.info("commandstats")
            on_master = redis.Redis(port=master.port).info("commandstats")
            self.assertEqual(on_replica["cmdstat_get"]["calls"], len(keys))
            self.assertIn("cmdstat_mget", on_replica)
            self.assertNotIn("cmdstat_get", on_master)
            self.assertIn("cmdstat_mset", on_master)
        finally:
            for p in (proxy, replica, master):
                if p is not None:
                    p.cleanup()


if __name__ == "__main__":
    unittest.main()
