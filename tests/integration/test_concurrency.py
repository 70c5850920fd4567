"""
Concurrency (SPEC section 3): the check and the reservation are one atomic
step, so simultaneous decisions for one customer never allow more than the
cap, on one pacerd and across two pacerd processes sharing one Redis; the
same send_id sent many times at once counts once.

200 threads, each on its own connection, released together by a barrier.
"""

import threading

from pacertest import PacerTestCase, HttpClient, main

N = 200
CAP = 7

CONF = {
    "channel push": {"cap": ["%d/1d" % CAP]},
    "all": {"cap": ["1000/7d"]},
    "campaign": {"cap": ["3/1d"]},
    "shadow": None,
}


def storm(clients_ports, requests, token=None):
    """
    Send requests[i] from thread i, on its own connection to
    clients_ports[i % len], all released at once. Returns [(status, body)].
    """
    results = [None] * len(requests)
    barrier = threading.Barrier(len(requests))

    def worker(i):
        c = HttpClient(clients_ports[i % len(clients_ports)], token=token,
                       timeout=30)
        try:
            c.get("/healthz")         # connect before the barrier
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            results[i] = c.post(requests[i][0], requests[i][1])
        except Exception as e:    # reported by the caller
            results[i] = ("exception", repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


class ConcurrencyChecks:
    """Tests shared by the one- and two-daemon classes."""

    def ports(self):
        return [d.port for d in self.daemons]

    def count(self, results):
        allowed, denied = 0, 0
        for st, body in results:
            self.assertEqual(st, 200, body)
            if body["allow"]:
                self.assertEqual(body["reason"], "ok", body)
                allowed += 1
            else:
                self.assertEqual(body["reason"], "cap", body)
                denied += 1
        return allowed, denied

    def test_simultaneous_decisions_never_exceed_the_cap(self):
        c = self.consented_customer()
        reqs = [("/v1/decide", {"customer": c, "channel": "push",
                                "time": self.T0})] * N
        results = storm(self.ports(), reqs)
        allowed, denied = self.count(results)
        self.assertEqual(allowed, CAP)
        self.assertEqual(denied, N - CAP)
        for st, body in results:
            if not body["allow"]:
                self.assertEqual(body.get("rule"), "push %d/1d" % CAP, body)
                self.assertEqual(body.get("retry_after"), 86400, body)
        # Exactly CAP reservations were made: the store is full now ...
        st, body = self.decide(c, "push", time=self.T0 + 1)
        self.assertDecision(st, body, False, "cap", rule="push %d/1d" % CAP,
                            retry_after=86399)
        # ... and empties exactly a day later.
        st, body = self.decide(c, "push", time=self.T0 + 86400)
        self.assertDecision(st, body, True, "ok")

    def test_simultaneous_campaign_decisions_on_all_channels(self):
        # The campaign cap (3/1d) spans channels: races between channels
        # must not let more through either.
        c = self.consented_customer()
        chans = ["push", "email", "sms"]
        reqs = [("/v1/decide", {"customer": c, "channel": chans[i % 3],
                                "campaign": "sales", "time": self.T0})
                for i in range(N)]
        results = storm(self.ports(), reqs)
        allowed = 0
        for st, body in results:
            self.assertEqual(st, 200, body)
            if body["allow"]:
                allowed += 1
            else:
                self.assertEqual(body["reason"], "cap", body)
        # email 1/1d and sms 1/1d hold one each; campaign 3/1d holds 3.
        self.assertEqual(allowed, 3)

    def test_same_send_id_at_once_counts_once(self):
        c = self.consented_customer()
        reqs = [("/v1/decide", {"customer": c, "channel": "push",
                                "send_id": "the-one", "time": self.T0})] * N
        results = storm(self.ports(), reqs)
        first = results[0][1]
        for st, body in results:
            self.assertEqual(st, 200, body)
            self.assertEqual(body, first)
        self.assertDecision(200, first, True, "ok")
        # One reservation: CAP - 1 more fit.
        for i in range(CAP - 1):
            st, body = self.decide(c, "push", time=self.T0 + 1 + i)
            self.assertDecision(st, body, True, "ok", msg="#%d" % i)
        st, body = self.decide(c, "push", time=self.T0 + CAP)
        self.assertDecision(st, body, False, "cap")

    def test_simultaneous_batches(self):
        c = self.consented_customer()
        batch = {"requests": [{"customer": c, "channel": "push",
                               "time": self.T0}] * 20}
        results = storm(self.ports(), [("/v1/decide/batch", batch)] * 20)
        allowed = 0
        for st, body in results:
            self.assertEqual(st, 200, body)
            self.assertEqual(len(body["results"]), 20)
            for r in body["results"]:
                self.assertIn(r.get("reason"), ("ok", "cap"), r)
                allowed += r["allow"] is True
        self.assertEqual(allowed, CAP)

    def test_many_customers_at_once(self):
        # Each of 50 customers gets 4 simultaneous requests: every one of
        # them is allowed (no cross-customer interference).
        custs = [self.consented_customer("m%d" % i) for i in range(50)]
        reqs = [("/v1/decide", {"customer": custs[i % 50], "channel": "push",
                                "time": self.T0}) for i in range(N)]
        results = storm(self.ports(), reqs)
        allowed, denied = self.count(results)
        self.assertEqual((allowed, denied), (N, 0))


    def test_simultaneous_cancels_release_once(self):
        c = self.consented_customer()
        st, body = self.decide(c, "push", send_id="race", time=self.T0)
        self.assertDecision(st, body, True, "ok")
        reqs = [("/v1/cancel", {"customer": c, "send_id": "race"})] * 100
        results = storm(self.ports(), reqs)
        released = 0
        for st, body in results:
            self.assertEqual(st, 200, body)
            self.assertIn(body.get("released"), (True, False), body)
            released += body["released"] is True
        self.assertEqual(released, 1)
        # Exactly one reservation went: CAP fit again.
        for i in range(CAP):
            st, body = self.decide(c, "push", time=self.T0 + 1 + i)
            self.assertDecision(st, body, True, "ok", msg="#%d" % i)
        st, body = self.decide(c, "push", time=self.T0 + 100)
        self.assertDecision(st, body, False, "cap")

    def test_decisions_racing_cancels(self):
        # CAP sends reserved, then CAP cancels race 100 new decisions: at
        # most CAP of the new ones fit, and exactly CAP once the dust
        # settles (every cancel freed one).
        c = self.consented_customer()
        for i in range(CAP):
            self.decide(c, "push", send_id="old-%d" % i, time=self.T0)
        reqs = [("/v1/cancel", {"customer": c, "send_id": "old-%d" % i})
                for i in range(CAP)]
        reqs += [("/v1/decide", {"customer": c, "channel": "push",
                                 "time": self.T0 + 1})] * 100
        results = storm(self.ports(), reqs)
        released = sum(1 for st, b in results[:CAP] if b.get("released"))
        self.assertEqual(released, CAP, results[:CAP])
        allowed = sum(1 for st, b in results[CAP:] if b.get("allow"))
        self.assertLessEqual(allowed, CAP)
        # Whatever raced, the customer now holds exactly CAP contacts or
        # fewer, and fills up to exactly CAP.
        more = 0
        for i in range(CAP + 1):
            st, body = self.decide(c, "push", time=self.T0 + 2)
            more += body["allow"] is True
        self.assertEqual(allowed + more, CAP)

class TestOneDaemon(ConcurrencyChecks, PacerTestCase):
    CONF = CONF
    DAEMONS = 1


class TestTwoDaemons(ConcurrencyChecks, PacerTestCase):
    CONF = CONF
    DAEMONS = 2

    def test_both_daemons_see_one_store(self):
        c = self.consented_customer()
        a, b = self.clients
        for i in range(CAP):
            cl = a if i % 2 == 0 else b
            st, body = self.decide(c, "push", client=cl, time=self.T0 + i)
            self.assertDecision(st, body, True, "ok")
        for cl in (a, b):
            st, body = self.decide(c, "push", client=cl, time=self.T0 + CAP)
            self.assertDecision(st, body, False, "cap",
                                rule="push %d/1d" % CAP,
                                retry_after=86400 - CAP)


if __name__ == "__main__":
    main()
