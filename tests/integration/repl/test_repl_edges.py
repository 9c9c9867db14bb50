"""Replication edge cases: a fake master sending a truncated, a bad-CRC and
an unknown-type RDB (the replica logs why, keeps its old data, serves reads
and retries); WAIT counts the replicas that acknowledged; min-replicas-to-write
rejects writes with Redis' error when no replica is connected; the replicaof
and masterauth directives of a config file, and SLAVEOF, against a
password-protected redis-server master."""

import os
import socket
import tempfile
import threading
import time
import unittest

import redis

import repl_util as ru
from harness import Process, binary, free_port, start_qdb, start_redis

BAD_PAYLOADS = [
    # truncated: no EOF opcode, no checksum
    b"REDIS0010\xfe\x00\x00\x01k\x01v",
    # a wrong (non-zero) CRC-64
    b"REDIS0010\xfe\x00\x00\x01k\x01v\xff" + b"\x01" * 8,
    # object type 99 does not exist
    b"REDIS0010\xfe\x00\x63\x01k\x01v\xff" + b"\x00" * 8,
]


def read_command(conn, buf):
    """One RESP multibulk command from conn (buffer in/out)."""
    while True:
        if buf and buf[0:1] == b"*":
            lines = buf.split(b"\r\n")
            n = int(lines[0][1:])
            if len(lines) >= 1 + 2 * n + 1:
                args = [lines[2 + 2 * i] for i in range(n)]
                used = sum(len(x) + 2 for x in lines[:1 + 2 * n])
                return args, buf[used:]
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data


class FakeMaster(threading.Thread):
    """Answers the handshake and sends each bad payload on one connection."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.served = 0

    def run(self):
        for payload in BAD_PAYLOADS:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(10)
            buf = b""
            with conn:
                while True:
                    args, buf = read_command(conn, buf)
                    if args is None:
                        break
                    name = args[0].upper()
                    if name == b"PING":
                        conn.sendall(b"+PONG\r\n")
                    elif name == b"REPLCONF":
                        conn.sendall(b"+OK\r\n")
                    elif name == b"PSYNC":
                        conn.sendall(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n")
                        conn.sendall(b"$%d\r\n" % len(payload) + payload)
                        self.served += 1
                        # the replica closes the link after the failed load
                        try:
                            while conn.recv(65536):
                                pass
                        except OSError:
                            pass
                        break


class ReplicationEdges(unittest.TestCase):

    def test_corrupt_rdb_keeps_old_data_and_retries(self):
        fake = FakeMaster()
        fake.start()
        replica = start_qdb(engine="memory")
        try:
            r = ru.client(replica.port)
            r.set("old", "data")
            r.replicaof("127.0.0.1", fake.port)
            ru.wait_for(lambda: fake.served == len(BAD_PAYLOADS), timeout=30,
                        what="three sync attempts")
            ru.wait_for(lambda: replica.output().count("keeping the old data")
                        >= len(BAD_PAYLOADS), what="three failure logs")
            self.assertEqual(r.get("old"), b"data")
            self.assertIsNone(r.get("k"))
            self.assertEqual(r.info("replication")["master_link_status"],
                             "down")
            log = replica.output()
            for why in ("truncated", "checksum", "unknown object type"):
                self.assertIn(why, log)
            r.replicaof("no", "one")
            self.assertEqual(r.get("old"), b"data")
        except Exception:
            print(replica.output()[-4000:])
            raise
        finally:
            replica.cleanup()
            fake.sock.close()

    def test_wait_and_min_replicas(self):
        master = start_qdb(engine="memory")
        replica = start_qdb(engine="memory")
        try:
            m = ru.client(master.port)
            self.assertEqual(m.execute_command("WAIT", 0, 0), 0)
            m.config_set("min-replicas-to-write", 1)
            with self.assertRaisesRegex(redis.exceptions.ResponseError,
                                        "Not enough good replicas"):
                m.set("a", 1)
            m.config_set("min-replicas-to-write", 0)
            ru.client(replica.port).replicaof("127.0.0.1", master.port)
            ru.wait_caught_up(master.port, replica.port)
            m.set("a", 1)
            self.assertEqual(m.execute_command("WAIT", 1, 5000), 1)
            begin = time.time()
            self.assertEqual(m.execute_command("WAIT", 2, 300), 1)
            self.assertGreaterEqual(time.time() - begin, 0.25)
            self.assertEqual(ru.client(replica.port).get("a"), b"1")
            m.config_set("min-replicas-to-write", 1)
            ru.wait_for(lambda: int(ru.info(master.port)[
                "min_slaves_good_slaves"]) == 1, what="good replica")
            self.assertTrue(m.set("b", 2))
            with self.assertRaisesRegex(redis.exceptions.ResponseError,
                                        "WAIT cannot be used with replica"):
                ru.client(replica.port).execute_command("WAIT", 1, 0)
        finally:
            replica.cleanup()
            master.cleanup()

    def test_replicaof_directive_masterauth_and_slaveof(self):
        master = start_redis("--requirepass", "pw")
        replica = None
        try:
            m = redis.Redis(port=master.port, password="pw")
            for i in range(500):
                m.set("d:%d" % i, i)
            tmp = tempfile.mkdtemp(prefix="reborn-replicaof-")
            conf = os.path.join(tmp, "qdb.conf")
            with open(conf, "w") as f:
                f.write("replicaof 127.0.0.1 %d\nmasterauth pw\n" %
                        master.port)
            port = free_port()
            replica = Process([binary("qdb-server"), conf, "--port",
                               str(port), "--dir", tmp], port=port,
                              name="qdb-replica")
            r = ru.client(port)

            def synced(n):
                return (r.info("replication").get("master_link_status") ==
                        "up" and r.dbsize() == n)

            ru.wait_for(lambda: synced(500), what="sync with masterauth")
            self.assertEqual(r.execute_command("ROLE")[0], b"slave")
            with self.assertRaisesRegex(redis.exceptions.ReadOnlyError,
                                        "read only replica"):
                r.set("x", 1)
            # SLAVEOF is REPLICAOF's old name: detach, write, re-attach (the
            # master's data replaces ours).
            self.assertTrue(r.execute_command("SLAVEOF", "NO", "ONE"))
            self.assertEqual(r.execute_command("ROLE")[0], b"master")
            r.set("local", 1)
            m.set("after", 1)
            self.assertTrue(r.execute_command("SLAVEOF", "127.0.0.1",
                                              str(master.port)))
            ru.wait_for(lambda: synced(501), what="re-sync after SLAVEOF")
            self.assertEqual(r.get("after"), b"1")
            self.assertIsNone(r.get("local"))
            self.assertEqual(r.dbsize(), 501)
        finally:
            if replica is not None:
                replica.cleanup()
            master.cleanup()


if __name__ == "__main__":
    unittest.main()
