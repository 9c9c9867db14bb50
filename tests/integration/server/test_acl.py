"""ACL against a real redis-server: users, passwords, command / category /
key / channel rules, NOPERM errors, AUTH and HELLO AUTH, ACL LOG, DRYRUN,
DELUSER closing connections, the ACL file, and redis-py's ACL calls. The
same commands go to both servers and the replies are compared byte for
byte; where Redis' reply depends on its hash table order (ACL CAT lists,
the single-command part of a rule description) the items are compared as
sets."""

import os
import tempfile
import unittest

import redis

from harness import (RawClient, client_pair, start_qdb, start_redis)

# Replies that must be the same bytes from both servers, in order.
SAME_REPLIES = [
    ["ACL", "SETUSER", "bad user"],
    ["ACL", "SETUSER", "u1", "nosuchrule"],
    ["ACL", "SETUSER", "u1", "+nosuchcommand"],
    ["ACL", "SETUSER", "u1", "+@nosuchcategory"],
    ["ACL", "SETUSER", "u1", "allkeys", "~foo"],
    ["ACL", "SETUSER", "u1", "allchannels", "&foo"],
    ["ACL", "SETUSER", "u1", "<nopassword"],
    ["ACL", "SETUSER", "u1", "#abc"],
    ["ACL", "SETUSER", "u1", "+config|get|x"],
    ["ACL", "SETUSER", "u1", "+select|"],
    ["ACL", "SETUSER", "u1", "%X~foo"],
    ["ACL", "SETUSER", "u1", "(+get", "~x"],
    ["ACL", "SETUSER", "u1", "(+get nosuch)"],
    ["ACL", "SETUSER"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "on", ">pw1", ">pw2", "<pw1", "~k*", "%R~r*",
     "%W~w*", "%RW~rw*", "&ch*", "+get"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "#" + "a" * 64, "!" + "a" * 64],
    ["ACL", "SETUSER", "u1", "resetkeys", "resetchannels", "allkeys",
     "allchannels", "+@all", "-@dangerous"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "nocommands", "+@read", "+@hash"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "allcommands", "-@write", "+set"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "-@all", "+client|id", "+config|get"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "-@all", "+select|0"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "(+get ~sel*)", "(+set", "~other*)"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "clearselectors", "nopass", "skip-sanitize-payload"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "reset"],
    ["ACL", "GETUSER", "u1"],
    ["ACL", "USERS"],
    ["ACL", "GETUSER", "default"],
    ["ACL", "GETUSER", "nosuch"],
    ["ACL", "WHOAMI"],
    ["ACL", "WHOAMI", "x"],
    ["ACL", "CAT"],
    ["ACL", "CAT", "nosuch"],
    ["ACL", "CAT", "read", "x"],
    ["ACL", "DELUSER", "default"],
    ["ACL", "DELUSER", "nosuch", "u1"],
    ["ACL", "DELUSER"],
    ["ACL", "GENPASS", "0"],
    ["ACL", "GENPASS", "4097"],
    ["ACL", "GENPASS", "x"],
    ["ACL", "LOG", "x"],
    ["ACL", "LOG", "1", "2"],
    ["ACL", "LOAD"],
    ["ACL", "SAVE"],
    ["ACL", "NOSUCH"],
    ["ACL"],
    ["ACL", "HELP"],
    ["ACL", "DRYRUN", "nosuch", "get", "x"],
    ["ACL", "DRYRUN", "default", "nosuchcmd"],
    ["ACL", "DRYRUN", "default", "get"],
    ["ACL", "DRYRUN", "default", "get", "x"],
    ["AUTH", "x"],
    ["AUTH", "nosuch", "x"],
]


def normalize_rules(rules):
    """The category part of a command description in order, the single
    commands after it as a set (Redis emits those in hash order), without
    qdb's own commands (SLOTS*, COMPACT), which Redis does not have."""
    words = rules.split(b" ")
    head = [w for w in words if w[1:2] == b"@"]
    rest = sorted(w for w in words if w[1:2] != b"@" and
                  not w[1:].startswith(b"slots") and w[1:] != b"compact")
    return head, rest


class AclTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = start_redis()
        cls.qdb = start_qdb()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()
        cls.qdb.stop()

    def setUp(self):
        self.r, self.q = client_pair(self.redis.port, self.qdb.port)
        for c in (self.r, self.q):
            c.call("ACL", "LOG", "RESET")

    def tearDown(self):
        for c in (self.r, self.q):
            for user in c.call("ACL", "USERS").split(b"\r\n")[1:]:
                if user and not user.startswith(b"$") and user != b"default":
                    c.call("ACL", "DELUSER", user)
            c.close()

    def both(self, *args):
        got = self.r.call(*args), self.q.call(*args)
        self.assertEqual(got[0], got[1], args)
        return got[1]

    def same_user(self, name):
        """ACL GETUSER from both, the command rules normalized."""
        got = []
        for port in (self.redis.port, self.qdb.port):
            c = redis.Redis(port=port)
            user = c.execute_command("ACL", "GETUSER", name)
            c.close()
            if user is None:
                got.append(None)
                continue
            fields = dict(zip(user[0::2], user[1::2]))
            fields[b"commands"] = normalize_rules(fields[b"commands"])
            fields[b"selectors"] = [
                [normalize_rules(v) if i == 1 else v
                 for i, v in enumerate(sel)] for sel in fields[b"selectors"]]
            got.append(fields)
        self.assertEqual(got[0], got[1], name)

    def test_same_replies(self):
        for args in SAME_REPLIES:
            if args[:2] == ["ACL", "GETUSER"]:
                self.same_user(args[2])
            else:
                self.both(*args)

    def test_described_rules(self):
        # Rules whose single-command part has several commands: the
        # category part must match in order, the rest as a set.
        cases = [
            ["-@all", "+get", "+set", "+hget", "+@list"],
            ["+@all", "-flushall", "-flushdb", "-debug", "-@admin"],
            ["-@all", "+@string", "-append", "+@bitmap", "+client|list"],
            ["+@all", "-@write", "+set", "+del", "-config|set"],
        ]
        for rules in cases:
            for c in (self.r, self.q):
                self.assertEqual(c.call("ACL", "SETUSER", "d", "reset",
                                        *rules), b"+OK\r\n")
            got = []
            for c in (self.r, self.q):
                reply = c.call("ACL", "LIST").split(b"\r\n")
                line = [x for x in reply if x.startswith(b"user d ")][0]
                got.append(normalize_rules(line.split(b" -@all", 1)[-1]
                                           if b"-@all" in line
                                           else line.split(b" +@all", 1)[-1]))
            self.assertEqual(got[0], got[1], rules)

    def test_cat_of_every_category(self):
        served = set(self.q.call("COMMAND", "LIST").split(b"\r\n")[2::2])
        categories = self.both("ACL", "CAT").split(b"\r\n")[2::2]
        self.assertEqual(len(categories), 21)
        for cat in categories:
            lists = []
            for c in (self.r, self.q):
                lists.append(set(c.call("ACL", "CAT", cat)
                                 .split(b"\r\n")[2::2]) - {b""})
            redis_has, qdb_has = lists
            self.assertTrue(redis_has, cat)
            # Every command qdb serves is in Redis' category, and every
            # command of Redis' category that qdb serves is listed.
            self.assertEqual(qdb_has & redis_has, redis_has & served, cat)
            # What qdb lists beyond Redis is its own (SLOTS*, COMPACT).
            for extra in qdb_has - redis_has:
                self.assertTrue(extra.startswith(b"slots") or
                                extra == b"compact", (cat, extra))

    def test_noperm_and_log(self):
        self.both("ACL", "SETUSER", "app", "on", ">secret", "~app:*",
                  "%R~ro:*", "&news.*", "+@read", "+set", "+publish",
                  "+subscribe", "+psubscribe", "-debug")
        r, q = client_pair(self.redis.port, self.qdb.port)
        try:
            steps = [
                ["AUTH", "app", "wrong"],
                ["AUTH", "app", "secret"],
                ["ACL", "WHOAMI"],
                ["SET", "app:1", "v"],
                ["GET", "app:1"],
                ["GET", "other"],
                ["SET", "ro:1", "v"],
                ["GET", "ro:1"],
                ["MSET", "app:2", "v"],
                ["LPUSH", "app:l", "x"],
                ["CONFIG", "GET", "port"],
                ["PUBLISH", "news.today", "x"],
                ["PUBLISH", "sport", "x"],
                ["MULTI"],
                ["GET", "app:1"],
                ["GET", "forbidden"],
                ["EXEC"],
                ["SUBSCRIBE", "news.a", "other"],
                ["PSUBSCRIBE", "news.*"],
                ["PSUBSCRIBE", "news.x*"],
            ]
            for args in steps:
                got = r.call(*args), q.call(*args)
                self.assertEqual(got[0], got[1], args)
            # ACL LOG: the same entries (ages and client details differ).
            def entries(port):
                with redis.Redis(port=port) as c:
                    return [(e["count"], e["reason"], e["context"],
                             e["object"], e["username"])
                            for e in c.acl_log()]
            self.assertEqual(entries(self.redis.port),
                             entries(self.qdb.port))
            self.both("ACL", "LOG", "0")
            self.both("ACL", "DRYRUN", "app", "get", "app:1")
            self.both("ACL", "DRYRUN", "app", "get", "zzz")
            self.both("ACL", "DRYRUN", "app", "set", "ro:1", "v")
            self.both("ACL", "DRYRUN", "app", "lpush", "app:1", "v")
            self.both("ACL", "DRYRUN", "app", "publish", "zzz", "v")
            self.both("ACL", "DRYRUN", "app", "config", "get", "x")
        finally:
            r.close()
            q.close()

    def test_rights_change_at_once(self):
        self.both("ACL", "SETUSER", "ch", "on", "nopass", "+get", "~*")
        r, q = client_pair(self.redis.port, self.qdb.port)
        try:
            for args in (["AUTH", "ch", "x"], ["GET", "k"],
                         ["SET", "k", "v"]):
                self.assertEqual(r.call(*args), q.call(*args))
            self.both("ACL", "SETUSER", "ch", "+set", "-get")
            for args in (["GET", "k"], ["SET", "k", "v"]):
                self.assertEqual(r.call(*args), q.call(*args))
            # Queued, then the rule changes before EXEC.
            for args in (["MULTI"], ["SET", "k", "w"]):
                self.assertEqual(r.call(*args), q.call(*args))
            self.both("ACL", "SETUSER", "ch", "-set")
            self.assertEqual(r.call("EXEC"), q.call("EXEC"))
        finally:
            r.close()
            q.close()

    def test_scripts_run_with_the_callers_rights(self):
        self.both("ACL", "SETUSER", "lua", "on", "nopass", "+eval", "+get",
                  "~a*", "&pub")
        r, q = client_pair(self.redis.port, self.qdb.port)
        try:
            for args in (
                    ["AUTH", "lua", "x"],
                    ["EVAL", "return redis.call('get', 'a1')", "0"],
                    ["EVAL", "return redis.call('set', 'a1', 'v')", "0"],
                    ["EVAL", "return redis.call('get', 'b1')", "0"],
                    ["EVAL", "return redis.pcall('get', 'b1')", "0"],
                    ["EVAL", "return 1", "1", "b1"]):
                self.assertEqual(r.call(*args), q.call(*args), args)
            def entries(port):
                with redis.Redis(port=port) as c:
                    return [(e["count"], e["reason"], e["context"],
                             e["object"], e["username"])
                            for e in c.acl_log()]
            self.assertEqual(entries(self.redis.port), entries(self.qdb.port))
        finally:
            r.close()
            q.close()

    def test_deluser_closes_connections(self):
        self.both("ACL", "SETUSER", "gone", "on", ">pw", "+@all", "~*")
        victims = client_pair(self.redis.port, self.qdb.port)
        for c in victims:
            self.assertEqual(c.call("AUTH", "gone", "pw"), b"+OK\r\n")
        self.assertIn(b"user=gone",
                      self.q.call("CLIENT", "LIST"))
        self.both("CLIENT", "KILL", "USER", "nosuch")
        self.both("CLIENT", "KILL", "USER", "default", "SKIPME", "yes",
                  "ID", "999999")
        self.both("ACL", "DELUSER", "gone")
        for c in victims:
            data, closed = c.read_until_closed(timeout=5)
            self.assertTrue(closed)
            c.close()
        # CLIENT KILL USER closes the user's connections only.
        self.both("ACL", "SETUSER", "k", "on", ">pw", "+@all", "~*")
        victims = client_pair(self.redis.port, self.qdb.port)
        for c in victims:
            self.assertEqual(c.call("AUTH", "k", "pw"), b"+OK\r\n")
        self.both("CLIENT", "KILL", "USER", "k")
        for c in victims:
            data, closed = c.read_until_closed(timeout=5)
            self.assertTrue(closed)
            c.close()
        self.both("PING")
        # Deleting oneself: the reply, then the connection closes.
        self.both("ACL", "SETUSER", "self", "on", ">pw", "+@all", "~*")
        for c in client_pair(self.redis.port, self.qdb.port):
            self.assertEqual(c.call("AUTH", "self", "pw"), b"+OK\r\n")
            self.assertEqual(c.call("ACL", "DELUSER", "self"), b":1\r\n")
            data, closed = c.read_until_closed(timeout=5)
            self.assertTrue(closed)
            c.close()

    def test_off_user_and_hello_auth(self):
        self.both("ACL", "SETUSER", "h", "off", ">pw", "+@all", "~*")
        r, q = client_pair(self.redis.port, self.qdb.port)
        try:
            self.assertEqual(r.call("HELLO", "2", "AUTH", "h", "pw"),
                             q.call("HELLO", "2", "AUTH", "h", "pw"))
            self.both("ACL", "SETUSER", "h", "on")
            for c in (r, q):
                reply = c.call("HELLO", "2", "AUTH", "h", "pw")
                self.assertTrue(reply.startswith(b"*14\r\n"), reply)
            self.assertEqual(r.call("ACL", "WHOAMI"), q.call("ACL", "WHOAMI"))
            self.assertEqual(r.call("RESET"), q.call("RESET"))
            self.assertEqual(r.call("ACL", "WHOAMI"), q.call("ACL", "WHOAMI"))
        finally:
            r.close()
            q.close()

    def test_requirepass_is_the_default_password(self):
        for c in (self.r, self.q):
            self.assertEqual(c.call("CONFIG", "SET", "requirepass", "pw"),
                             b"+OK\r\n")
        try:
            self.both("ACL", "GETUSER", "default")
            r, q = client_pair(self.redis.port, self.qdb.port)
            for args in (["GET", "x"], ["AUTH", "no"], ["AUTH", "pw"],
                         ["ACL", "WHOAMI"]):
                self.assertEqual(r.call(*args), q.call(*args), args)
            r.close()
            q.close()
        finally:
            for c in (self.r, self.q):
                c.call("CONFIG", "SET", "requirepass", "")
        self.both("ACL", "GETUSER", "default")

    def test_redis_py(self):
        for port in (self.redis.port, self.qdb.port):
            c = redis.Redis(port=port, decode_responses=True)
            self.assertTrue(c.acl_setuser(
                "py", enabled=True, passwords=["+pw"], keys=["py:*"],
                commands=["+get", "+set", "+@hash"]))
            user = c.acl_getuser("py")
            self.assertEqual(user["flags"], ["on"])
            self.assertIn("~py:*", str(user["keys"]))
            self.assertIn("+get", user["commands"])
            self.assertEqual(c.acl_whoami(), "default")
            self.assertEqual(len(c.acl_genpass()), 64)
            self.assertEqual(len(c.execute_command("ACL", "GENPASS", "5")), 2)
            self.assertIn("py", c.acl_users())
            self.assertIn("get", c.acl_cat("string"))
            u = redis.Redis(port=port, username="py", password="pw",
                            decode_responses=True)
            self.assertTrue(u.set("py:1", "v"))
            with self.assertRaises(redis.exceptions.NoPermissionError):
                u.set("other", "v")
            with self.assertRaises(redis.exceptions.NoPermissionError):
                u.lpush("py:l", "v")
            self.assertEqual(c.acl_log(1)[0]["reason"], "command")
            self.assertTrue(c.acl_log_reset())
            self.assertEqual(c.acl_deluser("py"), 1)
            u.close()
            c.close()


class AclFileTest(unittest.TestCase):
    def test_save_and_load(self):
        # As in Redis, a missing file stops the start: begin with an empty one.
        data = tempfile.mkdtemp(prefix="reborn-acl-")
        open(os.path.join(data, "users.acl"), "w").close()
        qdb = start_qdb("--dir", data, "--aclfile", "users.acl")
        try:
            c = RawClient(qdb.port)
            self.assertEqual(c.call("ACL", "SETUSER", "f", "on", ">pw",
                                    "~f:*", "+get"), b"+OK\r\n")
            self.assertEqual(c.call("ACL", "SAVE"), b"+OK\r\n")
            path = os.path.join(data, "users.acl")
            with open(path) as f:
                text = f.read()
            self.assertIn("user f on #", text)
            self.assertIn("user default on nopass", text)
            with open(path, "a") as f:
                f.write("user g on nopass ~* +@all\n")
            self.assertEqual(c.call("ACL", "LOAD"), b"+OK\r\n")
            self.assertIn(b"g", c.call("ACL", "USERS"))
            with open(path, "a") as f:
                f.write("user h bogus\n")
            reply = c.call("ACL", "LOAD")
            self.assertTrue(reply.startswith(b"-ERR users.acl:4: Syntax "
                                             b"error. WARNING: ACL errors"),
                            reply)
            self.assertNotIn(b"h", c.call("ACL", "USERS").replace(
                b"\r\n", b" ").split())
            c.close()
        finally:
            qdb.stop()
        # Users of the file are there at the next start.
        with open(path) as f:
            lines = [x for x in f if not x.startswith("user h ")]
        with open(path, "w") as f:
            f.writelines(lines)
        qdb2 = start_qdb("--dir", data, "--aclfile", "users.acl")
        try:
            c = RawClient(qdb2.port)
            users = c.call("ACL", "USERS").split(b"\r\n")
            self.assertIn(b"f", users)
            self.assertIn(b"g", users)
            self.assertEqual(c.call("AUTH", "f", "pw"), b"+OK\r\n")
            c.close()
        finally:
            qdb2.stop()

    def test_aclfile_is_never_a_path(self):
        for bad in ("/tmp/users.acl", "../users.acl", "a/b"):
            with self.assertRaises(Exception):
                p = start_qdb("--aclfile", bad)
                p.stop()
        c_port = start_qdb()
        try:
            c = RawClient(c_port.port)
            reply = c.call("CONFIG", "SET", "aclfile", "x")
            self.assertTrue(reply.startswith(b"-ERR CONFIG SET failed"), reply)
            c.close()
        finally:
            c_port.stop()


if __name__ == "__main__":
    unittest.main()
