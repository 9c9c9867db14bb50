"""The Redis Cluster face of reborn-proxy (issue 24): CLUSTER SLOTS, SHARDS,
NODES, INFO, MYID, KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT and READONLY/
READWRITE/ASKING answered by the proxy. A static-topology proxy presents
itself alone; proxies on a coordinator split the 16384 slots among the
online ones. redis-py's RedisCluster connects through it."""

import os
import sys
import time
import unittest
import warnings

from redis.cluster import RedisCluster

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "migrate"))
from cluster import Cluster  # noqa: E402
from harness import RawClient, start_qdb, start_redis  # noqa: E402
from proxy_harness import start_cluster_redis, start_proxy  # noqa: E402

KEYS = ["user:%d" % i for i in range(50)] + ["{tag}a", "{tag}b", "{tag}c"]


def lines(reply):
    return reply.split(b"\r\n")


class StaticProxyFace(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1, cls.g2 = start_qdb(), start_qdb()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port])
        # The oracle for slots: a one-node Redis Cluster holding all slots.
        cls.redis = start_cluster_redis()

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2, cls.redis):
            p.cleanup()

    def test_presents_itself_alone(self):
        p = RawClient(self.proxy.port)
        myid = p.call("CLUSTER", "MYID")
        node_id = lines(myid)[1]
        self.assertEqual(len(node_id), 40)
        self.assertEqual(
            p.call("CLUSTER", "SLOTS"),
            b"*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:%d\r\n"
            b"$40\r\n%s\r\n*0\r\n" % (self.proxy.port, node_id))
        nodes = lines(p.call("CLUSTER", "NODES"))[1].decode()
        self.assertEqual(nodes, "%s 127.0.0.1:%d@%d myself,master - 0 0 1 "
                         "connected 0-16383\n" % (node_id.decode(),
                                                  self.proxy.port,
                                                  self.proxy.port + 10000))
        info = p.call("CLUSTER", "INFO")
        self.assertIn(b"cluster_state:ok\r\ncluster_slots_assigned:16384", info)
        self.assertIn(b"cluster_known_nodes:1\r\n", info)
        shards = p.call("CLUSTER", "SHARDS")
        self.assertTrue(shards.startswith(b"*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n"
                                          b":0\r\n:16383\r\n$5\r\nnodes\r\n"),
                        shards)
        self.assertIn(b"$6\r\nhealth\r\n$6\r\nonline\r\n", shards)
        for cmd in ("READONLY", "READWRITE", "ASKING"):
            self.assertEqual(p.call(cmd), b"+OK\r\n")
        self.assertEqual(
            p.call("CLUSTER", "ADDSLOTS", 1),
            b"-ERR CLUSTER ADDSLOTS is not supported by reborn-proxy: the "
            b"proxies' slot map follows the live proxy list\r\n")
        self.assertIn(b"cluster_enabled:1", p.call("INFO"))
        # RESP3: the same with a map for the networking metadata.
        p.call("HELLO", 3)
        self.assertTrue(p.call("CLUSTER", "SLOTS").endswith(b"%0\r\n"))
        self.assertTrue(p.call("CLUSTER", "NODES").startswith(b"="))
        p.close()

    def test_cluster_in_multi_and_command_info(self):
        # CLUSTER is in the shared command table (qdb-server answers it as
        # a non-cluster redis-server); the proxy still answers it itself,
        # and refuses it inside MULTI instead of sending it to a group.
        p = RawClient(self.proxy.port)
        self.assertEqual(p.call("MULTI"), b"+OK\r\n")
        self.assertEqual(
            p.call("CLUSTER", "INFO"),
            b"-ERR CLUSTER is not supported by reborn-proxy: run it outside "
            b"MULTI (the proxy answers CLUSTER itself)\r\n")
        self.assertTrue(p.call("EXEC").startswith(b"-EXECABORT"))
        self.assertEqual(p.call("COMMAND", "INFO", "cluster"),
                         b"*1\r\n*6\r\n$7\r\ncluster\r\n:-2\r\n*0\r\n"
                         b":0\r\n:0\r\n:0\r\n")
        self.assertIn(b"cluster_state:ok", p.call("CLUSTER", "INFO"))
        self.assertEqual(p.call("CLUSTER", "KEYSLOT", "a"), b":15495\r\n")
        p.close()

    def test_slot_commands_match_redis_cluster(self):
        r, p = RawClient(self.redis.port), RawClient(self.proxy.port)
        r.call("FLUSHALL")
        p.call("FLUSHALL")
        for k in KEYS:
            self.assertEqual(r.call("SET", k, 1), p.call("SET", k, 1))
        slot_of_tag = int(lines(r.call("CLUSTER", "KEYSLOT", "{tag}x"))[0][1:])
        cmds = [["CLUSTER", "KEYSLOT", k] for k in KEYS + ["", "{}x", "a{b"]]
        cmds += [["CLUSTER", "COUNTKEYSINSLOT", slot_of_tag],
                 ["CLUSTER", "COUNTKEYSINSLOT", 0],
                 ["CLUSTER", "COUNTKEYSINSLOT", 16384],
                 ["CLUSTER", "COUNTKEYSINSLOT", "x"],
                 ["CLUSTER", "GETKEYSINSLOT", slot_of_tag, 2],
                 ["CLUSTER", "GETKEYSINSLOT", slot_of_tag, 0],
                 ["CLUSTER", "GETKEYSINSLOT", 1, -1],
                 ["CLUSTER", "KEYSLOT"], ["CLUSTER", "NOSUCH"],
                 ["CLUSTER"], ["READONLY", "x"]]
        for cmd in cmds:
            want, got = r.call(*cmd), p.call(*cmd)
            if cmd[1:2] == ["GETKEYSINSLOT"] and want.startswith(b"*"):
                # Which keys come first is the server's order.
                self.assertEqual(len(lines(want)), len(lines(got)), cmd)
                continue
            self.assertEqual(want, got, cmd)
        r.close()
        p.close()

    def test_redis_py_cluster_client(self):
        rc = RedisCluster(host="127.0.0.1", port=self.proxy.port)
        try:
            self.assertEqual(len(rc.get_nodes()), 1)
            for i, k in enumerate(KEYS):
                self.assertTrue(rc.set(k, i))
            for i, k in enumerate(KEYS):
                self.assertEqual(rc.get(k), str(i).encode())
            self.assertEqual(rc.mget("{tag}a", "{tag}b", "{tag}nope"),
                             [b"50", b"51", None])
            self.assertEqual(rc.mget_nonatomic(KEYS[:20]),
                             [str(i).encode() for i in range(20)])
            pipe = rc.pipeline()
            pipe.set("pipe:1", "x").get("pipe:1").incr("pipe:n")
            self.assertEqual(pipe.execute(), [True, b"x", 1])
        finally:
            rc.close()


class CoordinatorProxiesFace(unittest.TestCase):

    def test_slots_spread_over_online_proxies(self):
        warnings.simplefilter("ignore", ResourceWarning)
        cluster = Cluster("cface", groups=2)
        try:
            a = cluster.start_proxy()
            b = cluster.start_proxy()
            ports = sorted([a.port, b.port], key=lambda p: "127.0.0.1:%d" % p)
            want = None
            for proxy in (a, b):
                c = RawClient(proxy.port)
                deadline = time.time() + 10
                while True:
                    got = c.call("CLUSTER", "SLOTS")
                    if got.startswith(b"*2\r\n") or time.time() > deadline:
                        break
                    time.sleep(0.1)
                self.assertTrue(got.startswith(b"*2\r\n*3\r\n:0\r\n:8191\r\n"
                                               b"*4\r\n$9\r\n127.0.0.1\r\n"
                                               b":%d\r\n" % ports[0]), got)
                self.assertIn(b":8192\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n"
                              b":%d\r\n" % ports[1], got)
                if want is not None:
                    self.assertEqual(got, want)  # every proxy, one map
                want = got
                c.close()
            rc = RedisCluster(host="127.0.0.1", port=a.port)
            try:
                self.assertEqual(len(rc.get_nodes()), 2)
                for i, k in enumerate(KEYS):
                    rc.set(k, i)
                self.assertEqual(rc.mget_nonatomic(KEYS),
                                 [str(i).encode() for i in range(len(KEYS))])
            finally:
                rc.close()
            # A proxy that leaves is left out of the map.
            b.stop()
            c = RawClient(a.port)
            deadline = time.time() + 20
            while not c.call("CLUSTER", "SLOTS").startswith(
                    b"*1\r\n*3\r\n:0\r\n:16383\r\n"):
                self.assertLess(time.time(), deadline)
                time.sleep(0.2)
            c.close()
        finally:
            cluster.cleanup()


if __name__ == "__main__":
    unittest.main()
