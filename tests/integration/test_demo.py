"""
pacer demo-data: deterministic by seed, realistic shape (SPEC sections 1, 4).
No Redis needed.
"""
import csv
import hashlib
import os
import shutil
import tempfile
import time
import unittest

from pacertest import main, run_pacer

NOW = 1795000000  # a fixed --now: the files depend only on the seed


def digest(folder):
    """sha256 of every file in folder, by name."""
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class TestDemoData(unittest.TestCase):
    N, M = 3000, 20

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pacer-it-demo-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def demo(self, name, seed, n=None, m=None, now=NOW):
        out = os.path.join(self.tmp, name)
        args = ["demo-data", "--customers", n or self.N, "--offers",
                m or self.M, "--seed", seed, "--out", out]
        if now is not None:
            args += ["--now", now]
        p = run_pacer(*args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return out

    def test_same_seed_same_bytes(self):
        a = self.demo("a", 42)
        b = self.demo("b", 42)
        self.assertEqual(sorted(os.listdir(a)), ["contacts.csv", "offers.csv",
                                                 "profiles.csv", "scores.csv"])
        self.assertEqual(digest(a), digest(b))

    def test_other_seed_other_data(self):
        a = self.demo("c", 1)
        b = self.demo("d", 2)
        da, db = digest(a), digest(b)
        for name in ("scores.csv", "profiles.csv", "contacts.csv"):
            self.assertNotEqual(da[name], db[name], name)

    def test_shape(self):
        out = self.demo("shape", 7)
        offers = rows(os.path.join(out, "offers.csv"))
        self.assertEqual(len(offers), self.M)
        names = {o["offer"] for o in offers}
        self.assertEqual(len(names), self.M, "offer names are unique")
        self.assertEqual({o["channel"] for o in offers} - {"email", "sms", "push"},
                         set())
        self.assertGreaterEqual(len({o["campaign"] for o in offers}), 3)
        self.assertIn("credit", {o["category"] for o in offers})
        with_budget = [o for o in offers if o["budget"] != ""]
        self.assertGreaterEqual(len(with_budget), self.M // 2)
        self.assertTrue(any(o["capacity"] != "" for o in offers))
        for o in offers:
            self.assertGreater(float(o["value"]), 0)
            self.assertGreaterEqual(float(o["cost"]), 0)

        profiles = rows(os.path.join(out, "profiles.csv"))
        self.assertEqual(len(profiles), self.N)
        ids = [p["customer"] for p in profiles]
        self.assertEqual(len(set(ids)), self.N)
        vulnerable = sum("vulnerable" in p["segments"].split(";")
                         for p in profiles)
        self.assertTrue(0.01 * self.N <= vulnerable <= 0.06 * self.N,
                        vulnerable)
        self.assertGreaterEqual(len({p["tz"] for p in profiles}), 5)
        no_consent = sum(all(p[c] == "0" for c in ("email", "sms", "push"))
                         for p in profiles)
        self.assertGreater(no_consent, 0)
        for p in profiles:
            for c in ("email", "sms", "push"):
                self.assertIn(p[c], ("0", "1"))

        scores = rows(os.path.join(out, "scores.csv"))
        share = len(scores) / float(self.N * self.M)
        self.assertTrue(0.35 <= share <= 0.65, share)
        props = [float(s["propensity"]) for s in scores]
        self.assertTrue(all(0.0 <= p <= 1.0 for p in props))
        props.sort()
        median, top = props[len(props) // 2], props[int(len(props) * 0.99)]
        self.assertGreater(top, 3 * median, "propensities are skewed")
        self.assertTrue({s["offer"] for s in scores} <= names)
        self.assertTrue({s["customer"] for s in scores} <= set(ids))
        pairs = {(s["customer"], s["offer"]) for s in scores}
        self.assertEqual(len(pairs), len(scores), "no duplicate pairs")

        contacts = rows(os.path.join(out, "contacts.csv"))
        self.assertGreater(len(contacts), self.N // 2)
        times = [int(c["time"]) for c in contacts]
        self.assertEqual(times, sorted(times), "a log in time order")
        self.assertTrue(all(NOW - 7 * 86400 <= t < NOW for t in times))
        by_offer = {o["offer"]: o for o in offers}
        per_customer = {}
        for c in contacts:
            o = by_offer[c["offer"]]
            self.assertEqual((c["channel"], c["campaign"]),
                             (o["channel"], o["campaign"]))
            per_customer[c["customer"]] = per_customer.get(c["customer"], 0) + 1
        # Some customers are already at the 5/7d all-channel cap.
        self.assertGreater(sum(1 for v in per_customer.values() if v >= 5), 0)

    def test_fast(self):
        t = time.monotonic()
        self.demo("fast", 3, n=200000, m=50)
        self.assertLess(time.monotonic() - t, 30)

    def test_bad_arguments(self):
        for args in (["--customers", "0", "--offers", "5", "--seed", "1"],
                     ["--customers", "10", "--offers", "x", "--seed", "1"],
                     ["--customers", "10", "--offers", "5"]):
            p = run_pacer("demo-data", *args, "--out",
                          os.path.join(self.tmp, "bad"))
            self.assertEqual(p.returncode, 1, args)


if __name__ == "__main__":
    main()
