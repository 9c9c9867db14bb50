"""maxmemory-clients (Redis 7 client eviction) against a real redis-server:
the directive's values and errors byte for byte, and a client whose buffers
push the clients over the limit is closed (counted in INFO evicted_clients)
while the others and CLIENT NO-EVICT ones stay."""

import socket
import time
import unittest

from harness import RawClient, RedisAndQdbCase, TIME_SCALE

CONFIG_REPLIES = [
    ["CONFIG", "SET", "maxmemory-clients", "0"],
    ["CONFIG", "SET", "maxmemory-clients", "200%"],
    ["CONFIG", "SET", "maxmemory-clients", "101%"],
    ["CONFIG", "SET", "maxmemory-clients", "-1%"],
    ["CONFIG", "SET", "maxmemory-clients", "abc"],
    ["CONFIG", "SET", "maxmemory-clients", "%"],
    ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory-clients", "10%"],
    ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory-clients", "1mb"],
    ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory", "10000001", "maxmemory-clients", "200%"],
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "SET", "maxmemory-clients", "0"],
    ["CONFIG", "GET", "maxmemory-clients"],
]


def evicted_clients(client):
    info = client.call("INFO", "stats").decode()
    for line in info.split("\r\n"):
        if line.startswith("evicted_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("no evicted_clients in INFO stats")


def closed_within(sock, seconds):
    """Whether the server closes `sock` within `seconds` (scaled)."""
    sock.settimeout(0.2)
    deadline = time.time() + seconds * TIME_SCALE
    while time.time() < deadline:
        try:
            if sock.recv(4096) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


class ClientEvictionTest(RedisAndQdbCase):

    def test_config_replies_match(self):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        for args in CONFIG_REPLIES:
            self.assertEqual(r.call(*args), q.call(*args), args)
        r.close()
        q.close()

    def test_big_client_is_evicted_others_stay(self):
        for server in (self.redis, self.qdb):
            admin = RawClient(server.port)
            kept = RawClient(server.port)
            self.assertEqual(kept.call("CLIENT", "NO-EVICT", "on"), b"+OK\r\n")
            before = evicted_clients(admin)
            self.assertEqual(
                admin.call("CONFIG", "SET", "maxmemory-clients", "3mb"),
                b"+OK\r\n")
            big = socket.create_connection(("127.0.0.1", server.port))
            # Half of a 10 MB argument: it waits in the query buffer.
            try:
                big.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n")
                big.sendall(b"x" * 4000000)
                # qdb-server checks client memory once a second; a loaded
                # machine can delay the check and the reads well past that.
                closed = closed_within(big, 15)
            except OSError:  # closed while we were still sending
                closed = True
            big.close()
            admin.call("CONFIG", "SET", "maxmemory-clients", "0")
            self.assertTrue(closed, server.argv[0])
            self.assertEqual(evicted_clients(admin), before + 1)
            self.assertEqual(admin.call("PING"), b"+PONG\r\n")
            self.assertEqual(kept.call("PING"), b"+PONG\r\n")
            admin.close()
            kept.close()


if __name__ == "__main__":
    unittest.main()
