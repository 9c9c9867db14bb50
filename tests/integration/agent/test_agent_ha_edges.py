"""HA edge cases with three `reborn-agent --ha` processes (quorum 2) on a
real ZooKeeper, one group (qdb-server master + replica) and a proxy with a
writer:
  1. the master is SIGSTOPped for 10 s: the agents fail over to the replica;
     after SIGCONT the old master is made a replica of the new one (exactly
     one master) and comes back online;
  2. the leader agent and the master are killed with -9 together: another
     agent becomes the leader once the dead one's session expires and fails
     the group over;
  3. the old master restarted on its data rejoins as a replica; killed
     again, the dead replica is marked offline; restarted, it is online once
     it has caught up."""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "migrate"))
from harness import Process, binary, start_qdb  # noqa: E402
from cluster import Cluster  # noqa: E402
from agent_harness import Agent, wait_until  # noqa: E402
from test_agent_failover import Writer, role  # noqa: E402

SESSION_MS = 2000


def servers(cl):
    g = [g for g in json.loads(cl.config("group", "list", "--json"))
         if g["id"] == 1][0]
    return {s["addr"]: s for s in g["servers"]}


def addr(p):
    return "127.0.0.1:%d" % p.port


def one_master(cl, procs):
    """The topology's master is the only store that says role:master."""
    s = servers(cl)
    master = [a for a, x in s.items() if x["role"] == "master"]
    seen = [addr(p) for p in procs if (role(p.port) or ("",))[0] == "master"]
    return master == seen and len(seen) == 1


def main():
    cl = Cluster("agentedge", groups=1)
    agents = []
    writer = None
    try:
        m = cl.groups[1]
        r = start_qdb("--replicaof", "127.0.0.1", str(m.port))
        cl.procs.append(r)
        cl.config("group", "add-server", "1", addr(r), "slave")
        proxy = cl.start_proxy()
        for _ in range(3):
            agents.append(Agent("--coordinator", cl.uri + "?session_timeout_ms=%d"
                                % SESSION_MS, "--product", cl.product, "--ha"))
        wait_until(lambda: sum(a.status().get("leader", False)
                               for a in agents) == 1, 20, "one leader")
        writer = Writer(proxy.port)
        writer.start()
        wait_until(lambda: len(writer.acked) > 1000, 20, "writes flowing")

        # 1. SIGSTOP the master for 10 s.
        t0 = time.time()
        m.send_signal(signal.SIGSTOP)
        wait_until(lambda: servers(cl)[addr(r)]["role"] == "master", 15,
                   "failover away from the stopped master", step=0.1)
        print("SIGSTOP: replica promoted %.2f s after the stop" %
              (time.time() - t0), flush=True)
        time.sleep(max(0.0, 10 - (time.time() - t0)))
        m.send_signal(signal.SIGCONT)
        t1 = time.time()
        wait_until(lambda: servers(cl)[addr(m)]["state"] == "online" and
                   role(m.port) == ("slave", str(r.port)), 30,
                   "the resumed master to rejoin as a replica", step=0.2)
        print("SIGCONT: old master a replica of the new one, online, "
              "%.2f s after it resumed" % (time.time() - t1), flush=True)
        assert one_master(cl, [m, r])

        # 2. Kill the leader agent and the master together.
        leader = [a for a in agents if a.status()["leader"]][0]
        t2 = time.time()
        leader.proc.send_signal(signal.SIGKILL)
        r.send_signal(signal.SIGKILL)
        leader.proc.wait()
        r.wait()
        agents.remove(leader)
        wait_until(lambda: servers(cl)[addr(m)]["role"] == "master", 30,
                   "a new leader to fail over", step=0.1)
        took = time.time() - t2
        new_leader = [a for a in agents if a.status()["leader"]]
        assert len(new_leader) == 1
        print("leader agent and master killed: failed over by the next "
              "leader %.2f s later (session timeout %d ms)" %
              (took, SESSION_MS), flush=True)
        wait_until(lambda: writer.last_ok[1] > time.time() - 0.5, 10,
                   "writes to succeed again")
        assert (role(m.port) or ("",))[0] == "master"

        # 3. A dead replica goes offline and comes back online.
        def restart(p):
            q = Process([binary("qdb-server"), "--port", str(p.port),
                         "--dir", p.data_dir], port=p.port, name="qdb")
            q.data_dir = p.data_dir
            cl.procs.append(q)
            return q

        def online_replica(p):
            return servers(cl)[addr(p)]["state"] == "online" and \
                role(p.port) == ("slave", str(m.port))
        r = restart(r)
        wait_until(lambda: online_replica(r), 30, "rejoin", step=0.2)
        t3 = time.time()
        r.send_signal(signal.SIGKILL)
        r.wait()
        wait_until(lambda: servers(cl)[addr(r)]["state"] == "offline", 20,
                   "the dead replica to be marked offline", step=0.1)
        print("dead replica marked offline %.2f s after kill -9" %
              (time.time() - t3), flush=True)
        assert servers(cl)[addr(m)]["role"] == "master"
        r = restart(r)
        t4 = time.time()
        wait_until(lambda: online_replica(r), 30, "replica online again",
                   step=0.2)
        print("restarted replica online again %.2f s after its restart" %
              (time.time() - t4), flush=True)
        assert one_master(cl, [m, r])
        writer.stop.set()
        writer.join()
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
        try:
            cl.groups[1].send_signal(signal.SIGCONT)
        except Exception:
            pass
        cl.cleanup()


if __name__ == "__main__":
    main()
