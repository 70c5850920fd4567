"""
Quiet hours in the customer's own time zone (SPEC section 2), exactly at
their edges: across midnight, in zones with half-hour offsets, and on the
nights when daylight saving time starts or ends (Europe/Paris,
America/New_York, Australia/Sydney), where the quiet night is an hour
shorter or longer. retry_after must be the real seconds until the quiet
hours end: a decision at now + retry_after is allowed, one second earlier
is not.

email quiet_hours = 21:00-08:00, sms quiet_hours = 20:00-09:00 (the
example config). Each check uses a fresh customer so that caps never
interfere.
"""

import datetime
from zoneinfo import ZoneInfo

from pacertest import PacerTestCase, DAY, local_to_unix, next_transitions, \
    main


def local_date(t, zone):
    return datetime.datetime.fromtimestamp(t, ZoneInfo(zone)).date()


class QuietHoursCase(PacerTestCase):
    CONF = {"all": {"cap": ["100/7d"]}, "shadow": None}

    def check(self, zone, t, channel, quiet, retry_after=None, msg=""):
        """One decision at t for a fresh customer in zone (own subTest)."""
        local = datetime.datetime.fromtimestamp(t, ZoneInfo(zone))
        ctx = "%s %s at %s (%d) %s" % (channel, zone, local.isoformat(), t,
                                       msg)
        with self.subTest(ctx):
            c = self.consented_customer("q", tz=zone)
            st, body = self.decide(c, channel, time=t)
            if quiet:
                self.assertDecision(st, body, False, "quiet_hours",
                                    retry_after=retry_after, msg=ctx)
            else:
                self.assertDecision(st, body, True, "ok", msg=ctx)

    def night(self, zone, evening_date, start_h, end_h, channel):
        """Check one quiet night's edges; returns its length in seconds."""
        d0 = evening_date
        d1 = d0 + datetime.timedelta(days=1)
        start = local_to_unix(zone, d0.year, d0.month, d0.day, start_h)
        end = local_to_unix(zone, d1.year, d1.month, d1.day, end_h)
        self.check(zone, start - 1, channel, False, msg="just before")
        self.check(zone, start, channel, True, end - start, "start")
        self.check(zone, end - 1, channel, True, 1, "last second")
        self.check(zone, end, channel, False, msg="end")
        return end - start


class TestAcrossMidnight(QuietHoursCase):

    def test_utc_night_edges(self):
        day = datetime.datetime.utcfromtimestamp(self.T0).date()
        length = self.night("UTC", day, 21, 8, "email")
        self.assertEqual(length, 11 * 3600)

    def test_around_midnight(self):
        midnight = self.T0 - 12 * 3600 + DAY
        self.check("UTC", midnight - 1, "email", True, 8 * 3600 + 1)
        self.check("UTC", midnight, "email", True, 8 * 3600)
        self.check("UTC", midnight + 1, "email", True, 8 * 3600 - 1)

    def test_sms_night(self):
        day = datetime.datetime.utcfromtimestamp(self.T0).date()
        self.assertEqual(self.night("Europe/Lisbon", day, 20, 9, "sms"),
                         13 * 3600)

    def test_push_has_no_quiet_hours(self):
        midnight = self.T0 - 12 * 3600 + DAY
        self.check("UTC", midnight + 3 * 3600, "push", False)

    def test_half_hour_zone(self):
        day = datetime.datetime.utcfromtimestamp(self.T0).date()
        self.night("Asia/Kolkata", day, 21, 8, "email")

    def test_zone_far_east_and_west(self):
        day = datetime.datetime.utcfromtimestamp(self.T0).date()
        self.night("Pacific/Kiritimati", day, 21, 8, "email")   # UTC+14
        self.night("Pacific/Pago_Pago", day, 21, 8, "email")    # UTC-11

    def test_changing_the_zone_moves_the_night(self):
        c = self.consented_customer("move", tz="UTC")
        t = self.T0 + 10 * 3600        # 22:00 UTC, 07:00 in Tokyo
        st, body = self.decide(c, "email", time=t, dry_run=True)
        self.assertDecision(st, body, False, "quiet_hours")
        self.put_customer(c, tz="Asia/Tokyo")
        st, body = self.decide(c, "email", time=t, dry_run=True)
        self.assertDecision(st, body, False, "quiet_hours", retry_after=3600)
        st, body = self.decide(c, "email", time=t + 3600)
        self.assertDecision(st, body, True, "ok")


class TestDaylightSaving(QuietHoursCase):
    """The next two DST changes of each zone, whatever today's date."""

    def dst_nights(self, zone, channel, start_h, end_h):
        normal = ((end_h - start_h) % 24) * 3600
        for when, before, after in next_transitions(zone, count=2):
            with self.subTest(zone=zone, change=when):
                # The quiet night that contains the change.
                d = local_date(when, zone)
                local = datetime.datetime.fromtimestamp(when, ZoneInfo(zone))
                if local.hour >= start_h:
                    evening = d
                else:
                    evening = d - datetime.timedelta(days=1)
                length = self.night(zone, evening, start_h, end_h, channel)
                # Spring forward: an hour shorter; fall back: longer.
                self.assertEqual(length, normal - (after - before))
                d1 = evening + datetime.timedelta(days=1)
                morning = local_to_unix(zone, d1.year, d1.month, d1.day,
                                        end_h)
                # Either side of the change itself.
                self.check(zone, when - 1, channel, True, morning - when + 1,
                           "second before the change")
                self.check(zone, when, channel, True, morning - when,
                           "the change")

    def test_europe_paris_email(self):
        self.dst_nights("Europe/Paris", "email", 21, 8)

    def test_america_new_york_email(self):
        self.dst_nights("America/New_York", "email", 21, 8)

    def test_america_new_york_sms(self):
        self.dst_nights("America/New_York", "sms", 20, 9)

    def test_australia_sydney_email(self):
        self.dst_nights("Australia/Sydney", "email", 21, 8)

    def test_repeated_hour_of_fall_back(self):
        # The hour that happens twice is quiet both times, and the wait is
        # counted in real seconds.
        zone = "America/New_York"
        for when, before, after in next_transitions(zone, count=2):
            if after > before:
                continue
            d = local_date(when, zone)
            first = local_to_unix(zone, d.year, d.month, d.day, 1, 30, fold=0)
            second = local_to_unix(zone, d.year, d.month, d.day, 1, 30,
                                   fold=1)
            self.assertEqual(second - first, 3600)
            morning = local_to_unix(zone, d.year, d.month, d.day, 8)
            self.check(zone, first, "email", True, morning - first, "1:30 #1")
            self.check(zone, second, "email", True, morning - second,
                       "1:30 #2")
            return
        self.fail("no fall-back found in the next two changes")


if __name__ == "__main__":
    main()
