"""qdb-server against redis-server: seeded random command streams (strings
and keyspace commands) must get byte-identical replies on every engine.
See differential.py for the generator and how to replay a failing seed."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import differential  # noqa: E402

SEEDS = [int(s) for s in os.environ.get("REBORN_DIFF_SEEDS", "1,2,3").split(",")]
COUNT = int(os.environ.get("REBORN_DIFF_COUNT", "20000"))


def main():
    for engine in ("rocksdb", "leveldb", "memory"):
        for seed in SEEDS:
            start = time.time()
            rc = differential.run(seed, engine, COUNT)
            if rc != 0:
                return rc
            print("%s seed %d: %d commands identical (%.1fs)" %
                  (engine, seed, COUNT, time.time() - start), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
