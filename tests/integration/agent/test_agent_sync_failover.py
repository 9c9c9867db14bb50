"""Acknowledged writes across failovers, with and without synchronous
replication. One group of three qdb-servers (master + 2 replicas), one
reborn-proxy, two `reborn-agent --ha` on a real ZooKeeper, writers through
the proxy recording every acknowledged key.

Each round kills the group's master with -9, measures how long writes
failed, restarts the old master on its data and waits until the agents made
it an online replica of the new master. At the end every acknowledged key is
read back. `--lag-ms` (60) before each kill the master drops its replicas'
links (CLIENT KILL TYPE replica; they reconnect after 100 ms), so that
asynchronous replication has something to lose.

With `--sync on` (the default) every store runs with `repl-sync-replicas 1`:
a write is acknowledged only once a replica has it, and the agents promote
the in-sync replica with the highest offset, so no acknowledged write may be
lost (asserted). `--sync off` reports the count with asynchronous
replication. `run()` is also the engine of `./reborn.sh bench failover`."""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "migrate"))
from harness import Process, RawClient, binary, start_qdb  # noqa: E402
from cluster import Cluster  # noqa: E402
from agent_harness import Agent, wait_until  # noqa: E402
from test_agent_failover import Writer, role  # noqa: E402

SYNC_TIMEOUT_MS = 500


def addr(p):
    return "127.0.0.1:%d" % p.port


def servers(cl):
    g = [g for g in json.loads(cl.config("group", "list", "--json"))
         if g["id"] == 1][0]
    return {s["addr"]: s for s in g["servers"]}


def count_lost(port, keys):
    c = RawClient(port, timeout=10)
    lost = 0
    for i in range(0, len(keys), 500):
        batch = keys[i:i + 500]
        c.send(b"".join(
            b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(k), k.encode())
            for k in batch))
        for k in batch:
            want = ("v-" + k).encode()
            if c.read_reply() != b"$%d\r\n%s\r\n" % (len(want), want):
                lost += 1
    c.close()
    return lost


def run(sync, rounds=5, writers=2, lag_ms=60, log=print):
    """Returns {"outages": [s...], "acked": n, "lost": n}."""
    sync_args = ["--repl-sync-replicas", "1", "--repl-sync-timeout",
                 str(SYNC_TIMEOUT_MS)] if sync else []
    cl = Cluster("agentsync%d" % int(sync), groups=1)
    agents = []
    ws = []
    stores = []
    try:
        stores[:] = [cl.groups[1]]
        if sync:
            RawClient(stores[0].port).call("CONFIG", "SET",
                                           "repl-sync-replicas", "1")
            RawClient(stores[0].port).call("CONFIG", "SET",
                                           "repl-sync-timeout",
                                           str(SYNC_TIMEOUT_MS))
        for _ in range(2):
            r = start_qdb("--replicaof", "127.0.0.1", str(stores[0].port),
                          *sync_args)
            cl.procs.append(r)
            stores.append(r)
            cl.config("group", "add-server", "1", addr(r), "slave")
        proxy = cl.start_proxy()
        for _ in range(2):
            agents.append(Agent("--coordinator", cl.uri, "--product",
                                cl.product, "--ha"))
        wait_until(lambda: sum(a.status().get("leader", False)
                               for a in agents) == 1, 20, "one leader")
        leader = [a for a in agents if a.status()["leader"]][0]
        wait_until(lambda: [g["state"] for g in leader.status()["groups"]]
                   == ["ok"], 20, "group ok")
        # reborn-config's view of them: election order, the leader first.
        listed = json.loads(cl.config("agent", "list", "--json"))
        assert [(x["addr"], x["leader"]) for x in listed] == [
            ("127.0.0.1:%d" % a.port, a is leader)
            for a in sorted(agents, key=lambda a: a is not leader)], listed
        human = cl.config("agent", "list").splitlines()
        assert len(human) == 2 and human[0].endswith(" leader") and \
            "127.0.0.1:%d" % leader.port in human[0], human
        ws = [Writer(proxy.port, "w%d-" % n, group_fn=lambda k: 1)
              for n in range(writers)]
        for w in ws:
            w.start()
        wait_until(lambda: len(ws[0].acked) > 1000, 20, "writes flowing")
        outages = []
        for rnd in range(rounds):
            s = servers(cl)
            dead = [p for p in stores
                    if s[addr(p)]["role"] == "master"][0]
            # The replicas' links drop just before the master dies (they
            # reconnect after 100 ms): asynchronous replication loses the
            # writes acknowledged meanwhile.
            if lag_ms:
                RawClient(dead.port).call("CLIENT", "KILL", "TYPE", "replica")
                time.sleep(lag_ms / 1000.0)
            t0 = time.time()
            dead.send_signal(signal.SIGKILL)
            dead.wait()
            for w in ws:
                wait_until(lambda: w.failed_since(1, t0), 10,
                           "writes to fail")
                wait_until(lambda: w.last_ok[1] > max(
                    w.failed_since(1, t0)) + 0.3, 30,
                    "writes to succeed again")
            outage = max(w.outage_after(t0) for w in ws)
            outages.append(outage)
            new = [a for a, x in servers(cl).items()
                   if x["role"] == "master"][0]
            log("round %d: %s killed, %s promoted, writes failed for "
                "%.2f s" % (rnd + 1, addr(dead), new, outage))
            # The old master comes back on its data and rejoins.
            back = Process([binary("qdb-server"), "--port", str(dead.port),
                            "--dir", dead.data_dir] + sync_args,
                           port=dead.port, name="qdb")
            back.data_dir = dead.data_dir
            cl.procs.append(back)
            stores[stores.index(dead)] = back
            new_port = new.rsplit(":", 1)[1]
            wait_until(lambda: servers(cl)[addr(back)]["state"] == "online"
                       and role(back.port) == ("slave", new_port), 30,
                       "the old master to rejoin as a replica", step=0.2)
        for w in ws:
            w.stop.set()
            w.join()
        keys = [k for w in ws for k in w.acked]
        lost = count_lost(proxy.port, keys)
        log("sync %s: %d rounds, outage median %.2f s, worst %.2f s; %d "
            "acknowledged writes, %d lost" % (
                "on" if sync else "off", len(outages),
                sorted(outages)[len(outages) // 2], max(outages), len(keys),
                lost))
        return {"outages": outages, "acked": len(keys), "lost": lost}
    except BaseException:
        for a in agents:
            log("---- agent log:\n" + a.output()[-5000:])
        raise
    finally:
        for w in ws:
            w.stop.set()
        for a in agents:
            a.cleanup()
        cl.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sync", choices=["on", "off"], default="on")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--lag-ms", type=int, default=60,
                    help="replica links cut this long before each kill")
    a = ap.parse_args()
    out = run(a.sync == "on", a.rounds, a.writers, a.lag_ms,
              log=lambda m: print(m, flush=True))
    if a.sync == "on":
        assert out["lost"] == 0, out
    assert max(out["outages"]) < 10, out
    print("OK")


if __name__ == "__main__":
    main()
