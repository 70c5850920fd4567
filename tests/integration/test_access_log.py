"""
The optional access log ([server] access_log): off by default; a path
(relative to the config file) or "-" for stderr; one logfmt line per
answer with the time, client, method, path (never the query), status, body
bytes and duration; reopened on reload, so logrotate can move it.
"""

import os
import re
import signal
import time

from pacertest import PacerTestCase, main, raw_http, read_text

LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse(line):
    """A logfmt line as a dict (quoted values unquoted)."""
    out = {}
    for k, v in LOGFMT.findall(line):
        if v.startswith('"'):
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[k] = v
    return out


def requests_in(text):
    return [parse(l) for l in text.splitlines() if 'msg="request"' in l or
            "msg=request " in l]


class TestAccessLogOff(PacerTestCase):
    """Without the key nothing is logged per request."""

    def test_off_by_default(self):
        for _ in range(3):
            st, _ = self.http.get("/healthz")
            self.assertEqual(st, 200)
        time.sleep(0.2)
        self.assertEqual(requests_in(self.daemon.log_text()), [])


class TestAccessLogFile(PacerTestCase):
    """access_log = access.log: next to the config file."""

    CONF = {"server": {"access_log": "access.log"}}

    def path(self):
        return os.path.join(os.path.dirname(self.conf_path), "access.log")

    def lines(self, n, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            got = requests_in(read_text(self.path()))
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def test_lines(self):
        before = len(self.lines(0))
        c = self.consented_customer()
        st, body = self.decide(c, "email")
        self.assertEqual(st, 200, body)
        st, _ = self.http.get("/v1/no/such/path?secret=1")
        self.assertEqual(st, 404)
        st, _ = self.http.request("HEAD", "/healthz")    # takes GET only
        self.assertEqual(st, 405)
        got = self.lines(before + 4)[before:]
        self.assertEqual(len(got), 4, got)
        put, decide, missing, head = got
        self.assertEqual((put["method"], put["path"], put["status"]),
                         ("PUT", "/v1/customers/" + c, "200"))
        self.assertEqual((decide["method"], decide["path"], decide["status"]),
                         ("POST", "/v1/decide", "200"))
        self.assertEqual(missing["path"], "/v1/no/such/path")   # no query
        self.assertEqual(missing["status"], "404")
        self.assertEqual((head["method"], head["status"], head["bytes"]),
                         ("HEAD", "405", "0"))            # no body on HEAD
        for line in got:
            self.assertRegex(line["ts"], r"^\d{4}-\d\d-\d\dT")
            self.assertRegex(line["remote"], r"^127\.0\.0\.1:\d+$")
            self.assertGreaterEqual(float(line["duration_ms"]), 0)
            self.assertLess(float(line["duration_ms"]), 5000)
            self.assertEqual(line["tls"], "false")
            self.assertEqual(line["token"], "-")     # no tokens file

    def test_bytes_match_body(self):
        before = len(self.lines(0))
        st, body = self.http.get("/healthz")
        self.assertEqual(st, 200)
        got = self.lines(before + 1)[before:]
        self.assertEqual(int(got[0]["bytes"]), len(self.http.raw))

    def test_hostile_path_stays_one_line(self):
        before = len(self.lines(0))
        st, _, _ = raw_http(self.daemon.port,
                            b'GET /x"y=z\\w HTTP/1.1\r\nHost: x\r\n'
                            b"Connection: close\r\n\r\n")
        self.assertEqual(st, 404)
        got = self.lines(before + 1)[before:]
        self.assertEqual(got[0]["path"], '/x"y=z\\w')
        self.assertEqual(got[0]["status"], "404")

    def test_reopened_on_reload(self):
        self.http.get("/healthz")
        self.lines(1)
        moved = self.path() + ".1"
        os.rename(self.path(), moved)
        self.daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "config reloaded" not in self.daemon.log_text() and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        st, _ = self.http.get("/readyz")
        self.assertEqual(st, 200)
        got = self.lines(1)
        self.assertEqual([g["path"] for g in got], ["/readyz"])


class TestAccessLogStderr(PacerTestCase):
    """access_log = -: the lines go to stderr with the daemon's log."""

    CONF = {"server": {"access_log": "-"}}

    def test_stderr(self):
        st, _ = self.http.get("/healthz")
        self.assertEqual(st, 200)
        deadline = time.monotonic() + 5
        while not [l for l in requests_in(self.daemon.log_text())
                   if l.get("path") == "/healthz"]:
            self.assertLess(time.monotonic(), deadline,
                            self.daemon.log_text())
            time.sleep(0.05)
        self.assertFalse(os.path.exists(os.path.join(
            os.path.dirname(self.conf_path), "-")))


if __name__ == "__main__":
    main()
