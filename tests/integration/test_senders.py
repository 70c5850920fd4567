"""
What senders ask for (issue 16, SPEC section 3): hold instead of drop
(next_allowed, and "schedule": true reserving the contact at that instant),
priorities with [priority] reserve, and exempt campaigns.

The example config: email 1/1d and 3/7d with quiet hours 21:00-08:00, push
2/1d without quiet hours, all 5/7d; T0 is 12:00 UTC. Customers are in UTC.
"""

from pacertest import PacerTestCase, Redis, customer_history, DAY, main

HOUR = 3600


class TestNextAllowed(PacerTestCase):
    """next_allowed: every rule together, not just the one that binds first."""
    CONF = {"all": {"cap": ["1/1d"]}, "shadow": None}

    def test_cap_frees_during_quiet_hours(self):
        c = self.consented_customer()
        t_push = self.T0 + 11 * HOUR            # 23:00, push has no quiet hours
        st, body = self.decide(c, "push", time=t_push)
        self.assertDecision(st, body, True, "ok")
        # 23:30: email is in quiet hours (until 08:00), and all 1/1d is full
        # until 23:00 the next day, which is quiet again: next 08:00.
        t = self.T0 + 11 * HOUR + 1800
        want = self.T0 + 44 * HOUR
        st, body = self.decide(c, "email", time=t, dry_run=True)
        self.assertDecision(st, body, False, "quiet_hours", retry_after=want - t)
        self.assertEqual(body.get("next_allowed"), want, body)
        # The next day at noon the cap binds; still the end of quiet hours.
        t = self.T0 + DAY
        st, body = self.decide(c, "email", time=t, dry_run=True)
        self.assertDecision(st, body, False, "cap", rule="all 1/1d",
                            retry_after=want - t)
        self.assertEqual(body.get("next_allowed"), want, body)
        # Exact: one second earlier is still denied, at next_allowed allowed.
        st, body = self.decide(c, "email", time=want - 1, dry_run=True)
        self.assertEqual(body["allow"], False, body)
        st, body = self.decide(c, "email", time=want)
        self.assertDecision(st, body, True, "ok")

    def test_no_wait_helps(self):
        c = self.consented_customer(channels=("push",))
        st, body = self.decide(c, "email", time=self.T0)
        self.assertDecision(st, body, False, "no_consent")
        self.assertNotIn("next_allowed", body)


class TestSchedule(PacerTestCase):
    """A curable denial with "schedule": true is held, not dropped."""
    CONF = {"shadow": None}

    def test_scheduled_send_counts_in_every_window(self):
        c = self.consented_customer()
        t = self.T0
        for i in range(2):
            st, body = self.decide(c, "push", time=t + 10 * i)
            self.assertDecision(st, body, True, "ok")
        st, held = self.decide(c, "push", time=t + 20, schedule=True,
                               send_id="held-1")
        self.assertEqual(st, 200, held)
        self.assertEqual(held["reason"], "scheduled", held)
        self.assertIs(held["allow"], False, held)
        self.assertEqual(held["send_at"], t + DAY, held)
        # The same request again: the same answer, counted once.
        st, again = self.decide(c, "push", time=t + 25, schedule=True,
                                send_id="held-1")
        self.assertEqual(again, held)
        with Redis(self.redis.port) as r:
            times = sorted(h[0] for h in customer_history(r, c))
        self.assertEqual(times, [t, t + 10, t + DAY])
        # Later decisions can never overfill a window together with it:
        # (t + 5, t + 1d + 5] holds t + 10 and the held one.
        st, body = self.decide(c, "push", time=t + DAY + 5, dry_run=True)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        self.assertEqual(body["next_allowed"], t + DAY + 10, body)
        # Before the held send too: (t + 30 - 1d, t + 30] is full now.
        st, body = self.decide(c, "push", time=t + 30, dry_run=True)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        self.assertEqual(body["next_allowed"], t + DAY + 10, body)
        # Cancel releases it.
        st, body = self.http.post("/v1/cancel", {"customer": c,
                                                 "send_id": "held-1"})
        self.assertEqual((st, body), (200, {"released": True}))
        st, body = self.decide(c, "push", time=t + DAY + 5)
        self.assertDecision(st, body, True, "ok")

    def test_schedule_in_quiet_hours_and_dry_run(self):
        c = self.consented_customer()
        night = self.T0 + 10 * HOUR             # 22:00
        st, body = self.decide(c, "email", time=night, schedule=True,
                               dry_run=True)
        self.assertEqual(body["reason"], "scheduled", body)
        self.assertEqual(body["send_at"], self.T0 + 20 * HOUR, body)
        with Redis(self.redis.port) as r:
            self.assertEqual(customer_history(r, c), [])
        st, body = self.decide(c, "email", time=night, schedule=True)
        self.assertEqual(body["send_at"], self.T0 + 20 * HOUR, body)
        # email 1/1d: the held morning send fills the day around it.
        st, body = self.decide(c, "email", time=self.T0 + 20 * HOUR + 3600,
                               dry_run=True)
        self.assertDecision(st, body, False, "cap", rule="email 1/1d")

    def test_allowed_now_is_not_held(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", time=self.T0, schedule=True)
        self.assertDecision(st, body, True, "ok")

    def test_bad_schedule_is_400(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", time=self.T0, schedule="yes")
        self.assertError(st, body, 400, "schedule")
        self.assertEqual(body["code"], "bad_schedule")


class TestPriority(PacerTestCase):
    """[priority] reserve = 1: the last slot of every cap is kept for high."""
    CONF = {"priority": {"reserve": "1"},
            "campaign engagement": {"priority": "high"}, "shadow": None}

    def test_high_takes_the_reserved_slot(self):
        c = self.consented_customer()
        t = self.T0
        st, body = self.decide(c, "push", time=t)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=t + 1)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        self.assertEqual(body.get("reserved_for"), "high", body)
        st, body = self.decide(c, "push", time=t + 2, priority="high")
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=t + 3, priority="high")
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        self.assertNotIn("reserved_for", body)

    def test_low_keeps_twice_the_reserve(self):
        c = self.consented_customer()
        # push 2/1d - 2 x 1: a low decision never gets a push.
        st, body = self.decide(c, "push", time=self.T0, priority="low")
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        self.assertEqual(body.get("reserved_for"), "high", body)
        self.assertNotIn("next_allowed", body)

    def test_campaign_default_priority(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=self.T0 + 1)
        self.assertEqual(body.get("reserved_for"), "high", body)
        # app_nudge's campaign (engagement) decides at high by default...
        st, body = self.decide(c, "push", time=self.T0 + 2, offer="app_nudge")
        self.assertDecision(st, body, True, "ok")
        # ...and a request may still say otherwise.
        c2 = self.consented_customer()
        self.decide(c2, "push", time=self.T0)
        st, body = self.decide(c2, "push", time=self.T0 + 2, offer="app_nudge",
                               priority="normal")
        self.assertEqual(body.get("reserved_for"), "high", body)

    def test_bad_priority_is_400(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", time=self.T0, priority="urgent")
        self.assertError(st, body, 400, "priority")


class TestExempt(PacerTestCase):
    """[campaign NAME] exempt = true: caps and quiet hours skipped."""
    CONF = {"campaign content": {"exempt": "true"},
            "campaign sales": {"exempt": "true", "counts": "false"},
            "shadow": None}

    def test_exempt_at_three_in_the_morning(self):
        c = self.consented_customer()
        night = self.T0 + 15 * HOUR             # 03:00 local (UTC)
        st, body = self.decide(c, "email", time=night, campaign="content")
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", time=night + 60, campaign="content")
        self.assertDecision(st, body, True, "ok")
        # They count toward later marketing caps.
        st, body = self.decide(c, "email", time=night + 6 * HOUR)
        self.assertDecision(st, body, False, "cap", rule="email 1/1d")

    def test_exempt_needs_consent(self):
        c = self.consented_customer(channels=("push",))
        st, body = self.decide(c, "email", time=self.T0, campaign="content")
        self.assertDecision(st, body, False, "no_consent")

    def test_uncounted_exempt_is_recorded_not_counted(self):
        c = self.consented_customer()
        for i in range(3):
            st, body = self.decide(c, "push", time=self.T0 + i,
                                   offer="flash_sale")
            self.assertDecision(st, body, True, "ok")
        with Redis(self.redis.port) as r:
            self.assertEqual(customer_history(r, c), [])
        st, body = self.decide(c, "push", time=self.T0 + 10)
        self.assertDecision(st, body, True, "ok")


class TestOwnCadence(PacerTestCase):
    """The customer's own caps and pause (a preference centre)."""
    CONF = {"shadow": None}

    def test_own_caps_only_add(self):
        c = self.consented_customer()
        prof = self.put_customer(c, caps=["email 1/7d", "all 3/30d"])
        self.assertEqual(prof["caps"], ["email 1/7d", "all 3/30d"], prof)
        st, body = self.decide(c, "email", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        # email 1/1d alone would allow it two days later; the customer's
        # own 1/7d does not.
        t = self.T0 + 2 * DAY
        st, body = self.decide(c, "email", time=t)
        self.assertDecision(st, body, False, "cap", rule="customer email 1/7d",
                            retry_after=5 * DAY)
        self.assertEqual(body["next_allowed"], self.T0 + 7 * DAY)
        # all 3/30d: two pushes fill it with the email; a third waits 30d.
        for i in range(2):
            st, body = self.decide(c, "push", time=t + i)
            self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=t + 10)
        self.assertDecision(st, body, False, "cap", rule="customer all 3/30d")
        # The explanation shows them beside the configured caps.
        st, expl = self.http.get("/v1/customers/%s?time=%d" % (c, t + 10))
        self.assertEqual(st, 200, expl)
        rules = {k["rule"]: k for k in expl["caps"]}
        self.assertEqual(rules["customer all 3/30d"]["used"], 3, expl["caps"])
        self.assertEqual(expl["channels"]["push"]["rule"], "customer all 3/30d")
        # An empty list lifts them.
        prof = self.put_customer(c, caps=[])
        self.assertEqual(prof["caps"], [])
        st, body = self.decide(c, "email", time=self.T0 + 3 * DAY)
        self.assertDecision(st, body, True, "ok")

    def test_pause_and_hold(self):
        c = self.consented_customer()
        until = self.T0 + 3 * DAY
        prof = self.put_customer(c, pause_until=until)
        self.assertEqual(prof["pause_until"], until)
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, False, "paused", retry_after=3 * DAY)
        self.assertEqual(body["next_allowed"], until)
        st, body = self.decide(c, "push", time=self.T0, schedule=True)
        self.assertEqual((body["reason"], body["send_at"]), ("scheduled", until))
        st, expl = self.http.get("/v1/customers/%s?time=%d" % (c, self.T0))
        self.assertEqual(expl["channels"]["push"]["reason"], "paused", expl)
        self.assertEqual(expl["pause_until"], until, expl)
        prof = self.put_customer(c, pause_until=None)
        self.assertIsNone(prof["pause_until"])
        st, body = self.decide(c, "push", time=self.T0 + 1)
        self.assertDecision(st, body, True, "ok")

    def test_bad_own_settings_are_400(self):
        c = self.consented_customer()
        for caps in (["fax 1/7d"], ["email 1/500d"], ["email"], "email 1/7d",
                     ["email 1/7d"] * 9):
            with self.subTest(caps=caps):
                st, body = self.http.request("PUT", "/v1/customers/%s" % c,
                                             {"caps": caps})
                self.assertError(st, body, 400, "caps")
        st, body = self.http.request("PUT", "/v1/customers/%s" % c,
                                     {"pause_until": "tomorrow"})
        self.assertError(st, body, 400, "pause_until")


class TestConsentRecords(PacerTestCase):
    """Consent with proof: source and time, newest 20 kept, order enforced."""
    CONF = {"shadow": None}

    def test_records_order_and_erasure(self):
        c = self.customer()
        prof = self.put_customer(c, consent={
            "email": {"granted": True, "source": "signup-form",
                      "at": self.T0 - 100}})
        self.assertTrue(prof["consent"]["email"])
        recs = prof["consent_records"]["email"]
        self.assertEqual(recs, [{"at": self.T0 - 100, "granted": True,
                                 "source": "signup-form", "by": "open"}])
        # An older change is refused and changes nothing.
        st, body = self.http.request("PUT", "/v1/customers/%s" % c, {
            "consent": {"email": {"granted": False, "source": "import",
                                  "at": self.T0 - 200}}})
        self.assertError(st, body, 409, "email")
        self.assertEqual(body["code"], "consent_out_of_order")
        st, body = self.decide(c, "email", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        # A newer withdrawal is recorded first and denies.
        prof = self.put_customer(c, consent={
            "email": {"granted": False, "source": "unsubscribe-link",
                      "at": self.T0 + 10}})
        recs = prof["consent_records"]["email"]
        self.assertEqual([r["source"] for r in recs],
                         ["unsubscribe-link", "signup-form"])
        st, body = self.decide(c, "email", time=self.T0 + 20)
        self.assertDecision(st, body, False, "no_consent")
        # The same answer again is no new record; at most 20 are kept.
        self.put_customer(c, consent={"email": {
            "granted": False, "source": "unsubscribe-link",
            "at": self.T0 + 30}})
        for i in range(25):
            prof = self.put_customer(c, consent={"sms": {
                "granted": i % 2 == 0, "source": "sms-%d" % i}})
        self.assertEqual(len(prof["consent_records"]["sms"]), 20)
        self.assertEqual(prof["consent_records"]["sms"][0]["source"], "sms-24")
        self.assertEqual(len(prof["consent_records"]["email"]), 2)
        # The explanation shows them; erasure removes them.
        st, expl = self.http.get("/v1/customers/%s" % c)
        self.assertEqual(len(expl["consent_records"]["email"]), 2, expl)
        st, body = self.http.request("DELETE", "/v1/customers/%s" % c)
        self.assertEqual(st, 200, body)
        st, expl = self.http.get("/v1/customers/%s" % c)
        self.assertEqual(expl["consent_records"], {})

    def test_bad_consent_records_are_400(self):
        c = self.customer()
        for bad in ({"granted": "yes"}, {"source": "x"},
                    {"granted": True, "source": "a b"},
                    {"granted": True, "at": -1},
                    {"granted": True, "extra": 1}):
            with self.subTest(bad=bad):
                st, body = self.http.request("PUT", "/v1/customers/%s" % c,
                                             {"consent": {"email": bad}})
                self.assertError(st, body, 400, "consent")


if __name__ == "__main__":
    main()
