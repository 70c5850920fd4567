"""
pacer plan publish / show: the candidate -> live switch, who and when in the
run's hash, older candidates superseded, --publish and auto_publish, warm
start from the last run's prices.
"""
import os

from pacertest import main
from test_optimize import OptimizeCase


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
