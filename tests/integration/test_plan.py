"""
pacer plan publish / show: the candidate -> live switch, who and when in the
run's hash, older candidates superseded, --publish and auto_publish, warm
start from the last run's prices.
"""
import os

from pacertest import main
from test_optimize import OptimizeCase, load_json, read_csv


class TestPlan(OptimizeCase):
    N, M, SEED = 150, 8, 5

    def setUp(self):
        for k in ("pacer:plan:live", "pacer:plan:candidate"):
            self.r("DEL", k)

    def test_publish_flow(self):
        p1 = self.optimize()
        run1 = self.run_id_of(p1)
        self.assertIsNone(self.r("GET", "pacer:plan:live"))
        show = self.pacer("plan", "show", "-c", self.conf_path).stdout
        self.assertIn("live       (none)", show)
        self.assertIn("candidate  " + run1, show)
        self.assertIn("status=complete", show)

        self.pacer("plan", "publish", run1, "-c", self.conf_path)
        self.assertEqual(self.r("GET", "pacer:plan:live"), run1)
        h = self.run_hash(run1)
        self.assertIn("published_at", h)
        self.assertIn("published_by", h)
        show = self.pacer("plan", "show", "-c", self.conf_path).stdout
        self.assertIn("live       " + run1, show)
        self.assertIn("published=", show)

        # A second run: a new candidate; the live one and its entries stay.
        p2 = self.optimize()
        run2 = self.run_id_of(p2)
        self.assertIn("warm start", p2.stderr)
        self.assertEqual(self.r("GET", "pacer:plan:live"), run1)
        self.assertEqual(self.r("GET", "pacer:plan:candidate"), run2)
        live_entries = self.plan_entries(run1)
        self.assertTrue(live_entries)
        self.assertTrue(self.plan_entries(run2))

        # A third run supersedes the unpublished second: its entries go.
        p3 = self.optimize()
        run3 = self.run_id_of(p3)
        self.assertEqual(self.run_hash(run2)["status"], "superseded")
        self.assertEqual(self.plan_entries(run2), {})
        self.assertEqual(self.plan_entries(run1), live_entries)
        p = self.pacer("plan", "publish", run2, "-c", self.conf_path, expect=1)
        self.assertIn("superseded", p.stderr)
        self.assertEqual(self.r("GET", "pacer:plan:live"), run1)

        self.pacer("plan", "publish", run3, "-c", self.conf_path)
        self.assertEqual(self.r("GET", "pacer:plan:live"), run3)
        self.assertEqual(self.run_hash(run3)["previous_live"], run1)

    def test_publish_unknown_run(self):
        p = self.pacer("plan", "publish", "20200101T000000Z-dead", "-c",
                       self.conf_path, expect=1)
        self.assertIn("no such run", p.stderr)
        self.assertIsNone(self.r("GET", "pacer:plan:live"))

    def test_publish_incomplete_run(self):
        self.r("HSET", "pacer:run:half", "status", "writing")
        p = self.pacer("plan", "publish", "half", "-c", self.conf_path,
                       expect=1)
        self.assertIn("writing", p.stderr)
        self.assertIsNone(self.r("GET", "pacer:plan:live"))

    def test_publish_expired_run(self):
        self.r("HSET", "pacer:run:old", "status", "complete", "expires", "1000")
        self.pacer("plan", "publish", "old", "-c", self.conf_path, expect=1)
        self.assertIsNone(self.r("GET", "pacer:plan:live"))

    def test_optimize_publish_flag(self):
        p = self.optimize("--publish")
        run = self.run_id_of(p)
        self.assertEqual(self.r("GET", "pacer:plan:live"), run)

    def test_auto_publish(self):
        conf = self.write_conf("auto.conf", self.redis.port,
                               {"optimizer": {"auto_publish": "true"}})
        p = self.optimize(conf=conf)
        self.assertEqual(self.r("GET", "pacer:plan:live"), self.run_id_of(p))

    def staged(self, p, run):
        """p left run as the candidate, not live, and said why."""
        self.assertIn("not published", p.stderr)
        self.assertIn("--force", p.stderr)
        self.assertEqual(self.r("GET", "pacer:plan:candidate"), run)
        self.assertNotEqual(self.r("GET", "pacer:plan:live"), run)

    def test_empty_run_never_replaces_a_live_plan_unforced(self):
        """A run that plans nothing (here: nobody it may contact) over a live
        plan that plans something: --publish and auto_publish leave it
        staged, plan show and the report say why, plan publish refuses it
        without --force and takes it with."""
        good = self.run_id_of(self.optimize("--publish"))
        self.assertEqual(self.r("GET", "pacer:plan:live"), good)
        self.assertGreater(int(self.run_hash(good)["assignments"]), 0)
        strangers = self.write("strangers.csv", "customer,offer,propensity\n"
                               "stranger1,%s,0.5\n" % read_csv(
                                   os.path.join(self.data, "offers.csv"))[0]
                               ["offer"])

        p = self.optimize("--publish", scores=strangers)
        empty = self.run_id_of(p)
        self.staged(p, empty)
        self.assertEqual(self.r("GET", "pacer:plan:live"), good)
        self.assertIn("plans nothing while the live plan", p.stderr)
        s = load_json(os.path.join(self.reports, empty, "summary.json"))
        self.assertIn("plans nothing", s["publish_needs_force"])
        with open(os.path.join(self.reports, empty, "report.html")) as f:
            self.assertIn("Not published automatically", f.read())
        show = self.pacer("plan", "show", "-c", self.conf_path).stdout
        self.assertIn("candidate  " + empty, show)
        self.assertIn("not published: publishing it needs --force", show)

        auto = self.write_conf("auto_empty.conf", self.redis.port,
                               {"optimizer": {"auto_publish": "true"}})
        p = self.optimize(conf=auto, scores=strangers)
        empty = self.run_id_of(p)
        self.staged(p, empty)

        p = self.pacer("plan", "publish", empty, "-c", self.conf_path,
                       expect=1)
        self.assertIn("--force", p.stderr)
        self.assertEqual(self.r("GET", "pacer:plan:live"), good)
        self.pacer("plan", "publish", empty, "--force", "-c", self.conf_path)
        self.assertEqual(self.r("GET", "pacer:plan:live"), empty)
        self.assertEqual(self.run_hash(empty)["forced"], "1")
        self.assertIn("(forced)",
                      self.pacer("plan", "show", "-c", self.conf_path).stdout)

    def test_uncertified_run_needs_force(self):
        """A run the solver did not certify (time limit, stalled, empty)
        is published only with --force, even over no live plan."""
        for status in ("time_limit", "stalled", "empty", "error"):
            run = "uncertified-" + status
            self.r("HSET", "pacer:run:" + run, "status", "complete",
                   "solver_status", status, "assignments", "5")
            p = self.pacer("plan", "publish", run, "-c", self.conf_path,
                           expect=1)
            self.assertIn('solver status is "%s"' % status, p.stderr)
            self.assertIsNone(self.r("GET", "pacer:plan:live"))
        self.r("SET", "pacer:plan:candidate", run)
        show = self.pacer("plan", "show", "-c", self.conf_path).stdout
        self.assertIn('needs --force: its solver status is "error"', show)
        self.pacer("plan", "publish", run, "-c", self.conf_path, "--force")
        self.assertEqual(self.r("GET", "pacer:plan:live"), run)
        for status in ("optimal", "gap_reached"):
            run = "certified-" + status
            self.r("HSET", "pacer:run:" + run, "status", "complete",
                   "solver_status", status, "assignments", "5")
            self.pacer("plan", "publish", run, "-c", self.conf_path)
            self.assertEqual(self.r("GET", "pacer:plan:live"), run)

    def test_usage_and_no_redis(self):
        self.pacer("plan", "-c", self.conf_path, expect=1)
        self.pacer("plan", "publish", "-c", self.conf_path, expect=1)
        self.pacer("plan", "frobnicate", "-c", self.conf_path, expect=1)
        from pacertest import free_port
        dead = self.write_conf("dead.conf", free_port())
        self.pacer("plan", "show", "-c", dead, expect=2)
        self.pacer("plan", "publish", "x", "-c", dead, expect=2)


if __name__ == "__main__":
    main()
