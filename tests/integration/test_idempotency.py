"""
Retries and reservations (SPEC section 3): a repeated request with the same
send_id returns the first answer and never counts twice; dry_run checks
without reserving; POST /v1/cancel releases a reservation exactly once.

Config: push 2/1d (no quiet hours), so counting is easy to observe.
"""

from pacertest import (PacerTestCase, DAY, base_overrides, main, make_config,
                       merge_overrides, write_file)


class TestIdempotency(PacerTestCase):
    CONF = {"shadow": None}

    def test_retry_returns_first_answer_and_counts_once(self):
        c = self.consented_customer()
        t = self.T0
        st, first = self.decide(c, "push", send_id="send-1", time=t)
        self.assertDecision(st, first, True, "ok")
        self.assertEqual(first["send_id"], "send-1")
        for i in range(3):
            st, again = self.decide(c, "push", send_id="send-1",
                                    time=t + 1 + i)
            self.assertEqual(st, 200)
            self.assertEqual(again, first, "retry %d" % i)
        # push 2/1d: one more fits (the retries did not count) ...
        st, body = self.decide(c, "push", send_id="send-2", time=t + 10)
        self.assertDecision(st, body, True, "ok")
        # ... and then the cap binds, counting exactly two.
        st, body = self.decide(c, "push", send_id="send-3", time=t + 20)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d",
                            retry_after=DAY - 20)

    def test_retry_of_a_denial_returns_the_denial(self):
        c = self.consented_customer()
        t = self.T0
        self.decide(c, "push", time=t)
        self.decide(c, "push", time=t + 1)
        st, denied = self.decide(c, "push", send_id="late", time=t + 2)
        self.assertDecision(st, denied, False, "cap", rule="push 2/1d",
                            retry_after=DAY - 2)
        # A day later the cap has room, but "late" was answered already.
        st, again = self.decide(c, "push", send_id="late", time=t + DAY + 5)
        self.assertEqual(st, 200)
        self.assertEqual(again, denied)
        # The room is still there for a new send.
        st, body = self.decide(c, "push", send_id="later", time=t + DAY + 5)
        self.assertDecision(st, body, True, "ok")

    def test_generated_send_id_is_idempotent_too(self):
        c = self.consented_customer()
        st, first = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, first, True, "ok")
        sid = first["send_id"]
        st, again = self.decide(c, "push", send_id=sid, time=self.T0 + 1)
        self.assertEqual((st, again), (200, first))
        st, body = self.decide(c, "push", time=self.T0 + 2)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=self.T0 + 3)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")

    def test_send_ids_are_per_customer(self):
        a = self.consented_customer("a")
        b = self.consented_customer("b")
        st, x = self.decide(a, "push", send_id="shared", time=self.T0)
        self.assertDecision(st, x, True, "ok")
        st, y = self.decide(b, "push", send_id="shared", time=self.T0)
        self.assertDecision(st, y, True, "ok")
        # b's reservation counted for b: one more, then the cap.
        self.assertDecision(*self.decide(b, "push", time=self.T0 + 1), True,
                            "ok")
        self.assertDecision(*self.decide(b, "push", time=self.T0 + 2), False,
                            "cap")


class TestDryRun(PacerTestCase):
    CONF = {"shadow": None}

    def test_dry_run_never_reserves(self):
        c = self.consented_customer()
        for i in range(5):
            st, body = self.decide(c, "push", dry_run=True, time=self.T0 + i)
            self.assertDecision(st, body, True, "ok", msg="dry %d" % i)
        # Nothing counted: both real contacts of push 2/1d still fit.
        self.assertDecision(*self.decide(c, "push", time=self.T0 + 10), True,
                            "ok")
        self.assertDecision(*self.decide(c, "push", time=self.T0 + 11), True,
                            "ok")
        st, body = self.decide(c, "push", time=self.T0 + 12)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d",
                            retry_after=DAY - 2)

    def test_dry_run_reports_the_denial(self):
        c = self.consented_customer()
        self.decide(c, "push", time=self.T0)
        self.decide(c, "push", time=self.T0 + 1)
        st, body = self.decide(c, "push", dry_run=True, time=self.T0 + 100)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d",
                            retry_after=DAY - 100)
        st, body = self.decide(c, "push", dry_run=True, time=self.T0 + DAY)
        self.assertDecision(st, body, True, "ok")

    def test_dry_run_false_reserves(self):
        c = self.consented_customer()
        self.assertDecision(*self.decide(c, "push", dry_run=False,
                                         time=self.T0), True, "ok")
        self.assertDecision(*self.decide(c, "push", dry_run=False,
                                         time=self.T0 + 1), True, "ok")
        self.assertDecision(*self.decide(c, "push", dry_run=True,
                                         time=self.T0 + 2), False, "cap")


class TestCancel(PacerTestCase):
    CONF = {"shadow": None}

    def cancel(self, customer, send_id):
        return self.http.post("/v1/cancel", {"customer": customer,
                                             "send_id": send_id})

    def test_cancel_releases_the_reservation(self):
        c = self.consented_customer()
        t = self.T0
        self.assertDecision(*self.decide(c, "push", send_id="p1", time=t),
                            True, "ok")
        self.assertDecision(*self.decide(c, "push", send_id="p2", time=t + 1),
                            True, "ok")
        st, body = self.decide(c, "push", send_id="p3", time=t + 2)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        st, body = self.cancel(c, "p1")
        self.assertEqual((st, body), (200, {"released": True}))
        # p1 no longer counts: a new send fits, and the next one does not
        # (retry_after now from p2, the oldest counted).
        st, body = self.decide(c, "push", send_id="p4", time=t + 3)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", send_id="p5", time=t + 4)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d",
                            retry_after=DAY - 3)

    def test_cancel_twice_is_false(self):
        c = self.consented_customer()
        self.decide(c, "push", send_id="once", time=self.T0)
        self.assertEqual(self.cancel(c, "once"), (200, {"released": True}))
        self.assertEqual(self.cancel(c, "once"), (200, {"released": False}))

    def test_cancel_unknown_send_is_false(self):
        c = self.consented_customer()
        self.assertEqual(self.cancel(c, "never-sent"),
                         (200, {"released": False}))
        # A customer never seen at all.
        self.assertEqual(self.cancel(self.customer(), "x"),
                         (200, {"released": False}))

    def test_cancel_of_a_denied_send_is_false(self):
        c = self.customer()      # no consent: denied
        st, body = self.decide(c, "push", send_id="denied", time=self.T0)
        self.assertDecision(st, body, False, "no_consent")
        self.assertEqual(self.cancel(c, "denied"), (200, {"released": False}))

    def test_cancel_of_a_dry_run_is_false(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", send_id="dry", dry_run=True,
                               time=self.T0)
        self.assertDecision(st, body, True, "ok")
        self.assertEqual(self.cancel(c, "dry"), (200, {"released": False}))

    def test_cancel_with_generated_send_id(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        self.assertEqual(self.cancel(c, body["send_id"]),
                         (200, {"released": True}))

    def test_cancel_is_per_customer(self):
        a = self.consented_customer("a")
        b = self.consented_customer("b")
        self.decide(a, "push", send_id="mine", time=self.T0)
        self.assertEqual(self.cancel(b, "mine"), (200, {"released": False}))
        self.assertEqual(self.cancel(a, "mine"), (200, {"released": True}))


class TestRetryAcrossReload(PacerTestCase):
    """
    A decision's answer names its rule by the check's position in the
    running program; the record keeps the rule's text. A retry after a
    reload must still name the rule it was denied by, whether the new
    program has that check at another position or no longer has it.
    """
    CONF = {"shadow": None}

    def reconfigure(self, push_caps):
        conf = make_config(merge_overrides(
            base_overrides(self.daemon.port, self.redis.port, self.workdir),
            self.extra_conf(), self.CONF,
            {"channel push": {"cap": push_caps}}))
        write_file(self.conf_path, conf)
        st, body = self.http.post("/v1/admin/reload")
        self.assertEqual(st, 200, body)

    def tearDown(self):
        self.reconfigure(["2/1d"])
        super().tearDown()

    def test_retry_names_the_rule_after_reloads(self):
        c = self.consented_customer()
        t = self.T0
        self.decide(c, "push", time=t)
        self.decide(c, "push", time=t + 1)
        st, denied = self.decide(c, "push", send_id="held", time=t + 2)
        self.assertDecision(st, denied, False, "cap", rule="push 2/1d")
        # A tighter cap now comes first: push 2/1d is the second check.
        self.reconfigure(["1/1h", "2/1d"])
        st, again = self.decide(c, "push", send_id="held", time=t + 3)
        self.assertEqual((st, again), (200, denied))
        st, body = self.decide(c, "push", time=t + 4)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        st, body = self.decide(c, "push", time=t + 2 * 3600)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        # push 2/1d is gone: the record's own text still names it.
        self.reconfigure(["9/1d"])
        st, again = self.decide(c, "push", send_id="held", time=t + 5)
        self.assertEqual((st, again), (200, denied))
        # The explanation names the running rule by its position too (both
        # caps are full; the one that holds the customer longest is named).
        self.reconfigure(["1/1h", "2/1d"])
        st, body = self.http.get("/v1/customers/%s?time=%d" % (c, t + 6))
        self.assertEqual(st, 200, body)
        self.assertEqual(body["channels"]["push"]["rule"], "push 2/1d")


if __name__ == "__main__":
    main()
