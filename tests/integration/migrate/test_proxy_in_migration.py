"""Commands through reborn-proxy on a slot that is being migrated.

One slot holds a few hundred keys (no hash tags, so each moves on its own)
and migrates slowly (`--batch 2 --delay-ms 160`), so commands meet it in
the migrate state with some keys still at the source and others at the
target. Each kind of
command the proxy routes differently must see the key wherever it lives:
multi-key commands (one SLOTSMGRTTAGONE per key), blocking pops (their own
connection), WATCH/MULTI/EXEC (pinned to one server). A client blocked at
the source before the migration began is moved to the target when the
slot starts migrating, so a push there wakes it. Afterwards every key
equals the model and lives at the target only.
"""

import json
import subprocess
import threading
import time
import zlib

import redis

from cluster import Cluster

SLOT = 77
KEYS = 240
DELAY_MS = 160  # after each batch of 2 keys: ~20 s in the migrate state


def keys_in_slot(slot, n):
    out, i = [], 0
    while len(out) < n:
        k = "m%d" % i
        if zlib.crc32(k.encode()) % 1024 == slot:
            out.append(k)
        i += 1
    return out


def wait_for(what, cond, timeout=30):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def main():
    cluster = Cluster("inmig")
    mover = None
    try:
        config = cluster.config
        g1, g2 = cluster.groups[1], cluster.groups[2]
        proxy = cluster.start_proxy()

        c = redis.Redis(port=proxy.port, socket_timeout=15)
        src, dst = redis.Redis(port=g1.port), redis.Redis(port=g2.port)
        keys = keys_in_slot(SLOT, KEYS)
        lists = keys[:20]  # popped below; the rest are strings
        model = {}
        pipe = c.pipeline(transaction=False)
        for k in keys:
            if k in lists:
                pipe.rpush(k, "a", "b")
                model[k] = [b"a", b"b"]
            else:
                pipe.set(k, "v:" + k)
                model[k] = b"v:" + k.encode()
        pipe.execute()

        # A pop parked at the source before the migration begins.
        blocked_key = keys_in_slot(SLOT, KEYS + 1)[-1]
        popped = {}

        def waiter():
            w = redis.Redis(port=proxy.port, socket_timeout=90)
            t0 = time.time()
            popped["reply"] = w.blpop([blocked_key], timeout=60)
            popped["seconds"] = time.time() - t0
            w.close()

        pop_thread = threading.Thread(target=waiter, daemon=True)
        pop_thread.start()
        wait_for("the pop to block at the source",
                 lambda: src.info("clients")["blocked_clients"] == 1)

        mover = subprocess.Popen(
            cluster.config_argv("slot", "migrate", str(SLOT), str(SLOT),
                                "2", "--wait", "--batch", "2", "--delay-ms",
                                str(DELAY_MS)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for("the slot to migrate", lambda: json.loads(config(
            "slot", "info", str(SLOT), "--json"))["state"] == "migrate")
        wait_for("the first keys to move", lambda: dst.dbsize() >= 4)
        checked = 0

        # The proxy unblocked it at the source and parked it at the target.
        wait_for("the parked pop to move to the target",
                 lambda: dst.info("clients")["blocked_clients"] == 1 and
                 src.info("clients")["blocked_clients"] == 0, timeout=10)
        c.rpush(blocked_key, "woken")
        pop_thread.join(timeout=15)
        assert popped.get("reply") == (blocked_key.encode(), b"woken"), popped
        assert popped["seconds"] < 30, popped
        checked += 1

        def at_source(candidates, n):
            found = [k for k in candidates if src.exists(k)]
            assert len(found) >= n, "migration went too fast for the test"
            return found[:n]

        strings = [k for k in keys if k not in lists]
        moved = [k for k in strings if dst.exists(k)][:2]
        assert moved, "no string key moved yet"

        # Multi-key commands: keys spread over both servers.
        mix = at_source(strings[::-1], 3) + moved
        assert c.mget(mix) == [model[k] for k in mix]
        assert c.exists(*mix) == len(mix)
        fresh = at_source(strings[::-1], 2)
        c.mset({fresh[0]: "new0", fresh[1]: "new1"})
        model[fresh[0]], model[fresh[1]] = b"new0", b"new1"
        assert dst.get(fresh[0]) == b"new0" and not src.exists(fresh[0])
        gone = at_source(strings[::-1], 2)
        assert c.delete(*gone) == 2
        for k in gone:
            del model[k]
            assert not src.exists(k) and not dst.exists(k)
        checked += 4

        # A blocking pop finds the list at the source: it is moved and
        # popped at once rather than waiting on an empty target.
        for k in at_source(lists[::-1], 2):
            t0 = time.time()
            assert c.blpop([k], timeout=5) == (k.encode(), b"a")
            assert time.time() - t0 < 2
            model[k] = [b"b"]
            checked += 1

        # WATCH/MULTI/EXEC on keys still at the source.
        w = at_source(strings[::-1], 1)[0]
        with c.pipeline(transaction=True) as tx:
            tx.watch(w)
            assert tx.get(w) == model[w]
            tx.multi()
            tx.append(w, ":tx")
            assert tx.execute() == [len(model[w]) + 3]
        model[w] += b":tx"
        checked += 1

        out, err = mover.communicate(timeout=120)
        assert mover.returncode == 0, (out, err)
        assert "done" in out, out
        bad = []
        for k, want in model.items():
            got = c.lrange(k, 0, -1) if isinstance(want, list) else c.get(k)
            if got != want or src.exists(k):
                bad.append((k, want, got))
        assert not bad, "%d keys differ, e.g. %r" % (len(bad), bad[:5])
        assert src.dbsize() == 0 and dst.dbsize() == len(model)
        print("OK: %d command kinds met slot %d mid-migration; %d keys equal "
              "the model at the target" % (checked, SLOT, len(model)))
    finally:
        if mover is not None and mover.poll() is None:
            mover.kill()
        cluster.cleanup()


if __name__ == "__main__":
    main()
