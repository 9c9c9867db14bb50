"""Starting reborn-proxy in front of redis-server groups."""

import json
import os
import tempfile
import unittest
import warnings

from harness import Process, binary, free_port, start_qdb, start_redis


def start_proxy(backends=None, topology=None, *extra, admin=False,
                threads=2):
    port = free_port()
    argv = [binary("reborn-proxy"), "--addr", "127.0.0.1:%d" % port,
            "--threads", str(threads)]
    if backends is not None:
        argv += ["--backends", ",".join("127.0.0.1:%d" % p for p in backends)]
    if topology is not None:
        fd, path = tempfile.mkstemp(prefix="reborn-topology-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(topology, f)
        argv += ["--topology", path]
    admin_port = None
    if admin:
        admin_port = free_port()
        argv += ["--admin-addr", "127.0.0.1:%d" % admin_port]
    argv += list(extra)
    p = Process(argv, port=port, name="proxy")
    p.admin_port = admin_port
    return p


def start_cluster_redis():
    """A one-node Redis Cluster (redis-server --cluster-enabled) owning all
    16384 slots: the oracle for what Redis Cluster replies. Its cluster bus
    listens on port + 10000, so the port is picked below 55535 with that
    one free as well."""
    import socket
    import time

    from harness import RawClient, start_redis
    for _ in range(100):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        break
    else:
        raise RuntimeError("no port pair for a cluster-mode redis-server")
    redis = start_redis("--cluster-enabled", "yes", "--cluster-config-file",
                        "nodes.conf", port=port)
    c = RawClient(redis.port)
    c.call("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    deadline = time.time() + 10
    while b"cluster_state:ok" not in c.call("CLUSTER", "INFO"):
        if time.time() > deadline:
            redis.cleanup()
            raise RuntimeError("cluster-mode redis-server not ready")
        time.sleep(0.1)
    c.close()
    return redis


class ProxyOverQdbCase(unittest.TestCase):
    """A reborn-proxy over two qdb-server groups (g1, g2), and a
    redis-server as the oracle, shared by the class's tests."""

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.g1 = start_qdb()
        cls.g2 = start_qdb()
        cls.redis = start_redis()
        cls.proxy = start_proxy([cls.g1.port, cls.g2.port])

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.g1, cls.g2, cls.redis):
            p.cleanup()
