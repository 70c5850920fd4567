"""
POST /v1/decide/batch (SPEC section 3): {"requests":[...]} (at most 1000)
answers {"results":[...]} in the same order, each as a single decision
would be or {"error": ...} for a bad item; items are decided in order, so
later items see the reservations of earlier ones; more than 1000 items is a
4xx.
"""

from pacertest import PacerTestCase, DAY, main


class TestBatch(PacerTestCase):
    CONF = {"shadow": None}

    def batch(self, requests):
        st, body = self.http.post("/v1/decide/batch", {"requests": requests})
        self.assertEqual(st, 200, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(len(body["results"]), len(requests), body)
        return body["results"]

    def test_answers_in_order(self):
        a = self.consented_customer("a")
        b = self.customer("b")              # no consent
        v = self.consented_customer("v", segments=["vulnerable"])
        res = self.batch([
            {"customer": a, "channel": "push", "time": self.T0},
            {"customer": b, "channel": "push", "time": self.T0},
            {"customer": v, "channel": "email", "offer": "card_upgrade",
             "campaign": "cards", "time": self.T0},
            {"customer": a, "channel": "email",
             "time": self.T0 + 11 * 3600},           # 23:00 UTC
            {"customer": a, "channel": "push", "send_id": "mine",
             "time": self.T0},
        ])
        self.assertDecision(200, res[0], True, "ok", msg="item 0")
        self.assertDecision(200, res[1], False, "no_consent", msg="item 1")
        self.assertDecision(200, res[2], False, "suppressed", msg="item 2")
        self.assertDecision(200, res[3], False, "quiet_hours", msg="item 3",
                            retry_after=9 * 3600)
        self.assertDecision(200, res[4], True, "ok", msg="item 4")
        self.assertEqual(res[4]["send_id"], "mine")

    def test_items_see_earlier_reservations(self):
        c = self.consented_customer()
        res = self.batch([{"customer": c, "channel": "push",
                           "time": self.T0 + i} for i in range(4)])
        self.assertDecision(200, res[0], True, "ok")
        self.assertDecision(200, res[1], True, "ok")
        self.assertDecision(200, res[2], False, "cap", rule="push 2/1d",
                            retry_after=DAY - 2)
        self.assertDecision(200, res[3], False, "cap", rule="push 2/1d",
                            retry_after=DAY - 3)

    def test_errors_in_place(self):
        c = self.consented_customer()
        res = self.batch([
            {"customer": c, "channel": "push", "time": self.T0},
            {"customer": c, "channel": "fax", "time": self.T0},
            {"customer": "bad id", "channel": "push", "time": self.T0},
            {"customer": c, "channel": "push", "time": self.T0 + 1},
            {"customer": c, "channel": "push", "offer": "nope",
             "time": self.T0},
            {"customer": c, "channel": "push", "time": self.T0 + 2},
        ])
        self.assertDecision(200, res[0], True, "ok")
        self.assertEqual(sorted(res[1]), ["code", "error"], res[1])
        self.assertIn("channel", res[1]["error"])
        self.assertEqual(res[1]["code"], "unknown_channel")
        self.assertEqual(sorted(res[2]), ["code", "error"], res[2])
        self.assertIn("customer", res[2]["error"])
        self.assertEqual(res[2]["code"], "bad_customer")
        self.assertDecision(200, res[3], True, "ok")
        self.assertEqual(sorted(res[4]), ["code", "error"], res[4])
        self.assertIn("offer", res[4]["error"])
        self.assertEqual(res[4]["code"], "unknown_offer")
        self.assertDecision(200, res[5], False, "cap", rule="push 2/1d")

    def test_dry_run_and_idempotency_in_batch(self):
        c = self.consented_customer()
        res = self.batch([
            {"customer": c, "channel": "push", "dry_run": True,
             "time": self.T0},
            {"customer": c, "channel": "push", "send_id": "x",
             "time": self.T0},
            {"customer": c, "channel": "push", "send_id": "x",
             "time": self.T0 + 1},
            {"customer": c, "channel": "push", "send_id": "y",
             "time": self.T0 + 2},
            {"customer": c, "channel": "push", "dry_run": True,
             "time": self.T0 + 3},
        ])
        self.assertDecision(200, res[0], True, "ok")
        self.assertDecision(200, res[1], True, "ok")
        self.assertEqual(res[2], res[1])
        self.assertDecision(200, res[3], True, "ok")
        self.assertDecision(200, res[4], False, "cap", rule="push 2/1d")
        # A single retry of "x" later still answers the first answer.
        st, body = self.decide(c, "push", send_id="x", time=self.T0 + 5)
        self.assertEqual((st, body), (200, res[1]))

    def test_empty_batch(self):
        st, body = self.http.post("/v1/decide/batch", {"requests": []})
        self.assertEqual((st, body), (200, {"results": []}))

    def test_thousand_items(self):
        # Short ids: 1000 items must fit in max_body_bytes (65536).
        tag = self.customer()[-6:]
        custs = ["k%d%s" % (i, tag) for i in range(10)]
        for c in custs:
            self.put_customer(c, consent={"push": True})
        reqs = [{"customer": custs[i % 10], "channel": "push",
                 "time": self.T0 + i // 10} for i in range(1000)]
        res = self.batch(reqs)
        for i, r in enumerate(res):
            if i < 20:      # two per customer fit (push 2/1d)
                self.assertDecision(200, r, True, "ok", msg="item %d" % i)
            else:
                self.assertDecision(200, r, False, "cap", rule="push 2/1d",
                                    msg="item %d" % i)

    def test_more_than_thousand_items_is_4xx(self):
        # Short items: the body stays under max_body_bytes, so the refusal
        # is for the count (not a 413 for the size).
        c = "z" + self.customer()[-10:]
        self.put_customer(c, consent={"push": True})
        before = self.dump()
        st, body = self.http.post("/v1/decide/batch", {"requests": [
            {"customer": c, "channel": "push"}] * 1001})
        self.assertNotEqual(st, 413, "body of %d bytes" % len(self.http.raw))
        self.assertError(st, body, None, ["1000", "requests", "many"])
        self.assertEqual(self.dump(), before)
        # Nothing was decided: the customer's room is intact.
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")

if __name__ == "__main__":
    main()
