"""
PUT /v1/customers/{id} (SPEC section 3): consent, tz and segments (any
subset) -> the stored profile; a partial update keeps what it does not
name; an unknown time zone or channel, wrong types and bad ids are 400 with
{"error": ...} and change nothing; the profile drives decisions (consent is
opt-in with [consent] default = deny).
"""

from pacertest import PacerTestCase, main


class TestProfiles(PacerTestCase):
    CONF = {"shadow": None}

    def put(self, customer, body):
        return self.http.put("/v1/customers/" + customer, body)

    def assertProfile(self, body, consent=None, tz=None, segments=None):
        self.assertIsInstance(body, dict, body)
        if consent is not None:
            self.assertIsInstance(body.get("consent"), dict, body)
            for ch, v in consent.items():
                self.assertIs(body["consent"].get(ch), v, body)
        if tz is not None:
            self.assertEqual(body.get("tz"), tz, body)
        if segments is not None:
            self.assertEqual(sorted(body.get("segments", [])),
                             sorted(segments), body)

    def test_put_returns_the_stored_profile(self):
        c = self.customer()
        st, body = self.put(c, {"consent": {"email": True, "sms": False},
                                "tz": "Europe/Paris",
                                "segments": ["vulnerable"]})
        self.assertEqual(st, 200, body)
        self.assertProfile(body, {"email": True, "sms": False},
                           "Europe/Paris", ["vulnerable"])

    def test_partial_updates_keep_the_rest(self):
        c = self.customer()
        self.put(c, {"consent": {"email": True}, "tz": "Europe/Paris",
                     "segments": ["vulnerable", "students"]})
        st, body = self.put(c, {"consent": {"sms": True}})
        self.assertEqual(st, 200, body)
        self.assertProfile(body, {"email": True, "sms": True},
                           "Europe/Paris", ["vulnerable", "students"])
        st, body = self.put(c, {"tz": "Asia/Tokyo"})
        self.assertEqual(st, 200, body)
        self.assertProfile(body, {"email": True, "sms": True}, "Asia/Tokyo",
                           ["vulnerable", "students"])
        st, body = self.put(c, {"segments": ["students"]})
        self.assertEqual(st, 200, body)
        self.assertProfile(body, {"email": True, "sms": True}, "Asia/Tokyo",
                           ["students"])
        st, body = self.put(c, {"consent": {"email": False}})
        self.assertEqual(st, 200, body)
        self.assertProfile(body, {"email": False, "sms": True}, "Asia/Tokyo",
                           ["students"])

    def test_segments_can_be_cleared(self):
        c = self.customer()
        self.put(c, {"consent": {"push": True}, "segments": ["vulnerable"]})
        st, body = self.put(c, {"segments": []})
        self.assertEqual(st, 200, body)
        self.assertProfile(body, segments=[])
        # No longer vulnerable: credit offers are not suppressed.
        self.put(c, {"consent": {"email": True}})
        st, body = self.decide(c, "email", offer="card_upgrade",
                               campaign="cards", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_profile_drives_decisions(self):
        c = self.customer()
        st, body = self.decide(c, "email", time=self.T0, dry_run=True)
        self.assertDecision(st, body, False, "no_consent")
        self.put(c, {"consent": {"email": True}})
        st, body = self.decide(c, "email", time=self.T0, dry_run=True)
        self.assertDecision(st, body, True, "ok")
        self.put(c, {"segments": ["vulnerable"]})
        st, body = self.decide(c, "email", offer="card_upgrade",
                               campaign="cards", time=self.T0, dry_run=True)
        self.assertDecision(st, body, False, "suppressed")
        self.put(c, {"tz": "Asia/Tokyo"})      # 12:00 UTC is 21:00 there
        st, body = self.decide(c, "email", time=self.T0, dry_run=True)
        self.assertDecision(st, body, False, "quiet_hours",
                            retry_after=11 * 3600)

    def test_repeat_put_is_idempotent(self):
        c = self.customer()
        prof = {"consent": {"email": True, "push": False}, "tz": "UTC",
                "segments": ["a", "b"]}
        st1, b1 = self.put(c, prof)
        st2, b2 = self.put(c, prof)
        self.assertEqual((st1, st2), (200, 200))
        self.assertEqual(b1, b2)
        self.assertProfile(b2, {"email": True, "push": False}, "UTC",
                           ["a", "b"])

    def test_max_length_id(self):
        c = "p" * 100 + self.customer()[-28:]
        self.assertEqual(len(c), 128)
        st, body = self.put(c, {"consent": {"push": True}})
        self.assertEqual(st, 200, body)
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")


class TestProfileBadInput(PacerTestCase):
    CONF = {"shadow": None}

    def setUp(self):
        self.c = self.customer()
        st, body = self.http.put("/v1/customers/" + self.c, {
            "consent": {"email": True}, "tz": "Europe/Paris",
            "segments": ["vulnerable"]})
        self.assertEqual(st, 200, body)

    def tearDown(self):
        st, _ = self.http.get("/healthz")
        self.assertEqual(st, 200, "daemon no longer healthy")

    def rejected(self, path_id, body, mentions, desc):
        before_n = self.redis.cli("DBSIZE")
        before = self.dump()
        st, resp = self.http.put("/v1/customers/" + path_id, body)
        self.assertError(st, resp, 400, mentions, msg=desc)
        self.assertEqual(self.redis.cli("DBSIZE"), before_n, desc)
        self.assertEqual(self.dump(), before, desc)

    def test_bad_profiles(self):
        c = self.c
        cases = [
            ("unknown zone", {"tz": "Mars/Olympus_Mons"},
             ["tz", "zone", "Mars"]),
            ("zone path traversal", {"tz": "../../etc/passwd"},
             ["tz", "zone"]),
            ("zone is a number", {"tz": 1}, ["tz", "zone"]),
            ("unknown channel", {"consent": {"fax": True}},
             ["fax", "channel"]),
            ("unknown channel beside a good one",
             {"consent": {"email": False, "fax": True}}, ["fax", "channel"]),
            ("consent not a bool", {"consent": {"email": "yes"}},
             ["consent", "email"]),
            ("consent not an object", {"consent": ["email"]}, "consent"),
            ("segments not a list", {"segments": "vulnerable"}, "segment"),
            ("segment not a string", {"segments": [1]}, "segment"),
            ("good zone, bad consent",
             {"tz": "Asia/Tokyo", "consent": {"sms": 1}},
             ["consent", "sms"]),
            ("good consent, bad zone",
             {"consent": {"sms": True}, "tz": "Nowhere/Land"},
             ["tz", "zone"]),
            ("malformed JSON", '{"tz": ', "json"),
            ("array body", "[]", None),
        ]
        for desc, body, mentions in cases:
            with self.subTest(desc):
                self.rejected(c, body, mentions, desc)

    def test_bad_ids(self):
        for cid in ("a%20b", "x" * 129, "%7Bx%7D", "a*b"):
            with self.subTest(cid):
                self.rejected(cid, {"consent": {"email": True}}, "customer",
                              cid)

    def test_profile_unchanged_after_rejection(self):
        self.http.put("/v1/customers/" + self.c,
                      {"consent": {"email": False}, "tz": "Bad/Zone"})
        st, body = self.decide(self.c, "email", time=self.T0, dry_run=True)
        # Still consented, still in Paris (13:00 local: not quiet).
        self.assertDecision(st, body, True, "ok")


if __name__ == "__main__":
    main()
