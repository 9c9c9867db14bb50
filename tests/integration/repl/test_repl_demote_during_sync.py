"""A master that becomes a replica (REPLICAOF) while a replica's full sync is
still being sent: the replica gets the whole snapshot and the writes made
before the demotion, then the connection closes, as from redis-server (which
has written them out before it disconnects its replicas). Redis' own
unit/multi "MULTI / EXEC with REPLICAOF" reads that stream; on a loaded
machine qdb's sync was still under way and the stream came back empty."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import repl_util as ru  # noqa: E402
from harness import free_port, start_qdb  # noqa: E402

VALUE_MB = 1
KEYS = 40  # 40 MB of snapshot: well past the 8 MB the sync keeps in flight


def read_line(sock, buf):
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("closed before a line")
        buf += chunk
    line, rest = buf.split(b"\r\n", 1)
    return line, rest


class DemoteDuringSync(unittest.TestCase):
    def test_snapshot_and_earlier_writes_are_sent_before_the_close(self):
        master = start_qdb(engine="memory")
        try:
            m = ru.client(master.port)
            for i in range(KEYS):  # random: the RDB compresses the rest
                m.set("big%d" % i, os.urandom(VALUE_MB << 20))
            sync = socket.create_connection(("127.0.0.1", master.port),
                                            timeout=30)
            # Not read yet: the server's sync stops at its window.
            sync.sendall(b"SYNC\r\n")
            time.sleep(1)
            m.set("marker", "before-demotion")
            m.execute_command("REPLICAOF", "127.0.0.1", str(free_port()))
            buf = b""
            line, buf = read_line(sync, buf)
            while line == b"":  # newlines a master sends while preparing
                line, buf = read_line(sync, buf)
            self.assertTrue(line.startswith(b"$"), line)
            size = int(line[1:])
            received = len(buf)
            rest = [buf]
            deadline = time.time() + 60
            while time.time() < deadline:
                chunk = sync.recv(1 << 20)
                if not chunk:
                    break
                rest.append(chunk)
                received += len(chunk)
            data = b"".join(rest)
            sync.close()
            self.assertGreaterEqual(len(data), size, "snapshot cut short")
            stream = data[size:]
            self.assertIn(b"marker", stream)
            self.assertIn(b"before-demotion", stream)
            m.execute_command("REPLICAOF", "NO", "ONE")
        finally:
            master.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
