"""Slot migration between two replicated groups: keys that SLOTSMGRT* moves
away from a master are deleted on its replica too (replicated as DEL), and
the target master's replica receives them (SLOTSRESTORE as RESTORE, a big
key's SLOTSRESTORE-CHUNK transfer verbatim). Afterwards each replica equals
its master key for key."""

import unittest

import repl_util as ru
from harness import start_qdb

SMALL_KEYS = 300
BIG_FIELDS = 5000  # above migrate-chunk-members: moves in chunks


class ReplicatedMigration(unittest.TestCase):

    def test_moved_keys_follow_on_replicas(self):
        src = start_qdb("--migrate-chunk-members", "1000")
        src_replica = start_qdb()
        dst = start_qdb()
        dst_replica = start_qdb()
        procs = [src, src_replica, dst, dst_replica]
        try:
            ru.client(src_replica.port).replicaof("127.0.0.1", src.port)
            ru.client(dst_replica.port).replicaof("127.0.0.1", dst.port)
            s = ru.client(src.port)
            pipe = s.pipeline(transaction=False)
            for i in range(SMALL_KEYS):
                pipe.set("{tag}:k%d" % i, "v%d" % i)
            pipe.execute()
            big = {"f%d" % i: "v%d" % i for i in range(BIG_FIELDS)}
            s.hset("{tag}:big", mapping=big)
            s.set("other", "stays")
            slot = s.execute_command("SLOTSHASHKEY", "{tag}")[0]
            ru.wait_caught_up(src.port, src_replica.port)
            self.assertEqual(
                ru.client(src_replica.port).dbsize(), SMALL_KEYS + 2)

            for _ in range(SMALL_KEYS + 10):
                moved, left = s.execute_command(
                    "SLOTSMGRTTAGSLOT", "127.0.0.1", dst.port, 5000, slot)
                if left == 0:
                    break
            self.assertEqual(left, 0)

            # The source's DELs go out with its next write or replication
            # cron tick.
            sr = ru.client(src_replica.port)
            ru.wait_for(lambda: sr.dbsize() == 1, timeout=10,
                        what="moved keys deleted on the source replica")
            ru.wait_caught_up(src.port, src_replica.port)
            ru.wait_caught_up(dst.port, dst_replica.port)
            sr, dr = ru.client(src_replica.port), ru.client(dst_replica.port)
            self.assertEqual(sr.dbsize(), 1)
            self.assertEqual(sr.get("other"), b"stays")
            self.assertEqual(dr.dbsize(), SMALL_KEYS + 1)
            self.assertEqual(dr.hlen("{tag}:big"), BIG_FIELDS)
            ru.compare(src.port, src_replica.port)
            ru.compare(dst.port, dst_replica.port)
        finally:
            for p in procs:
                p.cleanup()


if __name__ == "__main__":
    unittest.main()
