#!/usr/bin/python3
"""Redis 7.0.15's own tcl test units, in external mode, against qdb-server.

The suite comes from Debian's `redis` source package (`apt-get source redis`),
unpacked once into a cache directory under the build tree. For every unit the
runner starts a fresh qdb-server (and, unless told otherwise, a fresh
redis-server) on a free loopback port, runs

    tclsh tests/test_helper.tcl --host 127.0.0.1 --port P --clients 1
          --tags -needs:debug --single <unit> --timeout S

and counts the [ok], [err], [exception] and [skip] lines. A unit that aborts
([exception], or the runner's per-unit timeout) counts what passed before.

It prints one row per unit: redis-server passed, qdb passed, qdb failed, and
qdb's passed as a share of redis-server's. With --check it compares qdb's
passed count with the floor recorded in baseline.json and exits 1 if a unit
passes fewer tests than recorded (a regression gate; the target of 95 % of
redis-server is tracked separately). Exit 77 (ctest SKIP_RETURN_CODE) when the
source cannot be fetched, e.g. without network.

See docs/compatibility.md.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import random
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
REDIS_VERSION = "7.0."
TAGS = "-needs:debug"
# The suite's own limit on one test without progress (a reply that never
# comes): past it the unit aborts instead of using up the unit's budget.
TEST_TIMEOUT = 60
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STATUS = re.compile(r"^\[(ok|err|exception|skip|ignore)\]: (.*)$")


def log(msg):
    print("compat: " + msg, file=sys.stderr, flush=True)


# --- Fetching the suite ---------------------------------------------------

def as_root(argv, **kw):
    if os.geteuid() != 0:
        argv = ["sudo", "-n"] + argv
    return subprocess.run(argv, **kw)


def add_deb_src_deb822(text):
    """deb822 stanzas (Debian 12's debian.sources): `deb-src` joins every
    Types: line that has `deb` only."""
    out = []
    changed = False
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(Types:)(.*?)(\r?\n)?$", line)
        if m:
            types = m.group(2).split()
            if "deb" in types and "deb-src" not in types:
                types.append("deb-src")
                line = "%s %s%s" % (m.group(1), " ".join(types), m.group(3) or "")
                changed = True
        out.append(line)
    return "".join(out), changed


def add_deb_src_classic(text):
    """A classic sources.list: a `deb-src` twin after every `deb` line that
    has none."""
    lines = text.splitlines()
    have = {l.strip()[len("deb-src"):].strip() for l in lines
            if l.strip().startswith("deb-src ")}
    out = []
    changed = False
    for l in lines:
        out.append(l)
        s = l.strip()
        if s.startswith("deb ") and s[len("deb"):].strip() not in have:
            out.append("deb-src " + s[len("deb"):].strip())
            changed = True
    return "\n".join(out) + "\n", changed


def ensure_deb_src():
    """Adds deb-src entries for the configured archives; True if any file
    changed."""
    changed_any = False
    files = glob.glob("/etc/apt/sources.list.d/*.sources")
    files += glob.glob("/etc/apt/sources.list.d/*.list")
    if os.path.exists("/etc/apt/sources.list"):
        files.append("/etc/apt/sources.list")
    for path in files:
        with open(path) as f:
            text = f.read()
        if path.endswith(".sources"):
            new, changed = add_deb_src_deb822(text)
        else:
            new, changed = add_deb_src_classic(text)
        if not changed:
            continue
        with tempfile.NamedTemporaryFile("w", delete=False) as tmp:
            tmp.write(new)
        r = as_root(["cp", tmp.name, path], capture_output=True)
        os.unlink(tmp.name)
        if r.returncode != 0:
            log("cannot add deb-src to %s: %s" % (path, r.stderr.decode().strip()))
            continue
        log("added deb-src to " + path)
        changed_any = True
    return changed_any


# The one change to the suite: before every server block, external mode runs
# `r function flush`, which would abort every unit on a server without
# FUNCTION (issue 22). Made tolerant, it changes nothing on redis-server.
HARNESS_PATCHES = [("tests/support/server.tcl", "    r function flush\n",
                    "    catch {r function flush}\n")]


def patch_harness(tree):
    for rel, old, new in HARNESS_PATCHES:
        path = os.path.join(tree, rel)
        with open(path) as f:
            text = f.read()
        if old in text:
            with open(path, "w") as f:
                f.write(text.replace(old, new))


def find_tree(cache):
    for d in sorted(glob.glob(os.path.join(cache, "redis-" + REDIS_VERSION + "*"))):
        if os.path.exists(os.path.join(d, "tests", "test_helper.tcl")):
            return d
    return None


def fetch_suite(cache):
    """The unpacked redis-7.0.x source tree, fetched with `apt-get source
    redis` into `cache` on first use; None if it cannot be had."""
    os.makedirs(cache, exist_ok=True)
    tree = find_tree(cache)
    if tree:
        return tree
    if not shutil.which("apt-get") or not shutil.which("dpkg-source"):
        log("apt-get or dpkg-source (package dpkg-dev) missing")
        return None

    def run(argv, root=False):
        try:
            r = (as_root if root else subprocess.run)(
                argv, cwd=cache, capture_output=True, text=True, timeout=300)
        except (subprocess.TimeoutExpired, OSError) as e:
            log("%s: %s" % (" ".join(argv[:3]), e))
            return False
        if r.returncode != 0:
            log("%s: %s" % (" ".join(argv[:3]),
                            (r.stderr.strip() or r.stdout.strip())[-500:]))
        return r.returncode == 0

    if not run(["apt-get", "source", "-q", "redis"]):
        ensure_deb_src()
        run(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update",
             "-q"], root=True)
        run(["apt-get", "source", "-q", "redis"])
    tree = find_tree(cache)
    if not tree:
        got = glob.glob(os.path.join(cache, "redis-*/"))
        log("no redis-%sx source tree in %s (have: %s)" %
            (REDIS_VERSION, cache, ", ".join(got) or "nothing"))
    return tree


# --- Servers --------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    def __init__(self, kind, build_dir, log_path):
        self.tmp = tempfile.mkdtemp(prefix="reborn-compat-%s-" % kind)
        self.port = free_port()
        if kind == "qdb":
            # One I/O thread: some units (BRPOPLPUSH with multiple blocked
            # clients) assume that commands sent on two connections run in
            # the order they were sent, which single-threaded Redis gives
            # and qdb's parallel I/O threads do not under load.
            argv = [os.path.join(build_dir, "bin", "qdb-server"),
                    "--port", str(self.port), "--dir",
                    os.path.join(self.tmp, "data"), "--io-threads", "1"]
        else:
            argv = ["redis-server", "--port", str(self.port), "--bind",
                    "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--dir", self.tmp]
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.tmp)
        if not wait_for_port(self.port, self.proc):
            self.stop()
            raise RuntimeError("%s did not start, see %s" % (kind, log_path))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- Running a unit -------------------------------------------------------

def parse(output):
    counts = {"ok": 0, "err": 0, "exception": 0, "skip": 0, "ignore": 0}
    failed = []
    for line in output.splitlines():
        m = STATUS.match(ANSI.sub("", line))
        if m:
            counts[m.group(1)] += 1
            if m.group(1) in ("err", "exception"):
                failed.append(m.group(2))
    return counts, failed


def run_unit(tree, unit, kind, build_dir, log_dir, timeout):
    """Runs one unit against a fresh server of `kind`; a result dict."""
    name = unit.replace("/", "_")
    server_log = os.path.join(log_dir, "%s.%s-server.log" % (name, kind))
    test_log = os.path.join(log_dir, "%s.%s.log" % (name, kind))
    start = time.time()
    try:
        server = Server(kind, build_dir, server_log)
    except (RuntimeError, OSError) as e:
        return {"passed": 0, "failed": 0, "skipped": 0, "aborted": True,
                "seconds": 0.0, "note": str(e)}
    timed_out = False
    proc = None
    try:
        for _ in range(5):
            # The test server listens on one of the 32 ports below
            # --baseport: a random range keeps concurrent runs apart, and
            # a port taken meanwhile by another process means a new try.
            baseport = random.randrange(20000, 30000, 64)
            argv = [shutil.which("tclsh") or "tclsh", "tests/test_helper.tcl",
                    "--host", "127.0.0.1", "--port", str(server.port),
                    "--baseport", str(baseport), "--clients", "1",
                    "--tags", TAGS, "--single", unit,
                    "--timeout", str(min(timeout, TEST_TIMEOUT))]
            with open(test_log, "wb") as out:
                proc = subprocess.Popen(argv, cwd=tree, stdout=out,
                                        stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL,
                                        start_new_session=True)
                proc.wait(timeout=timeout)
            with open(test_log, "rb") as f:
                output = f.read().decode(errors="replace")
            if "couldn't open socket" not in output.split("[ready]")[0]:
                break
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        server.stop()
    with open(test_log, "rb") as f:
        output = f.read().decode(errors="replace")
    counts, failed = parse(output)
    note = ""
    if timed_out:
        note = "timed out after %ds" % timeout
    elif counts["exception"]:
        note = "aborted"
    elif proc.returncode != 0 and not (counts["ok"] or counts["err"]):
        note = "test harness failed, see " + test_log
        counts["exception"] = 1
    return {"passed": counts["ok"], "failed": counts["err"] + counts["exception"],
            "skipped": counts["skip"] + counts["ignore"],
            "aborted": bool(timed_out or counts["exception"]),
            "seconds": round(time.time() - start, 1), "note": note,
            "failures": failed[:50]}


# --- Main -----------------------------------------------------------------

def main():
    # A ctest timeout or ^C still stops the servers (run_unit's finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("REBORN_BUILD_DIR",
                                                          "build"))
    ap.add_argument("--cache", help="where the source is unpacked "
                    "(default: <build-dir>/compat/src)")
    ap.add_argument("--baseline", default=os.path.join(HERE, "baseline.json"))
    ap.add_argument("--units", help="comma-separated units (default: all in "
                    "the baseline)")
    ap.add_argument("--set", help="the units of one set in the baseline")
    ap.add_argument("--redis", choices=["run", "recorded", "none"],
                    default="run", help="run redis-server too, print its "
                    "recorded count, or neither")
    ap.add_argument("--timeout", type=int, default=600,
                    help="seconds per unit and server")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if qdb passes fewer tests than recorded")
    ap.add_argument("--fetch-only", action="store_true",
                    help="fetch and unpack the suite, run nothing")
    ap.add_argument("--record", metavar="FILE",
                    help="write the measured counts as JSON")
    args = ap.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    with open(args.baseline) as f:
        baseline = json.load(f)
    if args.units:
        units = args.units.split(",")
    elif args.set:
        units = baseline["sets"][args.set]
    else:
        units = list(baseline["units"])

    if not shutil.which("tclsh"):
        log("SKIP: tclsh not installed (package tcl)")
        return SKIP
    cache = args.cache or os.path.join(build_dir, "compat", "src")
    # --fetch-only (ctest's fixture) tries once and leaves a mark when it
    # fails, so that the units skip at once instead of retrying apt.
    unavailable = os.path.join(cache, "UNAVAILABLE")
    if args.fetch_only and os.path.exists(unavailable):
        os.unlink(unavailable)
    tree = None if os.path.exists(unavailable) else fetch_suite(cache)
    if not tree:
        if args.fetch_only:
            open(unavailable, "w").close()
        log("SKIP: Redis %sx test suite unavailable (apt-get source redis "
            "failed: no network or no deb-src?)" % REDIS_VERSION)
        return SKIP
    patch_harness(tree)
    if args.fetch_only:
        log("suite ready in " + tree)
        return 0
    log_dir = os.path.join(build_dir, "compat", "logs")
    os.makedirs(log_dir, exist_ok=True)
    log("suite %s, logs in %s" % (tree, log_dir))

    results = {}
    for unit in units:
        r = {}
        if args.redis == "run":
            r["redis"] = run_unit(tree, unit, "redis", build_dir, log_dir,
                                  args.timeout)
        r["qdb"] = run_unit(tree, unit, "qdb", build_dir, log_dir,
                            args.timeout)
        floor = baseline["units"].get(unit, {}).get("qdb")
        if args.check and floor is not None and r["qdb"]["passed"] < floor:
            # Some tests race between connections (a blocked client that
            # is not yet blocked); qdb's I/O threads make that likelier.
            # One more run before calling it a regression.
            log("%s: %d passed, below the floor %d; running it again" %
                (unit, r["qdb"]["passed"], floor))
            again = run_unit(tree, unit, "qdb", build_dir, log_dir,
                             args.timeout)
            if again["passed"] > r["qdb"]["passed"]:
                r["qdb"] = again
        results[unit] = r
        q = r["qdb"]
        log("%s: qdb %d passed, %d failed in %.0fs %s" %
            (unit, q["passed"], q["failed"], q["seconds"], q["note"]))

    regressions = []
    row = "%-28s %8s %8s %8s %7s %7s  %s"
    print(row % ("unit", "redis ok", "qdb ok", "qdb err", "ratio", "floor",
                 "note"))
    tot_r = tot_q = 0
    for unit in units:
        rec = baseline["units"].get(unit, {})
        if args.redis == "run":
            rp = results[unit]["redis"]["passed"]
        else:
            rp = rec.get("redis")
        q = results[unit]["qdb"]
        floor = rec.get("qdb")
        ratio = "%.0f%%" % (100.0 * q["passed"] / rp) if rp else "-"
        tot_r += rp or 0
        tot_q += q["passed"]
        note = q["note"]
        if floor is not None and q["passed"] < floor:
            regressions.append(unit)
            note = ("REGRESSION (%d < %d) " % (q["passed"], floor)) + note
        print(row % (unit, "-" if rp is None else rp, q["passed"], q["failed"],
                     ratio, "-" if floor is None else floor, note))
    print(row % ("total", tot_r, tot_q, "", "%.0f%%" % (100.0 * tot_q / tot_r)
                 if tot_r else "-", "", ""))
    sys.stdout.flush()

    if args.record:
        with open(args.record, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    if args.check and regressions:
        log("qdb passes fewer tests than recorded in %s: %s (logs in %s)" %
            (args.baseline, ", ".join(regressions), log_dir))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
