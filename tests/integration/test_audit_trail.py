"""
The admin audit trail (issue 17): profile and consent changes, erasures,
reloads and optimizer runs each leave one log line with the name of the
token that asked (the tokens file's optional third column; the role when
unnamed), whatever the log level. Consent records name it too. The erased
customer's id is never written.
"""

import os
import re
import signal
import time

from pacertest import (PacerTestCase, HttpClient, base_overrides,
                       check_config, free_port, make_config, merge_overrides,
                       write_file, main)

ALICE = "admin-token-Alice-7f3k9q2m"
BOT = "decide-token-Bot-5h8w1x4z"
PLAIN = "admin-token-plain-2b6n0v9c"


def wait_until(pred, timeout, step=0.02):
    """Poll pred until it is true or timeout passes; (ok, last value)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return bool(v), v
        time.sleep(step)


class TestAuditTrail(PacerTestCase):
    TOKEN = ALICE
    CONF = {"shadow": None}

    @classmethod
    def extra_conf(cls):
        path = write_file(os.path.join(cls.workdir, "tokens"),
                          "%s admin alice@example.com\n%s decide crm-bot\n"
                          "%s admin\n" % (ALICE, BOT, PLAIN))
        os.chmod(path, 0o600)
        return {"server": {"tokens_file": path}}

    def audit_lines(self, action):
        return re.findall(r'msg="admin action" action=%s [^\n]*' % action,
                          self.daemon.log_text())

    def test_profile_consent_and_erasure_name_the_token(self):
        c = self.customer()
        prof = self.put_customer(c, consent={"email": {
            "granted": True, "source": "signup-form"}})
        self.assertEqual(prof["consent_records"]["email"][0]["by"],
                         "alice@example.com")
        ok, _ = wait_until(lambda: any(
            "by=alice@example.com customer=%s" % c in line
            for line in self.audit_lines("profile")), 5)
        self.assertTrue(ok, self.daemon.log_text())
        # An unnamed token is named by its role.
        plain = HttpClient(self.daemon.port, token=PLAIN)
        st, prof = plain.put("/v1/customers/" + c,
                             {"consent": {"sms": True}})
        plain.close()
        self.assertEqual(st, 200, prof)
        self.assertEqual(prof["consent_records"]["sms"][0]["by"], "admin")
        # Erasure: who, not whom.
        st, body = self.http.request("DELETE", "/v1/customers/" + c)
        self.assertEqual(st, 200, body)
        ok, _ = wait_until(lambda: self.audit_lines("erase"), 5)
        self.assertTrue(ok, self.daemon.log_text())
        self.assertIn("by=alice@example.com", self.audit_lines("erase")[0])
        self.assertNotIn(c, self.daemon.log_text().split(
            "action=erase")[1])

    def test_reloads_name_who_asked(self):
        st, body = self.http.post("/v1/admin/reload")
        self.assertEqual(st, 200, body)
        self.daemon.signal(signal.SIGHUP)
        ok, _ = wait_until(lambda: len(self.audit_lines("reload")) >= 2, 5)
        self.assertTrue(ok, self.daemon.log_text())
        whos = [re.search(r"by=(\S+)", line).group(1)
                for line in self.audit_lines("reload")]
        self.assertIn("alice@example.com", whos)
        self.assertIn("signal", whos)

    def test_bad_name_is_refused(self):
        path = write_file(os.path.join(self.workdir, "bad-tokens"),
                          "%s admin bad|name\n" % ALICE)
        os.chmod(path, 0o600)
        conf = write_file(os.path.join(self.workdir, "bad-names.conf"),
                          make_config(merge_overrides(
                              base_overrides(free_port(), self.redis.port,
                                             self.workdir),
                              {"server": {"tokens_file": path}})))
        p = check_config(conf)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("bad-tokens:1", p.stderr)


if __name__ == "__main__":
    main()
