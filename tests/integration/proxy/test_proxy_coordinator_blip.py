"""reborn-proxy keeps serving through a ZooKeeper blip: ZooKeeper SIGSTOPped
for 8 s, then killed (-9) and restarted on the same data directory, while a
client does GET/SET through the proxy — not one request fails — and
afterwards the proxy still acks topology changes (a slot range-set completes
without fencing it)."""

import json
import os
import shutil
import signal
import sys
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "migrate"))
from cluster import Cluster  # noqa: E402
from harness import Process, RawClient  # noqa: E402


class CoordinatorBlip(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.cluster = Cluster("blip", groups=2)
        cls.zk = cls.cluster.procs[0]
        # A session timeout of 45 s, so a lease of 30 s: on a loaded machine
        # ZooKeeper's JVM alone can take 15 s to serve again after the
        # restart below, and the proxy must not go offline meanwhile.
        cls.proxy = cls.cluster.start_proxy(
            uri=cls.cluster.uri + "?session_timeout_ms=45000")

    @classmethod
    def tearDownClass(cls):
        cls.zk.send_signal(signal.SIGCONT)
        cls.cluster.cleanup()

    def restart_zookeeper(self):
        self.zk.proc.kill()
        self.zk.proc.wait()
        self.zk.log.close()
        shutil.rmtree(self.zk.tmp, ignore_errors=True)  # its log only
        zk = Process(self.zk.argv, port=self.zk.port, name="zk")
        zk.extra_dir = self.zk.extra_dir
        self.cluster.procs[0] = zk
        self.zk = zk
        type(self).zk = zk

    def test_blip_costs_no_request_and_acks_go_on(self):
        stop = threading.Event()
        stats = {"ops": 0, "errors": []}

        def load():
            c = RawClient(self.proxy.port, timeout=10)
            i = 0
            end = time.time() + 50
            while not stop.is_set() and time.time() < end:
                key = "blip:%d" % (i % 500)
                try:
                    if i % 2 == 0:
                        r = c.call("SET", key, str(i))
                        ok = r == b"+OK\r\n"
                    else:
                        r = c.call("GET", key)
                        ok = r.startswith(b"$")
                except OSError as e:
                    stats["errors"].append(repr(e))
                    c = RawClient(self.proxy.port, timeout=10)
                    continue
                if not ok:
                    stats["errors"].append(r)
                stats["ops"] += 1
                i += 1
                time.sleep(0.005)
            c.close()

        worker = threading.Thread(target=load)
        worker.start()
        try:
            time.sleep(1)
            t = time.time()
            self.zk.send_signal(signal.SIGSTOP)
            time.sleep(8)
            self.zk.send_signal(signal.SIGCONT)
            # The probe that hung through the stop counts from when it was
            # sent; the next ones (every second) renew the lease, so the
            # restart below has the whole lease, not what the stop left.
            time.sleep(3)
            print("ZooKeeper stopped 8 s: %d ops so far, errors %s"
                  % (stats["ops"], stats["errors"][:3]))
            self.assertEqual(stats["errors"], [])

            t = time.time()
            log_before = len(self.proxy.output())
            self.restart_zookeeper()
            print("ZooKeeper killed and back in %.1f s" % (time.time() - t))
            # Until the proxy's session is back (within its lease).
            while "coordinator session connected" not in \
                    self.proxy.output()[log_before:]:
                self.assertLess(time.time() - t, 28,
                                self.proxy.output()[log_before:][-3000:])
                time.sleep(0.1)
            print("the proxy's session was back after %.1f s"
                  % (time.time() - t))
            time.sleep(1)
        finally:
            stop.set()
            worker.join()
        print("%d ops through the blips, %d errors: %s"
              % (stats["ops"], len(stats["errors"]), stats["errors"][:3]))
        self.assertEqual(stats["errors"], [])
        self.assertGreater(stats["ops"], 500)

        # A topology change still gets this proxy's ack (no fence, quick).
        t = time.time()
        self.cluster.config("slot", "range-set", "0", "511", "2")
        took = time.time() - t
        proxies = json.loads(self.cluster.config("proxy", "list", "--json"))
        self.assertEqual([p["state"] for p in proxies], ["online"], proxies)
        print("slot range-set acked in %.1f s" % took)
        # Fencing the proxy would take the ack timeout (5 s) plus its lease
        # (30 s); an ack comes once its session is back (a few seconds after
        # the restart at most).
        self.assertLess(took, 15)
        # The kill was seen: the proxy served through a suspended session.
        self.assertIn("coordinator session suspended", self.proxy.output())
        self.assertNotIn("going offline", self.proxy.output())
        c = RawClient(self.proxy.port)
        self.assertEqual(c.call("SET", "after", "1"), b"+OK\r\n")
        self.assertEqual(c.call("GET", "after"), b"$1\r\n1\r\n")
        c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
