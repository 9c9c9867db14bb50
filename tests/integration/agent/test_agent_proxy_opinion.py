"""The proxies' view as the second opinion: one `reborn-agent --ha` with
quorum 2 on a real ZooKeeper has no other agent to agree with; with
`--proxy-quorum 2`, two proxies that see the master down (each publishes
its view of the group masters under /reborn/P/proxy_views) count as the
second vote.

One group (qdb-server master + replica), proxy A with a writer. The master
is killed with -9: with only proxy A reporting, the agent waits (1 of 2
proxies) and nothing is promoted; once proxy B starts and sees the master
down too, the agent fails the group over and writes succeed again."""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "migrate"))
from harness import start_qdb  # noqa: E402
from cluster import Cluster  # noqa: E402
from agent_harness import Agent, wait_until  # noqa: E402
from test_agent_failover import Writer, role  # noqa: E402
from test_agent_sync_failover import addr, servers  # noqa: E402


def main():
    cl = Cluster("agentproxy", groups=1)
    agent = None
    writer = None
    try:
        m = cl.groups[1]
        r = start_qdb("--replicaof", "127.0.0.1", str(m.port))
        cl.procs.append(r)
        cl.config("group", "add-server", "1", addr(r), "slave")
        proxy_a = cl.start_proxy()
        agent = Agent("--coordinator", cl.uri, "--product", cl.product,
                      "--ha", "--quorum", "2", "--proxy-quorum", "2")
        wait_until(lambda: agent.status().get("leader") and
                   [g["state"] for g in agent.status()["groups"]] == ["ok"],
                   20, "the agent to lead, group ok")
        assert agent.status()["proxy_quorum"] == 2
        writer = Writer(proxy_a.port, group_fn=lambda k: 1)
        writer.start()
        wait_until(lambda: len(writer.acked) > 500, 20, "writes flowing")

        t0 = time.time()
        m.send_signal(signal.SIGKILL)
        m.wait()

        def message():
            g = agent.status()["groups"][0]
            return g["state"], g["message"]
        # Down in the agent's view, proxy A agrees, but 1 proxy is not 2.
        wait_until(lambda: "1 of 2 proxies" in message()[1], 15,
                   "proxy A's view to reach the agent", step=0.1)
        print("%.2f s after kill -9: %s" % (time.time() - t0, message()),
              flush=True)
        time.sleep(3)
        assert servers(cl)[addr(m)]["role"] == "master", servers(cl)
        assert message()[0] == "down", message()
        assert "1 of 2 agents agree" in message()[1], message()

        t1 = time.time()
        cl.start_proxy()
        wait_until(lambda: servers(cl)[addr(r)]["role"] == "master", 20,
                   "the failover once proxy B agrees", step=0.1)
        print("failed over %.2f s after proxy B started (%.2f s after the "
              "kill)" % (time.time() - t1, time.time() - t0), flush=True)
        # The topology commits before the agent records the failover (it
        # waits for proxy acks and repoints the replicas first).
        fo = wait_until(lambda: agent.status()["failovers"], 20,
                        "the agent to record the failover", step=0.1)
        assert fo[-1]["from"] == addr(m) and fo[-1]["to"] == addr(r), fo
        assert (role(r.port) or ("",))[0] == "master"
        wait_until(lambda: writer.last_ok[1] > time.time() - 0.3, 10,
                   "writes to succeed again")
        writer.stop.set()
        writer.join()
        print("OK")
    except BaseException:
        if agent is not None:
            print("---- agent log:\n" + agent.output()[-5000:])
        raise
    finally:
        if writer is not None:
            writer.stop.set()
        if agent is not None:
            agent.cleanup()
        cl.cleanup()


if __name__ == "__main__":
    main()
