"""SCAN through reborn-proxy while slots migrate (issue 24).

Two qdb-server groups on a ZooKeeper coordinator hold N keys (strings,
hashes, lists; no hash tags). A mover moves a few slot ranges back and
forth between the groups, slowly (small batches with a delay, so keys are
split between source and target for a while). Meanwhile a client runs full
SCAN iterations through the proxy with small COUNTs, plain and with MATCH,
TYPE and both. No key is written or deleted during the scans, so every
iteration must return every (matching) key at least once, and no batch
before the last may be empty. Bounded: at most MAX_SECONDS of scanning and
MAX_ITERATIONS iterations.
"""

import os
import random
import subprocess
import sys
import threading
import time
import zlib

import redis

from cluster import Cluster

N = 5000
MAX_SECONDS = 40
MAX_ITERATIONS = 60
# Slot ranges that move back and forth: some start on group 1, some on 2,
# one straddles the initial boundary (511|512).
RANGES = [(100, 107), (505, 518), (900, 907)]
VARIANTS = [
    ([], lambda k, t: True),
    (["MATCH", "k:1*"], lambda k, t: k.startswith("k:1")),
    (["TYPE", "hash"], lambda k, t: t == "hash"),
    (["MATCH", "k:*7", "TYPE", "string"],
     lambda k, t: k.endswith("7") and t == "string"),
]


def key_type(i):
    return ("hash", "list", "string", "string")[i % 4]


def load(c):
    model = {}
    pipe = c.pipeline(transaction=False)
    for i in range(N):
        k, t = "k:%d" % i, key_type(i)
        if t == "hash":
            pipe.hset(k, "f", i)
        elif t == "list":
            pipe.rpush(k, i)
        else:
            pipe.set(k, i)
        model[k] = t
        if len(pipe) >= 500:
            pipe.execute()
    pipe.execute()
    return model


class Mover(threading.Thread):
    """Moves RANGES to the other group, then back, until stopped; counts
    finished moves and the keys they carried."""

    def __init__(self, cluster, owners):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.owners = owners  # range -> current group
        self.stop = threading.Event()
        self.moves = 0
        self.errors = []

    def run(self):
        while not self.stop.is_set() and not self.errors:
            for r in RANGES:
                if self.stop.is_set():
                    return
                target = 3 - self.owners[r]
                p = subprocess.run(self.cluster.config_argv(
                    "slot", "migrate", str(r[0]), str(r[1]), str(target),
                    "--wait", "--batch", "2", "--delay-ms", "5"),
                    capture_output=True, text=True, timeout=120)
                if p.returncode != 0:
                    self.errors.append(p.stdout + p.stderr)
                    return
                self.owners[r] = target
                self.moves += 1


def slots_with_keys(server, first, last):
    return {int(slot) for slot, _ in
            server.execute_command("SLOTSINFO", first, last - first + 1)}


def full_scan(c, count, opts):
    """One full iteration: (keys seen as a list, calls, empty non-final
    batches)."""
    seen, cursor, calls, empty = [], 0, 0, 0
    while True:
        cursor, keys = c.execute_command("SCAN", cursor, "COUNT", count, *opts)
        cursor = int(cursor)
        calls += 1
        if cursor != 0 and not keys:
            empty += 1
        seen += [k.decode() for k in keys]
        if cursor == 0:
            return seen, calls, empty
        assert calls < 100000, "SCAN does not end"


def main():
    cluster = Cluster("scanmig")
    mover = None
    try:
        # Slots 0..511 on group 1, 512..1023 on group 2.
        cluster.config("slot", "range-set", "512", "1023", "2")
        proxy = cluster.start_proxy()
        c = redis.Redis(port=proxy.port, socket_timeout=30)
        model = load(c)
        assert c.dbsize() == N
        g1 = redis.Redis(port=cluster.groups[1].port)
        g2 = redis.Redis(port=cluster.groups[2].port)
        moving = sum(1 for k in model
                     for a, b in RANGES
                     if a <= zlib.crc32(k.encode()) % 1024 <= b)
        assert moving >= 100, moving

        # Redis' errors for bad cursors, through the proxy.
        for bad in ("x", " 1", "1x", "18446744073709551616"):
            try:
                c.execute_command("SCAN", bad)
                raise AssertionError("cursor %r accepted" % bad)
            except redis.ResponseError as e:
                assert str(e) == "invalid cursor", (bad, str(e))

        owners = {r: (1 if r[0] < 512 else 2) for r in RANGES}
        mover = Mover(cluster, owners)
        mover.start()
        rng = random.Random(24)
        stats = {"iterations": 0, "calls": 0, "duplicates": 0,
                 "during_moves": 0, "split_seen": 0}
        deadline = time.time() + MAX_SECONDS
        while (time.time() < deadline and
               stats["iterations"] < MAX_ITERATIONS and not mover.errors):
            opts, keep = VARIANTS[stats["iterations"] % len(VARIANTS)]
            count = rng.choice([1, 3, 10, 50])
            moves_before = mover.moves
            # A slot split between both groups right now: the migration is
            # really mid-way while this iteration runs.
            split = any(slots_with_keys(g1, a, b) & slots_with_keys(g2, a, b)
                        for a, b in RANGES)
            t0 = time.time()
            seen, calls, empty = full_scan(c, count, opts)
            want = {k for k, t in model.items() if keep(k, t)}
            got = set(seen)
            missing = want - got
            extra = got - want
            assert not missing, (
                "iteration %d (COUNT %d %r) missed %d keys, e.g. %r" % (
                    stats["iterations"], count, opts, len(missing),
                    sorted(missing)[:5]))
            assert not extra, ("returned keys that do not match", opts,
                               sorted(extra)[:5])
            assert empty == 0, (
                "iteration %d (COUNT %d %r): %d empty non-final batches" % (
                    stats["iterations"], count, opts, empty))
            stats["iterations"] += 1
            stats["calls"] += calls
            stats["duplicates"] += len(seen) - len(got)
            if mover.moves != moves_before:
                stats["during_moves"] += 1
            if split:
                stats["split_seen"] += 1
            print("iteration %d: COUNT %d %s: %d keys, %d calls, %d dups, "
                  "%.2f s, moves %d->%d%s" % (
                      stats["iterations"], count, " ".join(opts) or "-",
                      len(got), calls, len(seen) - len(got),
                      time.time() - t0, moves_before, mover.moves,
                      ", slots split" if split else ""))
            sys.stdout.flush()
        mover.stop.set()
        mover.join(timeout=180)
        assert not mover.errors, mover.errors[0]
        assert mover.moves >= 2, "no migration finished during the test"
        assert stats["during_moves"] >= 2, (
            "too few iterations overlapped a migration", stats)
        assert c.dbsize() == N
        print("OK: %(iterations)d full SCAN iterations (%(calls)d calls), "
              "%(during_moves)d overlapping a finished migration, "
              "%(split_seen)d started with a slot split between groups, "
              "%(duplicates)d duplicate keys in all; none missed; "
              "%(moves)d range moves" % dict(stats, moves=mover.moves))
    finally:
        if mover is not None:
            mover.stop.set()
            mover.join(timeout=180)
        cluster.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
