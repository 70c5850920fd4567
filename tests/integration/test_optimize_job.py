"""
POST /v1/optimize forks `pacer optimize`: the child must not inherit
pacerd's descriptors (its listening socket, client connections, the Redis
connection, the event loop's epoll and signal pipes). A child that kept them
would keep the port bound past pacerd's exit and could write into its
connections.

PACER_BIN points pacerd at a stand-in for `pacer` that lists its own
/proc/PID/fd and exits: that listing is what the real optimizer would get.
"""
import os
import re
import shutil
import sys
import tempfile
import time

from pacertest import PacerTestCase, HttpClient, write_file, main

SCRIPT = """#!%s
import os, sys
fds = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[int(fd)] = os.readlink("/proc/self/fd/" + fd)
    except OSError:
        pass            # the listing's own descriptor, closed by now
with open(%r + ".tmp", "w") as f:
    for fd in sorted(fds):
        f.write("%%d -> %%s\\n" %% (fd, fds[fd]))
os.rename(%r + ".tmp", %r)
"""


class TestOptimizeChildFds(PacerTestCase):
    CONF = {"optimizer": {"run_at": None}}

    @classmethod
    def setUpClass(cls):
        cls.stand_in_dir = tempfile.mkdtemp(
            prefix="pacer-it-fake-pacer-")
        cls.listing = os.path.join(cls.stand_in_dir, "fds.txt")
        script = write_file(os.path.join(cls.stand_in_dir, "pacer"),
                            SCRIPT % (sys.executable, cls.listing,
                                     cls.listing, cls.listing))
        os.chmod(script, 0o755)
        old = os.environ.get("PACER_BIN")
        os.environ["PACER_BIN"] = script
        try:
            super().setUpClass()
        finally:
            if old is None:
                del os.environ["PACER_BIN"]
            else:
                os.environ["PACER_BIN"] = old
        cls.addClassCleanup(shutil.rmtree, cls.stand_in_dir,
                            True)

    def test_child_has_no_descriptor_of_pacerd(self):
        # A second connection, kept open: a client socket pacerd holds.
        other = HttpClient(self.daemon.port)
        st, _ = other.get("/healthz")
        self.assertEqual(st, 200)
        self.put_customer(self.customer(), consent={"email": True})
        st, body = self.http.post("/v1/optimize", {})
        self.assertIn(st, (200, 202), body)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.listing) and time.monotonic() < deadline:
            time.sleep(0.02)
        other.close()
        with open(self.listing) as f:
            listing = f.read()
        fds = {}
        for line in listing.splitlines():
            m = re.match(r"(\d+) -> (.*)$", line)
            if m:
                fds[int(m.group(1))] = m.group(2)
        self.assertIn(2, fds, listing)
        self.assertTrue(fds[2].startswith("pipe:"), "stderr: the progress "
                        "pipe\n" + listing)
        for fd, target in sorted(fds.items()):
            if fd <= 2:
                self.assertFalse(target.startswith(("socket:", "anon_inode:")),
                                 "fd %d -> %s\n%s" % (fd, target, listing))
                continue
            # Only what the stand-in opened itself may be there.
            self.assertFalse(target.startswith(("socket:", "pipe:",
                                                "anon_inode:")),
                             "fd %d -> %s inherited from pacerd\n%s"
                             % (fd, target, listing))
        # The run is reaped and reported done.
        run_id = body["run_id"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            st, status = self.http.get("/v1/optimize/" + run_id)
            if status.get("status") != "running":
                break
            time.sleep(0.05)
        self.assertEqual(status.get("status"), "done", status)


if __name__ == "__main__":
    main()
