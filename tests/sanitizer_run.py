"""Runs one integration test under a sanitizer build and fails it if any
process it started wrote an AddressSanitizer, LeakSanitizer or UBSan report.

Integration tests start daemons (qdb-server, reborn-proxy, reborn-agent, ...)
whose stderr goes to temp logs nobody reads, and a daemon that dies of a
report may not make the test fail. So every sanitized process of the test
writes its reports to a fresh directory (ASAN_OPTIONS/UBSAN_OPTIONS log_path,
inherited by every child), and this wrapper fails the test when that directory
is not empty afterwards, printing the reports. An empty directory is removed;
a non-empty one is kept under <build>/sanitizer-reports/ for inspection.

usage: sanitizer_run.py <build-dir> <command> [args...]
"""

import os
import shutil
import subprocess
import sys
import tempfile

# Options every sanitized child gets (docs/testing.md).
ASAN = ["halt_on_error=1", "detect_leaks=1", "abort_on_error=0",
        "check_initialization_order=1"]
UBSAN = ["halt_on_error=1", "print_stacktrace=1"]


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    build_dir, command = argv[1], argv[2:]
    root = os.path.join(build_dir, "sanitizer-reports")
    os.makedirs(root, exist_ok=True)
    # The test's script (python3 <script> ...) names the report directory.
    name = os.path.splitext(os.path.basename(command[min(1, len(command) - 1)]))[0]
    report_dir = tempfile.mkdtemp(prefix=name + "-", dir=root)
    prefix = os.path.join(report_dir, "report")
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(ASAN + ["log_path=" + prefix])
    env["UBSAN_OPTIONS"] = ":".join(UBSAN + ["log_path=" + prefix])
    env["LSAN_OPTIONS"] = "suppressions=" + os.path.join(
        here, "sanitizer", "lsan.supp")
    # Slower code under ASan: tests scale their waits by this (docs/testing.md).
    env.setdefault("REBORN_TEST_TIME_SCALE", "3")
    rc = subprocess.call(command, env=env)
    reports = sorted(os.listdir(report_dir))
    if not reports:
        shutil.rmtree(report_dir, ignore_errors=True)
        return rc
    for r in reports:
        path = os.path.join(report_dir, r)
        sys.stdout.write("==== sanitizer report %s ====\n" % path)
        with open(path, errors="replace") as f:
            sys.stdout.write(f.read())
    sys.stdout.write("FAIL: %d sanitizer report(s) in %s\n" %
                     (len(reports), report_dir))
    sys.stdout.flush()
    return rc if rc != 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
