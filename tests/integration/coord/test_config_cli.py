"""reborn-config against a real ZooKeeper and a real etcd: every command,
--json output, clear errors with non-zero exits, and the dashboard's REST
API (with a token). Stores for add-server are real redis-servers."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from harness import Process, binary, free_port, start_redis  # noqa: E402
from coord_servers import start_etcd, start_zookeeper  # noqa: E402

CONFIG = binary("reborn-config")


def run(uri, *args, expect=0, product="demo"):
    argv = [CONFIG, "--coordinator", uri, "--product", product,
            "--timeout-ms", "3000", "--ack-timeout-ms", "500"] + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode != expect:
        raise AssertionError("%s -> %d (want %d)\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, expect, p.stdout, p.stderr))
    return p


def run_json(uri, *args, expect=0):
    p = run(uri, *(list(args) + ["--json"]), expect=expect)
    return json.loads(p.stdout)


def error_of(uri, *args):
    p = run(uri, *args, expect=1)
    assert p.stderr.startswith("reborn-config: error: "), p.stderr
    return p.stderr


def redis_cli(r, *args):
    p = subprocess.run(["redis-cli", "-p", str(r.port)] + list(args),
                       capture_output=True, text=True, timeout=10)
    return p.stdout


def wait_replicating(replica, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "master_link_status:up" in redis_cli(replica, "INFO",
                                                  "replication"):
            return
        time.sleep(0.1)
    raise AssertionError("redis %d does not replicate" % replica.port)


def check_cli(uri, r1, r2, r3):
    a1, a2, a3 = ["127.0.0.1:%d" % r.port for r in (r1, r2, r3)]
    for r in (r1, r2, r3):  # a previous run left replicas
        redis_cli(r, "REPLICAOF", "NO", "ONE")
    run(uri, "slot", "init")
    assert "--force" in error_of(uri, "slot", "init")
    run(uri, "slot", "init", "--force")
    assert run_json(uri, "slot", "info", "7") == {
        "id": 7, "group_id": 0, "state": "offline"}
    assert "out of range" in error_of(uri, "slot", "info", "1024")

    run(uri, "group", "add", "1")
    run(uri, "group", "add", "2")
    assert "exists" in error_of(uri, "group", "add", "1")
    assert "group 9 does not exist" in error_of(
        uri, "slot", "range-set", "0", "511", "9")
    assert "out of range" in error_of(
        uri, "slot", "range-set", "0", "2000", "1")

    out = run_json(uri, "group", "add-server", "1", a1)
    assert out["role"] == "master", out
    run(uri, "group", "add-server", "1", a2, "slave")
    assert "already has a master" in error_of(
        uri, "group", "add-server", "1", a3, "master")
    assert "already in group 1" in error_of(
        uri, "group", "add-server", "2", a1)
    dead = "127.0.0.1:%d" % free_port()
    assert "unreachable" in error_of(uri, "group", "add-server", "2", dead)
    locked = start_redis("--requirepass", "pw")
    try:  # up but refusing: told apart from unreachable
        addr = "127.0.0.1:%d" % locked.port
        assert "refused the password" in error_of(
            uri, "--password", "wrong", "group", "add-server", "2", addr)
        assert "refused PING" in error_of(uri, "group", "add-server", "2",
                                          addr)
    finally:
        locked.cleanup()
    assert "group 5 does not exist" in error_of(
        uri, "group", "add-server", "5", a3)
    run(uri, "group", "add-server", "2", a3)

    run(uri, "slot", "range-set", "0", "511", "1")
    run(uri, "slot", "range-set", "512", "1023", "2")
    assert run_json(uri, "slot", "info", "600") == {
        "id": 600, "group_id": 2, "state": "online"}
    assert "still owns 512 slot(s)" in error_of(uri, "group", "remove", "2")

    groups = run_json(uri, "group", "list")
    assert [g["id"] for g in groups] == [1, 2], groups
    assert groups[0]["servers"] == [
        {"addr": a1, "role": "master", "state": "online"},
        {"addr": a2, "role": "slave", "state": "online"}], groups
    human = run(uri, "group", "list").stdout
    assert "group 1: %s master online" % a1 in human, human

    # a2 is registered as a slave but replicates nothing: promoting it would
    # replace a1's data with its own, so it takes --force.
    err = error_of(uri, "server", "promote", "1", a2)
    assert "not a replica" in err and "--force" in err, err
    assert run_json(uri, "group", "list")[0]["servers"][0]["role"] == "master"
    # Promote the slave: the topology flips in one write. (redis-server
    # accepts REPLICAOF, so the stores follow too.)
    out = run_json(uri, "server", "promote", "1", a2, "--force")
    assert out["master"] == a2 and out["forced"], out
    g1 = run_json(uri, "group", "list")[0]
    roles = {s["addr"]: s["role"] for s in g1["servers"]}
    assert roles == {a1: "slave", a2: "master"}, roles
    for r, want in ((r1, "slave"), (r2, "master")):  # written, then told
        role = subprocess.run(["redis-cli", "-p", str(r.port), "ROLE"],
                              capture_output=True, text=True, timeout=10)
        assert role.stdout.split()[0] == want, (r.port, role.stdout)
    assert "is not in group 1" in error_of(
        uri, "server", "promote", "1", a3)
    # a1 now replicates a2: once in sync, switching back and forth needs no
    # --force.
    wait_replicating(r1)
    out = run_json(uri, "server", "promote", "1", a1)
    assert not out["forced"] and out["check"]["candidate_offset"] >= \
        out["check"]["master_offset"], out
    wait_replicating(r2)
    run(uri, "server", "promote", "1", a2)
    wait_replicating(r1)
    assert "master of group 1" in error_of(
        uri, "group", "remove-server", "1", a2)
    run(uri, "group", "remove-server", "1", a1)
    assert "is not in group 1" in error_of(
        uri, "group", "remove-server", "1", a1)

    run(uri, "slot", "range-set", "512", "1023", "1")
    run(uri, "group", "remove", "2")
    assert [g["id"] for g in run_json(uri, "group", "list")] == [1]
    assert run_json(uri, "proxy", "list") == []
    assert "not found" in error_of(uri, "proxy", "offline", "nope")
    err = run_json(uri, "group", "remove", "7", expect=1)
    assert err["code"] == "NOT_FOUND", err

    # Resetting live slots is a topology change (locked, an action, acked).
    out = run_json(uri, "slot", "init", "--force")
    assert out["forced"] and "action" in out, out
    assert run_json(uri, "slot", "info", "3") == {
        "id": 3, "group_id": 0, "state": "offline"}


class Api:
    def __init__(self, port, token=None):
        self.base = "http://127.0.0.1:%d" % port
        self.token = token

    def call(self, method, path, body=None, token=True):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method)
        req.add_header("Content-Type", "application/json")
        if token and self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


def check_dashboard(uri, r1):
    port = free_port()
    dash = Process([CONFIG, "--coordinator", uri, "--product", "web",
                    "--ack-timeout-ms", "500", "dashboard",
                    "--addr", "127.0.0.1:%d" % port, "--token", "s3cret"],
                   port=port, name="dashboard")
    try:
        api = Api(port, "s3cret")
        st, body = api.call("POST", "/api/slots/init", {}, token=False)
        assert st == 401, (st, body)
        assert api.call("POST", "/api/slots/init", {})[0] == 200
        st, body = api.call("POST", "/api/slots/init", {})
        assert st == 409 and "--force" in body["error"], (st, body)
        assert api.call("POST", "/api/groups", {"id": 3})[0] == 200
        assert api.call("POST", "/api/groups", {"id": 3})[0] == 409
        assert api.call("POST", "/api/groups", {"nope": 1})[0] == 400
        st, body = api.call("POST", "/api/groups/3/servers",
                            {"addr": "127.0.0.1:%d" % r1.port})
        assert st == 200 and body["role"] == "master", (st, body)
        st, body = api.call("POST", "/api/groups/3/servers",
                            {"addr": "127.0.0.1:%d" % free_port()})
        assert st == 503 and "unreachable" in body["error"], (st, body)
        st, body = api.call("POST", "/api/slots/range",
                            {"from": 0, "to": 1023, "group_id": 3})
        assert st == 200, (st, body)
        st, body = api.call("POST", "/api/slots/range",
                            {"from": 0, "to": 1023, "group_id": 8})
        assert st == 404, (st, body)
        st, body = api.call("GET", "/api/slots/17", token=False)
        assert body == {"id": 17, "group_id": 3, "state": "online"}, body
        assert len(api.call("GET", "/api/slots")[1]) == 1024
        st, body = api.call("GET", "/api/overview", token=False)
        assert st == 200 and body["slots"]["by_group"] == {"3": 1024}, body
        assert body["groups"][0]["id"] == 3
        st, body = api.call("GET", "/api/actions")
        assert st == 200 and [a["type"] for a in body] == [
            "group_add_server", "slot_range_set"], body
        assert api.call("DELETE", "/api/groups/3")[0] == 409
        assert api.call("GET", "/api/proxies")[1] == []
        assert api.call("GET", "/api/nothing")[0] == 404
    finally:
        dash.cleanup()


def check_unreachable():
    port = free_port()
    for scheme in ("zk", "etcd"):
        uri = "%s://127.0.0.1:%d/x" % (scheme, port)
        start = time.time()
        p = run(uri, "group", "list", expect=1)
        assert uri in p.stderr and "cannot reach" in p.stderr, p.stderr
        assert time.time() - start < 8


def main():
    started = time.time()
    procs = []
    try:
        zk, zk_addr = start_zookeeper()
        procs.append(zk)
        etcd, etcd_addr = start_etcd()
        procs.append(etcd)
        redis = [start_redis() for _ in range(3)]
        procs.extend(redis)
        check_unreachable()
        for uri in ("zk://%s/reborn-it" % zk_addr,
                    "etcd://%s/reborn-it" % etcd_addr):
            check_cli(uri, *redis)
            print("cli ok:", uri)
        check_dashboard("zk://%s/reborn-it" % zk_addr, redis[0])
        check_dashboard("etcd://%s/reborn-it" % etcd_addr, redis[0])
        print("dashboard ok")
    finally:
        for p in procs:
            p.cleanup()
            if getattr(p, "extra_dir", None):
                shutil.rmtree(p.extra_dir, ignore_errors=True)
    print("ok in %.1fs" % (time.time() - started))


if __name__ == "__main__":
    main()
