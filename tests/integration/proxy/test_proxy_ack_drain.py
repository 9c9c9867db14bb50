"""A proxy acknowledges a topology change only once no request it routed
with the previous table is still out: group 1 is frozen (SIGSTOP) with a GET
of the proxy in flight, and a `slot range-set` made meanwhile completes only
when that GET is over (failed by the proxy's backend timeout), not at once.
Otherwise a write routed to a slot's old group before a pre_migrate could
land there after the migrator moved its key, and come back with the slot's
sweep as a stale value."""

import os
import signal
import sys
import threading
import time
import unittest
import warnings
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "migrate"))
from cluster import Cluster  # noqa: E402
from harness import RawClient  # noqa: E402

BACKEND_TIMEOUT_S = 3


def slot_of(key):
    return zlib.crc32(key.encode()) % 1024


class AckDrain(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.cluster = Cluster("ackdrain", groups=2)
        cls.proxy = cls.cluster.start_proxy(
            "--backend-timeout-ms", str(BACKEND_TIMEOUT_S * 1000))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.groups[1].send_signal(signal.SIGCONT)
        cls.cluster.cleanup()

    def test_change_waits_for_requests_of_the_old_table(self):
        c = RawClient(self.proxy.port)
        self.assertEqual(c.call("SET", "k1", "v1"), b"+OK\r\n")
        other = (slot_of("k1") + 1) % 1024
        g1 = self.cluster.groups[1]
        g1.freeze()
        replies = []
        try:
            hung = RawClient(self.proxy.port, timeout=20)
            sent = time.time()
            worker = threading.Thread(
                target=lambda: replies.append(hung.call("GET", "k1")))
            worker.start()
            time.sleep(0.5)
            t = time.time()
            self.cluster.config("slot", "range-set", str(other), str(other),
                                "2")
            took = time.time() - t
            worker.join(20)
            answered = time.time() - sent
        finally:
            g1.send_signal(signal.SIGCONT)
        print("range-set took %.2f s; the GET in flight was answered after "
              "%.2f s: %r" % (took, answered, replies))
        self.assertEqual(len(replies), 1)
        self.assertTrue(replies[0].startswith(b"-ERR backend"), replies)
        # The ack waited for the GET: about the backend timeout from the GET,
        # half a second less from the change.
        self.assertGreater(took, BACKEND_TIMEOUT_S - 1.5)
        # Acked, not fenced (the ack timeout is 5 s).
        self.assertEqual([p["state"] for p in self.cluster.online_proxies()],
                         ["online"])
        # Requests of the new table are not waited for: with group 1 back,
        # the next change is quick.
        self.assertEqual(c.call("GET", "k1"), b"$2\r\nv1\r\n")
        t = time.time()
        self.cluster.config("slot", "range-set", str(other), str(other), "1")
        self.assertLess(time.time() - t, BACKEND_TIMEOUT_S - 1.5)
        c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
