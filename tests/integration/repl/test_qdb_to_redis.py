"""qdb-server master -> redis-server 7.0 replica (disk-based full sync: the
RDB written to a file then sent as $<len>): dataset of every type with TTLs,
writes during and after the sync, key-by-key comparison on the Redis side,
then a link cut resumed by partial resync."""

import time
import unittest

import repl_util as ru
from harness import start_qdb, start_redis


class QdbToRedis(unittest.TestCase):

    def test_full_sync_stream_and_partial_resync(self):
        master = start_qdb()
        replica = start_redis()
        try:
            n = ru.keys(30000)
            ru.load_dataset(master.port, n)
            work = ru.Workload(master.port).start()
            time.sleep(min(1.0, ru.SECONDS / 3))
            ru.client(replica.port).replicaof("127.0.0.1", master.port)
            work.join()
            time.sleep(0.5)
            ru.wait_caught_up(master.port, replica.port)
            self.assertGreater(ru.compare(master.port, replica.port),
                                   min(n // 2, 1000))
            roles = ru.client(master.port).execute_command("ROLE")
            self.assertEqual(roles[0], b"master")
            self.assertEqual(len(roles[2]), 1)

            full, partial = ru.sync_stats(master.port)
            self.assertEqual(full, 1)
            killed = ru.client(master.port).execute_command(
                "CLIENT", "KILL", "TYPE", "replica")
            self.assertEqual(killed, 1)
            ru.Workload(master.port, seconds=1, seed=11).start().join()
            ru.wait_for(lambda: ru.sync_stats(master.port)[1] > partial,
                        what="partial resync")
            self.assertEqual(ru.sync_stats(master.port)[0], full)
            time.sleep(0.5)
            ru.wait_caught_up(master.port, replica.port)
            ru.compare(master.port, replica.port)
        except Exception:
            print(master.output()[-5000:])
            raise
        finally:
            replica.cleanup()
            master.cleanup()


if __name__ == "__main__":
    unittest.main()
