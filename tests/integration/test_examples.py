"""
The client examples of conf/share/examples/ (installed in
share/pacer/examples/), run against a real pacerd: decide_send_cancel.py
(Python, standard library) and decide_send_cancel.sh (sh and curl).

Each is run for the decide -> send flow, a failed send (cancelled: the
reservation stops counting), a 503 and a timeout on the way (a proxy in
front of pacerd answers the first request 503, or holds pacerd's answer
past the client's timeout): the client retries with the SAME send_id and
pacerd counts the send once; a denial with retry_after waited out with a
new send_id; a 409 send_id_conflict reported as a bug (exit 3), not retried.
"""

import http.client
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time

from pacertest import PacerTestCase, SOURCE_DIR, main, midday_zone

EXAMPLES = os.path.join(SOURCE_DIR, "conf", "share", "examples")
PY = os.path.join(EXAMPLES, "decide_send_cancel.py")
SH = os.path.join(EXAMPLES, "decide_send_cancel.sh")


class Proxy:
    """
    An HTTP proxy in front of pacerd. plan: what to do with the n-th
    request ("503": answer 503 itself; "slow": forward, then hold the
    answer 3 s; anything else: forward). Records every request body.
    """

    def __init__(self, port, plan):
        self.plan = list(plan)
        self.bodies = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.bodies.append(json.loads(body))
                what = proxy.plan.pop(0) if proxy.plan else "forward"
                if what == "503":
                    data = b'{"error":"busy","code":"unavailable"}'
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                else:
                    c = http.client.HTTPConnection("127.0.0.1", port,
                                                   timeout=10)
                    c.request("POST", self.path, body,
                              {k: v for k, v in self.headers.items()})
                    r = c.getresponse()
                    data = r.read()
                    c.close()
                    if what == "slow":
                        time.sleep(3)
                    self.send_response(r.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ExampleCase(PacerTestCase):
    CONF = {"channel push": {"cap": ["1/3s"]}}

    def run_client(self, customer, channel, url=None, env=None, extra=()):
        """Run the example; (exit status, output lines)."""
        raise NotImplementedError

    def contacts(self, customer):
        st, ex = self.http.get("/v1/customers/" + customer)
        self.assertEqual(st, 200, ex)
        return [c["send_id"] for c in ex["recent_contacts"]]

    def lines(self, out, word):
        return [dict(kv.split("=", 1) for kv in l.split()[1:] if "=" in kv)
                for l in out if l.startswith(word + " ")]

    def test_sent(self):
        c = self.consented_customer(tz=midday_zone())
        rc, out = self.run_client(c, "email")
        self.assertEqual(rc, 0, out)
        d, = self.lines(out, "decide")
        self.assertEqual(d["allow"], "true", out)
        self.assertEqual(self.contacts(c), [d["send_id"]])

    def test_failed_send_is_cancelled(self):
        c = self.consented_customer(tz=midday_zone())
        rc, out = self.run_client(c, "email", send_fails=True)
        self.assertEqual(rc, 5, out)
        x, = self.lines(out, "cancel")
        self.assertEqual((x["status"], x["released"]), ("200", "true"), out)
        self.assertEqual(self.contacts(c), [])

    def test_denied(self):
        c = self.consented_customer(tz=midday_zone())
        self.put_customer(c, consent={"sms": False})
        rc, out = self.run_client(c, "sms")
        self.assertEqual(rc, 4, out)
        d, = self.lines(out, "decide")
        self.assertEqual(d["reason"], "no_consent", out)

    def test_retry_after_waited_out_with_a_new_send_id(self):
        c = self.consented_customer(tz=midday_zone())
        st, first = self.http.post("/v1/decide", {"customer": c,
                                                  "channel": "push"})
        self.assertTrue(first["allow"], first)
        t0 = time.monotonic()
        rc, out = self.run_client(c, "push", max_wait=10)
        self.assertEqual(rc, 0, out)
        denied, allowed = self.lines(out, "decide")
        self.assertEqual(denied["reason"], "cap", out)
        self.assertNotEqual(denied["send_id"], allowed["send_id"])
        self.assertGreaterEqual(time.monotonic() - t0,
                                int(denied["retry_after"]) - 1)
        self.assertEqual(sorted(self.contacts(c)),
                         sorted([first["send_id"], allowed["send_id"]]))

    def test_conflict_is_a_bug(self):
        c = self.consented_customer(tz=midday_zone())
        self.http.post("/v1/decide", {"customer": c, "channel": "email",
                                      "send_id": "taken-1"})
        rc, out = self.run_client(c, "sms", send_id="taken-1")
        self.assertEqual(rc, 3, out)
        self.assertTrue(any(l.startswith("bug:") for l in out), out)
        self.assertEqual(len(self.lines(out, "POST")), 0, out)

    def through_proxy(self, plan):
        p = Proxy(self.daemon.port, plan)
        self.addCleanup(p.close)
        c = self.consented_customer(tz=midday_zone())
        rc, out = self.run_client(c, "email", url=p.url)
        self.assertEqual(rc, 0, out)
        ids = [b["send_id"] for b in p.bodies]
        self.assertEqual(len(ids), 2, out)
        self.assertEqual(len(set(ids)), 1, "a retry keeps its send_id")
        self.assertEqual(self.contacts(c), ids[:1], "counted once")
        return out

    def test_503_retried_with_the_same_send_id(self):
        t0 = time.monotonic()
        out = self.through_proxy(["503"])
        self.assertGreaterEqual(time.monotonic() - t0, 1.0,
                                "Retry-After: 1 respected")
        self.assertTrue(any("status=503" in l for l in out), out)

    def test_timeout_retried_with_the_same_send_id(self):
        # pacerd reserved on the first request; its answer came too late.
        self.through_proxy(["slow"])

    def test_unreachable(self):
        c = self.customer()
        rc, out = self.run_client(c, "email", url="http://127.0.0.1:9",
                                  attempts=2)
        self.assertEqual(rc, 2, out)


class TestPythonExample(ExampleCase):

    def run_client(self, customer, channel, url=None, send_fails=False,
                   max_wait=0, send_id=None, attempts=5):
        cmd = [sys.executable, PY, "--customer", customer, "--channel",
               channel, "--url", url or "http://127.0.0.1:%d"
               % self.daemon.port, "--timeout", "1", "--attempts",
               str(attempts), "--max-wait", str(max_wait)]
        if send_fails:
            cmd.append("--send-fails")
        if send_id:
            cmd += ["--send-id", send_id]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout.splitlines() + p.stderr.splitlines()


class TestShellExample(ExampleCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which("curl") is None:
            raise AssertionError("curl is not installed (scripts/deps.sh)")
        super().setUpClass()

    def run_client(self, customer, channel, url=None, send_fails=False,
                   max_wait=0, send_id=None, attempts=5):
        env = dict(os.environ, PACER_URL=url or "http://127.0.0.1:%d"
                   % self.daemon.port, TIMEOUT="1", ATTEMPTS=str(attempts),
                   MAX_WAIT=str(max_wait), SEND_FAILS="1" if send_fails
                   else "0")
        if send_id:
            env["SEND_ID"] = send_id
        p = subprocess.run(["sh", SH, customer, channel], capture_output=True,
                           text=True, timeout=60, env=env)
        return p.returncode, p.stdout.splitlines() + p.stderr.splitlines()


del ExampleCase

if __name__ == "__main__":
    main()
