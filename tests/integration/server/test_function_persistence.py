"""Function libraries outlive the process and travel with the data, compared
with a real redis-server:

- qdb-server keeps them in its store: after FUNCTION LOAD / DELETE / FLUSH /
  RESTORE and a restart on the same data directory, FUNCTION LIST WITHCODE
  reads as redis-server's after DEBUG RELOAD (its RDB round trip), and the
  record is no key (KEYS, SCAN, DBSIZE, FLUSHALL do not see it);
- SAVE writes them as RDB FUNCTION2 records that redis-server loads, and
  qdb-server --rdb-import loads them from redis-server's dump.rdb, and
  refuses a file whose library does not load, as redis-server does;
- replication: a redis-server master's libraries reach a qdb-server replica
  by the full sync's RDB and by the command stream, and a qdb-server
  master's reach a redis-server replica the same two ways."""

import os
import shutil
import tempfile
import time
import unittest

import redis

from harness import Process, binary, start_qdb, start_redis

LIB_A = """#!lua name=liba
redis.register_function{function_name='fa', callback=function(keys, args)
  return redis.call('incr', keys[1]) end}
redis.register_function{function_name='ro_a', description='reads',
  callback=function(keys, args) return redis.call('get', keys[1]) end,
  flags={'no-writes'}}
"""
LIB_B = """#!lua name=libb
redis.register_function('fb', function(keys, args) return args[1] .. '!' end)
"""
LIB_C = """#!lua name=libc
redis.register_function('fc', function(keys, args) return 42 end)
"""
# Longer than 20 bytes and repetitive: LZF-compressed in RDBs.
LIB_BIG = "#!lua name=libbig\n" + "-- padding padding padding\n" * 40 + \
    "redis.register_function('fbig', function() return 'big' end)\n"


def client(port):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)


def functions(port):
    """FUNCTION LIST WITHCODE as {library: fields}, a library's functions
    sorted by name (Redis lists them in hash-table order)."""
    out = {}
    for lib in client(port).execute_command("FUNCTION", "LIST", "WITHCODE"):
        fields = dict(zip(lib[::2], lib[1::2]))
        fields[b"functions"] = sorted(fields[b"functions"],
                                      key=lambda f: f[1])
        out[fields[b"library_name"]] = fields
    return out


def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def restart_qdb(qdb, *extra):
    """Stops `qdb` and starts a new qdb-server on its port and data dir."""
    qdb.stop()
    back = Process([binary("qdb-server"), "--port", str(qdb.port), "--dir",
                    qdb.data_dir] + list(extra), port=qdb.port, name="qdb")
    back.data_dir = qdb.data_dir
    return back


class FunctionPersistence(unittest.TestCase):

    def setUp(self):
        self.procs = []
        self.dirs = []

    def tearDown(self):
        for p in self.procs:
            p.cleanup()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def qdb(self, *extra):
        p = start_qdb(*extra)
        self.procs.append(p)
        self.dirs.append(p.data_dir)
        return p

    def redis(self, *extra):
        p = start_redis(*extra)
        self.procs.append(p)
        return p

    def both(self, *args):
        """Runs one command on both servers; the replies must be equal."""
        outs = []
        for port in (self.red.port, self.q.port):
            try:
                outs.append(client(port).execute_command(*args))
            except redis.ResponseError as e:
                outs.append(("error", str(e)))
        self.assertEqual(outs[0], outs[1], args)
        return outs[0]

    def restart_both(self):
        client(self.red.port).execute_command("DEBUG", "RELOAD")
        q = restart_qdb(self.q)
        self.procs.append(q)
        self.q = q

    def test_restart_keeps_libraries(self):
        d = tempfile.mkdtemp(prefix="reborn-redis-fn-")
        self.dirs.append(d)
        self.red = self.redis("--dir", d, "--enable-debug-command", "yes")
        self.q = self.qdb()
        for code in (LIB_A, LIB_B, LIB_C, LIB_BIG):
            self.both("FUNCTION", "LOAD", code)
        self.both("FUNCTION", "DELETE", "libc")
        self.both("FCALL", "fa", 1, "counter")
        self.restart_both()
        self.assertEqual(functions(self.red.port), functions(self.q.port))
        self.assertEqual(len(functions(self.q.port)), 3)
        self.both("FCALL", "fa", 1, "counter")
        self.both("FCALL_RO", "ro_a", 1, "counter")
        self.both("FCALL", "fb", 0, "x")
        # Several libraries: the payloads differ in order (Redis writes hash
        # order), each server restores the other's.
        for src in (self.red.port, self.q.port):
            self.both("FUNCTION", "RESTORE",
                      client(src).execute_command("FUNCTION", "DUMP"),
                      "REPLACE")
        # The record is no key, and FLUSHALL keeps functions, as in Redis.
        self.both("DBSIZE")
        self.both("KEYS", "*")
        self.both("SCAN", 0, "COUNT", 1000)
        self.both("FLUSHALL")
        self.both("DBSIZE")
        self.both("SCAN", 0)
        self.restart_both()
        self.assertEqual(functions(self.red.port), functions(self.q.port))
        self.assertEqual(len(functions(self.q.port)), 3)

        # RESTORE with each policy, REPLACE of a library, FLUSH.
        payload = client(self.red.port).execute_command("FUNCTION", "DUMP")
        self.both("FUNCTION", "FLUSH")
        self.both("FUNCTION", "LOAD", LIB_C)
        self.both("FUNCTION", "RESTORE", payload, "APPEND")
        self.both("FUNCTION", "LOAD", "REPLACE",
                  LIB_B.replace("'!'", "'?'"))
        self.restart_both()
        self.assertEqual(functions(self.red.port), functions(self.q.port))
        self.both("FCALL", "fb", 0, "x")
        self.both("FUNCTION", "RESTORE", payload, "FLUSH")
        self.restart_both()
        self.assertEqual(functions(self.red.port), functions(self.q.port))
        self.both("FUNCTION", "FLUSH", "SYNC")
        self.restart_both()
        self.assertEqual(functions(self.q.port), {})
        self.assertEqual(functions(self.red.port), {})
        self.both("FCALL", "fa", 1, "counter")

    def test_rdb_files_carry_libraries(self):
        d = tempfile.mkdtemp(prefix="reborn-fn-rdb-")
        self.dirs.append(d)
        # qdb-server's SAVE -> redis-server loads it at start.
        q = self.qdb("--dbfilename", "qdb.rdb")
        for code in (LIB_A, LIB_BIG):
            client(q.port).execute_command("FUNCTION", "LOAD", code)
        client(q.port).set("k", 5)
        client(q.port).save()
        shutil.copy(os.path.join(q.data_dir, "qdb.rdb"),
                    os.path.join(d, "qdb.rdb"))
        red = self.redis("--dir", d, "--dbfilename", "qdb.rdb")
        self.assertEqual(functions(red.port), functions(q.port))
        self.assertEqual(client(red.port).execute_command(
            "FCALL", "fa", 1, "k"), 6)
        # redis-server's dump.rdb -> qdb-server --rdb-import.
        client(red.port).execute_command("FUNCTION", "LOAD", LIB_B)
        client(red.port).save()
        q2 = self.qdb("--rdb-import", os.path.join(d, "qdb.rdb"))
        self.assertEqual(functions(q2.port), functions(red.port))
        self.assertEqual(client(q2.port).execute_command(
            "FCALL", "fa", 1, "k"), 7)
        self.assertEqual(client(q2.port).dbsize(), 1)

    def test_rdb_with_a_library_that_does_not_load_is_refused(self):
        # Redis refuses a whole RDB file when one of its libraries does not
        # load; qdb-server --rdb-import refuses it too (and the same file
        # with a good library loads, so the refusal is the library's).
        d = tempfile.mkdtemp(prefix="reborn-fn-bad-")
        self.dirs.append(d)
        red = self.redis("--dir", d, "--dbfilename", "good.rdb",
                         "--rdbchecksum", "no", "--rdbcompression", "no")
        client(red.port).execute_command("FUNCTION", "LOAD", LIB_B)
        client(red.port).set("k", 1)
        client(red.port).save()
        red.stop()
        with open(os.path.join(d, "good.rdb"), "rb") as f:
            good = f.read()
        self.assertEqual(good.count(b"register_function"), 1)
        with open(os.path.join(d, "bad.rdb"), "wb") as f:
            # Same length, no checksum: only the library fails.
            f.write(good.replace(b"register_function", b"register_functioX"))
        with self.assertRaises(RuntimeError):
            self.redis("--dir", d, "--dbfilename", "bad.rdb")
        with self.assertRaises(RuntimeError) as refused:
            self.qdb("--rdb-import", os.path.join(d, "bad.rdb"))
        self.assertIn("function library does not load", str(refused.exception))
        q = self.qdb("--rdb-import", os.path.join(d, "good.rdb"))
        self.assertEqual(client(q.port).get("k"), b"1")
        self.assertEqual(client(q.port).execute_command("FCALL", "fb", 0, "x"),
                         b"x!")

    def test_redis_master_qdb_replica(self):
        master = self.redis("--repl-diskless-sync-delay", "0")
        replica = self.qdb()
        m, r = client(master.port), client(replica.port)
        m.execute_command("FUNCTION", "LOAD", LIB_A)  # by the RDB
        m.execute_command("FUNCTION", "LOAD", LIB_BIG)
        # Libraries the replica had before are replaced by the master's.
        r.execute_command("FUNCTION", "LOAD", LIB_C)
        r.replicaof("127.0.0.1", master.port)
        wait_for(lambda: functions(replica.port) == functions(master.port),
                 what="the full sync's libraries")
        m.execute_command("FUNCTION", "LOAD", LIB_B)  # by the stream
        m.execute_command("FUNCTION", "DELETE", "libbig")
        wait_for(lambda: functions(replica.port) == functions(master.port),
                 what="the streamed FUNCTION commands")
        m.set("k", 1)
        m.execute_command("FCALL", "fa", 1, "k")
        wait_for(lambda: r.get("k") == b"2", what="FCALL's effects")
        self.assertEqual(r.execute_command("FCALL_RO", "ro_a", 1, "k"), b"2")
        m.execute_command("FUNCTION", "RESTORE",
                          m.execute_command("FUNCTION", "DUMP"), "FLUSH")
        m.execute_command("FUNCTION", "FLUSH")
        m.execute_command("FUNCTION", "LOAD", LIB_C)
        wait_for(lambda: functions(replica.port) == functions(master.port),
                 what="FUNCTION FLUSH and LOAD")
        # The replica's libraries survive its restart.
        replica2 = restart_qdb(replica)
        self.procs.append(replica2)
        self.assertEqual(functions(replica2.port), functions(master.port))

    def test_qdb_master_redis_replica(self):
        master = self.qdb()
        replica = self.redis()
        m, r = client(master.port), client(replica.port)
        m.execute_command("FUNCTION", "LOAD", LIB_A)
        m.execute_command("FUNCTION", "LOAD", LIB_BIG)
        m.set("k", 10)
        r.replicaof("127.0.0.1", master.port)
        wait_for(lambda: r.info("replication")["master_link_status"] == "up",
                 what="the redis replica's sync")
        wait_for(lambda: functions(replica.port) == functions(master.port),
                 what="the full sync's libraries")
        m.execute_command("FUNCTION", "LOAD", LIB_B)
        m.execute_command("FUNCTION", "DELETE", "libbig")
        m.execute_command("FCALL", "fa", 1, "k")
        wait_for(lambda: functions(replica.port) == functions(master.port),
                 what="the streamed FUNCTION commands")
        wait_for(lambda: r.get("k") == b"11", what="FCALL's effects")
        m.execute_command("FUNCTION", "FLUSH", "ASYNC")
        wait_for(lambda: functions(replica.port) == {},
                 what="FUNCTION FLUSH")


if __name__ == "__main__":
    unittest.main()
