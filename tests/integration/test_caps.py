"""
Rolling-window caps at the exact second (SPEC section 2: a contact is allowed
only if fewer than N allowed contacts lie in (now - window, now]), with
"time" in requests (allow_client_time = true) to make every instant exact:
the rule named, retry_after exactly the seconds until the oldest counted
contact leaves the window, and the decision at now + retry_after allowed.
"""

from pacertest import PacerTestCase, DAY, WEEK, main

HOUR = 3600


class TestRollingCaps(PacerTestCase):
    CONF = {
        "channel email": {"cap": ["3/7d"], "quiet_hours": None},
        "channel sms": {"cap": ["2/1h"], "quiet_hours": None},
        "channel push": {"cap": ["1/1h", "3/1d"]},
        "all": {"cap": ["100/7d"]},
        "campaign": {"cap": ["2/30m"]},
        "shadow": None,
    }

    def test_email_week_rolls_over_at_the_exact_second(self):
        c = self.consented_customer()
        t = self.T0
        for i in range(3):
            st, body = self.decide(c, "email", time=t + i)
            self.assertDecision(st, body, True, "ok", msg="t+%d" % i)
        st, body = self.decide(c, "email", time=t + 3)
        self.assertDecision(st, body, False, "cap", rule="email 3/7d",
                            retry_after=WEEK - 3)
        st, body = self.decide(c, "email", time=t + WEEK - 1)
        self.assertDecision(st, body, False, "cap", rule="email 3/7d",
                            retry_after=1)
        # At t + 7d the contact at t is out of (now - 7d, now].
        st, body = self.decide(c, "email", time=t + WEEK)
        self.assertDecision(st, body, True, "ok")
        # Now t+1, t+2 and t+7d count: full again until t+1 leaves.
        st, body = self.decide(c, "email", time=t + WEEK)
        self.assertDecision(st, body, False, "cap", rule="email 3/7d",
                            retry_after=1)
        st, body = self.decide(c, "email", time=t + WEEK + 1)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", time=t + WEEK + 1)
        self.assertDecision(st, body, False, "cap", rule="email 3/7d",
                            retry_after=1)
        st, body = self.decide(c, "email", time=t + WEEK + 2)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", time=t + WEEK + 3)
        self.assertDecision(st, body, False, "cap", rule="email 3/7d",
                            retry_after=WEEK - 3)

    def test_hour_window_boundaries(self):
        c = self.consented_customer()
        t = self.T0 + 17
        self.assertDecision(*self.decide(c, "sms", time=t), True, "ok")
        self.assertDecision(*self.decide(c, "sms", time=t + 1000), True, "ok")
        st, body = self.decide(c, "sms", time=t + 1001)
        self.assertDecision(st, body, False, "cap", rule="sms 2/1h",
                            retry_after=HOUR - 1001)
        st, body = self.decide(c, "sms", time=t + HOUR - 1)
        self.assertDecision(st, body, False, "cap", rule="sms 2/1h",
                            retry_after=1)
        self.assertDecision(*self.decide(c, "sms", time=t + HOUR), True, "ok")
        # t+1000 and t+1h count now; t+1000 leaves at t+1000+1h.
        st, body = self.decide(c, "sms", time=t + HOUR + 500)
        self.assertDecision(st, body, False, "cap", rule="sms 2/1h",
                            retry_after=500)
        self.assertDecision(*self.decide(c, "sms", time=t + HOUR + 1000),
                            True, "ok")

    def test_retry_after_is_exact_and_sufficient(self):
        c = self.consented_customer()
        t = self.T0 + 5
        self.assertDecision(*self.decide(c, "sms", time=t), True, "ok")
        self.assertDecision(*self.decide(c, "sms", time=t + 7), True, "ok")
        st, body = self.decide(c, "sms", time=t + 60)
        self.assertDecision(st, body, False, "cap", rule="sms 2/1h",
                            retry_after=HOUR - 60)
        wait = body["retry_after"]
        st, body = self.decide(c, "sms", time=t + 60 + wait - 1)
        self.assertDecision(st, body, False, "cap", rule="sms 2/1h",
                            retry_after=1)
        st, body = self.decide(c, "sms", time=t + 60 + wait)
        self.assertDecision(st, body, True, "ok")

    def test_several_caps_on_one_channel(self):
        # push: 1/1h and 3/1d, both must hold; the answer names the one
        # that denies.
        c = self.consented_customer()
        t = self.T0
        self.assertDecision(*self.decide(c, "push", time=t), True, "ok")
        st, body = self.decide(c, "push", time=t + 10)
        self.assertDecision(st, body, False, "cap", rule="push 1/1h",
                            retry_after=HOUR - 10)
        self.assertDecision(*self.decide(c, "push", time=t + HOUR), True,
                            "ok")
        self.assertDecision(*self.decide(c, "push", time=t + 2 * HOUR), True,
                            "ok")
        st, body = self.decide(c, "push", time=t + 3 * HOUR)
        self.assertDecision(st, body, False, "cap", rule="push 3/1d",
                            retry_after=DAY - 3 * HOUR)
        st, body = self.decide(c, "push", time=t + DAY - 1)
        self.assertDecision(st, body, False, "cap", rule="push 3/1d",
                            retry_after=1)
        self.assertDecision(*self.decide(c, "push", time=t + DAY), True, "ok")

    def test_caps_count_per_customer(self):
        a = self.consented_customer("a")
        b = self.consented_customer("b")
        t = self.T0
        self.assertDecision(*self.decide(a, "push", time=t), True, "ok")
        self.assertDecision(*self.decide(b, "push", time=t), True, "ok")
        st, body = self.decide(a, "push", time=t + 1)
        self.assertDecision(st, body, False, "cap", rule="push 1/1h")

    def test_channels_count_separately(self):
        c = self.consented_customer()
        t = self.T0
        self.assertDecision(*self.decide(c, "push", time=t), True, "ok")
        self.assertDecision(*self.decide(c, "sms", time=t), True, "ok")
        self.assertDecision(*self.decide(c, "email", time=t), True, "ok")
        self.assertDecision(*self.decide(c, "sms", time=t + 1), True, "ok")
        st, body = self.decide(c, "sms", time=t + 2)
        self.assertDecision(st, body, False, "cap", rule="sms 2/1h",
                            retry_after=HOUR - 2)

    def test_campaign_window_rolls_over(self):
        # [campaign] cap = 2/30m, per campaign, across channels.
        c = self.consented_customer()
        t = self.T0
        self.assertDecision(*self.decide(c, "push", campaign="sales",
                                         time=t), True, "ok")
        self.assertDecision(*self.decide(c, "email", campaign="sales",
                                         time=t + 100), True, "ok")
        st, body = self.decide(c, "sms", campaign="sales", time=t + 200)
        self.assertDecision(st, body, False, "cap", rule="campaign 2/30m",
                            retry_after=1800 - 200)
        # Another campaign is not affected.
        self.assertDecision(*self.decide(c, "sms", campaign="winback",
                                         time=t + 200), True, "ok")
        st, body = self.decide(c, "sms", campaign="sales", time=t + 1799)
        self.assertDecision(st, body, False, "cap", rule="campaign 2/30m",
                            retry_after=1)
        # sms 2/1h holds one (winback at t+200): one more sms fits.
        self.assertDecision(*self.decide(c, "sms", campaign="sales",
                                         time=t + 1800), True, "ok")


class TestAllChannelsCap(PacerTestCase):
    CONF = {
        "channel email": {"cap": ["10/1d"], "quiet_hours": None},
        "channel sms": {"cap": ["10/1d"], "quiet_hours": None},
        "channel push": {"cap": ["10/1d"]},
        "all": {"cap": ["3/2h"]},
        "campaign": None,
        "shadow": None,
    }

    def test_all_channels_share_one_window(self):
        c = self.consented_customer()
        t = self.T0
        self.assertDecision(*self.decide(c, "email", time=t), True, "ok")
        self.assertDecision(*self.decide(c, "sms", time=t + 60), True, "ok")
        self.assertDecision(*self.decide(c, "push", time=t + 120), True, "ok")
        for ch in ("email", "sms", "push"):
            st, body = self.decide(c, ch, time=t + 180)
            self.assertDecision(st, body, False, "cap", rule="all 3/2h",
                                retry_after=7200 - 180, msg=ch)
        st, body = self.decide(c, "push", time=t + 7199)
        self.assertDecision(st, body, False, "cap", rule="all 3/2h",
                            retry_after=1)
        self.assertDecision(*self.decide(c, "push", time=t + 7200), True,
                            "ok")
        st, body = self.decide(c, "email", time=t + 7200)
        self.assertDecision(st, body, False, "cap", rule="all 3/2h",
                            retry_after=60)


if __name__ == "__main__":
    main()
