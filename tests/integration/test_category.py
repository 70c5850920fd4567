"""
Category caps (issue 16 point 4, SPEC section 2): [category NAME] cap =
N/DURATION caps every offer of a category (offers.csv's category column)
on every channel together, in the decision, the explanation, cancel,
schedule, pacer load and the optimizer.

The example offers: card_upgrade (email) and loan_teaser (sms) are
"credit"; welcome10 (email) and winback_sms (sms) are "discount". T0 is
12:00 UTC; customers are in UTC.
"""

import os

from pacertest import (PacerTestCase, Redis, DAY, customer_history, main,
                       parse_history, run_pacer, write_file)

HOUR = 3600


class TestCategoryCap(PacerTestCase):
    """credit 1/30d across email and sms; discount 2/1d."""
    CONF = {"category credit": {"cap": ["1/30d"]},
            "category discount": {"cap": ["2/1d"]},
            "all": {"cap": ["10/7d"]}, "channel email": {"cap": ["5/1d"]},
            "channel sms": {"cap": ["5/1d"]}, "shadow": None,
            "campaign": None}

    def stored(self, c):
        with Redis(self.redis.port) as r:
            return parse_history(r.call("HGET", "pacer:{%s}:p" % c, "h"),
                                 categories=True)

    def test_across_channels(self):
        c = self.consented_customer()
        t = self.T0
        st, body = self.decide(c, "email", offer="card_upgrade", time=t,
                               send_id="k1")
        self.assertDecision(st, body, True, "ok")
        self.assertEqual([e[4] for e in self.stored(c)], ["credit"])
        # Another credit offer, on another channel, a day later: the
        # category's cap, and when it frees.
        st, body = self.decide(c, "sms", offer="loan_teaser", time=t + DAY)
        self.assertDecision(st, body, False, "cap",
                            rule="category credit 1/30d",
                            retry_after=29 * DAY)
        self.assertEqual(body["next_allowed"], t + 30 * DAY, body)
        # Another category, and no offer at all, are not held by it.
        st, body = self.decide(c, "sms", offer="winback_sms", time=t + DAY)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "sms", time=t + DAY + 60)
        self.assertDecision(st, body, True, "ok")
        # At the end of the window the credit offer is allowed again.
        st, body = self.decide(c, "sms", offer="loan_teaser",
                               time=t + 30 * DAY - 1, dry_run=True)
        self.assertEqual(body["reason"], "cap", body)
        st, body = self.decide(c, "sms", offer="loan_teaser",
                               time=t + 30 * DAY, dry_run=True)
        self.assertDecision(st, body, True, "ok")

    def test_cancel_releases_and_retry_keeps_answer(self):
        c = self.consented_customer()
        t = self.T0
        st, body = self.decide(c, "email", offer="card_upgrade", time=t,
                               send_id="c1")
        self.assertDecision(st, body, True, "ok")
        # A retry of the same send id is the same answer, counted once.
        st, again = self.decide(c, "email", offer="card_upgrade",
                                time=t + 5, send_id="c1")
        self.assertDecision(st, again, True, "ok")
        self.assertEqual(len(self.stored(c)), 1)
        st, body = self.decide(c, "sms", offer="loan_teaser", time=t + 10,
                               dry_run=True)
        self.assertEqual(body["reason"], "cap", body)
        st, body = self.http.post("/v1/cancel", {"customer": c,
                                                 "send_id": "c1"})
        self.assertEqual(st, 200, body)
        self.assertIs(body["released"], True, body)
        self.assertEqual(self.stored(c), [])
        st, body = self.decide(c, "sms", offer="loan_teaser", time=t + 20)
        self.assertDecision(st, body, True, "ok")

    def test_schedule_holds_at_next_allowed(self):
        c = self.consented_customer()
        t = self.T0
        st, body = self.decide(c, "push", offer="flash_sale", time=t)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", offer="welcome10", time=t + HOUR)
        self.assertDecision(st, body, True, "ok")
        # discount 2/1d is full until t + 1d: held, then counted there.
        st, held = self.decide(c, "sms", offer="winback_sms",
                               time=t + 2 * HOUR, schedule=True,
                               send_id="h1")
        self.assertEqual(held["reason"], "scheduled", held)
        self.assertEqual(held["send_at"], t + DAY, held)
        st, body = self.decide(c, "email", offer="welcome10",
                               time=t + DAY + 30, dry_run=True)
        self.assertDecision(st, body, False, "cap",
                            rule="category discount 2/1d")

    def test_explanation_shows_the_category(self):
        c = self.consented_customer()
        t = self.T0
        st, body = self.decide(c, "email", offer="card_upgrade", time=t,
                               send_id="e1")
        self.assertDecision(st, body, True, "ok")
        st, ex = self.http.get("/v1/customers/%s?time=%d" % (c, t + 60))
        self.assertEqual(st, 200, ex)
        credit = [k for k in ex["caps"] if k.get("category") == "credit"]
        self.assertEqual(len(credit), 1, ex["caps"])
        self.assertEqual((credit[0]["rule"], credit[0]["used"],
                          credit[0]["limit"]),
                         ("category credit 1/30d", 1, 1), credit)
        self.assertEqual(credit[0]["resets_in"], 30 * DAY - 60, credit)
        recent, = ex["recent_contacts"]
        self.assertEqual(recent.get("category"), "credit", recent)

    def test_history_written_before_categories_still_reads(self):
        c = self.consented_customer()
        t = self.T0
        with Redis(self.redis.port) as r:
            r.call("HSET", "pacer:{%s}:p" % c, "h",
                   "%d|email|cards|old-1\n" % (t - HOUR))
        # A contact stored without a category counts for every other cap.
        st, body = self.decide(c, "sms", offer="loan_teaser", time=t)
        self.assertDecision(st, body, True, "ok")
        with Redis(self.redis.port) as r:
            self.assertEqual([h[1] for h in customer_history(r, c)],
                             ["email|cards|old-1", "sms|loans|%s" %
                              body["send_id"]])


class TestCategoryExempt(PacerTestCase):
    """An exempt campaign's offer skips its category's cap, and counts."""
    CONF = {"category credit": {"cap": ["1/30d"]}, "shadow": None,
            "campaign loans": {"exempt": "true"}}

    def test_exempt_campaign_skips_it(self):
        c = self.consented_customer()
        t = self.T0
        st, body = self.decide(c, "sms", offer="loan_teaser", time=t)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "sms", offer="loan_teaser", time=t + DAY)
        self.assertDecision(st, body, True, "ok")
        # Its contacts count toward the category's cap for the others.
        st, body = self.decide(c, "email", offer="card_upgrade",
                               time=t + 2 * DAY)
        self.assertDecision(st, body, False, "cap",
                            rule="category credit 1/30d")


class TestCategoryConfig(PacerTestCase):
    """Bad [category] sections are refused with file:line."""
    CONF = {"category credit": {"cap": ["1/30d"]}}

    def test_bad_sections(self):
        from pacertest import check_config
        base = open(self.conf_path).read()
        for extra, want in [
                ("[category credit]\nlimit = 3\n", 'unknown key "limit"'),
                ("[category bad name]\ncap = 1/1d\n", "bad category name"),
                ("[category x]\ncap = 1/1x\n", "is not N/DURATION"),
                ("[category y]\ncap = 1/1d\ncap = 2/1d\n", "same window")]:
            path = write_file(os.path.join(self.workdir, "bad.conf"),
                              base + "\n" + extra)
            r = check_config(path)
            self.assertNotEqual(r.returncode, 0, extra)
            self.assertIn("bad.conf:", r.stderr, r.stderr)
            self.assertIn(want, r.stderr, (extra, r.stderr))


class TestCategoryLoadAndOptimize(PacerTestCase):
    """pacer load stores contacts' categories; the optimizer honours the
    category's room."""
    CONF = {"category credit": {"cap": ["1/30d"]}, "shadow": None,
            "optimizer": {"max_offers_per_customer": "4"}}

    def test_load_then_optimize(self):
        now = self.T0
        prof = write_file(os.path.join(self.workdir, "cat-profiles.csv"),
                          "customer,tz,segments,email,sms,push\n"
                          "kat-a,UTC,,1,1,1\nkat-b,UTC,,1,1,1\n")
        contacts = write_file(os.path.join(self.workdir, "cat-contacts.csv"),
                              "time,customer,channel,campaign,offer\n"
                              "%d,kat-a,email,cards,card_upgrade\n" %
                              (now - 5 * DAY))
        r = run_pacer("load", "-c", self.conf_path, "--profiles", prof,
                      "--contacts", contacts)
        self.assertEqual(r.returncode, 0, r.stderr)
        with Redis(self.redis.port) as rr:
            h = parse_history(rr.call("HGET", "pacer:{kat-a}:p", "h"),
                              categories=True)
        self.assertEqual([(e[1], e[4]) for e in h], [("email", "credit")])
        # Both customers score high on both credit offers: kat-a may get
        # neither (its credit room is 0), kat-b one of them.
        scores = write_file(os.path.join(self.workdir, "cat-scores.csv"),
                            "customer,offer,propensity\n" +
                            "".join("%s,%s,0.9\n" % (c, o)
                                    for c in ("kat-a", "kat-b")
                                    for o in ("card_upgrade", "loan_teaser")))
        for method in ("scale", "exact"):
            out = os.path.join(self.workdir, "cat-out-" + method)
            r = run_pacer("optimize", "-c", self.conf_path, "--scores", scores,
                          "--out", out, "--method", method)
            self.assertEqual(r.returncode, 0, r.stderr)
            run, = os.listdir(out)
            with open(os.path.join(out, run, "assignments.csv")) as f:
                rows = [l.split(",") for l in f.read().splitlines()[1:]]
            self.assertEqual([x[0] for x in rows], ["kat-b"], (method, rows))

if __name__ == "__main__":
    main()
