"""Client-side caching (CLIENT TRACKING) against redis-server 7.0: the same
command sequences on both servers, replies and invalidation messages
compared byte for byte - RESP3 pushes, RESP2 redirection to a subscribed
client, BCAST with prefixes, NOLOOP, OPTIN/OPTOUT with CLIENT CACHING,
flushes, MULTI/EXEC and scripts, expiry, the tracking table limit, broken
redirections, TRACKINGINFO/GETREDIR, the INFO fields and every error text."""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, start_qdb, start_redis  # noqa: E402


def client(port, proto=2):
    c = RawClient(port)
    if proto == 3:
        c.call("HELLO", "3")
    return c


def client_id(c):
    return int(c.call("CLIENT", "ID")[1:-2])


def redirect_target(port, proto=2):
    """A client subscribed to __redis__:invalidate, and its id."""
    r = client(port, proto)
    rid = client_id(r)
    r.call("SUBSCRIBE", "__redis__:invalidate")
    return r, rid


def info_field(c, name):
    text = c.call("INFO").decode()
    m = re.search(r"\r\n%s:(\d+)\r\n" % name, text)
    return int(m.group(1))


class TrackingAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory", "--io-threads", "2")

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def setUp(self):
        for port in self.ports():
            c = client(port)
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
            c.close()

    def ports(self):
        return [self.redis.port, self.qdb.port]

    def run_both(self, script):
        results = [script(port) for port in self.ports()]
        self.assertEqual(results[0], results[1])
        return results[1]

    def test_resp3_default_mode(self):
        def script(port):
            a, b = client(port, 3), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON")]
            b.call("SET", "k1", "1")
            b.call("SET", "k2", "1")
            out.append(a.call("GET", "k1"))
            out.append(a.call("MGET", "k2", "k3"))
            b.call("INCR", "other")  # never read: no message
            b.call("SET", "k1", "2")
            out.append(a.read_reply())
            b.call("DEL", "k2")
            out.append(a.read_reply())
            b.call("SET", "k1", "3")  # forgotten after the first message
            out.append(a.call("PING"))
            a.close()
            b.close()
            return out
        out = self.run_both(script)
        self.assertEqual(out[3], b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n")
        self.assertEqual(out[-1], b"+PONG\r\n")

    def test_own_writes_invalidate_after_the_reply(self):
        def script(port):
            a = client(port, 3)
            out = [a.call("CLIENT", "TRACKING", "ON")]
            a.call("HSET", "h", "f", "1")
            out.append(a.call("HGET", "h", "f"))
            out.append(a.call("HDEL", "h", "f"))
            out.append(a.read_reply())
            a.call("MSET", "a{t}", "1", "b{t}", "2")
            out.append(a.call("GET", "a{t}"))
            out.append(a.call("MULTI"))
            out.append(a.call("INCR", "a{t}"))
            out.append(a.call("GET", "b{t}"))
            out.append(a.call("EXEC"))
            out.append(a.read_reply())
            out.append(a.call("SET", "a{t}", "x"))  # no longer tracked
            out.append(a.call("PING"))
            a.close()
            return out
        self.run_both(script)

    def test_unblocked_blmove_invalidates_after_its_reply(self):
        # The blocked LMOVE that found the source empty changed nothing:
        # the destination the waiter tracks is invalidated only once the
        # element moves, after the waiter's reply (unit/tracking).
        def script(port):
            a, b = client(port, 3), client(port)
            b.call("RPUSH", "list2{t}", "a")
            out = [a.call("CLIENT", "TRACKING", "ON"),
                   a.call("LRANGE", "list2{t}", "0", "-1")]
            a.send(b"*6\r\n$6\r\nBLMOVE\r\n$8\r\nlist1{t}\r\n"
                   b"$8\r\nlist2{t}\r\n$4\r\nleft\r\n$4\r\nleft\r\n"
                   b"$1\r\n0\r\n")
            deadline = time.time() + 10
            while (info_field(b, "blocked_clients") != 1 and
                   time.time() < deadline):
                time.sleep(0.01)
            out.append(b.call("RPUSH", "list1{t}", "foo"))
            out.append(a.read_reply())
            out.append(a.read_reply())
            out.append(a.call("PING"))
            a.close()
            b.close()
            return out
        out = self.run_both(script)
        self.assertEqual(out[3], b"$3\r\nfoo\r\n")

    def test_resp2_redirect_to_subscriber(self):
        def script(port):
            r, rid = redirect_target(port)
            a, b = client(port), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid)]
            out.append(a.call("GET", "a"))
            b.call("SET", "a", "1")
            out.append(r.read_reply())
            # A RESP3 redirect target gets a push instead.
            r.call("UNSUBSCRIBE")
            r.call("HELLO", "3")
            out.append(a.call("GET", "a"))
            b.call("SET", "a", "2")
            out.append(r.read_reply())
            out.append(r.call("PING"))
            for c in (r, a, b):
                c.close()
            return out
        self.run_both(script)

    def test_bcast_prefixes_multi_and_noloop(self):
        def script(port):
            r, rid = redirect_target(port)
            a, b = client(port), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT",
                          rid, "PREFIX", "a:", "PREFIX", "b:")]
            a.call("MULTI")
            for key in ("a:2", "a:1", "b:1", "c:1"):
                a.call("INCR", key)
            out.append(a.call("EXEC"))
            out.append(r.read_reply())
            out.append(r.read_reply())
            out.append(a.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT",
                              rid, "PREFIX", "c:"))
            b.call("MSET", "c:1", "x", "c:2", "y", "zz", "1")
            out.append(r.read_reply())
            out.append(a.call("CLIENT", "TRACKING", "OFF"))
            out.append(a.call("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP",
                              "REDIRECT", rid))
            b.call("SET", "other1", "1")
            out.append(r.read_reply())
            a.call("SET", "loop", "1")  # its own write: not reported
            b.call("SET", "other2", "1")
            out.append(r.read_reply())
            out.append(r.call("PING"))
            for c in (r, a, b):
                c.close()
            return out
        self.run_both(script)

    def test_noloop_default_mode(self):
        def script(port):
            r, rid = redirect_target(port)
            a, b = client(port), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid,
                          "NOLOOP")]
            out.append(a.call("MGET", "o1", "loop", "o2"))
            b.call("SET", "o1", "1")
            out.append(r.read_reply())
            a.call("SET", "loop", "1")
            b.call("SET", "o2", "1")
            out.append(r.read_reply())
            out.append(r.call("PING"))
            for c in (r, a, b):
                c.close()
            return out
        self.run_both(script)

    def test_optin_optout_and_caching(self):
        def script(port):
            a, b = client(port, 3), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON", "OPTIN")]
            out.append(a.call("GET", "k1"))  # not cached: no CACHING yes
            out.append(a.call("CLIENT", "CACHING", "YES"))
            out.append(a.call("GET", "k2"))
            out.append(a.call("GET", "k3"))  # CACHING applied to one command
            b.call("MSET", "k1", "1", "k2", "2", "k3", "3")
            out.append(a.read_reply())
            out.append(a.call("PING"))
            out.append(a.call("CLIENT", "TRACKING", "OFF"))
            out.append(a.call("CLIENT", "TRACKING", "ON", "OPTOUT"))
            out.append(a.call("CLIENT", "CACHING", "NO"))
            out.append(a.call("GET", "k1"))
            out.append(a.call("GET", "k2"))
            b.call("MSET", "k1", "1", "k2", "2")
            out.append(a.read_reply())
            out.append(a.call("PING"))
            a.close()
            b.close()
            return out
        self.run_both(script)

    def test_errors(self):
        def script(port):
            a = client(port)
            out = []
            for args in (
                ("CLIENT", "TRACKING"),
                ("CLIENT", "TRACKING", "maybe"),
                ("CLIENT", "TRACKING", "ON", "BOGUS"),
                ("CLIENT", "TRACKING", "ON", "PREFIX", "a"),
                ("CLIENT", "TRACKING", "ON", "REDIRECT", "notanumber"),
                ("CLIENT", "TRACKING", "ON", "REDIRECT", "999999"),
                ("CLIENT", "TRACKING", "ON", "REDIRECT", "0"),
                ("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
                ("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"),
                ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOOBAR",
                 "PREFIX", "FOO"),
                ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO",
                 "PREFIX", "FOOBAR"),
                ("CLIENT", "CACHING", "YES"),
                ("CLIENT", "CACHING"),
                ("CLIENT", "GETREDIR", "x"),
                ("CLIENT", "TRACKINGINFO", "x"),
                ("CLIENT", "TRACKING", "ON", "OPTIN"),
                ("CLIENT", "CACHING", "NO"),
                ("CLIENT", "CACHING", "MAYBE"),
                ("CLIENT", "TRACKING", "ON", "OPTOUT"),
                ("CLIENT", "TRACKING", "ON", "BCAST"),
                ("CLIENT", "TRACKING", "OFF"),
                ("CLIENT", "TRACKING", "ON", "OPTOUT"),
                ("CLIENT", "CACHING", "YES"),
                ("CLIENT", "TRACKING", "OFF"),
                ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO",
                 "PREFIX", "BAR"),
                ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FO"),
                ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "BARB"),
                ("CLIENT", "TRACKING", "ON"),
                ("CLIENT", "TRACKING", "OFF"),
            ):
                out.append(a.call(*args))
            own = client_id(a)
            out.append(a.call("CLIENT", "TRACKING", "ON", "REDIRECT", own,
                              "REDIRECT", own))
            a.close()
            return out
        self.run_both(script)

    def test_trackinginfo_and_getredir(self):
        def script(port):
            out = []
            for proto in (2, 3):
                r, rid = redirect_target(port)
                a = client(port, proto)

                def info():
                    out.append(a.call("CLIENT", "TRACKINGINFO"))
                    out.append(a.call("CLIENT", "GETREDIR")
                               .replace(b":%d\r\n" % rid, b":RID\r\n"))
                info()
                a.call("CLIENT", "TRACKING", "ON")
                info()
                a.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid, "NOLOOP")
                out.append(a.call("CLIENT", "TRACKINGINFO")
                           .replace(b":%d\r\n" % rid, b":RID\r\n"))
                a.call("CLIENT", "TRACKING", "OFF")
                a.call("CLIENT", "TRACKING", "ON", "OPTIN")
                a.call("CLIENT", "CACHING", "YES")
                info()
                a.call("CLIENT", "TRACKING", "OFF")
                a.call("CLIENT", "TRACKING", "ON", "OPTOUT")
                a.call("CLIENT", "CACHING", "NO")
                info()
                a.call("CLIENT", "TRACKING", "OFF")
                a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "foo",
                       "PREFIX", "bar")
                info()
                a.call("CLIENT", "TRACKING", "OFF")
                a.call("CLIENT", "TRACKING", "ON", "BCAST")
                info()
                a.call("CLIENT", "TRACKING", "OFF")
                info()
                r.close()
                a.close()
            return out
        self.run_both(script)

    def test_flush_sends_nil(self):
        def script(port):
            r, rid = redirect_target(port)
            a, b = client(port), client(port, 3)
            out = [a.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid)]
            out.append(b.call("CLIENT", "TRACKING", "ON"))
            a.call("GET", "k")
            b.call("GET", "k")
            out.append(a.call("FLUSHALL"))
            out.append(r.read_reply())
            out.append(b.read_reply())
            out.append(b.call("FLUSHDB"))  # its own flush: after the reply
            out.append(b.read_reply())
            out.append(r.read_reply())
            out.append(b.call("MULTI"))
            out.append(b.call("FLUSHDB"))
            out.append(b.call("EXEC"))
            out.append(b.read_reply())
            out.append(r.read_reply())
            out.append(b.call("PING"))
            for c in (r, a, b):
                c.close()
            return out
        self.run_both(script)

    def test_scripts_track_declared_keys(self):
        def script(port):
            a, b = client(port, 3), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON")]
            # No read inside the script: nothing is tracked.
            out.append(a.call("EVAL", "redis.call('set', 'k3{t}', 'bar')",
                              "2", "k1{t}", "k2{t}"))
            b.call("MSET", "k1{t}", "1", "k2{t}", "1")
            out.append(a.call("EVAL", "return redis.call('get', 'k3{t}')",
                              "2", "k1{t}", "k2{t}"))
            b.call("MSET", "k2{t}", "2", "k1{t}", "2")
            out.append(a.read_reply())
            out.append(a.read_reply())
            out.append(a.call("EVAL_RO", "return redis.call('ping')", "1",
                              "k1{t}"))
            b.call("SET", "k1{t}", "3")
            out.append(a.call("PING"))
            a.close()
            b.close()
            return out
        self.run_both(script)

    def test_broken_redirect(self):
        def script(port):
            r, rid = redirect_target(port)
            a, b = client(port, 3), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid)]
            out.append(a.call("GET", "k"))
            out.append(r.call("QUIT"))
            r.close()
            time.sleep(0.2)
            b.call("SET", "k", "1")
            out.append(a.read_reply())
            info = a.call("CLIENT", "TRACKINGINFO")
            out.append(info)
            a.close()
            b.close()
            return [x.replace(b":%d\r\n" % rid, b":RID\r\n") for x in out]
        out = self.run_both(script)
        self.assertIn(b"tracking-redir-broken", out[3])

    def test_expired_keys_are_invalidated(self):
        def script(port):
            r, rid = redirect_target(port)
            a = client(port)
            out = [a.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT",
                          rid, "NOLOOP")]
            out.append(a.call("SET", "mykey", "v", "PX", "20"))
            out.append(r.read_reply())  # the expiry, within ~100 ms
            out.append(r.call("PING"))
            r.close()
            a.close()
            return out
        self.run_both(script)

    def test_table_limit_and_info(self):
        def script(port):
            r, rid = redirect_target(port)
            a, b = client(port), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid)]
            out.append(b.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX",
                              "p:"))
            a.call("MGET", "k1", "k2", "k3")
            out += [info_field(a, f) for f in (
                "tracking_clients", "tracking_total_keys",
                "tracking_total_items", "tracking_total_prefixes")]
            out.append(a.call("CONFIG", "SET", "tracking-table-max-keys",
                              "1"))
            # Two keys leave the table; their clients are told (which two
            # is random in Redis).
            for _ in range(2):
                msg = r.read_reply()
                out.append(re.sub(rb"k\d", b"kN", msg))
            out.append(info_field(a, "tracking_total_keys"))
            out.append(r.call("PING"))
            for c in (r, a, b):
                c.close()
            return out
        self.run_both(script)

    def test_client_list_flags(self):
        def script(port):
            r, rid = redirect_target(port)
            a = client(port)
            out = []
            for args in (("ON",), ("OFF",), ("ON", "BCAST"), ("OFF",),
                         ("ON", "REDIRECT", str(rid))):
                a.call("CLIENT", "TRACKING", *args)
                line = a.call("CLIENT", "INFO").decode()
                out.append(re.search(r"flags=\S+", line).group(0))
                out.append(re.search(r"redir=\S+", line).group(0)
                           .replace(str(rid), "RID"))
            r.close()
            a.close()
            return out
        self.run_both(script)

    def test_reset_and_client_reply_off(self):
        def script(port):
            a, b = client(port, 3), client(port)
            out = [a.call("CLIENT", "TRACKING", "ON")]
            out.append(a.call("GET", "foo"))
            a.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n")
            time.sleep(0.05)
            b.call("SET", "foo", "1")
            out.append(a.read_reply())  # pushes are never dropped
            out.append(a.call("CLIENT", "REPLY", "ON"))
            out.append(a.call("RESET"))
            out.append(a.call("CLIENT", "TRACKINGINFO"))
            a.close()
            b.close()
            return out
        self.run_both(script)


if __name__ == "__main__":
    unittest.main()
