"""The leader agent is killed with -9 in the middle of a failover: after it
promoted a replica (REPLICAOF NO ONE) and before its topology change. Three
`reborn-agent --ha` (quorum 2) on a real ZooKeeper; the first, the leader,
runs with `--test-pause-after-promote-ms` so the test can kill it there.
One group of three qdb-servers with `repl-sync-replicas 1`, a writer through
the proxy recording every acknowledged key.

The next leader must finish the failover: the promoted replica (a master
already) or a replica with a higher offset becomes the group's master in the
topology, the other replica follows it, writes succeed again, exactly one
store says role:master, and no acknowledged write is lost."""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "migrate"))
from harness import RawClient, start_qdb  # noqa: E402
from cluster import Cluster  # noqa: E402
from agent_harness import Agent, wait_until  # noqa: E402
from test_agent_failover import Writer, role  # noqa: E402
from test_agent_sync_failover import addr, count_lost, servers  # noqa: E402

SESSION_MS = 2000
PAUSE_MS = 8000
SYNC = ["--repl-sync-replicas", "1", "--repl-sync-timeout", "500"]


def main():
    cl = Cluster("agentmid", groups=1)
    agents = []
    writer = None
    try:
        m = cl.groups[1]
        for k, v in (("repl-sync-replicas", "1"), ("repl-sync-timeout",
                                                   "500")):
            RawClient(m.port).call("CONFIG", "SET", k, v)
        replicas = []
        for _ in range(2):
            r = start_qdb("--replicaof", "127.0.0.1", str(m.port), *SYNC)
            cl.procs.append(r)
            replicas.append(r)
            cl.config("group", "add-server", "1", addr(r), "slave")
        proxy = cl.start_proxy()
        uri = cl.uri + "?session_timeout_ms=%d" % SESSION_MS
        # The first agent registers first: it is the leader, and the one
        # that pauses mid-failover.
        first = Agent("--coordinator", uri, "--product", cl.product, "--ha",
                      "--test-pause-after-promote-ms", str(PAUSE_MS))
        agents.append(first)
        wait_until(lambda: first.status().get("leader"), 20, "a leader")
        for _ in range(2):
            agents.append(Agent("--coordinator", uri, "--product",
                                cl.product, "--ha"))
        wait_until(lambda: sum(a.status().get("leader", False)
                               for a in agents) == 1 and
                   [g["state"] for g in first.status()["groups"]] == ["ok"],
                   20, "one leader, group ok")
        writer = Writer(proxy.port, group_fn=lambda k: 1)
        writer.start()
        wait_until(lambda: len(writer.acked) > 1000, 20, "writes flowing")

        t0 = time.time()
        m.send_signal(signal.SIGKILL)
        m.wait()

        def promoted_not_committed():
            s = servers(cl)
            for r in replicas:
                if (role(r.port) or ("",))[0] == "master" and \
                        s[addr(r)]["role"] == "slave":
                    return r
            return None
        promoted = wait_until(promoted_not_committed, 20,
                              "the leader to promote a replica", step=0.02)
        assert servers(cl)[addr(m)]["role"] == "master"
        t1 = time.time()
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        agents.remove(first)
        print("leader promoted %s %.2f s after kill -9 of the master, and "
              "was killed before its topology change" %
              (addr(promoted), t1 - t0), flush=True)

        def new_master():
            s = servers(cl)
            return [a for a, x in s.items() if x["role"] == "master" and
                    a != addr(m)]
        done = wait_until(new_master, 30, "the next leader to finish",
                          step=0.1)[0]
        took = time.time() - t1

        # The topology commits before the leader records the failover (it
        # waits for proxy acks and repoints the other replica first).
        def recorded():
            st = [a.status() for a in agents]
            leaders = [x for x in st if x["leader"]]
            if len(leaders) != 1:
                return None
            fo = [f for f in leaders[0]["failovers"] if f["from"] == addr(m)]
            return fo or None
        fo = wait_until(recorded, 20, "one leader recording the failover",
                        step=0.1)
        assert fo[-1]["to"] == done, fo
        print("the next leader finished the failover to %s %.2f s after "
              "the first was killed (session timeout %d ms)" %
              (done, took, SESSION_MS), flush=True)
        new = [r for r in replicas if addr(r) == done][0]
        other = [r for r in replicas if r is not new][0]
        s = servers(cl)
        assert s[addr(m)]["role"] == "slave" and \
            s[addr(m)]["state"] == "offline", s
        # The other replica follows the new master, online.
        wait_until(lambda: role(other.port) == ("slave", str(new.port)) and
                   servers(cl)[addr(other)]["state"] == "online", 20,
                   "the other replica to follow the new master", step=0.2)
        assert [r for r in replicas
                if (role(r.port) or ("",))[0] == "master"] == [new]
        wait_until(lambda: writer.last_ok[1] > time.time() - 0.3, 20,
                   "writes to succeed again")
        writer.stop.set()
        writer.join()
        lost = count_lost(proxy.port, writer.acked)
        print("%d acknowledged writes, %d lost" % (len(writer.acked), lost),
              flush=True)
        assert lost == 0, lost
        print("OK")
    except BaseException:
        for a in agents:
            print("---- agent log:\n" + a.output()[-5000:])
        raise
    finally:
        if writer is not None:
            writer.stop.set()
        for a in agents:
            a.cleanup()
        cl.cleanup()


if __name__ == "__main__":
    main()
