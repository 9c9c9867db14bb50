"""reborn-config dashboard hardening (issue 20): a token for every change
(generated and printed when none is given; --insecure-no-token only on
loopback), changes only as application/json without a foreign Origin,
no CORS, promote refused when it would lose data unless forced, and
stalled clients cannot make the dashboard unreachable. The dashboard runs on
an in-process memory:// coordinator; stores are real redis-servers."""

import http.client
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import Process, binary, free_port, start_redis  # noqa: E402

CONFIG = binary("reborn-config")


def dashboard(*flags, env=None):
    port = free_port()
    argv = [CONFIG, "--coordinator", "memory://", "--product", "sec",
            "--timeout-ms", "2000", "--ack-timeout-ms", "500", "dashboard",
            "--addr", "127.0.0.1:%d" % port] + list(flags)
    if env is not None:
        old = dict(os.environ)
        os.environ.update(env)
    try:
        p = Process(argv, port=port, name="dashboard")
    finally:
        if env is not None:
            os.environ.clear()
            os.environ.update(old)
    p.port = port
    return p


def request(port, method, path, body=None, headers=None, timeout=20):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body if isinstance(body, (bytes, str)) or body is None \
            else json.dumps(body)
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        raw = r.read()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw
        return r.status, doc, dict(r.getheaders())
    finally:
        c.close()


def change(port, path, body, token=None, ctype="application/json",
           origin=None, method="POST"):
    h = {}
    if ctype:
        h["Content-Type"] = ctype
    if token:
        h["Authorization"] = "Bearer " + token
    if origin:
        h["Origin"] = origin
    st, doc, _ = request(port, method, path, body, h)
    return st, doc


def check_generated_token():
    d = dashboard()
    try:
        time.sleep(0.2)
        m = re.search(r"generated dashboard token: ([0-9a-f]{32})\n",
                      d.output())
        assert m, d.output()
        token = m.group(1)
        assert "Authorization: Bearer" in d.output(), d.output()
        # The issue: no --token accepted every change.
        st, doc = change(d.port, "/api/groups", {"id": 1})
        assert st == 401 and doc["code"] == "UNAUTHENTICATED", (st, doc)
        st, doc = change(d.port, "/api/groups", {"id": 1}, token="0" * 32)
        assert st == 401, (st, doc)
        st, doc = change(d.port, "/api/groups", {"id": 1}, token=token)
        assert st == 200, (st, doc)
        st, doc, _ = request(d.port, "GET", "/api/groups")  # reads are open
        assert st == 200 and doc[0]["id"] == 1, (st, doc)
        # A DELETE is a change too.
        st, doc = change(d.port, "/api/groups/1", None, method="DELETE")
        assert st == 401, (st, doc)
        st, doc = change(d.port, "/api/groups/1", None, token=token,
                         method="DELETE")
        assert st == 200, (st, doc)
    finally:
        d.cleanup()
    print("generated token ok")


def check_token_sources():
    tmp = tempfile.mkdtemp(prefix="reborn-token-")
    path = os.path.join(tmp, "dashboard.token")
    d = dashboard("--token-file", path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600, oct(mode)
        token = open(path).read().strip()
        assert re.fullmatch(r"[0-9a-f]{32}", token), token
        assert token not in d.output(), d.output()  # not printed: in a file
        assert change(d.port, "/api/groups", {"id": 1}, token=token)[0] == 200
    finally:
        d.cleanup()
    d = dashboard("--token-file", path)  # kept across restarts
    try:
        assert change(d.port, "/api/groups", {"id": 2}, token=token)[0] == 200
    finally:
        d.cleanup()
    os.chmod(path, 0o644)
    port = free_port()
    p = subprocess.run([CONFIG, "--coordinator", "memory://", "--product",
                        "sec", "dashboard", "--addr", "127.0.0.1:%d" % port,
                        "--token-file", path],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "chmod 600" in p.stderr, p.stderr
    os.unlink(path)
    os.rmdir(tmp)
    d = dashboard(env={"REBORN_DASHBOARD_TOKEN": "from-env"})
    try:
        assert "generated" not in d.output(), d.output()
        assert change(d.port, "/api/groups", {"id": 1})[0] == 401
        assert change(d.port, "/api/groups", {"id": 1},
                      token="from-env")[0] == 200
    finally:
        d.cleanup()
    print("token file and env ok")


def check_insecure():
    for fmt in ("0.0.0.0:%d", "[::]:%d", "10.1.2.3:%d"):
        addr = fmt % free_port()
        p = subprocess.run([CONFIG, "--coordinator", "memory://", "--product",
                            "sec", "dashboard", "--addr", addr,
                            "--insecure-no-token"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and "loopback" in p.stderr, (addr, p.stderr)
    p = subprocess.run([CONFIG, "--coordinator", "memory://", "--product",
                        "sec", "dashboard", "--addr", "127.0.0.1:1",
                        "--insecure-no-token", "--token", "x"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    d = dashboard("--insecure-no-token")
    try:
        assert "WARNING" in d.output(), d.output()
        assert change(d.port, "/api/groups", {"id": 1})[0] == 200
        # Still no cross-site changes.
        assert change(d.port, "/api/groups", {"id": 2},
                      ctype="text/plain")[0] == 415
        assert change(d.port, "/api/groups", {"id": 2},
                      origin="http://evil.example")[0] == 403
    finally:
        d.cleanup()
    print("insecure mode ok")


def check_csrf():
    d = dashboard("--token", "s3cret")
    try:
        port = d.port
        # What a web page can send without a preflight: a text/plain or form
        # POST, with the browser's Origin.
        st, doc = change(port, "/api/groups", '{"id": 1}', token="s3cret",
                         ctype="text/plain")
        assert st == 415 and doc["code"] == "UNSUPPORTED_MEDIA_TYPE", (st, doc)
        st, doc = change(port, "/api/groups", "id=1", token="s3cret",
                         ctype="application/x-www-form-urlencoded")
        assert st == 415, (st, doc)
        st, doc = change(port, "/api/groups", {"id": 1}, token="s3cret",
                         ctype=None)
        assert st == 415, (st, doc)
        st, doc = change(port, "/api/groups", {"id": 1}, token="s3cret",
                         origin="http://evil.example")
        assert st == 403 and doc["code"] == "PERMISSION_DENIED", (st, doc)
        st, doc = change(port, "/api/groups", {"id": 1}, token="s3cret",
                         origin="http://127.0.0.1:%d" % port)
        assert st == 200, (st, doc)
        st, doc, headers = request(port, "OPTIONS", "/api/groups", headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert st == 405, (st, doc)
        assert not [h for h in headers if h.lower().startswith(
            "access-control")], headers
        st, doc = change(port, "/api/groups", {"id": 1}, token="s3cret",
                         method="PUT")
        assert st == 405, (st, doc)
        st, doc, headers = request(port, "GET", "/api/groups",
                                   headers={"Origin": "http://evil.example"})
        assert st == 200 and not [h for h in headers if h.lower().startswith(
            "access-control")], headers
        # Bodies are bounded.
        st, doc = change(port, "/api/groups", b"x" * (2 << 20),
                         token="s3cret")
        assert st == 413, st
    finally:
        d.cleanup()
    print("csrf ok")


def redis_cli(r, *args):
    p = subprocess.run(["redis-cli", "-p", str(r.port)] + list(args),
                       capture_output=True, text=True, timeout=10)
    return p.stdout.strip()


def repl_info(r):
    out = {}
    for line in redis_cli(r, "INFO", "replication").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def wait_synced(replica, master, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, m = repl_info(replica), repl_info(master)
        if (r.get("master_link_status") == "up" and
                r.get("slave_repl_offset") == m.get("master_repl_offset")):
            return
        time.sleep(0.1)
    raise AssertionError("replica %d not in sync with %d: %s" % (
        replica.port, master.port, repl_info(replica)))


def check_promote():
    stores = [start_redis() for _ in range(4)]
    r1, r2, r3, r4 = stores
    a1, a2, a3, a4 = ["127.0.0.1:%d" % r.port for r in stores]
    d = dashboard("--token", "t")
    try:
        port = d.port

        def promote(addr, **extra):
            body = dict(addr=addr, **extra)
            return change(port, "/api/groups/1/promote", body, token="t")

        assert change(port, "/api/groups", {"id": 1}, token="t")[0] == 200
        for addr, role in ((a1, "master"), (a2, "slave"), (a3, "slave"),
                           (a4, "slave")):
            st, doc = change(port, "/api/groups/1/servers",
                             {"addr": addr, "role": role}, token="t")
            assert st == 200, (st, doc)
        redis_cli(r1, "SET", "precious", "data")
        for r in (r2, r3):
            redis_cli(r, "REPLICAOF", "127.0.0.1", str(r1.port))
        for r in (r2, r3):
            wait_synced(r, r1)

        # The issue: promoting an empty server (r4, in the group as a slave
        # but replicating nothing) made it master and wiped r1's data.
        st, doc = promote(a4)
        assert st == 409 and "not a replica" in doc["error"] and \
            "force" in doc["error"], (st, doc)
        assert redis_cli(r1, "GET", "precious") == "data"
        assert redis_cli(r1, "ROLE").split()[0] == "master"
        st, doc = promote(a4, force="yes")
        assert st == 400, (st, doc)
        # A master that answers but refuses INFO is not a failover.
        redis_cli(r1, "CONFIG", "SET", "requirepass", "pw")
        st, doc = promote(a2)
        assert st == 409 and "cannot read the replication state of master" \
            in doc["error"], (st, doc)
        redis_cli(r1, "-a", "pw", "--no-auth-warning", "CONFIG", "SET",
                  "requirepass", "")
        for r in (r2, r3):
            wait_synced(r, r1)

        # r2 stops following r1 (its master now a dead port: it keeps r1's
        # replication id and its offset) and r1 takes more writes.
        dead = free_port()
        redis_cli(r2, "REPLICAOF", "127.0.0.1", str(dead))
        for i in range(50):
            redis_cli(r1, "SET", "k%d" % i, "v" * 100)
        wait_synced(r3, r1)
        st, doc = promote(a2)
        assert st == 409 and "behind master" in doc["error"], (st, doc)

        # The master dies (failover): r2, pointed back at r1, is a replica
        # of it but r3 holds more.
        r1.stop()
        redis_cli(r2, "REPLICAOF", "127.0.0.1", str(r1.port))
        st, doc = promote(a2)
        assert st == 409 and ("replica %s is ahead" % a3) in doc["error"], \
            (st, doc)
        st, doc = promote(a4)
        assert st == 409 and "not a replica" in doc["error"], (st, doc)
        st, doc = promote(a3)
        assert st == 200 and doc["forced"] is False, (st, doc)
        assert doc["check"]["candidate_offset"] > doc["check"]["replicas"][
            a2], doc
        assert redis_cli(r3, "GET", "k49") == "v" * 100
        assert redis_cli(r3, "ROLE").split()[0] == "master"
        st, doc, _ = request(port, "GET", "/api/groups")
        roles = {s["addr"]: s["role"] for s in doc[0]["servers"]}
        assert roles[a3] == "master" and roles[a1] == "slave", roles

        # force overrides (the old behaviour, on purpose).
        st, doc = promote(a4, force=True)
        assert st == 200 and doc["forced"] is True, (st, doc)
    finally:
        d.cleanup()
        for r in stores:
            r.cleanup()
    print("promote ok")


def check_stalled_clients(n=16):
    d = dashboard("--token", "t")
    stalled = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(b"GET /api/overv")  # half a request line, then nothing
            stalled.append(s)
        time.sleep(0.2)
        worst = 0.0
        for _ in range(3):
            start = time.time()
            st, _, _ = request(d.port, "GET", "/api/overview", timeout=10)
            took = time.time() - start
            worst = max(worst, took)
            assert st == 200, st
        print("GET with %d stalled connections: worst %.3fs" % (n, worst))
        assert worst < 1.5, worst
        # Changes too (the admin port of a proxy is configured alike).
        start = time.time()
        assert change(d.port, "/api/groups", {"id": 1}, token="t")[0] == 200
        assert time.time() - start < 1.5
    finally:
        for s in stalled:
            s.close()
        d.cleanup()
    print("stalled clients ok")


def main():
    started = time.time()
    check_generated_token()
    check_token_sources()
    check_insecure()
    check_csrf()
    check_stalled_clients()
    check_promote()
    print("ok in %.1fs" % (time.time() - started))


if __name__ == "__main__":
    main()
