"""Pub/Sub through reborn-proxy with qdb-server groups behind it, on a real
ZooKeeper: two groups (slots 0-511 on group 1, 512-1023 on group 2) and two
proxies. A subscriber on proxy A gets what is published through proxy B;
the subscription confirmations, PUBLISH's receiver counts and the messages
equal a single redis-server's (the oracle) byte for byte; subscribers follow
the topology when the designated group's master changes (server promote),
when the designated group changes (its slots go elsewhere) and when a
shard channel's slot migrates (a live `slot migrate`); keyspace events of
every group reach a proxy subscriber. node-redis does the same across the
two proxies."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest
import warnings
import zlib

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "migrate"))
from cluster import Cluster  # noqa: E402
from harness import RawClient, start_qdb, start_redis  # noqa: E402
from proxy_harness import start_cluster_redis  # noqa: E402

NODE_PATH = "/usr/share/nodejs"


def slot_of(name):
    return zlib.crc32(name.encode()) % 1024


def name_in(prefix, lo, hi):
    """A name without hash tag whose slot is in [lo, hi]."""
    for i in range(100000):
        n = "%s%d" % (prefix, i)
        if lo <= slot_of(n) <= hi:
            return n
    raise AssertionError("no name")


def wait_for(what, cond, timeout=20):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def numsub(port, channel, shard=False):
    r = redis.Redis(port=port)
    try:
        if shard:
            reply = r.execute_command("PUBSUB", "SHARDNUMSUB", channel)
        else:
            reply = r.execute_command("PUBSUB", "NUMSUB", channel)
        return int(reply[1])
    finally:
        r.close()


class ProxyPubSub(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.cluster = Cluster("pubsub")
        try:
            cls.cluster.config("slot", "range-set", "512", "1023", "2")
            cls.g1, cls.g2 = cls.cluster.groups[1], cls.cluster.groups[2]
            cls.a = cls.cluster.start_proxy()
            cls.b = cls.cluster.start_proxy()
            cls.redis = start_redis()
        except BaseException:
            cls.cluster.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.cluster.cleanup()

    def pair(self):
        """(subscriber, publisher) on redis-server, and on proxies A and B."""
        return ((RawClient(self.redis.port), RawClient(self.redis.port)),
                (RawClient(self.a.port), RawClient(self.b.port)))

    def run_both(self, script):
        """Runs `script(sub, pub)` on the oracle and through the proxies;
        returns both transcripts."""
        out = []
        for sub, pub in self.pair():
            try:
                out.append(script(sub, pub))
            finally:
                sub.close()
                pub.close()
        return out

    def test_1_channels_patterns_across_proxies(self):
        def script(sub, pub):
            t = []
            t.append(sub.call("SUBSCRIBE", "news", "sport"))
            t += [sub.read_reply()]
            t.append(sub.call("PSUBSCRIBE", "n*"))
            t.append(sub.call("SUBSCRIBE", "news"))  # twice: count stays
            t.append(sub.call("GET", "k"))  # RESP2 subscribed mode
            t.append(sub.call("PING"))
            t.append(sub.call("PING", "hi"))
            for i in range(20):
                t.append(pub.call("PUBLISH", "news", "m%d" % i))
                t.append(sub.read_reply())
                t.append(sub.read_reply())  # and through n*
            t.append(pub.call("PUBLISH", "sport", "goal"))
            t.append(sub.read_reply())
            t.append(pub.call("PUBLISH", "nothing", "x"))
            t.append(sub.read_reply())  # n* only
            t.append(pub.call("PUBLISH", "other", "x"))
            t.append(pub.call("PUBSUB", "NUMSUB", "news", "other"))
            t.append(pub.call("PUBSUB", "NUMPAT"))
            t.append(sub.call("UNSUBSCRIBE", "sport"))
            t.append(pub.call("PUBLISH", "sport", "late"))
            t.append(sub.call("PUNSUBSCRIBE"))
            t.append(sub.call("UNSUBSCRIBE"))
            t.append(sub.call("UNSUBSCRIBE"))  # none left: a nil name
            t.append(sub.call("GET", "nokey"))  # out of subscribed mode
            t.append(sub.call("SUBSCRIBE"))  # arity
            return t

        want, got = self.run_both(script)
        self.assertEqual(got, want)

    def test_2_resp3_pushes(self):
        def script(sub, pub):
            t = [sub.call("HELLO", "3")[:3]]
            t.append(sub.call("SUBSCRIBE", "r3"))
            t.append(sub.call("SET", "{r3}k", "v"))  # any command in RESP3
            t.append(pub.call("PUBLISH", "r3", "hi"))
            t.append(sub.read_reply())
            t.append(sub.call("UNSUBSCRIBE", "r3"))
            t.append(sub.call("UNSUBSCRIBE"))
            return t

        want, got = self.run_both(script)
        self.assertEqual(got, want)

    def test_3_sharded(self):
        s1 = name_in("shard", 0, 511)
        s2 = name_in("shard", 512, 1023)
        tagged = "{%s}x" % s1

        def script(sub, pub):
            t = [sub.call("SSUBSCRIBE", s1, tagged)]
            t.append(sub.read_reply())
            t.append(sub.call("SSUBSCRIBE", s2))
            t.append(sub.call("SUBSCRIBE", "plain"))  # counted apart
            t.append(pub.call("PUBSUB", "SHARDNUMSUB", s1, s2, "nobody"))
            t.append(pub.call("PUBSUB", "SHARDCHANNELS", s2))
            t.append(pub.call("PUBSUB", "SHARDCHANNELS", "nomatch*"))
            t.append(pub.call("SPUBLISH", s1, "a"))
            t.append(sub.read_reply())
            t.append(pub.call("SPUBLISH", tagged, "b"))
            t.append(sub.read_reply())
            t.append(pub.call("SPUBLISH", s2, "c"))
            t.append(sub.read_reply())
            t.append(pub.call("SPUBLISH", "nobody", "d"))
            t.append(pub.call("PUBLISH", s1, "not-shard"))
            t.append(sub.call("SUNSUBSCRIBE", s2))
            t.append(pub.call("SPUBLISH", s2, "gone"))
            t.append(sub.call("SUNSUBSCRIBE", tagged))
            t.append(sub.call("SUNSUBSCRIBE"))  # one left
            t.append(sub.call("SUNSUBSCRIBE"))  # none: a nil name
            t.append(sub.call("UNSUBSCRIBE"))
            return t

        want, got = self.run_both(script)
        self.assertEqual(got, want)
        # Shard channels live on their slot's group.
        sub = RawClient(self.a.port)
        sub.call("SSUBSCRIBE", s2)
        self.assertEqual(numsub(self.g2.port, s2, shard=True), 1)
        self.assertEqual(numsub(self.g1.port, s2, shard=True), 0)
        sub.close()
        # Several slots in one command: CROSSSLOT, as Redis Cluster.
        cluster = start_cluster_redis()
        try:
            for argv in (("SSUBSCRIBE", s1, s2), ("SUNSUBSCRIBE", s1, s2)):
                r, p = RawClient(cluster.port), RawClient(self.a.port)
                self.assertEqual(p.call(*argv), r.call(*argv), argv)
                r.close()
                p.close()
        finally:
            cluster.cleanup()

    def test_4_keyspace_events_of_every_group(self):
        for g in (self.g1, self.g2):
            redis.Redis(port=g.port).config_set("notify-keyspace-events",
                                                "KEA")
        redis.Redis(port=self.redis.port).config_set(
            "notify-keyspace-events", "KEA")
        k1 = name_in("ev", 0, 511)
        k2 = name_in("ev", 512, 1023)

        def script(sub, pub):
            t = [sub.call("PSUBSCRIBE", "__keyspace@0__:*")]
            t.append(sub.call("SUBSCRIBE", "__keyevent@0__:set"))
            for k in (k1, k2):
                t.append(pub.call("SET", k, "v"))
                t.append(sub.read_reply())  # keyspace: set
                t.append(sub.read_reply())  # keyevent: set
                t.append(pub.call("DEL", k))
                t.append(sub.read_reply())  # keyspace: del
            t.append(pub.call("PUBLISH", "__keyevent@0__:set", "manual"))
            t.append(sub.read_reply())
            t.append(pub.call("PUBSUB", "NUMPAT"))
            t.append(sub.call("PUNSUBSCRIBE"))
            t.append(sub.call("UNSUBSCRIBE"))
            return t

        want, got = self.run_both(script)
        self.assertEqual(got, want)
        # Held on both groups' masters while subscribed.
        sub = RawClient(self.a.port)
        sub.call("SUBSCRIBE", "__keyevent@0__:del")
        for g in (self.g1, self.g2):
            self.assertEqual(numsub(g.port, "__keyevent@0__:del"), 1)
        sub.close()

    def test_5_node_redis(self):
        if not (shutil.which("node") and
                os.path.isdir(os.path.join(NODE_PATH, "redis"))):
            self.skipTest("node or node-redis missing")
        out = subprocess.run(
            ["node", os.path.join(HERE, "node_pubsub_client.js"),
             "redis://127.0.0.1:%d" % self.a.port,
             "redis://127.0.0.1:%d" % self.b.port],
            env=dict(os.environ, NODE_PATH=NODE_PATH),
            capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0,
                         out.stdout.decode() + out.stderr.decode())
        self.assertIn(b"node pubsub ok", out.stdout)

    @staticmethod
    def collect(sub, n):
        """The payloads of the next `n` messages `sub` (a RawClient)
        receives."""
        out = []
        for _ in range(n):
            reply = sub.read_reply()
            out.append(reply[reply.rindex(b"$"):].split(b"\r\n")[1])
        return out

    def test_6_designated_master_fails_over(self):
        spare = start_qdb()
        try:
            addr = "127.0.0.1:%d" % spare.port
            self.cluster.config("group", "add-server", "1", addr, "slave")
            sub = RawClient(self.a.port)
            sub.call("SUBSCRIBE", "fo")
            sub.call("PSUBSCRIBE", "fo.*")
            pub = redis.Redis(port=self.b.port)
            self.assertEqual(pub.publish("fo", "before"), 1)
            self.assertEqual(self.collect(sub, 1), [b"before"])
            self.cluster.config("server", "promote", "1", addr, "--force")
            wait_for("the subscriber to move to the new master",
                     lambda: numsub(spare.port, "fo") == 1)
            wait_for("the old master to be left",
                     lambda: numsub(self.g1.port, "fo") == 0)
            self.assertEqual(pub.publish("fo", "after"), 1)
            self.assertEqual(pub.publish("fo.x", "p"), 1)
            self.assertEqual(self.collect(sub, 2), [b"after", b"p"])
            # Back as it was.
            self.cluster.config("server", "promote", "1",
                                "127.0.0.1:%d" % self.g1.port, "--force")
            self.cluster.config("group", "remove-server", "1", addr)
            wait_for("the subscriber to come back",
                     lambda: numsub(self.g1.port, "fo") == 1)
            self.assertEqual(pub.publish("fo", "back"), 1)
            self.assertEqual(self.collect(sub, 1), [b"back"])
            sub.close()
        finally:
            spare.cleanup()

    def test_7_designated_group_changes(self):
        sub = RawClient(self.a.port)
        sub.call("SUBSCRIBE", "dg")
        pub = redis.Redis(port=self.b.port)
        self.assertEqual(pub.publish("dg", "one"), 1)
        self.assertEqual(self.collect(sub, 1), [b"one"])
        # Group 1 serves nothing: group 2 is the designated group now.
        self.cluster.config("slot", "range-set", "0", "511", "2")
        try:
            wait_for("the subscriber to move to group 2",
                     lambda: numsub(self.g2.port, "dg") == 1 and
                     numsub(self.g1.port, "dg") == 0)
            self.assertEqual(pub.publish("dg", "two"), 1)
            self.assertEqual(self.collect(sub, 1), [b"two"])
        finally:
            self.cluster.config("slot", "range-set", "0", "511", "1")
        wait_for("the subscriber to move back",
                 lambda: numsub(self.g1.port, "dg") == 1)
        self.assertEqual(pub.publish("dg", "three"), 1)
        self.assertEqual(self.collect(sub, 1), [b"three"])
        sub.close()

    def test_8_shard_channel_follows_a_migrating_slot(self):
        chan = name_in("mig", 0, 511)
        slot = slot_of(chan)
        # Keys in the slot make the migration last (a few seconds in the
        # migrate state).
        direct = redis.Redis(port=self.g1.port)
        keys = []
        i = 0
        while len(keys) < 60:
            k = "mk%d" % i
            if slot_of(k) == slot:
                keys.append(k)
            i += 1
        for k in keys:
            direct.set(k, "v")
        sub = RawClient(self.a.port)
        sub.call("SSUBSCRIBE", chan)
        pub = redis.Redis(port=self.b.port)
        self.assertEqual(pub.execute_command("SPUBLISH", chan, "m-start"), 1)
        self.assertEqual(self.collect(sub, 1), [b"m-start"])
        counts = []
        stop = threading.Event()

        def publisher():
            p = redis.Redis(port=self.b.port)
            n = 0
            while not stop.is_set() and n < 5000:
                counts.append(p.execute_command("SPUBLISH", chan, "d%d" % n))
                n += 1
                time.sleep(0.005)
            p.close()

        t = threading.Thread(target=publisher, daemon=True)
        t.start()
        self.cluster.config("slot", "migrate", str(slot), str(slot), "2",
                            "--wait", "--batch", "2", "--delay-ms", "50")
        stop.set()
        t.join(10)
        during = len(counts)
        got = self.collect(sub, sum(counts))
        # Every message counted as received was delivered.
        self.assertEqual(len(got), sum(counts))
        lost = during - sum(counts)
        # After the move completed, nothing is lost.
        self.assertEqual(numsub(self.g2.port, chan, shard=True), 1)
        wait_for("the source to be left",
                 lambda: numsub(self.g1.port, chan, shard=True) == 0)
        after = [pub.execute_command("SPUBLISH", chan, "a%d" % i)
                 for i in range(50)]
        self.assertEqual(after, [1] * 50)
        self.assertEqual(self.collect(sub, 50),
                         [b"a%d" % i for i in range(50)])
        print("sharded: %d published during the migration, %d not received "
              "(SPUBLISH said 0)" % (during, lost))
        sub.close()
        self.cluster.config("slot", "migrate", str(slot), str(slot), "1",
                            "--wait")


if __name__ == "__main__":
    unittest.main()
