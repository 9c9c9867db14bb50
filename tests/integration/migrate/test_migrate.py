"""Live slot migration end to end: ZooKeeper, two qdb-server groups, one
reborn-proxy on the coordinator. Keys are loaded through the proxy, then
`reborn-config slot migrate 0 511 2 --wait` runs while a writer INCRs
counters through the proxy. Afterwards every key equals the model, the keys
of slots 0..511 live on group 2 only, and those slots are online at group 2.
"""

import json
import os
import random
import re
import threading
import time

import redis

from cluster import Cluster

PRODUCT = "mig"
KEYS = int(os.environ.get("MIGRATE_TEST_KEYS", "3000"))
COUNTERS = 200


def load(c, model):
    pipe = c.pipeline(transaction=False)
    for i in range(KEYS):
        kind = i % 3
        if kind == 0:
            k = "s:%d" % i
            pipe.set(k, "v%d" % i)
            model[k] = ("string", "v%d" % i)
        elif kind == 1:
            k = "h:%d" % i
            fields = {"a": str(i), "b": "x" * (i % 7), "c": "z"}
            pipe.hset(k, mapping=fields)
            model[k] = ("hash", fields)
        else:
            k = "l:%d" % i
            items = ["%d-%d" % (i, j) for j in range(4)]
            pipe.rpush(k, *items)
            model[k] = ("list", items)
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()


class Writer(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.c = redis.Redis(port=port, socket_timeout=15)
        self.counts = {}
        self.stop_flag = threading.Event()
        self.errors = []
        self.ops = 0

    def run(self):
        rnd = random.Random(7)
        while not self.stop_flag.is_set():
            k = "c:%d" % rnd.randrange(COUNTERS)
            try:
                v = self.c.incr(k)
            except Exception as e:  # noqa: BLE001
                self.errors.append("%s: %r" % (k, e))
                if len(self.errors) > 20:
                    return
                continue
            want = self.counts.get(k, 0) + 1
            if v != want:
                self.errors.append("%s: INCR -> %d, want %d" % (k, v, want))
            self.counts[k] = want
            self.ops += 1


def check_model(c, model):
    bad = []
    for k, (kind, want) in model.items():
        if kind == "string":
            got = c.get(k)
            got = got.decode() if got is not None else None
        elif kind == "hash":
            got = {f.decode(): v.decode() for f, v in c.hgetall(k).items()}
        elif kind == "list":
            got = [x.decode() for x in c.lrange(k, 0, -1)]
        else:
            got = int(c.get(k) or 0)
        if got != want:
            bad.append((k, got, want))
    return bad


def main():
    cluster = Cluster(PRODUCT)
    try:
        config = cluster.config
        g1, g2 = cluster.groups[1], cluster.groups[2]
        proxy = cluster.start_proxy()

        c = redis.Redis(port=proxy.port, socket_timeout=15)
        model = {}
        load(c, model)
        d1 = redis.Redis(port=g1.port)
        d2 = redis.Redis(port=g2.port)
        assert d2.dbsize() == 0 and d1.dbsize() == KEYS

        writer = Writer(proxy.port)
        writer.start()
        time.sleep(0.3)
        t0 = time.time()
        last = os.environ.get("MIGRATE_TEST_LAST", "511")
        out = config("slot", "migrate", "0", last, "2", "--wait",
                     *os.environ.get("MIGRATE_TEST_ARGS", "--step 32").split())
        took = time.time() - t0
        time.sleep(0.3)
        writer.stop_flag.set()
        writer.join(20)
        assert not writer.errors, writer.errors[:5]
        lines = [ln for ln in out.splitlines() if ln.strip()]
        assert lines and "done" in out, out
        m = re.findall(r"(\d+) keys moved", out)
        moved = int(m[-1]) if m else -1
        print("migrated slots 0..511 in %.2fs: %d keys moved (%.0f keys/s "
              "incl. 2PC), writer did %d INCRs" % (
                  took, moved, moved / took, writer.ops))
        print(lines[-1])

        for k, v in writer.counts.items():
            model[k] = ("counter", v)
        bad = check_model(c, model)
        assert not bad, "%d keys differ, e.g. %r" % (len(bad), bad[:5])

        # Placement: slots 0..511 only on group 2, the rest only on group 1.
        info1 = {s: n for s, n in d1.execute_command("SLOTSINFO")}
        info2 = {s: n for s, n in d2.execute_command("SLOTSINFO")}
        assert all(s >= 512 for s in info1), sorted(info1)[:5]
        assert all(s < 512 for s in info2), sorted(info2)[-5:]
        assert sum(info1.values()) + sum(info2.values()) == len(model)
        for k in model:
            slot = d1.execute_command("SLOTSHASHKEY", k)[0]
            on1, on2 = d1.exists(k), d2.exists(k)
            assert (on1, on2) == ((0, 1) if slot < 512 else (1, 0)), (
                k, slot, on1, on2)

        for s in (0, 1, 255, 511):
            st = json.loads(config("slot", "info", str(s), "--json"))
            assert st == {"id": s, "group_id": 2, "state": "online"}, st
        st = json.loads(config("slot", "info", "512", "--json"))
        assert st == {"id": 512, "group_id": 1, "state": "online"}, st
        tasks = json.loads(config("migration", "list", "--json"))
        assert len(tasks) == 1 and tasks[0]["state"] == "done", tasks
        assert tasks[0]["keys_moved"] == moved, tasks
        print("OK: %d keys equal the model, placement and slot states right"
              % len(model))
    finally:
        cluster.cleanup()


if __name__ == "__main__":
    main()
