"""redis-server 7.0 master -> qdb-server replica: a full sync of a dataset of
every type with TTLs while writes go on, the command stream, then a cut of
the replication link resumed by partial resync (sync_partial_ok grows,
sync_full does not); both compared key by key."""

import time
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
            ru.load_dataset(master.port, n)
            work = ru.Workload(master.port).start()
            time.sleep(min(1.0, ru.SECONDS / 3))
            ru.client(replica.port).replicaof("127.0.0.1", master.port)
            work.join()
            time.sleep(0.5)  # let the short TTLs (<= 300 ms) pass
            ru.wait_caught_up(master.port, replica.port)
            self.assertGreater(ru.compare(master.port, replica.port),
                                   min(n // 2, 1000))

            full, partial = ru.sync_stats(master.port)
            ru.client(master.port).execute_command("CLIENT", "KILL", "TYPE", "replica")
            work = ru.Workload(master.port, seconds=1, seed=11).start()
            work.join()
            ru.wait_for(lambda: ru.sync_stats(master.port)[1] > partial,
                        what="partial resync")
            self.assertEqual(ru.sync_stats(master.port)[0], full)
            time.sleep(0.5)
            ru.wait_caught_up(master.port, replica.port)
            ru.compare(master.port, replica.port)
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
