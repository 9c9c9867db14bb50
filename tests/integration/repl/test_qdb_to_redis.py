"""qdb-server master -> redis-server 7.0 replica (disk-based full sync: the
RDB written to a file then sent as $<len>): dataset of every type with TTLs,
writes during and after the sync, key-by-key comparison on the Redis side,
then a link cut resumed by partial resync."""

import unittest

import repl_util as ru
from harness import start_qdb, start_redis


class QdbToRedis(unittest.TestCase):

    def test_full_sync_stream_and_partial_resync(self):
        master = start_qdb()
        replica = start_redis()
        try:
            n = ru.keys(100000)
            self.assertGreater(ru.sync_under_load(master.port, replica.port, n),
                               min(n // 2, 1000))
            roles = ru.client(master.port).execute_command("ROLE")
            self.assertEqual(roles[0], b"master")
            self.assertEqual(len(roles[2]), 1)
            self.assertEqual(ru.sync_stats(master.port)[0], 1)
            ru.cut_and_resume(master.port, replica.port)
        except Exception:
            print(master.output()[-5000:])
            raise
        finally:
            replica.cleanup()
            master.cleanup()


if __name__ == "__main__":
    unittest.main()
