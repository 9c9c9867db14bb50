"""LATENCY and INFO latencystats against a real redis-server: errors, help
and the replies of an idle monitor byte for byte; the per-command
histograms (which commands and subcommands, their call counts, the
power-of-two buckets) and the monitor's events compared by structure, as
their values are timings."""

import re
import time
import unittest

from harness import RawClient, start_qdb, start_redis
from test_slowlog import call, parse

SAME_REPLIES = [
    ["LATENCY", "HELP"],
    ["LATENCY", "HELP", "xxx"],
    ["LATENCY", "NOSUCH"],
    ["LATENCY"],
    ["LATENCY", "LATEST"],
    ["LATENCY", "LATEST", "x"],
    ["LATENCY", "HISTORY"],
    ["LATENCY", "HISTORY", "blabla"],
    ["LATENCY", "HISTORY", "a", "b"],
    ["LATENCY", "RESET"],
    ["LATENCY", "RESET", "blabla"],
    ["LATENCY", "GRAPH", "blabla"],
    ["LATENCY", "GRAPH"],
    ["LATENCY", "DOCTOR"],
    ["LATENCY", "DOCTOR", "x"],
    ["LATENCY", "HISTOGRAM", "blabla"],
    ["LATENCY", "HISTOGRAM", "blabla", "blabla2"],
    ["CONFIG", "SET", "latency-monitor-threshold", "-1"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "101"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "5 x"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "-1"],
    ["CONFIG", "SET", "latency-tracking", "maybe"],
    ["CONFIG", "GET", "latency-tracking"],
    ["CONFIG", "GET", "latency-monitor-threshold"],
    ["CONFIG", "GET", "latency-tracking-info-percentiles"],
]

SLOW_SCRIPT = ["EVAL", "local i = 0 while i < 4000000 do i = i + 1 end "
               "return i", "0"]
# The bucket bounds of Redis' LATENCY HISTOGRAM (its log iteration of a
# nanosecond HdrHistogram, in whole microseconds): 1, 2, 4, 8, 16, 33, ...
REDIS_BOUNDS = {(1024 * 2 ** k + 2 ** (k + 3) - 1) // 1000 for k in range(21)}
PERCENTILES = re.compile(
    rb"^latency_percentiles_usec_([a-z|_-]+):p50=\d+\.\d{3},p99=\d+\.\d{3},"
    rb"p99\.9=\d+\.\d{3}$")


def histogram(client, *names):
    flat = call(client, "LATENCY", "HISTOGRAM", *names)
    out = {}
    for name, body in zip(flat[::2], flat[1::2]):
        self_check = dict(zip(body[::2], body[1::2]))
        buckets = self_check[b"histogram_usec"]
        out[name] = (self_check[b"calls"], buckets)
    return out


class LatencyAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory")
        cls.ports = (cls.redis.port, cls.qdb.port)

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def setUp(self):
        for port in self.ports:
            c = RawClient(port)
            c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
            c.call("CONFIG", "SET", "latency-tracking", "yes")
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles",
                   "50 99 99.9")
            c.call("LATENCY", "RESET")
            c.close()

    def test_errors_help_and_idle_replies_match_redis(self):
        r, q = RawClient(self.redis.port), RawClient(self.qdb.port)
        for cmd in SAME_REPLIES:
            self.assertEqual(r.call(*cmd), q.call(*cmd), cmd)

    def test_histograms_match_redis_by_structure(self):
        got = {}
        for port in self.ports:
            c = RawClient(port)
            c.call("CONFIG", "RESETSTAT")
            self.assertEqual(list(histogram(c)), [b"config|resetstat"])
            c.call("SET", "a", "b")
            c.call("SET", "c", "d")
            c.call("GET", "a")
            c.call("CLIENT", "ID")
            c.call("CLIENT", "GETNAME")
            c.call("HSET", "f", "k", "v")
            h = histogram(c, "set", "client", "config|resetstat", "nosuch",
                          "zadd", "client|nosuch")
            for calls, buckets in h.values():
                counts = buckets[1::2]
                bounds = buckets[::2]
                self.assertEqual(counts[-1], calls)
                self.assertEqual(counts, sorted(counts))
                for b in bounds:
                    self.assertIn(b, REDIS_BOUNDS, bounds)
            got[port] = {name: calls for name, (calls, _) in h.items()}
            self.assertEqual(set(histogram(c, "client|id")), {b"client|id"})
        self.assertEqual(got[self.redis.port], got[self.qdb.port])
        self.assertEqual(got[self.qdb.port][b"set"], 2)

    def test_info_latencystats(self):
        for port in self.ports:
            c = RawClient(port)
            c.call("CONFIG", "RESETSTAT")
            c.call("SET", "a", "b")
            c.call("GET", "a")
            info = parse(c.call("INFO", "latencystats"))[0].split(b"\r\n")
            self.assertEqual(info[0], b"# Latencystats")
            names = set()
            for line in info[1:]:
                if line:
                    m = PERCENTILES.match(line)
                    self.assertIsNotNone(m, line)
                    names.add(m.group(1))
            self.assertTrue({b"set", b"get", b"config|resetstat"} <= names,
                            names)
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles",
                   "0 99.99 100")
            info = parse(c.call("INFO", "latencystats"))[0]
            self.assertRegex(info, rb"latency_percentiles_usec_set:p0=\d+\."
                             rb"\d{3},p99\.99=\d+\.\d{3},p100=\d+\.\d{3}\r\n")
            c.call("CONFIG", "SET", "latency-tracking", "no")
            self.assertEqual(parse(c.call("INFO", "latencystats"))[0],
                             b"# Latencystats\r\n")
            self.assertIn(b"# Latencystats",
                          parse(c.call("INFO", "everything"))[0])

    def test_command_events_are_recorded_over_the_threshold(self):
        for port in self.ports:
            c = RawClient(port)
            c.call("CONFIG", "SET", "latency-monitor-threshold", "5")
            c.call(*SLOW_SCRIPT)
            c.call("PING")  # fast, under the threshold
            latest = call(c, "LATENCY", "LATEST")
            self.assertEqual([e[0] for e in latest], [b"command"], port)
            event, when, last, worst = latest[0]
            self.assertLessEqual(abs(when - time.time()), 60)
            self.assertGreaterEqual(last, 5)
            self.assertGreaterEqual(worst, last)
            history = call(c, "LATENCY", "HISTORY", "command")
            self.assertEqual(history, [[when, last]])
            graph = parse(c.call("LATENCY", "GRAPH", "command"))[0]
            self.assertTrue(graph.startswith(
                b"command - high %d ms, low %d ms (all time high %d ms)\n"
                % (last, last, worst) + b"-" * 80 + b"\n"), graph)
            doctor = parse(c.call("LATENCY", "DOCTOR"))[0]
            self.assertIn(b"1. command: 1 latency spikes (average %dms, "
                          b"mean deviation 0ms, period " % last, doctor)
            self.assertIn(b"- Check your Slow Log", doctor)
            self.assertEqual(c.call("LATENCY", "RESET", "COMMAND"), b":1\r\n")
            self.assertEqual(c.call("LATENCY", "LATEST"), b"*0\r\n")

    def test_graph_and_doctor_text_match_redis(self):
        got = {}
        for port in self.ports:
            c = RawClient(port)
            c.call("CONFIG", "SET", "latency-monitor-threshold", "1")
            c.call(*SLOW_SCRIPT)
            c.call("CONFIG", "SET", "latency-monitor-threshold", "100000")
            graph = parse(c.call("LATENCY", "GRAPH", "command"))[0]
            doctor = parse(c.call("LATENCY", "DOCTOR"))[0]
            # The numbers are timings: compare the text around them.
            got[port] = (re.sub(rb"\d+", b"N", graph),
                         re.sub(rb"\d+", b"N", doctor))
        self.assertEqual(got[self.redis.port], got[self.qdb.port])


if __name__ == "__main__":
    unittest.main()
