"""SMOVE's side effects against a real redis-server: a WATCHed destination
is touched only when the member was added to it, and keyspace events
(srem, del, sadd) follow what changed, nothing when source and destination
are one key."""

import time
import unittest

from harness import RawClient, RedisAndQdbCase

# (setup commands, SMOVE arguments)
CASES = [
    ([["SADD", "src", "a", "b"], ["SADD", "dst", "a"]], ["src", "dst", "a"]),
    ([["SADD", "src", "a", "b"], ["SADD", "dst", "c"]], ["src", "dst", "a"]),
    ([["SADD", "src", "a"]], ["src", "dst", "a"]),
    ([["SADD", "src", "a", "b"]], ["src", "src", "a"]),
    ([["SADD", "src", "a", "b"], ["SADD", "dst", "a"]], ["src", "dst", "x"]),
]


def drain(client, seconds=0.3):
    """Every push the subscribed `client` gets within `seconds`."""
    client.sock.settimeout(seconds)
    data = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            chunk = client.sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


class SmoveEffectsTest(RedisAndQdbCase):

    def run_watch_case(self, port, setup, smove):
        a, b = RawClient(port), RawClient(port)
        a.call("FLUSHALL")
        for cmd in setup:
            a.call(*cmd)
        replies = [a.call("WATCH", smove[1]), a.call("MULTI"),
                   a.call("SADD", smove[1], "z"),
                   b.call("SMOVE", *smove), a.call("EXEC"),
                   a.call("SORT", smove[1], "ALPHA")]
        a.close()
        b.close()
        return replies

    def test_watched_destination(self):
        for setup, smove in CASES:
            self.assertEqual(self.run_watch_case(self.redis.port, setup, smove),
                             self.run_watch_case(self.qdb.port, setup, smove),
                             (setup, smove))

    def run_events_case(self, port, setup, smove):
        a, sub = RawClient(port), RawClient(port)
        a.call("FLUSHALL")
        for cmd in setup:
            a.call(*cmd)
        a.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub.call("PSUBSCRIBE", "__key*__:*")
        reply = a.call("SMOVE", *smove)
        a.call("PING")
        events = drain(sub)
        a.call("CONFIG", "SET", "notify-keyspace-events", "")
        a.close()
        sub.close()
        return reply, events

    def test_keyspace_events(self):
        for setup, smove in CASES:
            self.assertEqual(
                self.run_events_case(self.redis.port, setup, smove),
                self.run_events_case(self.qdb.port, setup, smove),
                (setup, smove))


if __name__ == "__main__":
    unittest.main()
