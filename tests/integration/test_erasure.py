"""
DELETE /v1/customers/{id}, the right to erasure (SPEC section 3): every key
of the customer is gone (SCAN MATCH "pacer:{id}:*" finds nothing, and the
id appears nowhere in the store: not in key names, not in values such as
the audit stream), the answer is {"erased": true}, other customers are
untouched, and the customer starts afresh (no consent, no history, no
idempotency record).

Skipped when the endpoint does not exist yet (404/405).
"""

from pacertest import (PacerTestCase, customer_pattern, main, plan_bucket,
                       plan_records)

STEM = "run-test:0000abcd"   # a run's plan (its field plan)


class TestErasure(PacerTestCase):
    CONF = {"shadow": None}

    def setUp(self):
        self.requireFeature("DELETE", "/v1/customers/" + self.customer("p"))

    def full_customer(self, tag=None):
        """A customer with a profile, contacts, an idempotency record,
        decisions (allowed and denied) and a plan entry."""
        c = self.consented_customer(tag, tz="Europe/Paris",
                                    segments=["vulnerable"])
        self.decide(c, "push", send_id="s1", time=self.T0)
        self.decide(c, "email", send_id="s2", time=self.T0 + 60)   # cap
        self.decide(c, "push", send_id="s3", time=self.T0 + 61, dry_run=True)
        # Plan entries as the optimizer writes them (include/pacer/keys.h):
        # in a run's bucket of the customer's slot, the run registered in
        # pacer:plan:runs; and a field of pacer:{C}:o, where a run without
        # a field plan keeps them.
        self.redis.cli("ZADD", "pacer:plan:runs", "4000000000", STEM)
        self.redis.cli("APPEND", plan_bucket(STEM, c), "\n%s\tnewsletter" % c)
        self.redis.cli("HSET", "pacer:{%s}:o" % c, "run-old", "newsletter")
        return c

    def mentions(self, c):
        """Every key whose name or value mentions the id c."""
        found = []
        for k, (t, v) in self.dump().items():
            if c in k or c in repr(v):
                found.append(k)
        return found

    def test_erase_removes_every_key(self):
        c = self.full_customer()
        self.assertTrue(self.customer_keys(c), "setup made no keys")
        st, body = self.http.delete("/v1/customers/" + c)
        self.assertEqual(st, 200, body)
        self.assertIs(body.get("erased"), True, body)
        self.assertEqual(self.customer_keys(c), [])
        self.assertEqual(self.mentions(c), [])

    def test_other_customers_untouched(self):
        a = self.full_customer("a")
        b = self.full_customer("b")
        before_b = self.dump(customer_pattern(b))
        # b's entry also in a's bucket: the bucket keeps it.
        self.redis.cli("APPEND", plan_bucket(STEM, a), "\n%s\tsms-promo" % b)
        st, body = self.http.delete("/v1/customers/" + a)
        self.assertEqual(st, 200, body)
        self.assertEqual(self.dump(customer_pattern(b)), before_b)
        self.assertTrue(self.mentions(b))
        self.assertEqual(plan_records(self.redis.cli(
            "GET", plan_bucket(STEM, b))), {b: {"newsletter"}})
        self.assertEqual(plan_records(self.redis.cli(
            "GET", plan_bucket(STEM, a))), {b: {"sms-promo"}})
        # b's history still counts: the segment's 1/7d is used up.
        st, body = self.decide(b, "push", time=self.T0 + 100)
        self.assertDecision(st, body, False, "cap",
                            rule="segment vulnerable 1/7d",
                            retry_after=7 * 86400 - 100)

    def test_erased_customer_starts_afresh(self):
        c = self.full_customer()
        st, first = self.decide(c, "push", send_id="again", time=self.T0 + 5)
        self.assertDecision(st, first, False, "cap",
                            rule="segment vulnerable 1/7d")
        self.http.delete("/v1/customers/" + c)
        # No profile: consent is back to the default (deny).
        st, body = self.decide(c, "push", send_id="x", time=self.T0 + 10,
                               dry_run=True)
        self.assertDecision(st, body, False, "no_consent")
        self.put_customer(c, consent={"push": True})
        # No idempotency record: "again" is decided anew; no history: the
        # push cap (2/1d) has full room.
        st, body = self.decide(c, "push", send_id="again", time=self.T0 + 10)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", send_id="s1", time=self.T0 + 11)
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(c, "push", time=self.T0 + 12)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")

    def test_erase_twice_and_unknown(self):
        c = self.full_customer()
        st, body = self.http.delete("/v1/customers/" + c)
        self.assertEqual((st, body.get("erased")), (200, True), body)
        before = self.dump()
        st, body = self.http.delete("/v1/customers/" + c)
        self.assertEqual(st, 200, body)
        self.assertIn("erased", body)
        st, body = self.http.delete("/v1/customers/" + self.customer("none"))
        self.assertEqual(st, 200, body)
        self.assertEqual(self.dump(), before)

    def test_bad_id_is_400_and_erases_nothing(self):
        self.full_customer()
        before = self.dump()
        for cid in ("a%20b", "x" * 129, "%2A", "a*"):
            with self.subTest(cid):
                st, body = self.http.delete("/v1/customers/" + cid)
                self.assertError(st, body, 400, "customer")
        self.assertEqual(self.dump(), before)

    def test_erasure_with_many_decisions(self):
        # Enough decisions to fill the decision log and the audit stream
        # with this customer's entries among another's.
        c = self.consented_customer("many")
        o = self.consented_customer("other")
        reqs = []
        for i in range(300):
            reqs.append({"customer": c if i % 2 else o, "channel": "push",
                         "time": self.T0 + i})
        st, body = self.http.post("/v1/decide/batch", {"requests": reqs})
        self.assertEqual(st, 200, body)
        st, body = self.http.delete("/v1/customers/" + c)
        self.assertEqual(st, 200, body)
        self.assertEqual(self.mentions(c), [])
        self.assertTrue(self.mentions(o))


if __name__ == "__main__":
    main()
