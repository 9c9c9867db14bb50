"""node-redis (Debian's node-redis package) with default settings connects
through reborn-proxy in front of two qdb-server groups and works (issue 24).
Skipped without node or the package."""

import os
import shutil
import subprocess
import unittest
import warnings

from harness import start_qdb
from proxy_harness import start_proxy

NODE_PATH = "/usr/share/nodejs"
HERE = os.path.dirname(os.path.abspath(__file__))


@unittest.skipUnless(shutil.which("node") and
                     os.path.isdir(os.path.join(NODE_PATH, "redis")),
                     "node or node-redis missing")
class ProxyNodeRedis(unittest.TestCase):

    def test_default_client_works(self):
        warnings.simplefilter("ignore", ResourceWarning)
        g1, g2 = start_qdb(), start_qdb()
        proxy = start_proxy([g1.port, g2.port])
        try:
            out = subprocess.run(
                ["node", os.path.join(HERE, "node_redis_client.js"),
                 "redis://127.0.0.1:%d" % proxy.port],
                env=dict(os.environ, NODE_PATH=NODE_PATH),
                capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0,
                             out.stdout.decode() + out.stderr.decode())
            self.assertIn(b"node-redis ok", out.stdout)
        finally:
            for p in (proxy, g1, g2):
                p.cleanup()


if __name__ == "__main__":
    unittest.main()
