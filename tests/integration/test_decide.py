"""
POST /v1/decide: every reason over HTTP (SPEC section 3) with the example
config's rules: ok, no_consent (opt-in consent), quiet_hours (customer's zone
and the request's "time"), cap (with "rule" and "retry_after"), suppressed
(credit offers for the vulnerable segment), not_planned and holdout.
"""

import datetime
import unittest

from pacertest import (PacerTestCase, DAY, WEEK, in_holdout, local_to_unix,
                       main)


class TestReasons(PacerTestCase):
    """The example config as shipped (email 3/7d and 1/1d, quiet 21-08)."""

    def test_ok_allows_and_names_a_send_id(self):
        c = self.consented_customer()
        st, body = self.decide(c, "email", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        self.assertNotIn("retry_after", body)

    def test_ok_echoes_the_callers_send_id(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", send_id="s-1.a:b@c_d", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        self.assertEqual(body["send_id"], "s-1.a:b@c_d")

    def test_daemon_makes_distinct_send_ids(self):
        c = self.consented_customer()
        _, a = self.decide(c, "push", time=self.T0)
        _, b = self.decide(c, "push", time=self.T0 + 1)
        self.assertIsInstance(a.get("send_id"), str)
        self.assertIsInstance(b.get("send_id"), str)
        self.assertNotEqual(a["send_id"], b["send_id"])

    def test_no_consent_for_a_customer_never_seen(self):
        # [consent] default = deny: no profile means no contact.
        c = self.customer()
        for ch in ("email", "sms", "push"):
            st, body = self.decide(c, ch, time=self.T0)
            self.assertDecision(st, body, False, "no_consent", msg=ch)

    def test_no_consent_when_the_channel_is_refused(self):
        c = self.customer()
        self.put_customer(c, consent={"email": True, "sms": False})
        st, body = self.decide(c, "sms", time=self.T0)
        self.assertDecision(st, body, False, "no_consent")
        # A channel without recorded consent falls back to deny too.
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, False, "no_consent")
        st, body = self.decide(c, "email", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_consent_withdrawn_denies_next_decision(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        self.put_customer(c, consent={"push": False})
        st, body = self.decide(c, "push", time=self.T0 + 60)
        self.assertDecision(st, body, False, "no_consent")
        # The other channels' consent was not touched by a partial update.
        st, body = self.decide(c, "email", time=self.T0 + 60)
        self.assertDecision(st, body, True, "ok")

    def test_no_consent_is_not_counted(self):
        c = self.customer()
        self.put_customer(c, consent={"push": False})
        for i in range(3):
            self.decide(c, "push", time=self.T0 + i)
        self.put_customer(c, consent={"push": True})
        # push 2/1d: both of these fit only if the denials were not counted.
        for i in range(2):
            st, body = self.decide(c, "push", time=self.T0 + 10 + i)
            self.assertDecision(st, body, True, "ok", msg="push #%d" % i)

    def test_quiet_hours_in_the_customers_zone(self):
        c = self.consented_customer(tz="America/New_York")
        d = datetime.datetime.utcfromtimestamp(self.T0)
        # 22:00 local: email quiet hours are 21:00-08:00 there.
        t = local_to_unix("America/New_York", d.year, d.month, d.day, 22)
        end = _next_local(t, "America/New_York", 8)
        st, body = self.decide(c, "email", time=t)
        self.assertDecision(st, body, False, "quiet_hours",
                            retry_after=end - t)
        # 10:00 local the same day is fine.
        t2 = local_to_unix("America/New_York", d.year, d.month, d.day, 10)
        st, body = self.decide(c, "email", time=t2)
        self.assertDecision(st, body, True, "ok")

    def test_quiet_hours_follow_the_channel(self):
        # 20:30 local: sms is quiet (20:00-09:00), email is not (21:00-08:00)
        # and push has no quiet hours.
        c = self.consented_customer(tz="Asia/Tokyo")
        d = datetime.datetime.utcfromtimestamp(self.T0)
        t = local_to_unix("Asia/Tokyo", d.year, d.month, d.day, 20, 30)
        st, body = self.decide(c, "sms", time=t)
        self.assertDecision(st, body, False, "quiet_hours",
                            retry_after=12 * 3600 + 30 * 60)
        st, body = self.decide(c, "email", time=t)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=t + 1)
        self.assertDecision(st, body, True, "ok")

    def test_default_zone_is_utc(self):
        c = self.customer()
        self.put_customer(c, consent={"email": True})
        t = self.T0 - 12 * 3600 + 22 * 3600    # 22:00 UTC
        st, body = self.decide(c, "email", time=t)
        self.assertDecision(st, body, False, "quiet_hours",
                            retry_after=10 * 3600)

    def test_quiet_hours_are_not_counted(self):
        c = self.consented_customer()
        night = self.T0 - 12 * 3600 + 23 * 3600   # 23:00 UTC
        st, body = self.decide(c, "email", time=night)
        self.assertDecision(st, body, False, "quiet_hours")
        # email 1/1d: the next morning's contact fits only if the quiet-hours
        # denial was not counted.
        st, body = self.decide(c, "email", time=night + 10 * 3600)
        self.assertDecision(st, body, True, "ok")

    def test_cap_names_the_rule_and_retry_after(self):
        c = self.consented_customer()
        st, body = self.decide(c, "email", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", time=self.T0 + 10)
        self.assertDecision(st, body, False, "cap", rule="email 1/1d",
                            retry_after=DAY - 10)

    def test_cap_of_the_week(self):
        c = self.consented_customer()
        for i in range(3):
            st, body = self.decide(c, "email", time=self.T0 + i * DAY)
            self.assertDecision(st, body, True, "ok", msg="day %d" % i)
        t = self.T0 + 3 * DAY
        st, body = self.decide(c, "email", time=t)
        # Oldest of the three (T0) leaves the 7-day window at T0 + 7d.
        self.assertDecision(st, body, False, "cap", rule="email 3/7d",
                            retry_after=self.T0 + WEEK - t)

    def test_cap_across_all_channels(self):
        # [all] cap = 5/7d: 2 push (2/1d) + 1 email + 1 sms per day... spread
        # over days so that no channel cap binds first.
        c = self.consented_customer()
        plan = [("push", 0), ("email", 1), ("push", 2), ("sms", 3),
                ("push", 4)]
        for ch, day in plan:
            st, body = self.decide(c, ch, time=self.T0 + day * DAY)
            self.assertDecision(st, body, True, "ok", msg="%s day %d" % (ch,
                                                                       day))
        t = self.T0 + 5 * DAY
        st, body = self.decide(c, "email", time=t)
        self.assertDecision(st, body, False, "cap", rule="all 5/7d",
                            retry_after=self.T0 + WEEK - t)

    def test_cap_per_campaign(self):
        # [campaign] cap = 1/1d, counted per campaign, only when named.
        c = self.consented_customer()
        st, body = self.decide(c, "push", campaign="sales", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", campaign="sales",
                               time=self.T0 + 100)
        self.assertDecision(st, body, False, "cap", rule="campaign 1/1d",
                            retry_after=DAY - 100)
        st, body = self.decide(c, "email", campaign="content",
                               time=self.T0 + 200)
        self.assertDecision(st, body, True, "ok")

    def test_segment_cap(self):
        # [segment vulnerable] cap = 1/7d, all channels together.
        c = self.consented_customer(segments=["vulnerable"])
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", time=self.T0 + DAY)
        self.assertDecision(st, body, False, "cap",
                            rule="segment vulnerable 1/7d",
                            retry_after=WEEK - DAY)
        st, body = self.decide(c, "email", time=self.T0 + WEEK)
        self.assertDecision(st, body, True, "ok")

    def test_cap_denial_is_not_counted(self):
        c = self.consented_customer()
        self.decide(c, "email", time=self.T0)
        for i in range(5):
            st, body = self.decide(c, "email", time=self.T0 + 10 + i)
            self.assertDecision(st, body, False, "cap", rule="email 1/1d")
        # The next day exactly one more email fits (3/7d not reached by the
        # denied ones).
        st, body = self.decide(c, "email", time=self.T0 + DAY)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "email", time=self.T0 + 2 * DAY)
        self.assertDecision(st, body, True, "ok")

    def test_suppressed_credit_offer_for_vulnerable(self):
        c = self.consented_customer(segments=["vulnerable"])
        st, body = self.decide(c, "email", campaign="cards",
                               offer="card_upgrade", time=self.T0)
        self.assertDecision(st, body, False, "suppressed")
        st, body = self.decide(c, "sms", campaign="loans",
                               offer="loan_teaser", time=self.T0)
        self.assertDecision(st, body, False, "suppressed")
        # A non-credit offer is fine (and the suppressed ones did not count
        # against the segment's 1/7d).
        st, body = self.decide(c, "email", campaign="content",
                               offer="newsletter", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_credit_offer_for_other_customers(self):
        c = self.consented_customer(segments=["students"])
        st, body = self.decide(c, "email", campaign="cards",
                               offer="card_upgrade", time=self.T0)
        self.assertDecision(st, body, True, "ok")


class TestConsentDefaultAllow(PacerTestCase):
    """[consent] default = allow: no recorded consent means allowed."""
    CONF = {"consent": {"default": "allow"}}

    def test_unknown_customer_allowed(self):
        c = self.customer()
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_explicit_refusal_still_denies(self):
        c = self.customer()
        self.put_customer(c, consent={"push": False})
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, False, "no_consent")


class TestPlanEnforced(PacerTestCase):
    """enforce_plan = true without a live plan: named offers not planned."""
    CONF = {"optimizer": {"enforce_plan": "true"}}

    def test_offer_not_in_plan(self):
        c = self.consented_customer()
        st, body = self.decide(c, "email", campaign="content",
                               offer="newsletter", time=self.T0)
        self.assertDecision(st, body, False, "not_planned")

    def test_decision_without_offer_needs_no_plan(self):
        c = self.consented_customer()
        st, body = self.decide(c, "email", campaign="content", time=self.T0)
        self.assertDecision(st, body, True, "ok")


class TestHoldout(PacerTestCase):
    """holdout = 0.5: customers in the holdout get no offers."""
    CONF = {"optimizer": {"holdout": "0.5"}}

    def _pick(self, want):
        for i in range(1000):
            c = self.customer("h%d" % i)
            if in_holdout(c, 0.5) == want:
                return c
        self.fail("no customer id found")

    def test_holdout_customer_gets_no_offer(self):
        c = self._pick(True)
        self.put_customer(c, consent={"email": True})
        st, body = self.decide(c, "email", campaign="content",
                               offer="newsletter", time=self.T0)
        self.assertDecision(st, body, False, "holdout")

    def test_other_customer_gets_the_offer(self):
        c = self._pick(False)
        self.put_customer(c, consent={"email": True})
        st, body = self.decide(c, "email", campaign="content",
                               offer="newsletter", time=self.T0)
        self.assertDecision(st, body, True, "ok")


def _next_local(t, zone, hour):
    """The first instant >= t whose wall clock in zone reads hour:00:00."""
    from zoneinfo import ZoneInfo
    tz = ZoneInfo(zone)
    d = datetime.datetime.fromtimestamp(t, tz)
    cand = int(datetime.datetime(d.year, d.month, d.day, hour,
                                 tzinfo=tz).timestamp())
    if cand < t:
        d2 = d + datetime.timedelta(days=1)
        cand = int(datetime.datetime(d2.year, d2.month, d2.day, hour,
                                     tzinfo=tz).timestamp())
    return cand


if __name__ == "__main__":
    main()
