#!/usr/bin/python3
"""DUMP/RESTORE of lists and sorted sets between qdb-server and redis-server.

Lists and sorted sets of every encoding Redis 7.0 writes (small listpack
zsets, big skiplist zsets, quicklists of one and of many nodes, plain nodes
for elements over the node size, integer elements) are DUMPed by one server
and RESTOREd by the other, both ways, with TTLs, REPLACE and ABSTTL; contents,
PTTL and OBJECT ENCODING must agree, and so must RESTORE's error texts.
Usage: test_list_zset_dump.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, start_qdb, start_redis  # noqa: E402
from test_hash_set_diff import parse  # noqa: E402


def samples():
    big_zset = ["zadd", "d:zbig"]
    for j in range(400):
        big_zset += [repr(j * 0.25 - 7), "m%d" % j]
    return [
        ["rpush", "d:l", "a", "b", "c", "12", "-7", ""],
        ["rpush", "d:lints"] + [str(j * 1000003) for j in range(-50, 50)],
        ["rpush", "d:lbig"] + ["e%d" % j for j in range(5000)],
        ["rpush", "d:lplain", "x" * 20000, "small", "y" * 9000],
        ["lpush", "d:lleft", "3", "2", "1"],
        ["zadd", "d:z", "1", "a", "2.5", "b", "-inf", "c", "inf", "d",
         "0.1", "e", "1e300", "f"],
        ["zadd", "d:zlong", "1", "x" * 65, "2", "y"],
        big_zset,
    ]


def read_back(client, key):
    """Contents of a list or zset as comparable replies."""
    out = [client.call("type", key)]
    t = parse(out[0])[0][1]
    if t == b"list":
        out.append(client.call("lrange", key, "0", "-1"))
    elif t == b"zset":
        out.append(client.call("zrange", key, "0", "-1", "withscores"))
    out.append(client.call("object", "encoding", key))
    return out


def main():
    redis = start_redis()
    qdb = start_qdb(engine="rocksdb")
    bad = 0
    t0 = time.time()

    def expect(what, got, want):
        nonlocal bad
        if got != want:
            bad += 1
            print("MISMATCH %s:\n  got  %r\n  want %r" %
                  (what, got[:300] if isinstance(got, bytes) else got,
                   want[:300] if isinstance(want, bytes) else want))

    try:
        rc, qc = RawClient(redis.port), RawClient(qdb.port)
        keys = [s[1] for s in samples()]
        for direction, src, dst in (("redis->qdb", rc, qc),
                                    ("qdb->redis", qc, rc)):
            for c in (rc, qc):
                c.call("flushall")
            for s in samples():
                src.call(*s)
            src.call("pexpire", "d:l", "100000")
            src.call("pexpire", "d:z", "5000")
            src.call("pexpire", "d:zbig", "700000")
            for k in keys:
                payload = parse(src.call("dump", k))[0][1]
                pttl = int(src.call("pttl", k)[1:-2])
                expect(direction + " restore " + k,
                       dst.call("restore", k, str(max(pttl, 0)), payload),
                       b"+OK\r\n")
                expect(direction + " contents " + k, read_back(dst, k),
                       read_back(src, k))
                dp = int(dst.call("pttl", k)[1:-2])
                if (pttl < 0) != (dp < 0) or abs(pttl - dp) > 1000:
                    expect(direction + " pttl " + k, dp, pttl)
                for extra in (["restore", k, "0", payload],
                              ["restore", k, "-1", payload, "replace"],
                              ["restore", k, "0", payload[:-1] + b"\x00",
                               "replace"],
                              ["restore", k, "0", payload, "replace",
                               "idletime", "5"]):
                    expect(direction + " " + repr(extra[:2] + extra[4:]),
                           dst.call(*extra), src.call(*extra))
                # The restored value round-trips: DUMP it back and compare.
                back = parse(dst.call("dump", k))[0][1]
                src.call("restore", k + ":back", "0", back)
                expect(direction + " back " + k, read_back(src, k + ":back"),
                       read_back(src, k))
        # ABSTTL, in the past and in the future.
        payload = parse(rc.call("dump", "d:zbig"))[0][1]
        for c in (rc, qc):
            expect("absttl past", c.call("restore", "d:zbig", "1000", payload,
                                         "replace", "absttl"), b"+OK\r\n")
            expect("absttl past exists", c.call("exists", "d:zbig"),
                   b":0\r\n")
            expect("absttl future", c.call(
                "restore", "d:zbig", str(int(time.time() * 1000) + 60000),
                payload, "absttl"), b"+OK\r\n")
            ttl = int(c.call("ttl", "d:zbig")[1:-2])
            expect("absttl ttl", 58 <= ttl <= 60, True)
        # Encodings follow Redis 7.0's thresholds.
        for c in (rc, qc):
            c.call("del", "e:z", "e:l")
            c.call("zadd", "e:z", *[x for j in range(128)
                                   for x in (str(j), "m%d" % j)])
            c.call("rpush", "e:l", "a")
        for probe in (["object", "encoding", "e:z"],
                      ["zadd", "e:z", "1", "extra"],
                      ["object", "encoding", "e:z"],
                      ["object", "encoding", "e:l"]):
            expect(" ".join(probe), qc.call(*probe), rc.call(*probe))
    finally:
        redis.cleanup()
        qdb.cleanup()
    print("list/zset DUMP/RESTORE: %.1fs, %d mismatches" %
          (time.time() - t0, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
