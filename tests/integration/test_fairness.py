"""
[fairness] inside pacer optimize: with segments = student,vulnerable and
min_ratio = 0.9 (vulnerable's own 1/7d cap and credit exclusion pull its
sends per customer down, so its row binds), both methods plan within every
row, checked in Python from assignments.csv and profiles.csv alone;
summary.json's fairness.constraints give each row's sends, sends per
customer against the base's, binding and a shadow price (positive where
the row binds); the rows cost value against the same run without them.
A [fairness] segment that is not a configured [segment NAME] is refused
with the config line.
"""
import csv
import os

from pacertest import main, run_pacer
from test_optimize import OptimizeCase, load_json, read_csv

RATIO = 0.9
FAIR = ["student", "vulnerable"]


class TestFairness(OptimizeCase):
    CONF = dict(OptimizeCase.CONF)
    CONF["segment student"] = {}
    CONF["fairness"] = {"segments": ",".join(FAIR), "min_ratio": str(RATIO)}
    N, M, SEED = 600, 12, 5

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.segments = {}
        with open(os.path.join(cls.data, "profiles.csv"), newline="") as f:
            for row in csv.DictReader(f):
                cls.segments[row["customer"]] = set(
                    s for s in row["segments"].split(";") if s)
        cls.base = sorted({r["customer"] for r in read_csv(
            os.path.join(cls.data, "scores.csv"))})
        cls.runs = {}
        for method in ("scale", "exact"):
            cls.runs[method] = cls.run_folder(cls.conf_path, method)
        cls.free_conf = cls.write_conf("free.conf", cls.redis.port,
                                       {"fairness": {"segments": ""}})
        cls.runs["free"] = cls.run_folder(cls.free_conf, "exact")

    @classmethod
    def run_folder(cls, conf, method):
        p = run_pacer("optimize", "-c", conf, "--offers",
                      os.path.join(cls.data, "offers.csv"), "--scores",
                      os.path.join(cls.data, "scores.csv"), "--out",
                      cls.reports, "--method", method, timeout=300)
        assert p.returncode == 0, p.stderr
        run_id = [l.rsplit("candidate is ", 1)[1].strip()
                  for l in p.stderr.splitlines() if "candidate is " in l][0]
        return os.path.join(cls.reports, run_id)

    def sends(self, folder):
        per = {}
        for row in read_csv(os.path.join(folder, "assignments.csv")):
            per[row["customer"]] = per.get(row["customer"], 0) + 1
        return per

    def test_rows_hold_in_every_plan(self):
        for method in ("scale", "exact"):
            per = self.sends(self.runs[method])
            total = sum(per.values())
            self.assertGreater(total, 0, method)
            base_rate = total / len(self.base)
            for seg in FAIR:
                members = [c for c in self.base if seg in self.segments[c]]
                self.assertTrue(members, seg)
                rate = sum(per.get(c, 0) for c in members) / len(members)
                self.assertGreaterEqual(rate, RATIO * base_rate - 1e-9,
                                        "%s %s" % (method, seg))

    def test_summary_reports_each_row(self):
        for method in ("scale", "exact"):
            summary = load_json(os.path.join(self.runs[method],
                                             "summary.json"))
            self.assertIn(summary["status"], ("optimal", "gap_reached"),
                          method)
            fair = summary["fairness"]
            self.assertEqual(fair["base_customers"], len(self.base))
            rows = fair["constraints"]
            self.assertEqual([r["segment"] for r in rows], FAIR)
            per = self.sends(self.runs[method])
            total = sum(per.values())
            for r in rows:
                members = [c for c in self.base
                           if r["segment"] in self.segments[c]]
                self.assertEqual(r["customers"], len(members))
                self.assertEqual(r["sends"], sum(per.get(c, 0)
                                                 for c in members))
                self.assertAlmostEqual(r["sends_per_customer"],
                                       r["sends"] / len(members))
                self.assertAlmostEqual(r["base_sends_per_customer"],
                                       total / len(self.base))
                self.assertEqual(r["min_ratio"], RATIO)
                self.assertGreaterEqual(r["shadow_price"], 0)
                # Binding: one send fewer to the segment breaks the row.
                one_less = (r["sends"] - 1) * len(self.base) < \
                    RATIO * len(members) * (total - 1) - 1e-9
                self.assertEqual(r["binding"], r["sends"] > 0 and one_less,
                                 "%s %s" % (method, r))
            vul = rows[FAIR.index("vulnerable")]
            self.assertTrue(vul["binding"], method)
            self.assertGreater(vul["shadow_price"], 0, method)
            with open(os.path.join(self.runs[method],
                                   "report.html")) as f:
                html = f.read()
            self.assertIn("Fairness constraints", html)

    def test_fairness_costs_value(self):
        fair = load_json(os.path.join(self.runs["exact"], "summary.json"))
        free = load_json(os.path.join(self.runs["free"], "summary.json"))
        self.assertEqual(free["fairness"]["constraints"], [])
        self.assertGreater(free["objective"], fair["objective"])
        scale = load_json(os.path.join(self.runs["scale"], "summary.json"))
        # Both certified: each bound covers the other's plan.
        self.assertGreaterEqual(scale["bound"], fair["objective"] - 1e-6)
        self.assertGreaterEqual(fair["bound"], scale["objective"] - 1e-6)

    def test_unknown_segment_refused(self):
        conf = self.write_conf("bad.conf", self.redis.port,
                               {"fairness": {"segments": "student,nobody"}})
        p = self.optimize(conf=conf, expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr, r"bad\.conf:\d+: segments: \"nobody\" is "
                         r"not a configured \[segment NAME\]")


if __name__ == "__main__":
    main()
