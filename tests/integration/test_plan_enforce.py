"""
pacerd enforces the optimizer's plan (issue 5, SPEC sections 1-3):
demo data -> pacer load -> pacer optimize (a candidate) -> with
enforce_plan = true nothing naming an offer is planned before publish ->
pacer plan publish -> within ~2 s pacerd allows planned (customer, offer)
pairs (up to caps, quiet hours, consent), answers not_planned for the others
and holdout for holdout customers; POST /v1/optimize runs the optimizer as a
child and reports it at GET /v1/optimize/{run_id}.
"""
import csv
import os
import shutil
import tempfile
import time

from pacertest import (PacerTestCase, Redis, customer_history, in_holdout,
                       main, plan_entries, plan_entry, run_pacer)

HOLDOUT = 0.2
PUBLISH_BOUND = 3.0       # seconds for pacerd to see a published plan
RUN_BOUND = 90.0          # seconds for an optimizer run started by the API


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class TestPlanEnforce(PacerTestCase):
    N, M, SEED = 300, 6, 7
    CONF = {
        "channel email": {"cap": ["3/7d", "1/1d"]},
        "channel sms": {"cap": ["1/1d"]},
        "channel push": {"cap": ["2/1d"]},
        "optimizer": {"holdout": str(HOLDOUT), "enforce_plan": "true",
                      "run_at": None, "time_limit_s": "60", "gap": "0.001",
                      "max_offers_per_customer": "3", "horizon": "1d"},
    }

    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.mkdtemp(prefix="pacer-it-plan-data-")
        cls.addClassCleanup(shutil.rmtree, cls.data, True)
        p = run_pacer("demo-data", "--customers", cls.N, "--offers", cls.M,
                      "--seed", cls.SEED, "--out", cls.data)
        assert p.returncode == 0, p.stderr
        super().setUpClass()
        p = run_pacer("load", "-c", cls.conf_path,
                      "--profiles", os.path.join(cls.data, "profiles.csv"),
                      "--contacts", os.path.join(cls.data, "contacts.csv"))
        assert p.returncode == 0, p.stderr
        cls.reports = os.path.join(cls.workdir, "reports")
        cls.offers = {r["offer"]: r for r in
                      read_csv(os.path.join(cls.data, "offers.csv"))}
        cls.profiles = {r["customer"]: r for r in
                        read_csv(os.path.join(cls.data, "profiles.csv"))}

    @classmethod
    def extra_conf(cls):
        # pacerd's offer catalogue and the API's optimizer runs use the demo.
        return {"optimizer": {
            "offers": os.path.join(cls.data, "offers.csv"),
            "scores": os.path.join(cls.data, "scores.csv")}}

    # -- helpers -----------------------------------------------------------

    def r(self, *args):
        with Redis(self.redis.port) as r:
            return r.call(*args)

    def optimize(self):
        """One pacer optimize run (a candidate); its run id."""
        p = run_pacer("optimize", "-c", self.conf_path, "--out", self.reports,
                      timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr[-5000:])
        for line in p.stderr.splitlines():
            if "candidate is " in line:
                return line.rsplit("candidate is ", 1)[1].strip()
        self.fail("no run id in:\n" + p.stderr[-5000:])

    def consents(self, customer, channel):
        return self.profiles[customer].get(channel) in ("1", "true")

    def excluded(self, customer, offer):
        segs = [s for s in self.profiles[customer]["segments"].split(";") if s]
        return "vulnerable" in segs and self.offers[offer]["category"] == \
            "credit"

    def ask(self, customer, offer, dry_run=True):
        ch = self.offers[offer]["channel"]
        st, body = self.decide(customer, ch, offer=offer, dry_run=dry_run)
        self.assertEqual(st, 200, "%s %s -> %s %r" % (customer, offer, st,
                                                      body))
        return body

    def planned_pairs(self, run_id):
        rows = read_csv(os.path.join(self.reports, run_id, "assignments.csv"))
        self.assertTrue(rows, "the plan is empty")
        return [(r["customer"], r["offer"]) for r in rows]

    def publish(self, run):
        p = run_pacer("plan", "publish", run, "-c", self.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)

    def explain_when(self, c, ready):
        """The explanation of c once ready(expl) (pacerd reads the live and
        candidate runs every second)."""
        deadline = time.monotonic() + PUBLISH_BOUND + 10
        while True:
            st, expl = self.http.get("/v1/customers/" + c)
            self.assertEqual(st, 200, expl)
            if ready(expl):
                return expl
            self.assertLess(time.monotonic(), deadline, expl)
            time.sleep(0.05)

    # -- tests -------------------------------------------------------------

    def test_enforce_flow(self):
        self.r("DEL", "pacer:plan:live")
        run = self.optimize()
        pairs = self.planned_pairs(run)
        plan = {}
        for c, o in pairs:
            plan.setdefault(c, set()).add(o)
        self.assertFalse([c for c in plan if in_holdout(c, HOLDOUT)],
                         "holdout customers in the plan")

        # Before publish: no live plan, so a planned pair is not_planned.
        self.assertIsNone(self.r("GET", "pacer:plan:live"))
        for c, o in pairs[:10]:
            body = self.ask(c, o)
            self.assertEqual(body.get("reason"), "not_planned",
                             "before publish: %s %s -> %r" % (c, o, body))
            self.assertIs(body.get("allow"), False)

        p = run_pacer("plan", "publish", run, "-c", self.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        t_pub = time.monotonic()
        self.assertEqual(self.r("GET", "pacer:plan:live"), run)
        c0, o0 = pairs[0]

        def seen():
            return self.ask(c0, o0).get("reason") != "not_planned"
        deadline = t_pub + PUBLISH_BOUND + 10
        while not seen():
            self.assertLess(time.monotonic(), deadline,
                            "pacerd never saw the published plan")
            time.sleep(0.05)
        took = time.monotonic() - t_pub
        self.assertLess(took, PUBLISH_BOUND,
                        "pacerd took %.2fs to see the live plan" % took)
        st, m = self.http.get("/metrics")
        self.assertIn("pacer_plan_live 1", m)

        # Planned pairs: only cap, quiet hours or consent may deny.
        reasons = {}
        for c, o in pairs[:60]:
            body = self.ask(c, o)
            reasons[body.get("reason")] = reasons.get(body.get("reason"), 0) + 1
            self.assertIn(body.get("reason"),
                          ("ok", "cap", "quiet_hours", "no_consent"),
                          "planned %s %s -> %r" % (c, o, body))
            self.assertIs(body.get("allow"), body.get("reason") == "ok")

        # A real (non-dry-run) planned send reserves; a repeat is capped or
        # allowed only by the caps, never not_planned.
        for c, o in pairs:
            body = self.ask(c, o)
            if body["reason"] == "ok":
                body = self.ask(c, o, dry_run=False)
                self.assertEqual(body["reason"], "ok", body)
                member = "%s|%s|%s" % (self.offers[o]["channel"],
                                       self.offers[o]["campaign"],
                                       body["send_id"])
                with Redis(self.redis.port) as r:
                    self.assertIn(member, [m for _, m in
                                           customer_history(r, c)])
                break
        else:
            self.fail("no planned pair allowed now: %r" % reasons)

        # Unplanned offers for planned customers: not_planned.
        unplanned = 0
        for c in sorted(plan):
            for o in sorted(self.offers):
                if o in plan[c] or not self.consents(
                        c, self.offers[o]["channel"]) or self.excluded(c, o):
                    continue
                body = self.ask(c, o)
                self.assertEqual(body.get("reason"), "not_planned",
                                 "unplanned %s %s -> %r" % (c, o, body))
                self.assertIs(body.get("allow"), False)
                unplanned += 1
                break
            if unplanned >= 10:
                break
        self.assertGreater(unplanned, 0, "no unplanned (customer, offer)")

        # The explanation shows the live plan's offers.
        st, expl = self.http.get("/v1/customers/" + c0)
        self.assertEqual(st, 200, expl)
        self.assertEqual(expl["plan"]["live_run"], run)
        self.assertTrue(expl["plan"]["enforced"])
        self.assertEqual(set(expl["plan"]["offers"]), plan[c0])
        self.assertIs(expl["holdout"], False)

        # Holdout customers: holdout for any offer, whatever the plan.
        held = [c for c in sorted(self.profiles) if in_holdout(c, HOLDOUT)]
        self.assertTrue(held)
        self.assertGreater(len(held), self.N * HOLDOUT / 3)
        for c in held[:10]:
            for o in sorted(self.offers)[:3]:
                body = self.ask(c, o)
                self.assertEqual(body.get("reason"), "holdout",
                                 "holdout %s %s -> %r" % (c, o, body))
                self.assertIs(body.get("allow"), False)
            st, expl = self.http.get("/v1/customers/" + c)
            self.assertEqual(st, 200, expl)
            self.assertIs(expl["holdout"], True, c)
        # ... but a decision naming no offer is not about the plan.
        c = next(c for c in held if self.consents(c, "push"))
        st, body = self.decide(c, "push", dry_run=True)
        self.assertEqual(st, 200, body)
        self.assertNotIn(body.get("reason"), ("holdout", "not_planned"), body)
        # ... and a non-holdout customer not in the plan at all: not_planned.
        outside = [c for c in sorted(self.profiles) if c not in plan and
                   not in_holdout(c, HOLDOUT)]
        for c in outside:
            o = next((o for o in sorted(self.offers) if self.consents(
                c, self.offers[o]["channel"]) and not self.excluded(c, o)),
                None)
            if o is not None:
                body = self.ask(c, o)
                self.assertEqual(body.get("reason"), "not_planned", body)
                break

    def test_erase_removes_plan_entries(self):
        """An erasure removes the customer from the plan buckets of the
        live run and the candidate; the explanation showed both."""
        self.r("DEL", "pacer:plan:live")
        run1 = self.optimize()
        self.publish(run1)
        run2 = self.optimize()
        with Redis(self.redis.port) as r:
            e1, e2 = plan_entries(r, run1), plan_entries(r, run2)
        both = sorted(set(e1) & set(e2))
        self.assertGreater(len(both), 1, "no customer planned in both runs")
        c, other = both[0], both[1]
        expl = self.explain_when(c, lambda e: e["plan"]["candidate_run"] ==
                                 run2 and e["plan"]["live_run"] == run1)
        self.assertEqual({k: set(v) for k, v in expl["plan"]["runs"].items()},
                         {run1: e1[c], run2: e2[c]})
        self.assertEqual(set(expl["plan"]["offers"]), e1[c])

        st, body = self.http.delete("/v1/customers/" + c)
        self.assertEqual(st, 200, body)
        with Redis(self.redis.port) as r:
            for run in (run1, run2):
                self.assertIsNone(plan_entry(r.call, run, c), run)
                self.assertEqual(plan_entry(r.call, run, other),
                                 (e1 if run == run1 else e2)[other])
        # The customer back as loaded, for the other tests.
        path = os.path.join(self.workdir, "one-profile.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(self.profiles[c]))
            w.writeheader()
            w.writerow(self.profiles[c])
        p = run_pacer("load", "-c", self.conf_path, "--profiles", path)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_live_run_without_plan_field(self):
        """A live run whose hash has no field plan keeps its entries as fields
        of pacer:{C}:o (include/pacer/keys.h); pacerd reads them there."""
        def fits(c, o):
            return (self.consents(c, self.offers[o]["channel"]) and
                    not self.excluded(c, o))
        c = next(c for c in sorted(self.profiles)
                 if not in_holdout(c, HOLDOUT) and
                 sum(fits(c, o) for o in self.offers) >= 2)
        yes, no = [o for o in sorted(self.offers) if fits(c, o)][:2]
        run = "older-run"
        self.r("HSET", "pacer:run:" + run, "status", "complete", "expires",
               str(int(time.time()) + 86400))
        self.r("HSET", "pacer:{%s}:o" % c, run, yes)
        live = self.r("GET", "pacer:plan:live")
        self.r("SET", "pacer:plan:live", run)
        try:
            expl = self.explain_when(c, lambda e: e["plan"]["live_run"] == run)
            self.assertEqual(expl["plan"]["offers"], [yes])
            self.assertNotEqual(self.ask(c, yes).get("reason"), "not_planned")
            self.assertEqual(self.ask(c, no).get("reason"), "not_planned")
        finally:
            if live is None:
                self.r("DEL", "pacer:plan:live")
            else:
                self.r("SET", "pacer:plan:live", live)

    def test_optimize_api(self):
        live_before = self.r("GET", "pacer:plan:live")
        st, body = self.http.post("/v1/optimize")
        self.assertEqual(st, 202, body)
        self.assertIsInstance(body, dict)
        run = body.get("run_id")
        self.assertRegex(run or "", r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")

        # A second run while the first runs: 409. The first may already be
        # done on a fast machine; then a 202 is fine, two at once are not.
        st2, body2 = self.http.post("/v1/optimize")
        st_first, first = self.http.get("/v1/optimize/" + run)
        self.assertEqual(st_first, 200, first)
        second = None
        if st2 == 409:
            self.assertError(st2, body2, 409)
        else:
            self.assertEqual(st2, 202, body2)
            self.assertNotEqual(first["status"], "running",
                                "a second run started while %s ran: %r"
                                % (run, body2))
            second = body2["run_id"]

        deadline = time.monotonic() + RUN_BOUND
        while True:
            st, status = self.http.get("/v1/optimize/" + run)
            self.assertEqual(st, 200, status)
            self.assertEqual(status["run_id"], run)
            self.assertIn(status["status"], ("running", "done", "failed"))
            if status["status"] != "running":
                break
            self.assertLess(time.monotonic(), deadline, status)
            time.sleep(0.1)
        self.assertEqual(status["status"], "done", status)
        self.assertEqual(status.get("exit_code"), 0, status)
        self.assertIsInstance(status.get("gap"), (int, float), status)
        self.assertIsInstance(status.get("progress"), str)
        folder = os.path.join(self.reports, run)
        for name in ("summary.json", "assignments.csv", "report.html"):
            self.assertTrue(os.path.isfile(os.path.join(folder, name)),
                            "%s missing in %s" % (name, folder))
        # A candidate: the live plan did not move.
        self.assertEqual(self.r("GET", "pacer:plan:live"), live_before)
        self.assertEqual(self.r("HGET", "pacer:run:" + run, "status"),
                         "complete")
        st, body = self.http.get("/v1/optimize/20200101T000000Z-dead")
        self.assertError(st, body, 404)

        if second is not None:
            deadline = time.monotonic() + RUN_BOUND
            while self.http.get("/v1/optimize/" + second)[1].get(
                    "status") == "running":
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
        # With nothing running, a new run is accepted again.
        st, body = self.http.post("/v1/optimize")
        self.assertEqual(st, 202, body)
        third = body["run_id"]
        deadline = time.monotonic() + RUN_BOUND
        while self.http.get("/v1/optimize/" + third)[1].get(
                "status") == "running":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertTrue(self.daemon.running())


if __name__ == "__main__":
    main()
