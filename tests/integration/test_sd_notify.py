"""
pacerd's systemd readiness (Type=notify, issue 17), without systemd: the
test plays systemd's part with its own NOTIFY_SOCKET and checks what pacerd
says: READY=1 once it listens, RELOADING=1 (with MONOTONIC_USEC) then
READY=1 around a SIGHUP reload, good or bad, and STOPPING=1 when SIGTERM
starts the drain.

Skipped when pacerd was built without libsystemd (nothing to notify with).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from pacertest import (BUILD_DIR, RedisServer, base_overrides, free_port,
                       main, make_config, pacerd_path, require_redis,
                       stop_process, wait_for_port, write_file)


def systemd_linked():
    try:
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            return any(l.startswith("SYSTEMD_FOUND:") and l.strip().endswith("=1")
                       for l in f)
    except OSError:
        return False


class TestSdNotify(unittest.TestCase):
    def setUp(self):
        if not systemd_linked():
            self.skipTest("pacerd is built without libsystemd")
        require_redis()
        self.workdir = tempfile.mkdtemp(prefix="pacer-notify-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.redis = RedisServer(self.workdir)
        self.redis.start()
        self.addCleanup(self.redis.stop)
        self.port = free_port()
        self.conf = write_file(os.path.join(self.workdir, "pacer.conf"),
                               make_config(base_overrides(
                                   self.port, self.redis.port, self.workdir)))
        self.sock_path = os.path.join(self.workdir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(10)
        self.addCleanup(self.sock.close)

    def expect(self, *states):
        """The next message holds every state in states (one per line)."""
        msg = self.sock.recv(4096).decode()
        lines = msg.split("\n")
        for s in states:
            self.assertIn(s, lines, msg)
        return lines

    def test_ready_reload_stopping(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path)
        log = open(os.path.join(self.workdir, "pacerd.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen([pacerd_path(), "-c", self.conf], env=env,
                                stdout=log, stderr=log, cwd="/")
        self.addCleanup(stop_process, proc)
        self.expect("READY=1")
        # READY comes after the listener is bound: a connect succeeds.
        self.assertTrue(wait_for_port(self.port, timeout=1, proc=proc))

        proc.send_signal(signal.SIGHUP)
        lines = self.expect("RELOADING=1")
        self.assertTrue(any(l.startswith("MONOTONIC_USEC=") for l in lines))
        self.expect("READY=1")

        # A reload that fails validation also ends with READY=1.
        with open(self.conf, "a") as f:
            f.write("\n[bogus]\n")
        proc.send_signal(signal.SIGHUP)
        self.expect("RELOADING=1")
        self.expect("READY=1")

        proc.send_signal(signal.SIGTERM)
        self.expect("STOPPING=1")
        self.assertEqual(proc.wait(timeout=20), 0)


if __name__ == "__main__":
    main()
