#!/usr/bin/env python3
"""`./reborn.sh demo failover`: kills group 1's master of the running demo as
a lost machine would (its agent stops supervising it, then kill -9: nothing
restarts it), prints what the agents and the proxy did and when, then starts
the old master again under its agent and shows it rejoin as a replica.
Bounded: every wait gives up after 30 s."""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import zlib

import redis

WAIT_S = 30


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=5) as r:
        return json.loads(r.read())


def post(port, path, body, token):
    req = urllib.request.Request(
        "http://127.0.0.1:%d%s" % (port, path), data=json.dumps(body).encode(),
        method="POST", headers={"Authorization": "Bearer " + token,
                                "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class Writer(threading.Thread):
    """SETs keys of group 1's slots through the proxy; notes when writes
    fail and succeed."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.client = redis.Redis(port=port, socket_timeout=1,
                                  socket_connect_timeout=1)
        self.stop = threading.Event()
        self.acked = []
        self.first_fail = None
        self.recovered = None
        self.error = None

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            key = "demo-failover-%d-%d" % (os.getpid(), i)
            # Only group 1's slots (crc32 % 1024 in 0..511 in the demo).
            if zlib.crc32(key.encode()) % 1024 >= 512:
                continue
            try:
                self.client.set(key, i)
                self.acked.append((key, i))
                if self.first_fail is not None and self.recovered is None:
                    self.recovered = time.time()
            except redis.RedisError as e:
                if self.first_fail is None:
                    self.first_fail, self.error = time.time(), str(e)
                time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--coordinator", required=True)
    ap.add_argument("--product", required=True)
    ap.add_argument("--proxy", type=int, required=True)
    ap.add_argument("--agents", required=True)
    ap.add_argument("--token-file", required=True)
    a = ap.parse_args()
    token = open(a.token_file).read().strip()
    agents = [int(p) for p in a.agents.split(",")]

    def config(*args):
        return subprocess.run(
            [os.path.join(a.bin, "reborn-config"), "--coordinator",
             a.coordinator, "--product", a.product] + list(args),
            capture_output=True, text=True, check=True, timeout=30).stdout

    def group1():
        return [g for g in json.loads(config("group", "list", "--json"))
                if g["id"] == 1][0]

    try:
        g = group1()
    except (subprocess.CalledProcessError, OSError) as e:
        sys.exit("the demo does not run (./reborn.sh demo first): %s" % e)
    master = [s["addr"] for s in g["servers"] if s["role"] == "master"][0]
    port = int(master.rsplit(":", 1)[1])
    owner, app = None, None
    for ap_port in agents:
        for x in get(ap_port, "/api/apps"):
            if port in x["ports"] and x["state"] == "running":
                owner, app = ap_port, x
    if app is None:
        sys.exit("no agent supervises group 1's master %s" % master)
    leader = [p for p in agents if get(p, "/api/status").get("leader")]
    if not leader:
        sys.exit("no agent is the leader (see agent list)")
    leader = leader[0]
    writer = Writer(a.proxy)
    writer.start()
    time.sleep(1)
    before = len(writer.acked)
    print("group 1: master %s (pid %d, supervised by the agent on :%d), "
          "replicas %s; the leader agent is on :%d; %d writes/s through "
          "the proxy to group 1's slots" % (
              master, app["pid"], owner,
              [s["addr"] for s in g["servers"] if s["role"] != "master"],
              leader, before))

    post(owner, "/api/stop", {"id": app["id"], "leave_running": True}, token)
    t0 = time.time()
    os.kill(app["pid"], signal.SIGKILL)
    print("t+0.00  kill -9 %s (its agent no longer restarts it: a lost "
          "machine)" % master, flush=True)
    seen_state, new_master, promoted_at = "ok", None, None
    while time.time() - t0 < WAIT_S:
        now = time.time() - t0
        st = [x for x in get(leader, "/api/status")["groups"]
              if x["id"] == 1]
        if st and st[0]["state"] != seen_state:
            seen_state = st[0]["state"]
            print("t+%.2f  leader: group 1 %s%s" % (
                now, seen_state,
                " (%s)" % st[0]["message"] if st[0]["message"] else ""),
                flush=True)
        if writer.first_fail and not hasattr(writer, "told"):
            writer.told = True
            print("t+%.2f  proxy: writes to group 1 fail (%s)" % (
                writer.first_fail - t0, writer.error), flush=True)
        if new_master is None:
            m = [s["addr"] for s in group1()["servers"]
                 if s["role"] == "master"]
            if m and m[0] != master:
                new_master, promoted_at = m[0], now
                print("t+%.2f  topology: %s is group 1's master" % (
                    now, new_master), flush=True)
        if new_master and writer.recovered:
            break
        time.sleep(0.1)
    else:
        writer.stop.set()
        sys.exit("no failover within %d s: see the agents' logs under "
                 "build/demo/agent-*/" % WAIT_S)
    print("t+%.2f  proxy: writes to group 1 succeed again (on %s)" % (
        writer.recovered - t0, new_master), flush=True)
    failovers = [f for f in get(leader, "/api/status").get("failovers", [])
                 if f["group"] == 1 and f["from"] == master]
    if failovers:
        f = failovers[-1]
        print("        leader: failed over to %s (replication offset %d) "
              "%d ms after the master's last good check" % (
                  f["to"], f["offset"], f["down_ms"]))

    # The old master comes back on its data under the same agent: the
    # agents make it a replica of the new master before it is online.
    post(owner, "/api/start_qdb", {"port": port}, token)
    t1 = time.time()
    while time.time() - t1 < WAIT_S:
        s = {x["addr"]: x for x in group1()["servers"]}
        try:
            info = redis.Redis(port=port, socket_timeout=1).info(
                "replication")
        except redis.RedisError:
            info = {}
        if s[master]["state"] == "online" and info.get("role") == "slave":
            print("t+%.2f  %s restarted by its agent, back online as a "
                  "replica of %s:%s" % (time.time() - t0, master,
                                        info["master_host"],
                                        info["master_port"]), flush=True)
            break
        time.sleep(0.2)
    else:
        print("the old master did not rejoin within %d s" % WAIT_S)
    writer.stop.set()
    writer.join()
    c = redis.Redis(port=a.proxy, socket_timeout=5)
    p = c.pipeline(transaction=False)
    for key, _ in writer.acked:
        p.get(key)
    got = p.execute()
    lost = sum(1 for (key, v), x in zip(writer.acked, got)
               if x != str(v).encode())
    print("\nfailover of group 1: writes failed for %.2f s (kill -9 to the "
          "first write that succeeded again); %d writes acknowledged, %d "
          "of them lost (asynchronous replication: see docs/agent.md, "
          "repl-sync-replicas)" % (writer.recovered - t0,
                                   len(writer.acked), lost))


if __name__ == "__main__":
    main()
