"""A small RebornDB cluster for the migration tests and benches: a real
ZooKeeper, qdb-server groups of one master each, reborn-config driven
through its CLI, and reborn-proxy processes on the coordinator."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "coord"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "proxy"))
from harness import binary, start_qdb  # noqa: E402
from coord_servers import start_zookeeper  # noqa: E402
from proxy_harness import start_proxy  # noqa: E402

CONFIG = binary("reborn-config")


class Cluster:
    """Groups 1..n, each one qdb-server master; every slot on group 1."""

    def __init__(self, product, groups=2, timeout_ms=5000):
        self.product = product
        self.timeout_ms = timeout_ms
        self.procs = []
        try:
            zk, zk_addr = start_zookeeper()
            self.procs.append(zk)
            self.uri = "zk://%s/reborn-%s" % (zk_addr, product)
            self.groups = {gid: start_qdb() for gid in range(1, groups + 1)}
            self.procs += list(self.groups.values())
            self.config("slot", "init", "--force")
            for gid, g in self.groups.items():
                self.config("group", "add", str(gid))
                self.config("group", "add-server", str(gid),
                            "127.0.0.1:%d" % g.port, "master")
            self.config("slot", "range-set", "0", "1023", "1")
        except BaseException:
            self.cleanup()
            raise

    def config_argv(self, *args, uri=None):
        ms = str(self.timeout_ms)
        return [CONFIG, "--coordinator", uri or self.uri, "--product",
                self.product, "--timeout-ms", ms, "--ack-timeout-ms",
                ms] + list(args)

    def config(self, *args, timeout=300, uri=None):
        p = subprocess.run(self.config_argv(*args, uri=uri),
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("%s -> %d\nstdout: %s\nstderr: %s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p.stdout

    def start_proxy(self, *extra, uri=None):
        """A proxy on the coordinator, returned once it is registered."""
        before = len(self.online_proxies())
        proxy = start_proxy(None, None, "--coordinator", uri or self.uri,
                            "--product", self.product, *extra)
        self.procs.append(proxy)
        deadline = time.time() + 20
        while len(self.online_proxies()) <= before:
            assert time.time() < deadline, "proxy did not register"
            time.sleep(0.2)
        return proxy

    def online_proxies(self):
        return [p for p in json.loads(self.config("proxy", "list", "--json"))
                if p["state"] == "online"]

    def cleanup(self):
        for p in reversed(self.procs):
            p.cleanup()
        self.procs = []
