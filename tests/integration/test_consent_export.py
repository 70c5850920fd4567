"""
pacer consent export (SPEC section 1, issue 16 point 6): every consent record
that pacerd stored (PUT /v1/customers/{id} with {"granted","source","at"}),
of every customer, as CSV on stdout with a header, for an auditor: the rows
are exactly the records the explanation shows, newest first per customer and
channel. Progress and a closing count go to stderr; exit 2 without Redis.
"""
import csv
import io

from pacertest import PacerTestCase, main, run_pacer

HEADER = ["customer", "channel", "granted", "source", "at", "by"]


class TestConsentExport(PacerTestCase):
    CONF = {"shadow": None}

    def export(self, expect=0):
        p = run_pacer("consent", "export", "-c", self.conf_path)
        self.assertEqual(p.returncode, expect, p.stderr)
        return p

    def test_export_matches_the_stored_records(self):
        customers = []
        # Enough customers that SCAN takes several steps.
        for i in range(1200):
            c = self.customer("ce%d" % i)
            customers.append(c)
            self.put_customer(c, consent={"email": {
                "granted": True, "source": "signup-form",
                "at": self.T0 - 1000 + i % 7}})
        # Some have a history on several channels.
        for i, c in enumerate(customers[:40]):
            self.put_customer(c, consent={
                "email": {"granted": False, "source": "unsubscribe-link",
                          "at": self.T0 + i},
                "sms": {"granted": i % 2 == 0, "source": "sms-keyword"}})
        want = []
        for c in customers:
            st, expl = self.http.get("/v1/customers/%s" % c)
            self.assertEqual(st, 200, expl)
            for ch, recs in sorted(expl["consent_records"].items()):
                for r in recs:
                    want.append([c, ch, "true" if r["granted"] else "false",
                                 r["source"], str(r["at"]), r["by"]])
        p = self.export()
        rows = list(csv.reader(io.StringIO(p.stdout)))
        self.assertEqual(rows[0], HEADER)
        got = [r for r in rows[1:] if r[0] in set(customers)]
        self.assertEqual(len(rows) - 1, len(got), "rows of unknown customers")
        # Per customer and channel the order is the stored one (newest
        # first); customers come in SCAN order.
        key = lambda r: (r[0], r[1])
        self.assertEqual(sorted(got, key=key), sorted(want, key=key))
        self.assertEqual(len(got), 1200 + 40 + 40)
        self.assertIn("1280 consent records of", p.stderr)

    def test_erased_customer_is_not_exported(self):
        c = self.customer("gone")
        self.put_customer(c, consent={"push": {"granted": True,
                                               "source": "app"}})
        self.assertIn(c, self.export().stdout)
        st, body = self.http.request("DELETE", "/v1/customers/%s" % c)
        self.assertEqual(st, 200, body)
        self.assertNotIn(c, self.export().stdout)

    def test_usage_and_no_redis(self):
        p = run_pacer("consent", "-c", self.conf_path)
        self.assertEqual(p.returncode, 1)
        self.assertIn("usage:", p.stderr)
        p = run_pacer("consent", "export", "-c", "/nonexistent.conf")
        self.assertEqual(p.returncode, 1)
        with open(self.conf_path) as f:
            conf = f.read().replace("port = %d" % self.redis.port, "port = 1")
        path = self.conf_path + ".noredis"
        with open(path, "w") as f:
            f.write(conf)
        p = run_pacer("consent", "export", "-c", path)
        self.assertEqual(p.returncode, 2, p.stderr)


if __name__ == "__main__":
    main()
