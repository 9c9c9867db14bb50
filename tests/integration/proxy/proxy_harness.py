"""Starting reborn-proxy in front of redis-server groups."""

import json
import os
import tempfile

from harness import Process, binary, free_port


def start_proxy(backends=None, topology=None, *extra, admin=False,
                threads=2):
    port = free_port()
    argv = [binary("reborn-proxy"), "--addr", "127.0.0.1:%d" % port,
            "--threads", str(threads)]
    if backends is not None:
        argv += ["--backends", ",".join("127.0.0.1:%d" % p for p in backends)]
    if topology is not None:
        fd, path = tempfile.mkstemp(prefix="reborn-topology-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(topology, f)
        argv += ["--topology", path]
    admin_port = None
    if admin:
        admin_port = free_port()
        argv += ["--admin-addr", "127.0.0.1:%d" % admin_port]
    argv += list(extra)
    p = Process(argv, port=port, name="proxy")
    p.admin_port = admin_port
    return p
