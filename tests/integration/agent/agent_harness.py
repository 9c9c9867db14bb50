"""Starting reborn-agent and talking to its HTTP API."""

import json
import os
import tempfile
import time
import urllib.error
import urllib.request

from harness import Process, binary, free_port

TOKEN = "agent-test-token"


class Agent:
    def __init__(self, *extra, dir=None, port=None):
        self.port = port or free_port()
        self.dir = dir or tempfile.mkdtemp(prefix="reborn-agent-dir-")
        argv = [binary("reborn-agent"), "--addr", "127.0.0.1:%d" % self.port,
                "--dir", self.dir, "--token", TOKEN] + list(extra)
        self.proc = Process(argv, port=self.port, name="agent")

    def request(self, method, path, body=None, token=TOKEN,
                content_type="application/json", headers=None):
        """Returns (http status, decoded JSON)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.port, path), data=data,
            method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if content_type:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def post(self, path, body=None, **kw):
        return self.request("POST", path, {} if body is None else body, **kw)

    def get(self, path):
        status, out = self.request("GET", path, token=None, content_type=None)
        assert status == 200, (path, status, out)
        return out

    def apps(self):
        return {a["id"]: a for a in self.get("/api/apps")}

    def status(self):
        return self.get("/api/status")

    def output(self):
        return self.proc.output()

    def cleanup(self):
        self.proc.stop()


def wait_until(pred, timeout, what, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)
