"""reborn-agent as a supervisor (no coordinator): the HTTP API's checks, a
qdb-server started through it, killed with -9 and restarted with its data,
an agent killed with -9 whose successor adopts the running store, and
/api/stop."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient  # noqa: E402
from agent_harness import Agent, wait_until  # noqa: E402


def check_api_errors(agent):
    assert agent.post("/api/start_qdb", token=None)[0] == 401
    assert agent.post("/api/start_qdb", token="wrong")[0] == 401
    assert agent.post("/api/start_qdb", content_type="text/plain")[0] == 415
    status, body = agent.post("/api/start_qdb",
                              headers={"Origin": "http://evil.example"})
    assert status == 403, (status, body)
    status, body = agent.post("/api/start_qdb", {"port": "x"})
    assert status == 400 and "port" in body["error"], body
    status, body = agent.post("/api/start_qdb", {"engine": "ext4"})
    assert status == 400, body
    status, body = agent.post("/api/start_proxy", {})
    assert status == 409 and "coordinator" in body["error"], body
    status, body = agent.post("/api/stop", {})
    assert status == 400, body
    status, body = agent.post("/api/stop", {"id": "nope"})
    assert status == 404, body


def main():
    agent = Agent()
    second = None
    try:
        check_api_errors(agent)
        status, body = agent.post("/api/start_qdb", {})
        assert status == 200, body
        app_id = body["id"]
        port = body["ports"][0]
        status, body = agent.post("/api/start_qdb", {"port": port})
        assert status == 409, body  # the id (and port) are taken
        app = wait_until(lambda: agent.apps()[app_id]["state"] == "running"
                         and agent.apps()[app_id], 10, "qdb running")
        c = wait_until(lambda: _connect(port), 15, "qdb listening")
        for i in range(200):
            assert c.call("SET", "k%d" % i, "v%d" % i) == b"+OK\r\n"
        c.close()

        # kill -9: restarted by the supervisor, data intact (RocksDB).
        killed_at = time.time()
        os.kill(app["pid"], signal.SIGKILL)
        app2 = wait_until(
            lambda: (lambda a: a["state"] == "running" and
                     a["pid"] != app["pid"] and a)(agent.apps()[app_id]),
            10, "a restart")
        c = wait_until(lambda: _connect(port), 15, "qdb back")
        print("supervised qdb-server back after %.2f s (restarts=%d, "
              "last_exit=%s)" % (time.time() - killed_at, app2["restarts"],
                                 app2["last_exit"]))
        assert app2["restarts"] == 1 and app2["last_exit"] == "signal 9"
        for i in range(200):
            assert c.call("GET", "k%d" % i) == b"$%d\r\nv%d\r\n" % (
                len("v%d" % i), i), i
        c.close()

        # The agent dies with -9: its successor on the same dir adopts the
        # store (same pid), which served all along.
        agent.proc.send_signal(signal.SIGKILL)
        agent.proc.wait()
        second = Agent(dir=agent.dir)
        adopted = second.apps()[app_id]
        assert adopted["pid"] == app2["pid"] and adopted["adopted"], adopted
        c = _connect(port)
        assert c.call("GET", "k7") == b"$2\r\nv7\r\n"
        c.close()

        # /api/stop stops and forgets it.
        status, body = second.post("/api/stop", {"id": app_id})
        assert status == 200, body
        assert app_id not in second.apps()
        assert _connect(port) is None
        print("OK")
    finally:
        agent.cleanup()
        if second is not None:
            second.cleanup()


def _connect(port):
    try:
        c = RawClient(port, timeout=2)
        if c.call("PING") == b"+PONG\r\n":
            return c
        c.close()
    except OSError:
        pass
    return None


if __name__ == "__main__":
    main()
