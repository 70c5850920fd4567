"""
GET /v1/customers/{id}, the explanation (SPEC section 3): consent per
channel, time zone, segments, each applicable cap with used/limit/resets_in,
recent contacts, recent decisions with reasons. The contract names the
contents, not their layout, so the checks look for them anywhere in the
answer (a cap is an object with "used" and "limit" naming its rule).

Decisions here use the daemon's clock (no "time") on push, which has no
quiet hours, so that the explanation (read at the daemon's "now") sees them.
Skipped when the endpoint does not exist yet (404/405).
"""

from pacertest import PacerTestCase, DAY, WEEK, main


def walk(obj):
    """Every value in a JSON tree (dicts, lists and scalars)."""
    yield obj
    if isinstance(obj, dict):
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def caps_in(doc):
    """Cap objects: dicts with "used" and "limit", keyed by rule text."""
    out = {}
    for v in walk(doc):
        if isinstance(v, dict) and "used" in v and "limit" in v:
            names = [s for s in v.values() if isinstance(s, str)]
            for n in names:
                out.setdefault(n, []).append(v)
    return out


class TestExplain(PacerTestCase):
    CONF = {"shadow": None}

    def setUp(self):
        self.requireFeature("GET", "/v1/customers/" + self.customer("probe"))

    def explain(self, c, client=None):
        st, body = (client or self.http).get("/v1/customers/" + c)
        self.assertEqual(st, 200, body)
        self.assertIsInstance(body, dict, body)
        return body

    def test_profile_is_explained(self):
        c = self.customer()
        self.put_customer(c, consent={"email": True, "sms": False},
                          tz="Europe/Paris", segments=["students"])
        doc = self.explain(c)
        self.assertIs(doc["consent"]["email"], True, doc)
        self.assertIs(doc["consent"]["sms"], False, doc)
        self.assertIn(doc["consent"].get("push"), (None, False), doc)
        self.assertEqual(doc["tz"], "Europe/Paris", doc)
        self.assertEqual(doc["segments"], ["students"], doc)

    def test_caps_used_limit_resets_in(self):
        c = self.consented_customer()
        sids = []
        for i in range(2):
            st, body = self.decide(c, "push", send_id="exp-%d" % i)
            self.assertDecision(st, body, True, "ok")
            sids.append(body["send_id"])
        st, body = self.decide(c, "push", send_id="exp-denied")
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        doc = self.explain(c)
        caps = caps_in(doc)
        self.assertIn("push 2/1d", caps, doc)
        push = caps["push 2/1d"][0]
        self.assertEqual((push["used"], push["limit"]), (2, 2), push)
        self.assertIn("resets_in", push, push)
        # The first of the two leaves the day window within a day of now
        # (a few seconds have passed since it was made).
        self.assertGreater(push["resets_in"], DAY - 60, push)
        self.assertLessEqual(push["resets_in"], DAY, push)
        self.assertIn("all 5/7d", caps, doc)
        al = caps["all 5/7d"][0]
        self.assertEqual((al["used"], al["limit"]), (2, 5), al)
        self.assertGreater(al["resets_in"], WEEK - 60, al)
        self.assertLessEqual(al["resets_in"], WEEK, al)
        email = caps.get("email 3/7d")
        if email:
            self.assertEqual((email[0]["used"], email[0]["limit"]), (0, 3))

    def test_recent_contacts_and_decisions(self):
        c = self.customer()
        st, body = self.decide(c, "push", send_id="before-consent")
        self.assertDecision(st, body, False, "no_consent")
        self.put_customer(c, consent={"push": True})
        self.decide(c, "push", send_id="first")
        self.decide(c, "push", send_id="second")
        self.decide(c, "push", send_id="third")
        doc = self.explain(c)
        strings = [v for v in walk(doc) if isinstance(v, str)]
        # Recent contacts name the two sends that happened.
        self.assertIn("first", strings, doc)
        self.assertIn("second", strings, doc)
        # Recent decisions carry their reasons, the denials too.
        reasons = [v.get("reason") for v in walk(doc)
                   if isinstance(v, dict) and "reason" in v]
        self.assertGreaterEqual(reasons.count("ok"), 2, doc)
        self.assertIn("cap", reasons, doc)
        self.assertIn("no_consent", reasons, doc)

    def test_cancelled_send_is_not_a_contact(self):
        c = self.consented_customer()
        self.decide(c, "push", send_id="keep")
        self.decide(c, "push", send_id="drop")
        st, body = self.http.post("/v1/cancel", {"customer": c,
                                                 "send_id": "drop"})
        self.assertEqual((st, body), (200, {"released": True}))
        caps = caps_in(self.explain(c))
        self.assertEqual(caps["push 2/1d"][0]["used"], 1)

    def test_bad_id_is_400(self):
        for cid in ("a%20b", "x" * 129, "a*"):
            with self.subTest(cid):
                st, body = self.http.get("/v1/customers/" + cid)
                self.assertError(st, body, 400, "customer")

    def test_read_changes_nothing(self):
        c = self.consented_customer()
        self.decide(c, "push")
        before = self.dump()
        self.explain(c)
        self.http.get("/v1/customers/" + self.customer("never-seen"))
        self.assertEqual(self.dump(), before)


class TestExplainIsTheDecision(PacerTestCase):
    """
    The explanation's answer per channel is the decision script's own dry
    run (daemon/read.lua's explain), at the explanation's time: it says
    suppressed and not_planned where a decision would, and agrees with a
    dry-run decision field by field.
    """
    CONF = {"shadow": None, "optimizer": {"enforce_plan": "true"},
            "category credit": {"cap": ["1/30d"]}}

    def explain(self, c, query=""):
        return self.http.get("/v1/customers/%s?time=%d%s" % (c, self.T0,
                                                            query))

    def test_suppressed_says_so(self):
        c = self.consented_customer(segments=["vulnerable"])
        st, doc = self.explain(c, "&offer=card_upgrade")
        self.assertEqual(st, 200, doc)
        email = doc["channels"]["email"]
        self.assertEqual((email["allow"], email["reason"], email["offer"]),
                         (False, "suppressed", "card_upgrade"), email)
        self.assertTrue(any("excluded" in w for w in email["would_change"]),
                        email)
        # Channels without the offer answer as without one.
        self.assertNotIn("offer", doc["channels"]["sms"])

    def test_not_planned_says_so(self):
        c = self.consented_customer()
        st, doc = self.explain(c, "&offer=welcome10")
        self.assertEqual(st, 200, doc)
        email = doc["channels"]["email"]
        self.assertEqual((email["allow"], email["reason"]),
                         (False, "not_planned"), email)
        self.assertTrue(any("plan" in w for w in email["would_change"]),
                        email)
        # Without an offer no plan is asked for.
        st, doc = self.explain(c)
        self.assertEqual(doc["channels"]["email"]["reason"], "ok", doc)

    def test_unknown_offer_or_campaign_is_400(self):
        c = self.consented_customer()
        st, body = self.explain(c, "&offer=nope")
        self.assertEqual((st, body.get("code")), (400, "unknown_offer"), body)
        st, body = self.explain(c, "&campaign=nope")
        self.assertEqual(st, 400, body)
        st, body = self.explain(c, "&offer=welcome10&campaign=loans")
        self.assertEqual(st, 400, body)

    def test_agrees_with_dry_run_decisions(self):
        # A full channel cap and quiet hours: whatever binds,
        # the explanation and a dry-run decision at the same instant say
        # the same.
        c = self.consented_customer()
        t = self.T0
        for back in (7200, 3600):       # push 2/1d full until t + 23h
            st, body = self.http.post("/v1/decide", {
                "customer": c, "channel": "push", "time": t - back})
            self.assertIs(body["allow"], True, body)
        for hour in (0, 9, 10):
            at = t + hour * 3600
            st, doc = self.http.get("/v1/customers/%s?time=%d" % (c, at))
            self.assertEqual(st, 200, doc)
            for ch in ("email", "sms", "push"):
                st, d = self.http.post("/v1/decide", {
                    "customer": c, "channel": ch, "time": at,
                    "dry_run": True})
                got = doc["channels"][ch]
                for f in ("allow", "reason", "rule", "retry_after",
                          "next_allowed", "reserved_for"):
                    self.assertEqual(got.get(f), d.get(f),
                                     (hour, ch, f, got, d))


if __name__ == "__main__":
    main()
