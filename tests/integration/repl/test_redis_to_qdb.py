"""redis-server 7.0 master -> qdb-server replica: a full sync of a dataset of
every type with TTLs while writes go on, the command stream, then a cut of
the replication link resumed by partial resync (sync_partial_ok grows,
sync_full does not); both compared key by key."""

import unittest

import redis

import repl_util as ru
from harness import start_qdb, start_redis


class RedisToQdb(unittest.TestCase):

    def test_full_sync_stream_and_partial_resync(self):
        master = start_redis("--repl-diskless-sync-delay", "0")
        replica = start_qdb()
        try:
            n = ru.keys(100000)
            self.assertGreater(ru.sync_under_load(master.port, replica.port, n),
                               min(n // 2, 1000))
            ru.cut_and_resume(master.port, replica.port)
            # Writes from clients are refused on the replica.
            with self.assertRaises(redis.exceptions.ReadOnlyError):
                ru.client(replica.port).set("x", 1)
        except Exception:
            print(replica.output()[-5000:])
            raise
        finally:
            replica.cleanup()
            master.cleanup()


if __name__ == "__main__":
    unittest.main()
