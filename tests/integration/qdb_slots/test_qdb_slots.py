#!/usr/bin/python3
"""Codis' slot commands between two real qdb-servers.

1. SLOTSHASHKEY agrees with zlib's crc32 (and the hash-tag rule).
2. Keys of several types, with and without TTLs, in several tag groups of
   one slot move with SLOTSMGRTTAGSLOT (repeated until SLOTSINFO shows the
   slot empty at the source); every key, value and TTL is checked at the
   target. The target requires a password (migrate-target-password).
3. SLOTSMGRTONE and SLOTSMGRTTAGONE.
4. Writers INCR counters of a moving slot the way the proxy does (SLOTSMGRTTAGONE
   at the source first, then the command at the target) while the slot
   moves: no acknowledged increment is lost.
5. Throughput of SLOTSMGRTTAGSLOT and of SLOTSMGRTTAGSLOTBATCH (keys/s).
Usage: test_qdb_slots.py [keys for the throughput part]
"""
import os
import random
import sys
import threading
import time
import zlib

import redis

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import start_qdb  # noqa: E402

N_BENCH = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
PASSWORD = "s3cret"


def slot_of(key):
    b = key.encode() if isinstance(key, str) else key
    i = b.find(b"{")
    if i >= 0:
        j = b.find(b"}", i + 1)
        if j > i + 1:
            b = b[i + 1:j]
    return zlib.crc32(b) % 1024


def keys_in_slot(slot, n, prefix):
    """n untagged keys that hash to `slot`."""
    out, i, crc = [], 0, zlib.crc32
    while len(out) < n:
        k = "%s%d" % (prefix, i)
        if crc(k.encode()) % 1024 == slot:
            out.append(k)
        i += 1
    return out


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def drain(src, dst_port, slot, cmd="SLOTSMGRTTAGSLOT"):
    moved, calls = 0, 0
    while True:
        n, left = src.execute_command(cmd, "127.0.0.1", dst_port, 5000, slot)
        moved += n
        calls += 1
        if left == 0 and n == 0:
            break
        if left == 0:
            continue
    return moved, calls


def main():
    dst_p = start_qdb("--requirepass", PASSWORD)
    src_p = start_qdb("--migrate-target-password", PASSWORD)
    try:
        src = redis.Redis(port=src_p.port)
        dst = redis.Redis(port=dst_p.port, password=PASSWORD)

        # 1. SLOTSHASHKEY == crc32 % 1024 with the tag rule.
        rnd = random.Random(3)
        keys = ["", "{}", "{a}b", "a{b}c{d}", "{{x}}", "}{y}", "plain"]
        keys += ["k%d{t%d}" % (rnd.randrange(10**6), rnd.randrange(50))
                 for _ in range(500)]
        got = src.execute_command("SLOTSHASHKEY", *keys)
        check(got == [slot_of(k) for k in keys], "SLOTSHASHKEY != crc32")
        print("ok  SLOTSHASHKEY matches zlib.crc32 on %d keys" % len(keys))

        # 2. One slot, several types, several tag groups, TTLs.
        slot = slot_of("mig")
        model = {}
        for g in range(20):
            tag = "{mig}" if g == 0 else None
            base = keys_in_slot(slot, 20, "g%d_" % g) if tag is None else []
            names = base or ["{mig}%d" % i for i in range(20)]
            for i, k in enumerate(names):
                kind = i % 3
                ttl = 100000 + i * 1000 if i % 2 else None
                if kind == 0:
                    src.set(k, "v" + k)
                    model[k] = ("string", b"v" + k.encode(), ttl)
                elif kind == 1:
                    h = {("f%d" % j): ("x%d" % j) for j in range(i + 1)}
                    src.hset(k, mapping=h)
                    model[k] = ("hash", {a.encode(): b.encode()
                                         for a, b in h.items()}, ttl)
                else:
                    m = {("m%d" % j).encode() for j in range(i + 1)}
                    src.sadd(k, *m)
                    model[k] = ("set", m, ttl)
                if ttl:
                    src.pexpire(k, ttl)
        src.set("elsewhere", "stays")
        check(src.execute_command("SLOTSINFO", slot, 1) ==
              [[slot, len(model)]], "SLOTSINFO before the move")
        t0 = time.time()
        moved, calls = drain(src, dst_p.port, slot)
        dt = time.time() - t0
        check(moved == len(model), "moved %d of %d" % (moved, len(model)))
        check(src.execute_command("SLOTSINFO", slot, 1) == [],
              "slot not empty at the source")
        check(dst.execute_command("SLOTSINFO", slot, 1) ==
              [[slot, len(model)]], "SLOTSINFO at the target")
        check(src.get("elsewhere") == b"stays", "other slot touched")
        for k, (kind, val, ttl) in model.items():
            check(dst.type(k).decode() == kind, "type of %s" % k)
            if kind == "string":
                check(dst.get(k) == val, "value of %s" % k)
            elif kind == "hash":
                check(dst.hgetall(k) == val, "hash %s" % k)
            else:
                check(dst.smembers(k) == val, "set %s" % k)
            pttl = dst.pttl(k)
            if ttl:
                check(ttl - 10000 < pttl <= ttl, "ttl of %s: %d" % (k, pttl))
            else:
                check(pttl == -1, "%s got a ttl" % k)
        check(src.execute_command("SLOTSCHECK") == b"OK", "check src")
        check(dst.execute_command("SLOTSCHECK") == b"OK", "check dst")
        print("ok  SLOTSMGRTTAGSLOT moved %d keys (20 tag groups, 3 types, "
              "TTLs) in %d calls, %.3fs" % (moved, calls, dt))

        # 3. SLOTSMGRTONE / SLOTSMGRTTAGONE.
        src.set("one", "1", px=60000)
        r = src.execute_command("SLOTSMGRTONE", "127.0.0.1", dst_p.port,
                                1000, "one")
        check(r == 1 and not src.exists("one"), "SLOTSMGRTONE")
        check(dst.get("one") == b"1" and 50000 < dst.pttl("one") <= 60000,
              "SLOTSMGRTONE at the target")
        check(src.execute_command("SLOTSMGRTONE", "127.0.0.1", dst_p.port,
                                  1000, "one") == 0, "missing key moves 0")
        for s in ("a", "b", "c"):
            src.set("{grp}" + s, s)
        src.set("grp", "its tag is its name: the same group")
        src.set("{other}x", "stays")
        r = src.execute_command("SLOTSMGRTTAGONE", "127.0.0.1", dst_p.port,
                                1000, "{grp}b")
        check(r == 4, "SLOTSMGRTTAGONE moved %r" % r)
        check(dst.mget("{grp}a", "{grp}b", "{grp}c", "grp") ==
              [b"a", b"b", b"c", b"its tag is its name: the same group"],
              "tag group at the target")
        check(src.get("{other}x") == b"stays", "another group moved")
        # A wrong password at the target: the key stays at the source.
        bad = start_qdb("--migrate-target-password", "wrong")
        try:
            b = redis.Redis(port=bad.port)
            b.set("stay", "x")
            try:
                b.execute_command("SLOTSMGRTONE", "127.0.0.1", dst_p.port,
                                  1000, "stay")
                check(False, "moved with a wrong password")
            except redis.ResponseError:
                pass
            check(b.get("stay") == b"x", "key lost on a failed move")
        finally:
            bad.cleanup()
        print("ok  SLOTSMGRTONE / SLOTSMGRTTAGONE / failed auth keeps the key")

        # 4. Writers during the move, proxy style.
        wslot = slot_of("w")
        counters = ["{w}c%d" % i for i in range(8)]
        counters += keys_in_slot(wslot, 8, "wc")
        for c in counters:
            src.set(c, 0)
        for i in range(3000):  # something to move
            src.set("{w}pad%d" % i, "x" * 20)
        acked = {c: 0 for c in counters}
        lock = threading.Lock()
        migrating = threading.Event()
        stop = threading.Event()
        errors = []
        # Each writer acknowledges the switch, like a proxy acking the 2PC:
        # an INCR begun on the source path finishes before its writer acks.
        switched = [threading.Event() for _ in range(4)]
        # ... and, like requests held in pre_migrate, none moves keys before
        # every writer has acked.
        all_switched = threading.Event()

        def writer(seed):
            s = redis.Redis(port=src_p.port)
            d = redis.Redis(port=dst_p.port, password=PASSWORD)
            r2 = random.Random(seed)
            while not stop.is_set():
                c = r2.choice(counters)
                to_target = migrating.is_set()
                if to_target and not all_switched.is_set():
                    switched[seed].set()
                    all_switched.wait(60)
                try:
                    if to_target:
                        s.execute_command("SLOTSMGRTTAGONE", "127.0.0.1",
                                          dst_p.port, 5000, c)
                        d.incr(c)
                    else:
                        s.incr(c)
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
                    return
                with lock:
                    acked[c] += 1

        threads = [threading.Thread(target=writer, args=(i,))
                   for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        migrating.set()
        for ack in switched:
            check(ack.wait(30), "a writer never switched to the target")
        all_switched.set()
        moved, _ = drain(src, dst_p.port, wslot)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
        check(not errors, "writer errors: %s" % errors[:3])
        check(src.execute_command("SLOTSINFO", wslot, 1) == [],
              "writer slot not empty")
        lost = {c: (acked[c], int(dst.get(c) or 0)) for c in counters
                if int(dst.get(c) or 0) != acked[c]}
        check(not lost, "lost increments: %s" % lost)
        print("ok  %d acknowledged INCRs from 4 writers during the move, "
              "none lost" % sum(acked.values()))

        # 5. Throughput: untagged keys one per call and in batches, then
        # one big tag group (one SLOTSRESTORE).
        bslot = slot_of("bench")
        plain = keys_in_slot(bslot, 2000, "b")
        grouped = ["{bench}%d" % i for i in range(N_BENCH)]
        runs = (("SLOTSMGRTSLOT", plain, ()),
                ("SLOTSMGRTTAGSLOTBATCH", plain, (500, 1 << 20)),
                ("SLOTSMGRTTAGSLOT", grouped, ()))
        for cmd, names, extra in runs:
            p = src.pipeline(transaction=False)
            for i, k in enumerate(names):
                p.set(k, "v%d" % i)
                if i % 1000 == 999:
                    p.execute()
            p.execute()
            t0 = time.time()
            moved, calls = 0, 0
            while True:
                n, left = src.execute_command(
                    cmd, "127.0.0.1", dst_p.port, 5000, bslot, *extra)
                moved += n
                calls += 1
                if left == 0:
                    break
            dt = time.time() - t0
            check(moved == len(names), "%s moved %d" % (cmd, moved))
            check(dst.get(names[7]) == b"v7", "bench value")
            print("ok  %s: %d keys in %.3fs = %.0f keys/s (%d calls)"
                  % (cmd, moved, dt, moved / dt, calls))
        print("PASS")
    finally:
        src_p.cleanup()
        dst_p.cleanup()


if __name__ == "__main__":
    main()
