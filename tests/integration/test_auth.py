"""
Tokens (SPEC section 3): with [server] tokens_file set, every /v1 request
needs "Authorization: Bearer TOKEN"; 401 without or with a wrong token, 403
for a role that may not; decide tokens may call decide, batch, cancel and
the customer read; admin may call all; /healthz, /readyz and /metrics need
no token. A refused request changes nothing.

The tokens file itself: pacerd refuses one that others may read or that
group or others may write (0644, 0666; 0600 and 0640 pass), and tokens of
the placeholder kind conf/tokens shows (change-me, ...) or of fewer than 8
different characters, at start-up (-t too) and on reload.

Skipped (with a message) when the daemon ignores tokens_file altogether
(a token-less /v1/decide answered 200): auth is issue 4's work.
"""

import os
import re
import subprocess
import tempfile
import shutil
import unittest

from pacertest import (PacerTestCase, HttpClient, TOKENS_EXAMPLE,
                       base_overrides, check_config, free_port, make_config,
                       merge_overrides, pacerd_path, require_binary,
                       write_file, main)

DECIDE = "decide-token-0123456789"
ADMIN = "admin-token-abcdefghijk"


class TestAuth(PacerTestCase):
    TOKEN = ADMIN
    CONF = {"shadow": None}

    @classmethod
    def extra_conf(cls):
        path = write_file(os.path.join(cls.workdir, "tokens"),
                          "# test tokens\n%s decide\n%s admin\n"
                          % (DECIDE, ADMIN))
        os.chmod(path, 0o600)
        return {"server": {"tokens_file": path}}

    def setUp(self):
        self.anon = HttpClient(self.daemon.port)
        self.dec = HttpClient(self.daemon.port, token=DECIDE)
        self.c = self.customer()
        st, _ = self.anon.post("/v1/decide", {"customer": self.c,
                                              "channel": "push",
                                              "dry_run": True})
        if st == 200:
            self.skipTest("pacerd ignores tokens_file (no auth yet)")
        self.put_customer(self.c, consent={"push": True, "email": True})

    def tearDown(self):
        self.anon.close()
        self.dec.close()

    def calls(self):
        c = self.c
        return {
            "decide": ("POST", "/v1/decide",
                       {"customer": c, "channel": "push", "time": self.T0,
                        "dry_run": True}),
            "batch": ("POST", "/v1/decide/batch",
                      {"requests": [{"customer": c, "channel": "push",
                                     "time": self.T0, "dry_run": True}]}),
            "cancel": ("POST", "/v1/cancel",
                       {"customer": c, "send_id": "none"}),
            "read": ("GET", "/v1/customers/" + c, None),
            "put": ("PUT", "/v1/customers/" + c, {"tz": "UTC"}),
            "delete": ("DELETE", "/v1/customers/" + self.customer("other"),
                       None),
            "optimize": ("POST", "/v1/optimize", {}),
            "reload": ("POST", "/v1/admin/reload", {}),
        }

    def assertUnchanged(self, fn, desc):
        before = self.dump()
        out = fn()
        self.assertEqual(self.dump(), before, desc)
        return out

    def test_no_token_is_401(self):
        for name, (m, path, body) in self.calls().items():
            with self.subTest(name):
                st, resp = self.assertUnchanged(
                    lambda: self.anon.request(m, path, body), name)
                self.assertError(st, resp, 401, None, msg=name)

    def test_wrong_token_is_401(self):
        for tok in ("nope", DECIDE + "x", DECIDE[:-1], ADMIN.upper(),
                    "decide"):
            for name, (m, path, body) in self.calls().items():
                with self.subTest(token=tok, call=name):
                    st, resp = self.assertUnchanged(
                        lambda: self.anon.request(m, path, body, token=tok),
                        name)
                    self.assertError(st, resp, 401, None, msg=name)

    def test_malformed_authorization_is_401(self):
        for header in ("Basic " + DECIDE, DECIDE, "Bearer", "Bearer  ",
                       "bearer" + DECIDE):
            with self.subTest(header):
                st, resp = self.anon.request(
                    "POST", "/v1/decide",
                    {"customer": self.c, "channel": "push"},
                    headers={"Authorization": header})
                self.assertError(st, resp, 401, None, msg=header)

    def test_decide_role(self):
        allowed = ("decide", "batch", "cancel", "read")
        for name, (m, path, body) in self.calls().items():
            with self.subTest(name):
                if name in allowed:
                    st, resp = self.dec.request(m, path, body)
                    self.assertEqual(st, 200, "%s -> %s %r" % (name, st,
                                                               resp))
                else:
                    st, resp = self.assertUnchanged(
                        lambda: self.dec.request(m, path, body), name)
                    self.assertError(st, resp, 403, None, msg=name)

    def test_admin_role(self):
        for name, (m, path, body) in self.calls().items():
            if name in ("optimize",):
                continue        # starts a run: not this test's business
            with self.subTest(name):
                st, resp = self.http.request(m, path, body)
                self.assertNotIn(st, (401, 403), "%s -> %s %r" % (name, st,
                                                                  resp))
                self.assertEqual(st, 200, "%s -> %s %r" % (name, st, resp))

    def test_decide_token_decides(self):
        st, body = self.decide(self.c, "push", client=self.dec, time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_open_endpoints(self):
        for path in ("/healthz", "/readyz", "/metrics"):
            with self.subTest(path):
                st, body = self.anon.get(path)
                self.assertEqual(st, 200, "%s -> %s %r" % (path, st, body))

    def test_401_before_400(self):
        # A bad body without a token is refused for the token.
        st, body = self.anon.post("/v1/decide", "{not json")
        self.assertError(st, body, 401)

    def test_reload_refuses_an_open_or_weak_tokens_file(self):
        path = os.path.join(self.workdir, "tokens")
        good = "# test tokens\n%s decide\n%s admin\n" % (DECIDE, ADMIN)
        try:
            for mode in (0o644, 0o666, 0o660):
                with self.subTest(mode=oct(mode)):
                    os.chmod(path, mode)
                    st, body = self.http.post("/v1/admin/reload", {})
                    self.assertError(st, body, 400, [path, "%04o" % mode])
                    # The running tokens serve on.
                    st, body = self.decide(self.c, "push", client=self.dec,
                                           time=self.T0, dry_run=True)
                    self.assertEqual(st, 200, body)
            for weak in ("decide-token-change-me", "Admin-Token-CHANGEME-1234",
                         "abababababababababab"):
                with self.subTest(token=weak):
                    write_file(path, good + "%s decide\n" % weak)
                    os.chmod(path, 0o600)
                    st, body = self.http.post("/v1/admin/reload", {})
                    self.assertError(st, body, 400, [path + ":4"])
                    st, _ = self.anon.request(
                        "POST", "/v1/decide", {"customer": self.c,
                                               "channel": "push",
                                               "dry_run": True}, token=weak)
                    self.assertEqual(st, 401)
            for mode in (0o640, 0o600):
                with self.subTest(mode=oct(mode)):
                    write_file(path, good)
                    os.chmod(path, mode)
                    st, body = self.http.post("/v1/admin/reload", {})
                    self.assertEqual(st, 200, body)
        finally:
            write_file(path, good)
            os.chmod(path, 0o600)


class TestTokensFileAtStart(unittest.TestCase):
    """pacerd -t and a plain start refuse an open or weak tokens file."""

    @classmethod
    def setUpClass(cls):
        require_binary(pacerd_path(), "pacerd")
        cls.workdir = tempfile.mkdtemp(prefix="pacer-it-tokens-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)

    def conf(self, text, mode):
        tokens = write_file(os.path.join(self.workdir, "tokens"), text)
        os.chmod(tokens, mode)
        conf = make_config(merge_overrides(
            base_overrides(free_port(), free_port(), self.workdir),
            {"server": {"tokens_file": tokens}}))
        return tokens, write_file(os.path.join(self.workdir, "p.conf"), conf)

    def test_modes(self):
        text = "%s decide\n%s admin\n" % (DECIDE, ADMIN)
        for mode, ok in ((0o600, True), (0o640, True), (0o400, True),
                         (0o644, False), (0o666, False), (0o604, False),
                         (0o660, False), (0o620, False)):
            with self.subTest(mode=oct(mode)):
                tokens, conf = self.conf(text, mode)
                p = check_config(conf)
                if ok:
                    self.assertEqual(p.returncode, 0, p.stderr)
                else:
                    self.assertEqual(p.returncode, 1, p.stderr)
                    self.assertIn(tokens + ":0:", p.stderr)
                    self.assertIn("%04o" % mode, p.stderr)

    def test_start_refuses_0666(self):
        tokens, conf = self.conf("%s decide\n" % DECIDE, 0o666)
        p = subprocess.run([pacerd_path(), "-c", conf], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(tokens, p.stderr)

    def test_example_tokens_refused(self):
        # Every "TOKEN ROLE" line the shipped template shows (commented out
        # or not) is refused once copied into a private file.
        with open(TOKENS_EXAMPLE) as f:
            shown = [m.group(1) for m in
                     (re.match(r"^#?\s*(\S{16,})\s+(decide|admin)\s*$", line)
                      for line in f) if m]
        self.assertIn("decide-token-change-me", shown)
        for tok in shown + ["aaaaaaaaaaaaaaaaaaaa", "0101010101010101",
                            "my-example-token-1234", "PLACEHOLDER-xyz-98765"]:
            with self.subTest(token=tok):
                tokens, conf = self.conf("%s admin\n%s decide\n"
                                         % (ADMIN, tok), 0o600)
                p = check_config(conf)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(tokens + ":2:", p.stderr)

    def test_shipped_template_refused(self):
        # As checked out (0644), the template is refused for its mode.
        with open(TOKENS_EXAMPLE) as f:
            tokens, conf = self.conf(f.read(), 0o644)
        p = check_config(conf)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("0644", p.stderr)


if __name__ == "__main__":
    main()
