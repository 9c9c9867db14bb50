#!/usr/bin/python3
"""GEO commands of qdb-server against redis-server 7.0.

Hand-picked cases (every command and option, every error text, wrong types,
missing keys and members, STORE/STOREDIST over other types, positions at the
limits, scores GEOADD never writes) and then a seeded random stream of
GEOSEARCH / GEOSEARCHSTORE / GEORADIUS[BYMEMBER][_RO] / GEOPOS / GEOHASH /
GEODIST calls with random centres, shapes, units and option lists, mixed
with GEOADD (NX/XX/CH) and ZREM writes, go to both servers over RESP2 and
RESP3. Replies are compared byte for byte (distances, coordinates and hashes
included), and after every store the destination too. The "ties" key holds
many members at a few identical positions, so results tie on distance and
their order (full sort, or Redis' partial quicksort under COUNT) is checked
too.
Usage: test_geo_diff.py [seed] [commands]
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import RawClient, client_pair, start_qdb, start_redis  # noqa: E402

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 5
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2500

SICILY = ["geoadd", "Sicily", "13.361389", "38.115556", "Palermo",
          "15.087269", "37.502669", "Catania"]

FIXED = [
    SICILY,
    ["geodist", "Sicily", "Palermo", "Catania"],
    ["geodist", "Sicily", "Palermo", "Catania", "km"],
    ["geodist", "Sicily", "Palermo", "Catania", "MI"],
    ["geodist", "Sicily", "Palermo", "Catania", "ft"],
    ["geodist", "Sicily", "Palermo", "Catania", "M"],
    ["geodist", "Sicily", "Palermo", "Catania", "yards"],
    ["geodist", "Sicily", "Palermo", "Catania", "km", "extra"],
    ["geodist", "Sicily", "Palermo", "nope"], ["geodist", "nokey", "a", "b"],
    ["geodist", "nokey", "a", "b", "bad"], ["geodist", "Sicily", "Palermo"],
    ["geodist", "Sicily", "Palermo", "Palermo"],
    ["geohash", "Sicily", "Palermo", "Catania", "nope"],
    ["geohash", "nokey", "a"], ["geohash", "Sicily"],
    ["geopos", "Sicily", "Palermo", "Catania", "nope"],
    ["geopos", "nokey", "a", "b"], ["geopos", "Sicily"],
    # GEOADD options and errors.
    ["geoadd", "Sicily", "nx", "1", "1", "Palermo", "2", "2", "new"],
    ["geoadd", "Sicily", "xx", "1", "1", "Palermo", "2", "2", "new2"],
    ["geoadd", "Sicily", "xx", "ch", "13.361389", "38.115556", "Palermo"],
    ["geoadd", "Sicily", "ch", "3", "3", "Palermo", "4", "4", "x4"],
    ["geoadd", "Sicily", "CH", "NX", "3", "3", "Palermo", "5", "5", "x5"],
    ["geoadd", "Sicily", "13.361389", "38.115556", "Palermo"],
    ["geoadd", "Sicily", "nx", "xx", "1", "1", "a"],
    ["geoadd", "Sicily", "ch", "ch", "ch"],
    ["geoadd", "Sicily", "1", "1", "a", "2"],
    ["geoadd", "Sicily", "1", "1"],
    ["geoadd", "Sicily", "gt", "1", "1", "a"],
    ["geoadd", "Sicily", "incr", "1", "1", "a"],
    ["geoadd", "Sicily", "180.1", "0", "a"],
    ["geoadd", "Sicily", "-180.0001", "0", "a"],
    ["geoadd", "Sicily", "0", "85.06", "a"],
    ["geoadd", "Sicily", "0", "-85.05112879", "a"],
    ["geoadd", "Sicily", "1e400", "0", "a"],
    ["geoadd", "Sicily", "x", "0", "a"], ["geoadd", "Sicily", "0", "", "a"],
    ["geoadd", "Sicily", "nan", "0", "a"],
    ["geoadd", "Sicily", "1", "1", "ok", "200", "0", "bad"],
    ["zrange", "Sicily", "0", "-1", "withscores"],
    ["geoadd", "edge", "180", "85.05112878", "ne", "-180", "-85.05112878",
     "sw", "0", "0", "origin", "180", "0", "east", "-180", "0", "west",
     "179.999", "0.001", "near_east", "-179.999", "-0.001", "near_west"],
    ["geopos", "edge", "ne", "sw", "origin", "east", "west"],
    ["geohash", "edge", "ne", "sw", "origin", "east", "west"],
    ["geosearch", "edge", "fromlonlat", "179.9", "0", "byradius", "50", "km",
     "asc", "withdist", "withcoord", "withhash"],
    ["geosearch", "edge", "fromlonlat", "-179.9", "0", "bybox", "100", "100",
     "km", "asc", "withdist"],
    ["geosearch", "edge", "fromlonlat", "0", "0", "byradius", "30000", "km",
     "asc", "withdist"],
    ["geosearch", "edge", "fromlonlat", "0", "85", "byradius", "5000", "km",
     "desc", "withdist"],
    ["geosearch", "edge", "frommember", "origin", "bybox", "40000", "20000",
     "km", "withdist"],
    ["geosearch", "edge", "frommember", "origin", "byradius", "0", "m"],
    # Scores GEOADD never writes.
    ["zadd", "weird", "-1", "a", "1e300", "b", "inf", "c", "-inf", "d",
     "4503599627370496", "e", "9007199254740992", "f", "0.5", "g"],
    ["geopos", "weird", "a", "b", "c", "d", "e", "f", "g"],
    ["geohash", "weird", "a", "b", "c", "d", "e", "f", "g"],
    ["geodist", "weird", "a", "g"],
    ["georadius", "weird", "0", "0", "20000", "km", "withhash", "withcoord"],
    # GEORADIUS family.
    ["georadius", "Sicily", "15", "37", "200", "km"],
    ["georadius", "Sicily", "15", "37", "200", "km", "withdist", "withcoord",
     "withhash"],
    ["georadius", "Sicily", "15", "37", "200", "km", "asc", "withdist"],
    ["georadius", "Sicily", "15", "37", "200", "km", "desc", "count", "1"],
    ["georadius", "Sicily", "15", "37", "200", "km", "count", "1", "any"],
    ["georadius", "Sicily", "15", "37", "200", "km", "any"],
    ["georadius", "Sicily", "15", "37", "200", "km", "count", "0"],
    ["georadius", "Sicily", "15", "37", "200", "km", "count", "-3"],
    ["georadius", "Sicily", "15", "37", "200", "km", "count", "x"],
    ["georadius", "Sicily", "15", "37", "200", "km", "count"],
    ["georadius", "Sicily", "15", "37", "-1", "km"],
    ["georadius", "Sicily", "15", "37", "abc", "km"],
    ["georadius", "Sicily", "15", "37", "10", "parsecs"],
    ["georadius", "Sicily", "15", "99", "10", "km"],
    ["georadius", "Sicily", "x", "37", "10", "km"],
    ["georadius", "Sicily", "15", "37", "200", "km", "bogus"],
    ["georadius", "Sicily", "15", "37", "200", "km", "store"],
    ["georadius", "Sicily", "15", "37", "200", "km", "withdist", "store",
     "dst"],
    ["georadius", "Sicily", "15", "37", "200", "km", "store", "dst",
     "withcoord"],
    ["georadius", "Sicily", "15", "37", "200", "km", "store", "dst"],
    ["zrange", "dst", "0", "-1", "withscores"],
    ["georadius", "Sicily", "15", "37", "200", "km", "storedist", "dst",
     "count", "1", "desc"],
    ["zrange", "dst", "0", "-1", "withscores"],
    ["georadius", "Sicily", "15", "37", "200", "km", "store", "dst",
     "storedist", "dst2"],
    ["zrange", "dst2", "0", "-1", "withscores"], ["exists", "dst"],
    ["georadius", "Sicily", "15", "37", "1", "m", "store", "dst2"],
    ["exists", "dst2"],
    ["set", "strdst", "v"], ["pexpire", "strdst", "100000"],
    ["georadius", "Sicily", "15", "37", "200", "km", "store", "strdst"],
    ["type", "strdst"], ["ttl", "strdst"],
    ["georadius", "nokey", "15", "37", "200", "km", "store", "strdst"],
    ["exists", "strdst"],
    ["georadius", "nokey", "15", "37", "200", "km"],
    ["georadius", "nokey", "15", "99", "200", "km"],
    ["georadius_ro", "Sicily", "15", "37", "200", "km", "withdist"],
    ["georadius_ro", "Sicily", "15", "37", "200", "km", "store", "x"],
    ["georadius_ro", "Sicily", "15", "37", "200", "km", "storedist", "x"],
    ["georadiusbymember", "Sicily", "Palermo", "200", "km", "withdist"],
    ["georadiusbymember", "Sicily", "Palermo", "200", "km", "store", "dst"],
    ["zrange", "dst", "0", "-1", "withscores"],
    ["georadiusbymember", "Sicily", "nope", "200", "km"],
    ["georadiusbymember", "Sicily", "nope", "x", "km"],
    ["georadiusbymember", "Sicily", "Palermo", "x", "km"],
    ["georadiusbymember", "nokey", "nope", "x", "km"],
    ["georadiusbymember", "nokey", "nope", "200", "km", "store", "dst"],
    ["exists", "dst"],
    ["georadiusbymember", "nokey", "nope", "200", "km", "bogus"],
    ["georadiusbymember", "nokey", "nope", "200", "km", "withdist", "store",
     "d"],
    ["georadiusbymember_ro", "Sicily", "Catania", "100", "mi", "withcoord"],
    ["georadiusbymember_ro", "Sicily", "Catania", "100", "mi", "store", "x"],
    # GEOSEARCH / GEOSEARCHSTORE.
    ["geosearch", "Sicily", "frommember", "Palermo", "byradius", "200", "km"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "400", "400",
     "km", "asc", "withcoord", "withdist", "withhash"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "400", "400",
     "km", "count", "1", "any", "desc"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "-1", "400",
     "km"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "x", "400",
     "km"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "1", "y",
     "km"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "1", "1",
     "au"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "1", "1"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "byradius", "1", "km",
     "bybox", "1", "1", "km"],
    ["geosearch", "Sicily", "frommember", "Palermo", "fromlonlat", "15", "37",
     "byradius", "1", "km"],
    ["geosearch", "Sicily", "fromlonlat", "15", "37", "frommember", "Palermo",
     "byradius", "1", "km"],
    ["geosearch", "Sicily", "byradius", "1", "km", "asc", "withdist"],
    ["geosearch", "Sicily", "frommember", "Palermo", "withdist", "asc"],
    ["geosearch", "nokey", "byradius", "1", "km", "asc", "withdist"],
    ["geosearch", "Sicily", "frommember", "Palermo", "byradius", "1", "km",
     "store", "x"],
    ["geosearch", "Sicily", "frommember", "Palermo", "byradius", "1", "km",
     "storedist"],
    ["geosearch", "Sicily", "frommember", "Palermo", "byradius", "1", "km",
     "any"],
    ["geosearch", "Sicily", "fromlonlat", "200", "37", "byradius", "1", "km"],
    ["geosearch", "nokey", "frommember", "x", "byradius", "1", "km"],
    ["geosearch", "nokey", "fromlonlat", "15", "37", "byradius", "1", "km"],
    ["geosearchstore", "dst", "Sicily", "frommember", "Palermo", "byradius",
     "200", "km"],
    ["zrange", "dst", "0", "-1", "withscores"],
    ["geosearchstore", "dst", "Sicily", "frommember", "Palermo", "byradius",
     "200", "km", "storedist", "desc", "count", "1"],
    ["zrange", "dst", "0", "-1", "withscores"],
    ["geosearchstore", "dst", "Sicily", "frommember", "Palermo", "byradius",
     "200", "km", "withdist"],
    ["geosearchstore", "dst", "Sicily", "frommember", "Palermo", "byradius",
     "200", "km", "store", "x"],
    ["geosearchstore", "dst", "Sicily", "frommember", "Palermo", "byradius",
     "1", "m"],
    ["exists", "dst"],
    ["geosearchstore", "dst", "Sicily", "frommember", "Palermo", "byradius",
     "200", "km", "storedist"],
    ["geosearchstore", "dst", "nokey", "frommember", "Palermo", "byradius",
     "200", "km"],
    ["exists", "dst"],
    ["geosearchstore", "dst", "Sicily", "frommember", "Palermo", "bybox",
     "1", "1", "km", "count", "1", "any"],
    ["geosearchstore", "Sicily", "Sicily", "frommember", "Palermo",
     "byradius", "100", "km"],
    ["zrange", "Sicily", "0", "-1", "withscores"],
    # Wrong types.
    ["set", "str", "x"], ["geoadd", "str", "1", "1", "a"],
    ["geopos", "str", "a"], ["geohash", "str", "a"],
    ["geodist", "str", "a", "b"], ["geodist", "str", "a", "b", "bad"],
    ["georadius", "str", "15", "37", "1", "km"],
    ["georadius", "str", "15", "99", "1", "km"],
    ["georadiusbymember", "str", "a", "1", "km"],
    ["geosearch", "str", "frommember", "a", "byradius", "1", "km"],
    ["geosearchstore", "dst", "str", "frommember", "a", "byradius", "1",
     "km"],
    SICILY,
    # A search without STORE writes nothing: a WATCH on it holds.
    ["watch", "Sicily"], ["georadius", "Sicily", "15", "37", "200", "km"],
    ["georadiusbymember", "Sicily", "Palermo", "1", "km"],
    ["multi"], ["ping"], ["exec"],
    ["watch", "dst"], ["georadius", "Sicily", "15", "37", "200", "km",
                       "store", "dst"],
    ["multi"], ["ping"], ["exec"],
    ["geosearchstore", "str", "Sicily", "frommember", "Palermo", "byradius",
     "1", "km"],
    ["type", "str"],
]


def tie_cases():
    """Forty members at one point among forty around it: COUNT cuts the tie
    (Redis' partial quicksort decides which of them and in what order)."""
    rnd = random.Random(3)
    add = ["geoadd", "tie"]
    for _ in range(40):
        add += ["10", "10", "s%02d" % rnd.randint(0, 99)]
    for i in range(40):
        add += ["%.4f" % (10 + rnd.uniform(-0.01, 0.01)),
                "%.4f" % (10 + rnd.uniform(-0.01, 0.01)), "o%d" % i]
    cases = [add]
    for opts in (["asc", "count", "10"], ["asc", "count", "30"],
                 ["desc", "count", "50"], ["desc", "count", "60"],
                 ["asc", "count", "45"], ["count", "7"], ["asc"], ["desc"],
                 ["count", "3", "any"]):
        cases.append(["georadius", "tie", "10", "10", "50", "km"] + opts)
    cases.append(["geosearchstore", "tie2", "tie", "fromlonlat", "10", "10",
                  "bybox", "5", "5", "km", "count", "20", "storedist"])
    cases.append(["zrange", "tie2", "0", "-1", "withscores"])
    return cases


# Extreme sizes and places: infinite and tiny radii, the poles and the
# antimeridian (antipodal distances included).
EXTREMES = [
    ["geoadd", "far", "13.361389", "38.115556", "Palermo", "-179.5", "0.5",
     "w", "179.5", "-0.5", "e", "0", "85", "n", "0", "-85", "s"],
    ["georadius", "far", "15", "37", "inf", "km", "withdist"],
    ["georadius", "far", "15", "37", "1e-300", "km", "withdist"],
    ["georadius", "far", "15", "37", "1e308", "mi", "withdist", "asc"],
    ["geosearch", "far", "fromlonlat", "15", "37", "bybox", "inf", "inf",
     "km", "withdist"],
    ["geosearch", "far", "fromlonlat", "15", "37", "bybox", "1e-300", "0",
     "km", "withdist"],
    ["geosearch", "far", "fromlonlat", "180", "0", "byradius", "200", "km",
     "withdist", "asc"],
    ["geosearch", "far", "fromlonlat", "-180", "0", "bybox", "400", "400",
     "km", "withdist", "desc"],
    ["geosearch", "far", "fromlonlat", "0", "85.05112878", "byradius",
     "1000", "km", "withdist"],
    ["geodist", "far", "w", "e"], ["geodist", "far", "n", "s"],
    ["geoadd", "anti", "0", "0", "a", "180", "0", "b", "-180", "0", "c",
     "0.0000001", "0", "d", "179.9999999", "0", "e"],
    ["geodist", "anti", "a", "b"], ["geodist", "anti", "d", "e"],
    ["georadius", "anti", "0", "0", "50000", "km", "withdist", "asc"],
]

FIXED += tie_cases() + EXTREMES

UNITS = ["m", "km", "ft", "mi", "KM", "Mi"]
KEYS = ["pts", "pts", "pts", "dense", "ties", "nokey", "str"]
DESTS = ["dst", "dst2", "pts2", "str"]
REGIONS = [(13.0, 38.0, 2.0), (-73.9, 40.7, 0.5), (139.7, 35.6, 1.0),
           (179.5, -16.5, 1.5), (0.0, 0.0, 3.0), (-0.1, 51.5, 0.2),
           (25.0, 80.0, 4.0), (-60.0, -70.0, 5.0)]


def rand_point(rnd):
    if rnd.random() < 0.15:
        return rnd.uniform(-180, 180), rnd.uniform(-85, 85)
    lon, lat, spread = rnd.choice(REGIONS)
    lon = min(180.0, max(-180.0, lon + rnd.uniform(-spread, spread)))
    lat = min(85.0, max(-85.0, lat + rnd.uniform(-spread, spread)))
    return lon, lat


def fmt(x):
    return repr(round(x, rnd_digits(x)))


def rnd_digits(x):
    return 6 if abs(x) < 100 else 5


def setup(c, rnd):
    c.call("flushall")
    args = ["geoadd", "pts"]
    for i in range(300):
        lon, lat = rand_point(rnd)
        args += [fmt(lon), fmt(lat), "m%d" % i]
    c.call(*args)
    args = ["geoadd", "dense"]
    for i in range(150):
        args += [fmt(2.35 + rnd.uniform(-0.01, 0.01)),
                 fmt(48.85 + rnd.uniform(-0.01, 0.01)), "d%d" % i]
    c.call(*args)
    args = ["geoadd", "ties"]
    spots = [rand_point(rnd) for _ in range(6)]
    for i in range(160):
        lon, lat = rnd.choice(spots)
        args += [fmt(lon), fmt(lat), "t%d" % i]
    c.call(*args)
    c.call("set", "str", "x")


def member(rnd):
    r = rnd.random()
    if r < 0.08:
        return "nope"
    if r < 0.6:
        return "m%d" % rnd.randint(0, 320)
    if r < 0.8:
        return "t%d" % rnd.randint(0, 160)
    return "d%d" % rnd.randint(0, 160)


def radius(rnd):
    if rnd.random() < 0.1:
        return rnd.choice(["0", "1", "-1", "x", "1e4", "2e7"])
    return "%.3f" % rnd.uniform(0, rnd.choice([50, 300, 1000, 3000]))


def unit(rnd):
    """Mostly kilometers and miles: meters and feet find little."""
    return rnd.choice(UNITS + ["km", "km", "mi", "KM"])


def center(rnd):
    if rnd.random() < 0.05:
        return [rnd.choice(["200", "x", "0"]), rnd.choice(["0", "86", "y"])]
    lon, lat = rand_point(rnd)
    return ["%.5f" % lon, "%.5f" % lat]


def options(rnd, store_ok, storing=False):
    """Random options; `storing` makes WITH* (an error there) rare."""
    out = []
    for _ in range(rnd.randint(0, 4)):
        r = rnd.random()
        if storing and r < 0.37 and rnd.random() < 0.9:
            continue
        if r < 0.15:
            out.append(rnd.choice(["withdist", "WITHDIST"]))
        elif r < 0.27:
            out.append("withcoord")
        elif r < 0.37:
            out.append("withhash")
        elif r < 0.52:
            out.append(rnd.choice(["asc", "desc", "ASC", "DESC"]))
        elif r < 0.72:
            out += ["count", rnd.choice(["1", "2", "3", "5", "10", "50",
                                         "7", "20", "0", "-1", "x"])]
            if rnd.random() < 0.4:
                out.append("any")
        elif r < 0.74:
            out.append("any")
        elif r < 0.86 and store_ok:
            out += [rnd.choice(["store", "storedist"]), rnd.choice(DESTS)]
        elif r < 0.87:
            out.append(rnd.choice(["bogus", "count", "store"]))
    return out


def random_search(rnd):
    r = rnd.random()
    key = rnd.choice(KEYS)
    if r < 0.40 or r >= 0.9:
        store = r >= 0.9
        cmd = (["geosearchstore", rnd.choice(DESTS), key] if store
               else ["geosearch", key])
        origin = []
        if rnd.random() < 0.6:
            origin = ["fromlonlat"] + center(rnd)
        else:
            origin = ["frommember", member(rnd)]
        if rnd.random() < 0.5:
            shape = ["byradius", radius(rnd), unit(rnd)]
        else:
            shape = ["bybox", radius(rnd), radius(rnd), unit(rnd)]
        parts = [origin, shape, options(rnd, False, store)]
        if store and rnd.random() < 0.4:
            parts.append(["storedist"])
        if rnd.random() < 0.3:
            rnd.shuffle(parts)
        for p in parts:
            cmd += p
        return cmd
    if r < 0.65:
        name = rnd.choice(["georadius", "georadius", "georadius_ro"])
        return ([name, key] + center(rnd) +
                [radius(rnd), unit(rnd)] +
                options(rnd, name == "georadius"))
    name = rnd.choice(["georadiusbymember", "georadiusbymember",
                       "georadiusbymember_ro"])
    return ([name, key, member(rnd), radius(rnd), unit(rnd)] +
            options(rnd, name == "georadiusbymember"))


def random_command(rnd):
    r = rnd.random()
    key = rnd.choice(KEYS + DESTS)
    if r < 0.70:
        return random_search(rnd)
    if r < 0.78:
        return ["geopos", key] + [member(rnd) for _ in range(rnd.randint(1, 4))]
    if r < 0.86:
        return ["geohash", key] + [member(rnd)
                                   for _ in range(rnd.randint(1, 4))]
    cmd = ["geodist", key, member(rnd), member(rnd)]
    if rnd.random() < 0.6:
        cmd.append(rnd.choice(UNITS + ["furlong"]))
    return cmd


def random_write(rnd):
    r = rnd.random()
    if r < 0.7:
        cmd = ["geoadd", rnd.choice(["pts", "dense", "pts2"])]
        cmd += rnd.sample(["nx", "xx", "ch"], rnd.randint(0, 2))
        for _ in range(rnd.randint(1, 3)):
            lon, lat = rand_point(rnd)
            cmd += [fmt(lon), fmt(lat), "m%d" % rnd.randint(0, 320)]
        return cmd
    return ["zrem", rnd.choice(["pts", "dense"]), member(rnd)]


# Writes whose keyspace events are compared (notify-keyspace-events KEA).
EVENT_WRITES = [
    SICILY,
    ["geoadd", "Sicily", "ch", "1", "1", "Palermo"],
    ["geoadd", "Sicily", "nx", "1", "1", "Palermo"],
    ["geoadd", "Sicily", "13.361389", "38.115556", "Palermo"],
    ["georadius", "Sicily", "15", "37", "200", "km", "store", "e1"],
    ["georadius", "Sicily", "15", "37", "200", "km", "storedist", "e2"],
    ["georadiusbymember", "Sicily", "Catania", "1", "km", "store", "e3"],
    ["georadius", "Sicily", "15", "37", "1", "m", "store", "e1"],
    ["georadius", "Sicily", "15", "37", "1", "m", "store", "e1"],
    ["geosearchstore", "e4", "Sicily", "frommember", "Catania", "byradius",
     "500", "km"],
    ["geosearchstore", "e4", "nokey", "frommember", "Catania", "byradius",
     "500", "km"],
    ["georadius", "Sicily", "15", "37", "200", "km"],
    ["geosearch", "Sicily", "frommember", "Catania", "byradius", "5", "km"],
]


def events(port, proto):
    """The keyspace events EVENT_WRITES cause on one server."""
    sub, c = RawClient(port), RawClient(port)
    try:
        c.call("config", "set", "notify-keyspace-events", "KEA")
        if proto == 3:
            c.call("hello", "3")
        c.call("del", "Sicily", "e1", "e2", "e3", "e4")
        sub.call("psubscribe", "__key*__:*")
        sub.call("subscribe", "geo-test-mark")
        for cmd in EVENT_WRITES:
            c.call(*cmd)
        c.call("publish", "geo-test-mark", "done")
        got = []
        for _ in range(200):
            msg = sub.read_reply()
            if b"geo-test-mark" in msg:
                break
            got.append(msg)
        return got
    finally:
        c.call("config", "set", "notify-keyspace-events", "")
        sub.close()
        c.close()


def compare(rc, qc, cmd, label):
    a, b = rc.call(*cmd), qc.call(*cmd)
    if a != b:
        print("MISMATCH %s %r\n  redis: %r\n  qdb:   %r" %
              (label, cmd, a[:600], b[:600]))
        return 1
    return 0


def check_stores(rc, qc, cmd, label):
    bad = 0
    for dst in DESTS:
        for probe in (["type", dst], ["zrange", dst, "0", "-1", "withscores"]):
            bad += compare(rc, qc, probe, "%s after %r" % (label, cmd))
    return bad


def main():
    redis = start_redis()
    qdb = start_qdb(engine="rocksdb")
    bad = 0
    searches = nonempty = 0
    try:
        for proto in (2, 3):
            rc, qc = client_pair(redis.port, qdb.port, proto)
            for c in (rc, qc):
                c.call("flushall")
            for cmd in FIXED:
                bad += compare(rc, qc, cmd, "fixed resp%d" % proto)
            for c in (rc, qc):
                setup(c, random.Random(SEED))
            rnd = random.Random(SEED * 10 + proto)
            for i in range(N):
                label = "resp%d #%d" % (proto, i)
                if rnd.random() < 0.15:
                    bad += compare(rc, qc, random_write(rnd), label)
                    continue
                cmd = random_command(rnd)
                a, b = rc.call(*cmd), qc.call(*cmd)
                if cmd[0].startswith("geo") and "search" in cmd[0] or \
                        "radius" in cmd[0]:
                    searches += 1
                    if a[:1] == b"*" and a[:2] != b"*0" or \
                            a[:1] == b":" and a != b":0\r\n":
                        nonempty += 1
                if a != b:
                    bad += 1
                    print("MISMATCH %s %r\n  redis: %r\n  qdb:   %r" %
                          (label, cmd, a[:600], b[:600]))
                lower = [x.lower() for x in cmd]
                if a[:1] == b":" and (cmd[0] == "geosearchstore" or
                                      "store" in lower or
                                      "storedist" in lower):
                    bad += check_stores(rc, qc, cmd, label)
                if bad > 20:
                    break
            rc.close()
            qc.close()
            a, b = events(redis.port, proto), events(qdb.port, proto)
            if a != b or not a:
                bad += 1
                print("EVENTS MISMATCH resp%d\n  redis: %r\n  qdb:   %r" %
                      (proto, a, b))
    finally:
        redis.cleanup()
        qdb.cleanup()
    print("searches: %d, with results: %d" % (searches, nonempty))
    if bad:
        print("FAIL: %d mismatches" % bad)
        return 1
    if nonempty < searches // 8:
        print("FAIL: too few searches found anything; the test is too weak")
        return 1
    print("OK: GEO matches redis-server (seed %d, %d commands x 2 protocols)"
          % (SEED, N))
    return 0


if __name__ == "__main__":
    sys.exit(main())
