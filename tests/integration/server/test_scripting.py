"""EVAL/EVALSHA/EVAL_RO/SCRIPT against a real redis-server: the same scripts,
replies compared byte for byte in RESP2 and RESP3 (conversions, error texts,
sandbox escapes refused); scripts are atomic for other clients; a long script
makes other clients get -BUSY and SCRIPT KILL ends it; a replica receives
the script's effects; over maxmemory and without enough replicas, scripts
and functions are judged by their declared flags as by Redis."""

import threading
import time
import unittest

import redis

from harness import RawClient, encode, start_qdb, start_redis

# (script, numkeys, args...) run as EVAL in RESP2 and in RESP3.
SCRIPTS = [
    ["return 1", 0],
    ["return 3.99", 0],
    ["return -3.99", 0],
    ["return 'str'", 0],
    ["return true", 0],
    ["return false", 0],
    ["return nil", 0],
    ["return {1,2,3,'ciao',{1,2}}", 0],
    ["return {1,nil,3}", 0],
    ["return {err='My Error'}", 0],
    ["return {ok='FINE'}", 0],
    ["return redis.error_reply('My Error')", 0],
    ["return redis.error_reply('-CODE my error')", 0],
    ["return redis.status_reply('STATUS')", 0],
    ["return {double=3.14}", 0],
    ["return {map={a=1}}", 0],
    ["return {set={a=true}}", 0],
    ["return {big_number='123456789012345678901234567890'}", 0],
    ["return redis.sha1hex('')", 0],
    ["return redis.sha1hex('Pizza & Mandolino')", 0],
    ["return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", 2, "k1", "k2", "a1", "a2"],
    ["redis.call('set',KEYS[1],ARGV[1]); return redis.call('get',KEYS[1])",
     1, "k", "v"],
    ["return redis.call('incr','k')", 0],
    ["return redis.pcall('incr','k')", 0],
    ["return redis.call('get','nokey')", 0],
    ["return redis.call('get','nokey') == false", 0],
    ["return redis.call('nosuch')", 0],
    ["return redis.call()", 0],
    ["return redis.call('get')", 0],
    ["return redis.call('get', {})", 0],
    ["return redis.call('set', 'n', 3.5)", 0],
    ["return redis.call('hset','h','f','v','g','w')", 0],
    ["return redis.call('hgetall','h')", 0],
    ["return redis.call('lrange','nolist',0,-1)", 0],
    ["return redis.call('select', 100)", 0],
    ["redis.call('select', 1); redis.call('set','db1','x'); "
     "return redis.call('dbsize')", 0],
    ["return redis.call('dbsize')", 0],
    ["return redis.call('multi')", 0],
    ["return redis.call('eval','return 1',0)", 0],
    ["redis.setresp(3); return redis.call('hgetall','h')", 0],
    ["redis.setresp(3); return redis.call('get','nokey')", 0],
    ["redis.setresp(3); return redis.call('get','nokey') == nil", 0],
    ["redis.setresp(4)", 0],
    ["return cjson.encode({1,2,3,'x'})", 0],
    ["return cjson.decode('[1,2,3]')", 0],
    ["return bit.band(7,3)", 0],
    ["return bit.tohex(65535)", 0],
    ["return bit.tohex(65535, -2147483648)", 0],
    ["return cjson.encode({a=1.5, b={1,2,3}})", 0],
    # Redis' own cmsgpack and struct (byte-identical results).
    ["return cmsgpack.pack({1,2,3,'x',{a=1}})", 0],
    ["return cmsgpack.pack(1.5, -1, 65536, 2^40, 'abc', true)", 0],
    ["return {cmsgpack.unpack(cmsgpack.pack({1,2,{3}}, 'z'))}", 0],
    ["return cmsgpack.unpack('\\255')", 0],
    ["return struct.pack('>iHb', 1, 2, 3)", 0],
    ["return {struct.unpack('>iHb', struct.pack('>iHb', -7, 65535, 3))}", 0],
    ["return struct.size('>iHbd')", 0],
    ["return struct.pack('!4', 1)", 0],
    # Redis' patched unpack and text-only loadstring.
    ["return {unpack({1,2,3}, -2, 2147483647)}", 0],
    ["return {unpack({1,2,3}, -2147483648, -2)}", 0],
    ["return loadstring(string.dump(function() return 1 end))()", 0],
    ["local g = getmetatable(_G); g.__index = {}", 0],
    ["getmetatable('').__index = function() return 1 end", 0],
    ["return redis.register_function", 0],
    ["return redis.REDIS_VERSION ~= nil", 0],
    ["return tostring(redis.replicate_commands())", 0],
    ["return type(math.random())", 0],
    ["error('boom')", 0],
    ["error({err='X y'})", 0],
    ["return 'unterminated", 0],
    ["#!lua flags=no-writes\nreturn redis.call('set','x','y')", 0],
    ["#!lua flags=no-writes\nreturn redis.call('get','k')", 0],
    ["#!lua flags=bad\nreturn 1", 0],
    ["#!lua foo=bar\nreturn 1", 0],
    ["#!python\nreturn 1", 0],
    # The sandbox.
    ["x = 1", 0],
    ["return a", 0],
    ["return loadstring('x=1')()", 0],
    ["rawset(_G,'x',1)", 0],
    ["setmetatable(_G, {})", 0],
    ["redis.call = function() return 1 end", 0],
    ["cjson.encode = function() return 1 end", 0],
    ["string.rep = nil", 0],
    ["return os.execute('true')", 0],
    ["return io.open('/etc/passwd')", 0],
    ["return dofile('/etc/passwd')", 0],
    ["return loadfile('/etc/passwd')", 0],
    ["return getfenv(0)", 0],
    ["return debug.getinfo(1)", 0],
    ["return print('x')", 0],
    ["return type(loadstring)", 0],
]

ERRORS = [
    ["EVAL", "return 1"],
    ["EVAL", "return 1", "x"],
    ["EVAL", "return 1", "-1"],
    ["EVAL", "return 1", "2", "a"],
    ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    ["EVALSHA", "x", "0"],
    ["EVAL_RO", "return redis.call('set','a','b')", "0"],
    ["EVAL_RO", "#!lua\nreturn 1", "0"],
    ["EVAL_RO", "return redis.call('get','a')", "0"],
    ["SCRIPT", "LOAD", "return 'hi'"],
    ["EVALSHA", "2f31ba2bb6d6a0f42cc159d2e2dad55440778de3", "0"],
    ["EVALSHA_RO", "2F31BA2BB6D6A0F42CC159D2E2DAD55440778DE3", "0"],
    ["SCRIPT", "EXISTS", "2f31ba2bb6d6a0f42cc159d2e2dad55440778de3", "ff"],
    ["SCRIPT", "LOAD", "return 'x"],
    ["SCRIPT", "LOAD"],
    ["SCRIPT", "NOSUCH"],
    ["SCRIPT", "FLUSH", "bad"],
    ["SCRIPT", "KILL"],
    ["SCRIPT", "FLUSH"],
    ["SCRIPT", "EXISTS", "2f31ba2bb6d6a0f42cc159d2e2dad55440778de3"],
    ["MULTI"],
    ["EVAL", "return redis.call('incr','m')", "0"],
    ["EVAL", "return redis.call('incr','m')", "0"],
    ["EXEC"],
]


LIB = ("#!lua name=mylib\n"
       "redis.register_function('myfunc', function(keys, args) "
       "return redis.call('set', keys[1], args[1]) end)\n"
       "redis.register_function{function_name='ro', callback=function(keys, "
       "args) return redis.call('get', keys[1]) end, flags={'no-writes'}, "
       "description='reads'}\n")

FUNCTIONS = [
    ["FUNCTION", "FLUSH"],
    ["FUNCTION", "LOAD", LIB],
    ["FUNCTION", "LOAD", LIB],
    ["FCALL", "myfunc", "1", "k", "v"],
    ["FCALL_RO", "ro", "1", "k"],
    ["FCALL_RO", "myfunc", "1", "k", "v"],
    ["FCALL", "nosuch", "0"],
    ["FCALL", "myfunc", "x"],
    ["FCALL", "myfunc", "5", "a"],
    ["FCALL", "myfunc", "0"],
    ["FUNCTION", "LOAD", "return 1"],
    ["FUNCTION", "LOAD", "#!lua name=e\nreturn 1"],
    ["FUNCTION", "LOAD", "#!lua name=e\n"
     "redis.register_function('myfunc', function() return 1 end)"],
    ["FUNCTION", "LOAD", "#!lua\nx"],
    ["FUNCTION", "LOAD", "#!js name=e\nx"],
    ["FUNCTION", "LOAD", "#!lua name=e foo=bar\nx"],
    ["FUNCTION", "LOAD", "#!lua name=b-d\nx"],
    ["FUNCTION", "LOAD", "BAD", LIB],
    ["FUNCTION", "LOAD", "REPLACE", LIB],
    ["FUNCTION", "DELETE", "nosuch"],
    ["FUNCTION", "STATS"],
    ["FUNCTION", "KILL"],
    ["FUNCTION", "FLUSH", "bad"],
    ["FUNCTION", "RESTORE", "garbage"],
    ["FUNCTION", "DELETE", "mylib"],
    ["FUNCTION", "LIST"],
    # One function per library: Redis lists a library's functions in hash
    # order.
    ["FUNCTION", "LOAD", "#!lua name=one\nredis.register_function{"
     "function_name='f1', callback=function() return 1 end, "
     "flags={'no-writes', 'allow-stale'}, description='d'}"],
    ["FUNCTION", "LOAD", "#!lua name=two\n"
     "redis.register_function('f2', function() return 2 end)"],
    ["FUNCTION", "LIST", "LIBRARYNAME", "one"],
    ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "t*"],
    ["FUNCTION", "LIST", "LIBRARYNAME", "no*"],
    ["FUNCTION", "LIST", "LIBRARYNAME"],
    ["FUNCTION", "LIST", "BAD"],
    ["FCALL_RO", "f1", "0"],
    ["FUNCTION", "FLUSH"],
]


# Scripts and functions over maxmemory (Redis' unit/scripting "allow-oom
# shebang flag"): a script that declares flags is judged by them before it
# runs (deny-oom unless allow-oom or no-writes), one without a shebang only
# when its first write runs.
OOM_LIB = (
    "#!lua name=oomlib\n"
    "redis.register_function('plain', function(k) return 1 end)\n"
    "redis.register_function{function_name='w_oom', callback=function(k) "
    "return redis.call('set', k[1], 'f') end, flags={'allow-oom'}}\n"
    "redis.register_function{function_name='ro', callback=function(k) "
    "return redis.call('get', k[1]) end, flags={'no-writes'}}\n")
SHEBANG_BARE = "#!lua\nreturn 1"
OOM_COMMANDS = [
    ["EVAL", "redis.call('set','x',1) return 1", "1", "x"],
    ["EVAL", "return redis.call('get','x')", "1", "x"],
    ["EVAL", "local t = redis.pcall('set','x','y') return t['err']", "1",
     "x"],
    ["EVAL", "return redis.pcall('set','x','y')", "1", "x"],
    ["EVAL", "#!lua flags=\nreturn 1", "0"],
    ["EVAL", SHEBANG_BARE, "0"],
    ["EVAL", "#!lua flags=allow-oom\nredis.call('set','x',1) return 1", "1",
     "x"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"],
    ["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1",
     "x"],
    ["EVAL_RO", "return redis.call('get','x')", "1", "x"],
    ["EVAL", "#!lua flags=no-writes\nredis.call('set','x',1)", "1", "x"],
    ["EVALSHA", "SHA_BARE", "0"],
    ["FCALL", "plain", "0"],
    ["FCALL_RO", "plain", "0"],
    ["FCALL", "w_oom", "1", "x"],
    ["FCALL", "ro", "1", "x"],
    ["FCALL_RO", "ro", "1", "x"],
    ["FUNCTION", "LOAD", "REPLACE", OOM_LIB],
    ["FUNCTION", "DELETE", "nolib"],
    ["GET", "x"],
]


class ScriptingAgainstRedis(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb("--engine", "memory", "--io-threads", "4")

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()
        cls.qdb.cleanup()

    def both(self):
        return RawClient(self.redis.port), RawClient(self.qdb.port)

    def test_replies_match_redis_resp2_and_resp3(self):
        for proto in ("2", "3"):
            r, q = self.both()
            r.call("HELLO", proto)
            q.call("HELLO", proto)
            r.call("FLUSHALL")
            q.call("FLUSHALL")
            for script in SCRIPTS:
                cmd = ["EVAL", script[0], str(script[1])] + script[2:]
                self.assertEqual(r.call(*cmd), q.call(*cmd), (proto, script))
            r.close()
            q.close()

    def test_commands_and_errors_match_redis(self):
        r, q = self.both()
        for cmd in ERRORS:
            self.assertEqual(r.call(*cmd), q.call(*cmd), cmd)
        r.close()
        q.close()

    def test_functions_match_redis(self):
        for proto in ("2", "3"):
            r, q = self.both()
            r.call("HELLO", proto)
            q.call("HELLO", proto)
            for cmd in FUNCTIONS:
                self.assertEqual(r.call(*cmd), q.call(*cmd), (proto, cmd))
            r.close()
            q.close()

    def oom_setup(self, port):
        c = RawClient(port)
        c.call("CONFIG", "SET", "maxmemory", "0")
        c.call("FLUSHALL")
        c.call("FUNCTION", "FLUSH")
        c.call("SCRIPT", "FLUSH")
        c.call("SET", "x", "123")
        c.call("FUNCTION", "LOAD", OOM_LIB)
        sha = c.call("SCRIPT", "LOAD", SHEBANG_BARE).split(b"\r\n")[1]
        c.call("CONFIG", "RESETSTAT")
        return c, sha.decode()

    def test_script_flags_over_maxmemory_match_redis(self):
        replies = {}
        for port in (self.redis.port, self.qdb.port):
            c, sha = self.oom_setup(port)
            admin = RawClient(port)
            admin.call("CONFIG", "SET", "maxmemory", "1")
            out = []
            for cmd in OOM_COMMANDS:
                cmd = [sha if a == "SHA_BARE" else a for a in cmd]
                out.append(c.call(*cmd))
            # The refusals in the stats: errors counted once, a command a
            # script's call refused counted as rejected.
            admin.call("CONFIG", "SET", "maxmemory", "0")
            out.append(c.call("INFO", "errorstats"))
            stats = c.call("INFO", "commandstats").decode()
            for name in ("set", "eval", "fcall"):
                line = [x for x in stats.split("\r\n")
                        if x.startswith(f"cmdstat_{name}:")]
                out.append([f for f in line[0].split(",")
                            if "calls" in f and not f.startswith("cmdstat")]
                           if line else None)
            out.append(c.call("GET", "x"))
            admin.close()
            c.close()
            replies[port] = out
        self.assertEqual(replies[self.redis.port], replies[self.qdb.port])
        # Not vacuous: the bare shebang was refused, allow-oom wrote.
        self.assertTrue(replies[self.qdb.port][5].startswith(b"-OOM"))
        self.assertEqual(replies[self.qdb.port][6], b":1\r\n")

    def test_queued_scripts_are_judged_by_their_flags_at_exec(self):
        # Queued before maxmemory was crossed: EXEC is aborted when the queue
        # holds a deny-oom script or FUNCTION LOAD, runs a no-writes one.
        queues = [
            [["EVAL", SHEBANG_BARE, "0"]],
            [["EVAL", "#!lua flags=no-writes\nreturn 2", "0"]],
            [["EVAL", "return redis.call('get','x')", "1", "x"]],
            [["FUNCTION", "LOAD", "REPLACE", OOM_LIB]],
            [["FCALL", "ro", "1", "x"], ["FCALL", "plain", "0"]],
        ]
        replies = {}
        for port in (self.redis.port, self.qdb.port):
            out = []
            for queue in queues:
                c, _ = self.oom_setup(port)
                admin = RawClient(port)
                out.append(c.call("MULTI"))
                out += [c.call(*cmd) for cmd in queue]
                admin.call("CONFIG", "SET", "maxmemory", "1")
                out.append(c.call("EXEC"))
                admin.call("CONFIG", "SET", "maxmemory", "0")
                admin.close()
                c.close()
            replies[port] = out
        self.assertEqual(replies[self.redis.port], replies[self.qdb.port])
        self.assertIn(b"-EXECABORT", b"".join(replies[self.qdb.port]))

    def test_script_flags_meet_min_replicas_like_redis(self):
        replies = {}
        for port in (self.redis.port, self.qdb.port):
            c, sha = self.oom_setup(port)
            c.call("CONFIG", "SET", "min-replicas-to-write", "1")
            out = [c.call(*cmd) for cmd in [
                ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')",
                 "1", "x"],
                ["EVAL", "return redis.call('get','x')", "1", "x"],
                ["EVAL", "#!lua\nreturn redis.call('get','x')", "1", "x"],
                ["EVAL", "return redis.call('set','x',1)", "1", "x"],
                ["FCALL", "plain", "0"], ["FCALL", "ro", "1", "x"],
                ["EVALSHA", sha, "0"]]]
            c.call("CONFIG", "SET", "min-replicas-to-write", "0")
            c.close()
            replies[port] = out
        self.assertEqual(replies[self.redis.port], replies[self.qdb.port])
        self.assertTrue(replies[self.qdb.port][2].startswith(b"-NOREPLICAS"))

    def test_function_dump_and_restore(self):
        c = redis.Redis(port=self.qdb.port)
        c.function_flush()
        c.function_load(LIB)
        payload = c.function_dump()
        c.function_flush()
        self.assertEqual(c.function_list(), [])
        c.function_restore(payload)
        self.assertEqual(c.fcall("myfunc", 1, "dk", "dv"), b"OK")
        with self.assertRaises(redis.ResponseError):
            c.function_restore(payload)  # APPEND: the library exists
        c.function_restore(payload, "REPLACE")
        self.assertEqual(c.fcall_ro("ro", 1, "dk"), b"dv")
        c.function_flush()

    def test_function_dump_is_redis_payload(self):
        # The same library dumps to the same bytes on both servers, and each
        # server restores the other's payload.
        r = redis.Redis(port=self.redis.port)
        q = redis.Redis(port=self.qdb.port)
        for c in (r, q):
            c.function_flush()
            c.function_load(LIB)
        # Byte for byte without LZF (qdb's LZF output may differ from
        # Redis' by a byte; both decompress each other's).
        for c in (r, q):
            c.config_set("rdbcompression", "no")
        self.assertEqual(r.function_dump(), q.function_dump())
        for c in (r, q):
            c.config_set("rdbcompression", "yes")
        from_redis = r.function_dump()
        for c, payload in ((q, from_redis), (r, q.function_dump())):
            c.function_flush()
            c.function_restore(payload)
            self.assertEqual(c.fcall("myfunc", 1, "xk", "xv"), b"OK")
        for bad in (from_redis[:-1] + b"x", b"", b"\x00" + from_redis[1:]):
            rc, qc = self.both()
            self.assertEqual(rc.call("FUNCTION", "RESTORE", bad),
                             qc.call("FUNCTION", "RESTORE", bad))
            rc.close()
            qc.close()
        rc, qc = self.both()
        for cmd in (["FUNCTION", "RESTORE", from_redis],
                    ["FUNCTION", "RESTORE", from_redis, "APPEND", "x"],
                    ["FUNCTION", "FLUSH", "SYNC", "x"]):
            self.assertEqual(rc.call(*cmd), qc.call(*cmd), cmd)
        rc.close()
        qc.close()
        for c in (r, q):
            c.function_flush()

    def test_script_is_atomic(self):
        c = redis.Redis(port=self.qdb.port)
        c.mset({"a": 0, "b": 0})
        script = ("for i=1,300 do redis.call('incr','a') "
                  "redis.call('incr','b') end return 1")
        stop = threading.Event()
        seen = []

        def reader():
            rc = redis.Redis(port=self.qdb.port)
            while not stop.is_set():
                a, b = rc.mget("a", "b")
                seen.append((a, b))

        t = threading.Thread(target=reader)
        t.start()
        for _ in range(20):
            c.eval(script, 0)
        stop.set()
        t.join(timeout=10)
        self.assertGreater(len(seen), 0)
        for a, b in seen:
            self.assertEqual(a, b)
        self.assertEqual(c.get("a"), b"6000")

    def test_busy_and_script_kill_match_redis(self):
        results = {}
        for name, port in (("redis", self.redis.port),
                           ("qdb", self.qdb.port)):
            admin = RawClient(port)
            admin.call("CONFIG", "SET", "busy-reply-threshold", "100")
            runner = RawClient(port, timeout=20)
            runner.send(encode("EVAL", "while true do end", "0"))
            time.sleep(0.4)
            other = RawClient(port)
            busy = other.call("GET", "a")
            busy_eval = other.call("EVAL", "return 1", "0")
            busy_load = other.call("SCRIPT", "LOAD", "return 1")
            wrong_kill = admin.call("FUNCTION", "KILL")
            kill = admin.call("SCRIPT", "KILL")
            killed = runner.read_reply()
            after = other.call("PING")
            notbusy = admin.call("SCRIPT", "KILL")
            results[name] = (busy, busy_eval, busy_load, wrong_kill, kill,
                             killed, after, notbusy)
            for c in (admin, runner, other):
                c.close()
        self.assertEqual(results["redis"], results["qdb"], results)
        self.assertTrue(results["qdb"][0].startswith(b"-BUSY "), results)

    def test_unkillable_after_write(self):
        admin = RawClient(self.qdb.port)
        admin.call("CONFIG", "SET", "busy-reply-threshold", "100")
        runner = RawClient(self.qdb.port, timeout=20)
        script = ("redis.call('set','w','1') local t = redis.call('time') "
                  "local s = tonumber(t[1]) while true do "
                  "local n = redis.call('time') "
                  "if tonumber(n[1]) > s + 1 then break end end return 1")
        runner.send(encode("EVAL", script, "0"))
        time.sleep(0.4)
        self.assertTrue(admin.call("SCRIPT", "KILL").startswith(
            b"-UNKILLABLE Sorry the script already executed write"))
        self.assertEqual(runner.read_reply(), b":1\r\n")
        admin.close()
        runner.close()


class ScriptEffectsReplicate(unittest.TestCase):

    def test_replica_receives_effects(self):
        master = start_qdb("--engine", "memory")
        replica = start_qdb("--engine", "memory")
        try:
            m = redis.Redis(port=master.port)
            r = redis.Redis(port=replica.port)
            r.replicaof("127.0.0.1", master.port)
            deadline = time.time() + 30
            while time.time() < deadline:
                if b"master_link_status:up" in r.execute_command(
                        "INFO", "replication"):
                    break
                time.sleep(0.1)
            # Nondeterministic values: only effects replication gives the
            # replica the same data.
            script = ("local t = redis.call('time') "
                      "redis.call('set', KEYS[1], t[1] .. '.' .. t[2]) "
                      "redis.call('rpush', KEYS[2], math.random(), "
                      "tostring({})) "
                      "redis.call('select', 3) "
                      "redis.call('set', 'in3', ARGV[1]) return 1")
            for i in range(5):
                m.eval(script, 2, "t%d" % i, "l%d" % i, "v%d" % i)
            sha = m.script_load("return redis.call('incr', KEYS[1])")
            for _ in range(3):
                m.evalsha(sha, 1, "counter")
            deadline = time.time() + 30
            while time.time() < deadline and r.get("counter") != b"3":
                time.sleep(0.1)
            for i in range(5):
                self.assertEqual(m.get("t%d" % i), r.get("t%d" % i))
                self.assertEqual(m.lrange("l%d" % i, 0, -1),
                                 r.lrange("l%d" % i, 0, -1))
            self.assertEqual(r.get("counter"), b"3")
            self.assertEqual(redis.Redis(port=replica.port, db=3).get("in3"),
                             b"v4")
            # The replica refuses scripts that write.
            raw = RawClient(replica.port)
            self.assertTrue(raw.call(
                "EVAL", "return redis.call('set','x','y')", "0").startswith(
                    b"-READONLY You can't write against a read only "
                    b"replica. script: "))
            raw.close()
        finally:
            master.cleanup()
            replica.cleanup()


if __name__ == "__main__":
    unittest.main()
