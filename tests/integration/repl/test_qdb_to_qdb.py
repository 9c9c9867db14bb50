"""qdb-server -> two qdb-server replicas (diskless full sync, $EOF:<mark>):
compare all three; a link cut on a replica (CLIENT KILL TYPE master) resumes
by partial resync; then the master dies, the most up-to-date replica is
promoted (REPLICAOF NO ONE) and the other, pointed at it, continues by
+CONTINUE (psync2: replid2) with no full sync; writes on the new master reach
it."""

import time
import unittest

import repl_util as ru
from harness import start_qdb


class QdbToQdb(unittest.TestCase):

    def test_sync_cut_promotion(self):
        master = start_qdb("--repl-diskless-sync", "yes")
        r1 = start_qdb(engine="memory")
        r2 = start_qdb()
        procs = [master, r1, r2]
        try:
            n = ru.keys(100000)
            ru.load_dataset(master.port, n)
            work = ru.Workload(master.port).start()
            time.sleep(min(1.0, ru.SECONDS / 3))
            ru.client(r1.port).replicaof("127.0.0.1", master.port)
            ru.client(r2.port).replicaof("127.0.0.1", master.port)
            work.join()
            time.sleep(0.5)
            for r in (r1, r2):
                ru.wait_caught_up(master.port, r.port)
            self.assertGreater(ru.compare(master.port, r1.port),
                                   min(n // 2, 1000))
            ru.compare(master.port, r2.port)

            # Cut r1's link from the replica side.
            full, partial = ru.sync_stats(master.port)
            self.assertEqual(full, 2)
            self.assertEqual(ru.client(r1.port).execute_command(
                "CLIENT", "KILL", "TYPE", "master"), 1)
            ru.Workload(master.port, seconds=1, seed=5).start().join()
            ru.wait_for(lambda: ru.sync_stats(master.port)[1] > partial,
                        what="partial resync")
            self.assertEqual(ru.sync_stats(master.port)[0], full)
            time.sleep(0.5)
            for r in (r1, r2):
                ru.wait_caught_up(master.port, r.port)
            ru.compare(master.port, r1.port)

            # The master dies; the most up-to-date replica is promoted (as
            # the HA agent does) and the other follows it by +CONTINUE. With
            # the master still running, a PING it sends to one replica only
            # (repl-ping-replica-period) would put that one ahead and force
            # the full sync Redis does too.
            old_replid = ru.info(master.port)["master_replid"]
            master.stop()
            for r in (r1, r2):
                ru.wait_for(lambda: ru.info(r.port).get(
                    "master_link_status") == "down", what="link down")
            new, other = sorted(
                (r1, r2), key=lambda r: int(
                    ru.info(r.port)["master_repl_offset"]), reverse=True)
            ru.client(new.port).replicaof("no", "one")
            i1 = ru.info(new.port)
            self.assertEqual(i1["role"], "master")
            self.assertEqual(i1["master_replid2"], old_replid)
            ru.client(other.port).replicaof("127.0.0.1", new.port)
            ru.wait_for(lambda: ru.info(other.port).get(
                "master_link_status") == "up", what="link to the new master")
            self.assertEqual(ru.sync_stats(new.port), (0, 1))
            ru.client(new.port).set("after-promotion", "yes")
            ru.Workload(new.port, seconds=1, seed=9).start().join()
            time.sleep(0.5)
            ru.wait_caught_up(new.port, other.port)
            self.assertEqual(ru.client(other.port).get("after-promotion"),
                             b"yes")
            ru.compare(new.port, other.port)
        except Exception:
            for p in procs:
                print(p.output()[-3000:])
            raise
        finally:
            for p in procs:
                p.cleanup()


if __name__ == "__main__":
    unittest.main()
