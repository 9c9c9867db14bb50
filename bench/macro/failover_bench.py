#!/usr/bin/env python3
"""Failover benchmark (`./reborn.sh bench failover`): how long writes fail
after `kill -9` of a group's master (median and worst of the rounds) and how
many acknowledged writes are lost, with asynchronous replication and with
`repl-sync-replicas 1`. One group of three qdb-servers, two
`reborn-agent --ha` on a local ZooKeeper, writers through one reborn-proxy
recording every acknowledged key (tests/integration/agent/
test_agent_sync_failover.py runs the rounds)."""

import argparse
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--lag-ms", type=int, default=60,
                        help="the replicas' links are cut this long before "
                        "each kill (0: not cut)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    # The test modules find the binaries through this, at import.
    os.environ["REBORN_BUILD_DIR"] = os.path.abspath(args.build_dir)
    for sub in ("", "agent", "migrate"):
        sys.path.insert(0, os.path.join(ROOT, "tests", "integration", sub))
    import test_agent_sync_failover as fo  # noqa: E402

    def log(msg):
        if args.verbose or msg.startswith("----"):
            print(msg, flush=True)

    print("[failover] %d x kill -9 of the master; 3 qdb-servers, 2 agents, "
          "%d writers through reborn-proxy; replica links cut %d ms before "
          "each kill" % (args.rounds, args.writers, args.lag_ms), flush=True)
    rows = []
    for sync in (False, True):
        out = fo.run(sync, args.rounds, args.writers, args.lag_ms, log=log)
        o = sorted(out["outages"])
        rows.append(("repl-sync-replicas 1" if sync else "async (default)",
                     o[len(o) // 2], o[-1], out["acked"], out["lost"]))
    print("%-22s %12s %12s %12s %8s" % ("replication", "median (s)",
                                          "worst (s)", "acked", "lost"))
    for name, med, worst, acked, lost in rows:
        print("%-22s %12.2f %12.2f %12d %8d" % (name, med, worst, acked,
                                                lost))
    print("(seconds: from kill -9 until writes to the group succeed again)")


if __name__ == "__main__":
    main()
