"""
A customer's decision records stay bounded: a hot customer hammered with
many distinct send_ids keeps at most 512 records (pruned to the newest 256),
and an allowed send stays idempotent after its record is pruned, through its
history entry.

Config: push 2/1d, no shadow rules.
"""

from pacertest import (PacerTestCase, Redis, customer_history,
                       customer_records, main)


class TestRecordsBound(PacerTestCase):
    CONF = {"shadow": None}

    def records(self, customer):
        with Redis(self.redis.port) as r:
            recs = customer_records(r, customer)
            # The stored count agrees with the records.
            n = r.call("HGET", "pacer:{%s}:p" % customer, "n")
            self.assertEqual(int(n.split()[0]), len(recs))
            return len(recs)

    def test_hot_customer_records_are_bounded(self):
        c = self.consented_customer()
        t = self.T0
        st, first = self.decide(c, "push", send_id="kept", time=t)
        self.assertDecision(st, first, True, "ok")
        # 700 more decisions (the cap denies them), each a new send_id.
        for part in range(2):
            body = {"requests": [{"customer": c, "channel": "push",
                                  "send_id": "hot-%d" % i, "time": t + 1 + i}
                                 for i in range(part * 350, part * 350 + 350)]}
            st, res = self.http.post("/v1/decide/batch", body)
            self.assertEqual(st, 200, res)
            self.assertEqual([r["reason"] for r in res["results"]][-1], "cap")
        self.assertLessEqual(self.records(c), 512)
        self.assertGreaterEqual(self.records(c), 256)
        # The first send's record is gone, yet its retry is still "ok" and
        # does not count again: the history keeps the two allowed sends
        # ("kept" and "hot-0"; push 2/1d denied the rest).
        with Redis(self.redis.port) as r:
            self.assertNotIn("kept", customer_records(r, c))
        st, again = self.decide(c, "push", send_id="kept", time=t + 800)
        self.assertDecision(st, again, True, "ok")
        with Redis(self.redis.port) as r:
            self.assertEqual(len(customer_history(r, c)), 2)
        st, body = self.decide(c, "push", send_id="third", time=t + 802)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")

if __name__ == "__main__":
    main()
