"""Leader election of `reborn-agent --ha` on etcd (leases for the ephemeral
nodes): two agents elect one leader; the leader killed with -9, the other
takes over once the lease expires; a third agent that joins follows. The
agent also starts a reborn-proxy and a dashboard on the same coordinator."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "coord"))
from coord_servers import start_etcd  # noqa: E402
from harness import wait_for_port  # noqa: E402
from agent_harness import Agent, wait_until  # noqa: E402
import json  # noqa: E402
import urllib.request  # noqa: E402


def leaders(agents):
    return [a for a in agents if a.status().get("leader")]


def main():
    etcd, etcd_addr = start_etcd()
    agents = []
    try:
        uri = "etcd://%s/reborn-agent-test?session_timeout_ms=2000" % etcd_addr
        for _ in range(2):
            agents.append(Agent("--coordinator", uri, "--product", "p",
                                "--ha"))
        wait_until(lambda: len(leaders(agents)) == 1, 20, "one leader")
        time.sleep(1)
        assert len(leaders(agents)) == 1
        old = leaders(agents)[0]
        follower = [a for a in agents if a is not old][0]
        # A forced failover is asked of the leader only.
        status, body = follower.post("/api/failover", {"group": 1})
        assert status == 409 and "leader" in body["error"], (status, body)
        status, body = old.post("/api/failover", {"group": "x"})
        assert status == 400, (status, body)
        status, body = old.post("/api/failover", {"group": 1})
        assert status == 200 and body["ok"], (status, body)
        t0 = time.time()
        old.proc.send_signal(signal.SIGKILL)
        old.proc.wait()
        agents.remove(old)
        wait_until(lambda: len(leaders(agents)) == 1, 20, "a new leader")
        print("etcd: new leader %.2f s after the old one was killed" %
              (time.time() - t0), flush=True)
        agents.append(Agent("--coordinator", uri, "--product", "p", "--ha"))
        time.sleep(1)
        assert len(leaders(agents)) == 1 and \
            not agents[-1].status()["leader"]

        # A proxy and a dashboard, supervised, on the agent's coordinator.
        a = agents[-1]
        status, proxy = a.post("/api/start_proxy", {"threads": 1})
        assert status == 200, proxy
        status, dash = a.post("/api/start_dashboard", {})
        assert status == 200, dash
        wait_for_port(proxy["ports"][0])
        wait_for_port(dash["ports"][0])
        wait_until(lambda: any(
            p["addr"].endswith(":%d" % proxy["ports"][0]) for p in
            json.loads(urllib.request.urlopen(
                "http://127.0.0.1:%d/api/proxies" % dash["ports"][0],
                timeout=10).read())), 10, "the proxy registered")
        # reborn-config's view of the agents: election order, leader first.
        listed = json.loads(urllib.request.urlopen(
            "http://127.0.0.1:%d/api/agents" % dash["ports"][0],
            timeout=10).read())
        assert [x["leader"] for x in listed] == [True, False], listed
        assert listed[0]["addr"].endswith(
            ":%d" % leaders(agents)[0].port), listed
        apps = a.apps()
        assert apps[proxy["id"]]["state"] == "running", apps
        assert apps[dash["id"]]["kind"] == "dashboard", apps
        status, body = a.post("/api/stop", {"all": True})
        assert status == 200, body
        assert a.apps() == {}
        print("OK")
    finally:
        for a in agents:
            a.cleanup()
        etcd.cleanup()


if __name__ == "__main__":
    main()
