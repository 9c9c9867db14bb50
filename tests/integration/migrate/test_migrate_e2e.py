"""The migration test that matters (issue 7): ZooKeeper, three qdb-server
groups, two reborn-proxy processes and the in-process reborn::Client
(migrate_workload). Keys of all five types are loaded; writers run through
both proxies and the Client — counters INCR'd, lists pushed, hashes set,
sorted sets scored — each acknowledged write recorded in a model and read
back at once (a read older than the model is a stale read). Meanwhile:

1. two thirds of the slots rotate between the groups (1->2, 2->3, 3->1, three
   tasks started over REST that run in parallel in the dashboard process);
   the dashboard is SIGKILLed in the middle and restarted, and resumes them
   (two of the three run at a time: a third would close a cycle of moves);
2. a rate-limited `slot rebalance --weights 3=2 --rate N` from the CLI;
3. a REST migration cancelled in the middle, then finished by
   `migration resume ID`.

Afterwards every key equals the model: zero acknowledged writes lost, zero
stale reads, zero client errors; every slot is online at exactly one group
and its keys live there only.

Sizes (env): MIGRATE_E2E_KEYS (default 200000, the issue's size),
MIGRATE_E2E_BIGHASH (fields of one big hash, big:hash:0, in slot 143, which
moves 1->2 in chunks; default 1000000, the issue's size: about 63 s in
all here), MIGRATE_E2E_RATE (keys/s of
scenario 2, default 20000), MIGRATE_E2E_STEP (slots per topology change,
default 32).
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import redis

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "coord"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "proxy"))
from harness import Process, binary, free_port, start_qdb  # noqa: E402
from coord_servers import start_zookeeper  # noqa: E402
from proxy_harness import start_proxy  # noqa: E402

CONFIG = binary("reborn-config")
WORKLOAD = binary("migrate_workload")
PRODUCT = "e2e"
TOKEN = "t0ken"
KEYS = int(os.environ.get("MIGRATE_E2E_KEYS", "200000"))
BIGHASH = int(os.environ.get("MIGRATE_E2E_BIGHASH", "1000000"))
# reborn-config's calls to the stores; one SLOTSMGRTTAGSLOTBATCH call moves
# the big hash (1.7 s on a release build, over 10 s under AddressSanitizer).
SERVER_TIMEOUT_MS = "60000"
RATE = int(os.environ.get("MIGRATE_E2E_RATE", "20000"))
STEP = os.environ.get("MIGRATE_E2E_STEP", "32")
KEYS_PER_TYPE = 40


def log(*a):
    print("[%6.1f]" % (time.time() - T0), *a, flush=True)


T0 = time.time()


def config(uri, *args, timeout=300):
    argv = [CONFIG, "--coordinator", uri, "--product", PRODUCT,
            "--timeout-ms", SERVER_TIMEOUT_MS, "--ack-timeout-ms", "10000"] + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("%s -> %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


def http(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        "http://127.0.0.1:%d%s" % (port, path), data=data, method=method,
        headers={"Authorization": "Bearer " + TOKEN,
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Dashboard:
    """reborn-config dashboard: the REST server that runs migrations."""

    def __init__(self, uri):
        self.port = free_port()
        self.p = Process([CONFIG, "--coordinator", uri, "--product", PRODUCT,
                          "--timeout-ms", SERVER_TIMEOUT_MS, "--ack-timeout-ms",
                          "10000", "dashboard", "--addr",
                          "127.0.0.1:%d" % self.port, "--token", TOKEN,
                          "--step", STEP], port=self.port, name="dashboard")

    def tasks(self):
        for _ in range(10):  # a coordinator hiccup on a loaded machine: 503
            code, out = http(self.port, "GET", "/api/migrations")
            if code != 503:
                break
            time.sleep(0.5)
        assert code == 200, out
        return out

    def wait_done(self, ids, timeout=400):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ts = {t["id"]: t for t in self.tasks()}
            states = [ts[i]["state"] for i in ids]
            if all(s == "done" for s in states):
                return ts
            bad = [ts[i] for i in ids if ts[i]["state"] == "failed"]
            assert not bad, bad
            time.sleep(0.5)
        raise AssertionError("tasks not done: %r" % self.tasks())


class ProxyWriter(threading.Thread):
    """The C++ writers' scheme (migrate_workload work) through a proxy."""

    def __init__(self, port, tag, stop):
        super().__init__(daemon=True)
        self.c = redis.Redis(port=port, socket_timeout=20)
        self.tag, self.stop = tag, stop
        self.counts = {}
        self.ops = self.reads = self.stale = self.tryagain = 0
        self.errors = []

    def call(self, *cmd):
        for _ in range(50):
            try:
                return self.c.execute_command(*cmd)
            except redis.exceptions.ResponseError as e:
                if str(e).startswith("TRYAGAIN"):
                    self.tryagain += 1
                    time.sleep(0.02)
                    continue
                raise
        raise AssertionError("TRYAGAIN 50 times")

    def run(self):
        rnd = random.Random(self.tag)
        while not self.stop.is_set() and len(self.errors) < 20:
            t = rnd.randrange(4)
            k = "wk:%s:0:%d:%d" % (self.tag, t, rnd.randrange(KEYS_PER_TYPE))
            n = self.counts.get(k, 0)
            try:
                if t == 0:
                    self.call("INCR", k)
                elif t == 1:
                    self.call("RPUSH", k, str(n))
                elif t == 2:
                    self.call("HSET", k, "f%d" % (n % 16), str(n))
                else:
                    self.call("ZINCRBY", k, "1", "m%d" % (n % 8))
            except Exception as e:  # noqa: BLE001
                self.errors.append("%s: %r" % (k, e))
                continue
            n += 1
            self.counts[k] = n
            self.ops += 1
            try:
                if t == 0:
                    got, want = int(self.call("GET", k)), n
                elif t == 1:
                    got, want = self.call("LLEN", k), n
                elif t == 2:
                    got = self.call("HGET", k, "f%d" % ((n - 1) % 16))
                    got, want = int(got), n - 1
                else:
                    got = self.call("ZSCORE", k, "m%d" % ((n - 1) % 8))
                    got, want = int(float(got)), (n - 1) // 8 + 1
            except Exception as e:  # noqa: BLE001
                self.errors.append("read %s: %r" % (k, e))
                continue
            self.reads += 1
            if got != want:
                self.stale += 1
                self.errors.append("stale %s: %r want %r" % (k, got, want))


def check_workload_keys(c, counts):
    bad = []
    for k, n in counts.items():
        t = int(k.split(":")[3])
        if t == 0:
            got, want = int(c.get(k) or 0), n
        elif t == 1:
            got = [x.decode() for x in c.lrange(k, 0, -1)]
            want = [str(j) for j in range(n)]
        elif t == 2:
            got = {f.decode(): v.decode() for f, v in c.hgetall(k).items()}
            want = {"f%d" % (j % 16): str(j) for j in range(n)}
        else:
            got = {m.decode(): int(s) for m, s in
                   c.zrange(k, 0, -1, withscores=True)}
            want = {}
            for j in range(n):
                want["m%d" % (j % 8)] = want.get("m%d" % (j % 8), 0) + 1
        if got != want:
            bad.append((k, got, want))
    return bad


def main():
    procs = []
    dash = None
    try:
        zk, zk_addr = start_zookeeper()
        procs.append(zk)
        uri = "zk://%s/reborn-e2e" % zk_addr
        # reborn-config's own session: short, so a killed runner's lock and
        # task ownership go quickly.
        cfg_uri = uri + "?session_timeout_ms=4000"
        groups = {gid: start_qdb() for gid in (1, 2, 3)}
        procs += list(groups.values())
        config(uri, "slot", "init", "--force")
        for gid, g in groups.items():
            config(uri, "group", "add", str(gid))
            config(uri, "group", "add-server", str(gid),
                   "127.0.0.1:%d" % g.port, "master")
        config(uri, "slot", "range-set", "0", "341", "1")
        config(uri, "slot", "range-set", "342", "682", "2")
        config(uri, "slot", "range-set", "683", "1023", "3")
        proxies = [start_proxy(None, None, "--coordinator", uri,
                               "--product", PRODUCT) for _ in range(2)]
        procs += proxies

        t = time.time()
        out = subprocess.run([WORKLOAD, "load", uri, PRODUCT, str(KEYS),
                              str(BIGHASH)], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        log("loaded %d keys + a %d-field hash in %.1fs" % (
            KEYS, BIGHASH, time.time() - t))

        stop_file = os.path.join(proxies[0].tmp, "stop")
        work = subprocess.Popen([WORKLOAD, "work", uri, PRODUCT, "c", "2",
                                 stop_file, "900"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        stop = threading.Event()
        writers = [ProxyWriter(p.port, "p%d" % i, stop)
                   for i, p in enumerate(proxies)]
        for w in writers:
            w.start()

        # 1. Rotation over REST, parallel; kill the dashboard midway.
        dash = Dashboard(cfg_uri)
        procs.append(dash.p)
        ids = []
        for lo, hi, gid in ((0, 227, 2), (342, 569, 3), (683, 910, 1)):
            code, task = http(dash.port, "POST", "/api/migrations",
                              {"from": lo, "to": hi, "gid": gid})
            assert code == 200, task
            ids.append(task["id"])
        code, err = http(dash.port, "POST", "/api/migrations",
                         {"from": 0, "to": 10, "gid": 3})
        # Refused as overlapping a task, or (once that task has started) as
        # touching a slot already migrating.
        assert code == 409 and ("unfinished migration" in err["error"] or
                                "is migrating" in err["error"]), (code, err)
        t1 = time.time()
        total = 228 * 3
        while time.time() - t1 < 300:
            ts = dash.tasks()
            done = sum(t["slots_done"] for t in ts)
            running = [t for t in ts if t["running_here"]]
            if done >= total // 3:
                break
            time.sleep(0.2)
        assert len(running) == 3, ts
        parallel = sum(1 for t in ts if t["slots_done"] > 0)
        log("killing the dashboard at %d/%d slots (%d tasks under way): %s"
            % (done, total, parallel, [(t["id"], t["slots_done"],
                                        t["keys_left"], t["eta_seconds"])
                                       for t in ts]))
        dash.p.proc.send_signal(signal.SIGKILL)
        dash.p.wait()
        dash.p.log.close()
        dash = Dashboard(cfg_uri)
        procs.append(dash.p)
        final = dash.wait_done(ids)
        took = time.time() - t1
        moved = sum(final[i]["keys_moved"] for i in ids)
        assert "resuming 3 migration task(s)" in dash.p.output(), \
            dash.p.output()
        log("rotation of %d slots done in %.1fs incl. kill+resume: %d keys "
            "moved" % (total, took, moved))

        # 2. Rate-limited rebalance from the CLI (two tasks into group 3).
        t2 = time.time()
        out = config(uri, "slot", "rebalance", "--weights", "3=2",
                     "--rate", str(RATE), "--step", STEP)
        took2 = time.time() - t2
        lines = out.splitlines()
        assert lines[0].startswith("rebalance plan: 171 slot(s)"), out
        assert "group 1 -> group 3" in out and "group 2 -> group 3" in out
        assert "rebalanced" in lines[-1], out
        tasks = {t["id"]: t for t in
                 json.loads(config(uri, "migration", "list", "--json"))}
        reb = [t for t in tasks.values() if t["id"] not in ids]
        moved2 = sum(t["keys_moved"] for t in reb)
        log("rebalance (rate %d keys/s per task): %d keys in %.1fs" % (
            RATE, moved2, took2))
        for t in reb:
            assert t["state"] == "done", t
            # Each task stays under its rate (it sleeps ahead of time).
            assert t["keys_per_sec"] <= RATE * 1.1, t

        # 3. Cancel in the middle (slot by slot, about 1 s each), then resume.
        per_slot = max(10, KEYS // 1024)
        code, task = http(dash.port, "POST", "/api/migrations",
                          {"from": 228, "to": 233, "gid": 2, "rate": per_slot,
                           "batch": 5, "step": 1})
        assert code == 200, task
        cid = task["id"]
        time.sleep(1.0)
        code, c = http(dash.port, "POST", "/api/migrations/%s/cancel" % cid)
        assert code == 200 and c["cancel_requested"], c
        deadline = time.time() + 120
        while time.time() < deadline:
            st = {t["id"]: t for t in dash.tasks()}[cid]
            if st["state"] == "cancelled":
                break
            time.sleep(0.2)
        assert st["state"] == "cancelled", st
        slots = [json.loads(config(uri, "slot", "info", str(s), "--json"))
                 for s in range(228, 234)]
        assert all(s["state"] == "online" for s in slots), slots
        log("cancelled %s after %d slot(s)" % (cid, st["slots_done"]))
        config(uri, "migration", "resume", cid)

        # Stop the writers.
        time.sleep(0.5)
        stop.set()
        with open(stop_file, "w"):
            pass
        wout, werr = work.communicate(timeout=120)
        assert work.returncode == 0, werr
        report = json.loads(wout.strip().splitlines()[-1])
        for w in writers:
            w.join(60)
        ops = report["ops"] + sum(w.ops for w in writers)
        reads = report["reads"] + sum(w.reads for w in writers)
        stale = report["stale"] + sum(w.stale for w in writers)
        tryagain = report["tryagain"] + sum(w.tryagain for w in writers)
        errors = report["error_samples"] + sum((w.errors for w in writers),
                                               [])
        log("writers: %d acknowledged writes, %d reads, %d stale, %d errors, "
            "%d TRYAGAIN retried" % (ops, reads, stale, len(errors),
                                     tryagain))
        assert report["errors"] == 0 and not errors, errors[:10]
        assert stale == 0

        # Every key equals the model.
        out = subprocess.run([WORKLOAD, "verify", uri, PRODUCT, str(KEYS),
                              str(BIGHASH)], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        counts = dict(report["counts"])
        for w in writers:
            counts.update(w.counts)
        c = redis.Redis(port=proxies[1].port, socket_timeout=20)
        bad = check_workload_keys(c, counts)
        assert not bad, "%d workload keys differ: %r" % (len(bad), bad[:3])

        # Topology: every slot online at one group; keys only there.
        tasks = json.loads(config(uri, "migration", "list", "--json"))
        assert all(t["state"] == "done" for t in tasks), tasks
        code, slots = http(dash.port, "GET", "/api/slots")
        assert code == 200 and len(slots) == 1024
        owner = {s["id"]: s["group_id"] for s in slots}
        assert all(s["state"] == "online" for s in slots), [
            s for s in slots if s["state"] != "online"][:3]
        per_group = {g: sum(1 for v in owner.values() if v == g)
                     for g in groups}
        assert per_group == {1: 250, 2: 262, 3: 512}, per_group
        keys = 0
        for gid, g in groups.items():
            d = redis.Redis(port=g.port)
            assert d.execute_command("SLOTSCHECK") == b"OK"
            for s, n in d.execute_command("SLOTSINFO"):
                assert owner[s] == gid, (s, gid, owner[s])
                keys += n
        assert keys == KEYS + (1 if BIGHASH else 0) + len(counts), keys
        # Rebalance over REST: dry runs only (nothing moves).
        code, r = http(dash.port, "POST", "/api/rebalance", {"dry_run": True})
        assert code == 200 and r["plan"]["slots_moved"] == 170, r
        assert r["tasks"] == [] and r["plan"]["after"] == {
            "1": 341, "2": 341, "3": 342}, r
        code, r = http(dash.port, "POST", "/api/rebalance",
                       {"dry_run": True, "weights": {"3": 2}})
        assert code == 200 and r["plan"]["slots_moved"] == 6, r
        (m,) = r["plan"]["moves"]
        assert (m["source"], m["target"], m["count"]) == (2, 1, 6), r
        req = urllib.request.Request(
            "http://127.0.0.1:%d/api/rebalance" % dash.port, data=b"{}",
            method="POST")
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("no token accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 401, e.code

        # The topology lock was released (or expired with the killed runner).
        zk_lock = subprocess.run(
            [CONFIG, "--coordinator", uri, "--product", PRODUCT, "slot",
             "range-set", "0", "0", str(owner[0])], capture_output=True,
            text=True, timeout=60)
        assert zk_lock.returncode == 0, zk_lock.stderr
        log("OK: %d keys and %d workload keys equal the model; slots per "
            "group %r" % (KEYS, len(counts), per_group))
        print("RESULT keys=%d bighash=%d rotation_s=%.1f rotation_keys=%d "
              "rebalance_s=%.1f rebalance_keys=%d writes=%d reads=%d" % (
                  KEYS, BIGHASH, took, moved, took2, moved2, ops, reads))
    finally:
        for p in reversed(procs):
            p.cleanup()


if __name__ == "__main__":
    main()
