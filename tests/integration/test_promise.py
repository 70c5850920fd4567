"""
The promise (SPEC section 2, issue 12): for every cap N/W of a customer and
every instant s, the allowed, uncancelled contacts in (s - W, s] number at
most N, whatever order decisions arrive in, whichever pacerd decided and
whatever its clock; and the send_id rules of SPEC section 3.

TestPromise runs two pacerd processes on one Redis, the second under
faketime with its clock half a second ahead, and

- the concurrency checker: 64 keep-alive connections (threads) split over
  both daemons play a seeded random orchestrator over a few customers at a
  time (so they collide): new decisions (with and without send_id, with
  client times ahead of and behind now), same-request retries (on either
  daemon: the identical answer), cancels, retries after cancels (decided
  anew), send ids reused on another channel or campaign (409
  send_id_conflict), dry runs. Every answer is recorded; then for every
  customer the allowed, uncancelled, non-dry-run sends at their stamped
  times are held against every cap in every rolling window (zero
  violations), and the sends the checker counts are exactly those Redis
  holds (field h of PREFIX:{C}:p, daemon/decide.lua);
- one test per case of issue 12 points 1 and 4.

TestForgottenFailures: an answer of store_unavailable (Redis asleep past
timeout_ms) is not remembered as the send id's first answer.

PACER_PROMISE_SEED sets the checker's seed (printed with its figures).
"""

import collections
import os
import random
import sys
import threading
import time

from pacertest import DAY, HttpClient, Redis, PREFIX, main, parse_history
from promisekit import SkewCase, cap_violations, sanitized, slack

SEED = int(os.environ.get("PACER_PROMISE_SEED", "20261202"))
THREADS = 64
OPS_PER_THREAD = 150 if sanitized() else 250
GROUP_SIZE = 6          # customers played at once (they collide)
GROUP_OPS = 8           # ops of a thread on one group before the next
CHANNELS = ("email", "sms", "push")
CAMPAIGNS = ("", "", "sales", "welcome", "winback")
# Client times relative to now: ahead and behind, near second boundaries
# and up to two hours away (well inside the one-day windows, so the
# history the store keeps holds every send the checker counts).
OFFSETS = (-7200, -3600, -600, -60, -2, -1, 0, 1, 2, 60, 600, 3600, 7200)

CAPS = [("email 1/1d", "channel", "email", 1, DAY),
        ("sms 1/1d", "channel", "sms", 1, DAY),
        ("push 2/1d", "channel", "push", 2, DAY),
        ("all 3/1d", "all", None, 3, DAY),
        ("campaign 1/1d", "campaign", None, 1, DAY)]

CONF = {
    "channel email": {"cap": ["1/1d"], "quiet_hours": None,
                      "on_store_failure": "deny"},
    "channel sms": {"cap": ["1/1d"], "quiet_hours": None,
                    "on_store_failure": "deny"},
    "channel push": {"cap": ["2/1d"], "on_store_failure": "deny"},
    "all": {"cap": ["3/1d"]},
    "campaign": {"cap": ["1/1d"]},
    "segment vulnerable": None,
    "shadow": None,
    "server": {"allow_client_time": "true"},
    # Generous: the checker is about caps, not timeouts (a store_unavailable
    # answer is recorded and counts nothing: every channel fails closed).
    "redis": {"timeout_ms": "3000" if sanitized() else "1500"},
}


def history(redis_port, customer):
    """[(time, channel, campaign, send_id)] Redis holds for a customer."""
    with Redis(redis_port) as r:
        return parse_history(r.call("HGET", "%s:{%s}:p" % (PREFIX, customer),
                                    "h"))


def is_decision(st, body):
    """A 200 decision answer of the expected shape."""
    return st == 200 and isinstance(body, dict) and \
        isinstance(body.get("allow"), bool) and \
        isinstance(body.get("send_id"), str) and body["send_id"] != "" and \
        body.get("reason") in ("ok", "cap", "store_unavailable") and \
        (body["allow"] is (body["reason"] == "ok"))


class Send:
    """One send id's story as the orchestrator saw it."""

    __slots__ = ("sid", "customer", "channel", "campaign", "time", "body",
                 "first", "state", "lo", "hi", "daemon")

    def __init__(self, req, answer, lo, hi, daemon):
        self.sid = answer["send_id"]
        self.customer = req["customer"]
        self.channel = req["channel"]
        self.campaign = req.get("campaign", "")
        self.time = req.get("time")
        self.body = dict(req, send_id=self.sid)
        self.first, self.lo, self.hi, self.daemon = answer, lo, hi, daemon
        self.state = state_of(answer)


def state_of(answer):
    if answer["reason"] == "store_unavailable":
        return "unavailable"
    return "allowed" if answer["allow"] else "denied"


class Orchestrator:
    """The seeded random mix, played by THREADS threads; every answer kept."""

    def __init__(self, ports, customers, seed):
        self.ports, self.customers, self.seed = ports, customers, seed
        self.lock = threading.Lock()
        self.pool = []                 # Sends free to pick (one owner each)
        self.sends = []                # every Send, for the final check
        self.ops = collections.Counter()
        self.problems = collections.defaultdict(list)
        self.dry = 0

    def problem(self, kind, text):
        with self.lock:
            self.problems[kind].append(text)

    def checkout(self, rng):
        """An existing Send, taken out of the pool (None when empty)."""
        with self.lock:
            if not self.pool:
                return None
            i = rng.randrange(len(self.pool))
            self.pool[i], self.pool[-1] = self.pool[-1], self.pool[i]
            return self.pool.pop()

    def checkin(self, s):
        with self.lock:
            self.pool.append(s)

    def run(self, deadline):
        threads = [threading.Thread(target=self.worker, args=(i, deadline),
                                    daemon=True) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic() + 30))
        return not any(t.is_alive() for t in threads)

    def worker(self, i, deadline):
        rng = random.Random(self.seed * 1000 + i)
        clients = [HttpClient(p, timeout=30) for p in self.ports]
        home = i % len(clients)
        try:
            for n in range(OPS_PER_THREAD):
                if time.monotonic() > deadline:
                    self.problem("deadline", "thread %d stopped at op %d"
                                 % (i, n))
                    return
                group = n // GROUP_OPS
                self.step(rng, i, n, group, clients, home)
        except Exception as e:     # reported, never lost in a thread
            self.problem("exception", "thread %d: %r" % (i, e))
        finally:
            for c in clients:
                c.close()

    def step(self, rng, i, n, group, clients, home):
        x = rng.random()
        if x < 0.40:
            return self.op_new(rng, i, n, group, clients[home], home)
        if x < 0.48:
            return self.op_new(rng, i, n, group, clients[home], home,
                               dry=True)
        s = self.checkout(rng)
        if s is None:
            return self.op_new(rng, i, n, group, clients[home], home)
        # Retries, cancels and reuses go to either daemon.
        d = rng.randrange(len(clients))
        try:
            if x < 0.68:
                self.op_retry(s, clients[d], d)
            elif x < 0.84:
                self.op_cancel(s, clients[d])
            else:
                self.op_conflict(rng, s, clients[d])
        finally:
            self.checkin(s)

    def decide(self, client, req):
        lo = time.time()
        st, body = client.post("/v1/decide", req)
        return st, body, lo, time.time()

    def op_new(self, rng, i, n, group, client, d, dry=False):
        base = (group * GROUP_SIZE) % len(self.customers)
        c = self.customers[(base + rng.randrange(GROUP_SIZE))
                           % len(self.customers)]
        req = {"customer": c, "channel": rng.choice(CHANNELS)}
        cp = rng.choice(CAMPAIGNS)
        if cp:
            req["campaign"] = cp
        if not dry and rng.random() < 0.8:
            req["send_id"] = "t%d-%d" % (i, n)
        if rng.random() < 0.4:
            req["time"] = int(time.time()) + rng.choice(OFFSETS)
        if dry:
            req["dry_run"] = True
        st, body, lo, hi = self.decide(client, req)
        kind = "dry_run" if dry else ("new_timed" if "time" in req
                                      else "new")
        with self.lock:
            self.ops[kind] += 1
        if not is_decision(st, body) or \
                ("send_id" in req and body["send_id"] != req["send_id"]):
            self.problem("bad_answer", "%r -> %s %r" % (req, st, body))
            return
        if body["reason"] == "store_unavailable":
            with self.lock:
                self.ops["store_unavailable"] += 1
        if dry:
            return
        s = Send(req, body, lo, hi, d)
        with self.lock:
            self.sends.append(s)
            self.pool.append(s)

    def op_retry(self, s, client, d):
        st, body, lo, hi = self.decide(client, s.body)
        if s.state in ("allowed", "denied"):
            with self.lock:
                self.ops["retry"] += 1
            if (st, body) != (200, s.first):
                self.problem("retry_not_first_answer",
                             "%r first %r, again %s %r"
                             % (s.body, s.first, st, body))
            return
        # Cancelled, or answered store_unavailable: decided anew.
        with self.lock:
            self.ops["retry_after_cancel" if s.state == "cancelled"
                     else "retry_after_unavailable"] += 1
        if not is_decision(st, body) or body["send_id"] != s.sid:
            self.problem("bad_answer", "%r -> %s %r" % (s.body, st, body))
            return
        s.first, s.lo, s.hi, s.daemon = body, lo, hi, d
        s.state = state_of(body)

    def op_cancel(self, s, client):
        if s.state not in ("allowed", "cancelled"):
            return self.op_retry(s, client, 0)
        with self.lock:
            self.ops["cancel"] += 1
        st, body = client.post("/v1/cancel", {"customer": s.customer,
                                              "send_id": s.sid})
        want = {"released": s.state == "allowed"}
        if (st, body) != (200, want):
            self.problem("cancel", "cancel %s of %s (%s) -> %s %r" % (
                s.sid, s.customer, s.state, st, body))
            if st == 200 and body == {"released": False}:
                return          # nothing released: still counted
            if st != 200:
                return
        s.state = "cancelled"

    def op_conflict(self, rng, s, client):
        if s.state not in ("allowed", "denied"):
            return self.op_retry(s, client, 0)
        with self.lock:
            self.ops["reuse_conflict"] += 1
        req = dict(s.body)
        if rng.random() < 0.7:
            req["channel"] = rng.choice([c for c in CHANNELS
                                         if c != s.channel])
        else:
            req["campaign"] = rng.choice([c for c in CAMPAIGNS
                                          if c and c != s.campaign])
        st, body = client.post("/v1/decide", req)
        if st != 409 or not isinstance(body, dict) or \
                body.get("code") != "send_id_conflict" or \
                not isinstance(body.get("error"), str):
            self.problem("reuse_not_409", "%r (first %r) -> %s %r"
                         % (req, s.first, st, body))


class TestPromise(SkewCase):
    CONF = CONF
    # The second daemon's clock is half a second ahead of the host's (and
    # of Redis's).
    CLOCKS = [None, "+0.5s"]

    def ports(self):
        return [d.port for d in self.daemons]

    def redis_now(self):
        return int(self.redis.server_time())

    def test_the_second_daemon_runs_half_a_second_ahead(self):
        # The clock skew the other tests rely on is real: pacerd's own log
        # stamps (its clock) run ahead of the host's.
        self.assertLess(abs(self.daemons[0].clock_lead()), 0.3)
        lead = self.daemons[1].clock_lead()
        self.assertGreater(lead, 0.4)
        self.assertLess(lead, 0.5 + slack(0.3, 0.6))

    # -- the checker -----------------------------------------------------

    def test_concurrency_checker(self):
        ncust = GROUP_SIZE * (OPS_PER_THREAD // GROUP_OPS + 1)
        customers = [self.consented_customer("k%d" % j)
                     for j in range(ncust)]
        orch = Orchestrator(self.ports(), customers, SEED)
        started = time.monotonic()
        finished = orch.run(started + slack(60, 150))
        took = time.monotonic() - started
        self.assertTrue(finished, "orchestrator threads hung")
        for d in self.daemons:
            self.assertTrue(d.running(), "%s died" % d.name)

        # The checker's view: allowed, uncancelled, non-dry-run sends.
        counted = collections.defaultdict(dict)
        for s in orch.sends:
            if s.state == "allowed":
                counted[s.customer][s.sid] = s
        violations, mismatches, stamps = [], [], []
        over = set()
        held_violations = []
        held_total = 0
        for c in customers:
            held = history(self.redis.port, c)
            held_total += len(held)
            ids = collections.Counter(sid for _, _, _, sid in held)
            mine = counted.get(c, {})
            for sid, k in ids.items():
                if k > 1:
                    mismatches.append("%s: %s held %d times" % (c, sid, k))
                if sid not in mine:
                    mismatches.append("%s: %s held by Redis, not counted "
                                      "(its story: %r)" % (c, sid, [
                                          (s.state, s.first) for s in
                                          orch.sends if s.sid == sid]))
            contacts = []
            by_sid = {sid: (t, ch, cp) for t, ch, cp, sid in held}
            for sid, s in mine.items():
                if sid not in by_sid:
                    mismatches.append("%s: %s counted (allowed: %r), not "
                                      "held by Redis" % (c, sid, s.first))
                    t = s.time if s.time is not None else int(s.hi)
                    contacts.append((t, s.channel, s.campaign))
                    continue
                t, ch, cp = by_sid[sid]
                if (ch, cp) != (s.channel, s.campaign):
                    mismatches.append("%s: %s held as %s/%s, decided %s/%s"
                                      % (c, sid, ch, cp, s.channel,
                                         s.campaign))
                if s.time is not None and t != s.time:
                    stamps.append("%s: %s stamped %d, asked %d"
                                  % (c, sid, t, s.time))
                if s.time is None and not (s.lo - 2 <= t <= s.hi + 2):
                    stamps.append("%s: %s stamped %d, decided in [%.1f, "
                                  "%.1f]" % (c, sid, t, s.lo, s.hi))
                contacts.append((t, s.channel, s.campaign))
            for name, end, n, limit in cap_violations(contacts, CAPS):
                violations.append("%s: %s: %d contacts in the window ending "
                                  "%d (limit %d)" % (c, name, n, end, limit))
                over.add(c)
            # What Redis holds, on its own, keeps the promise too.
            for name, end, n, limit in cap_violations(
                    [(t, ch, cp) for t, ch, cp, _ in held], CAPS):
                held_violations.append("%s (as Redis holds it): %s: %d in "
                                       "the window ending %d (limit %d)"
                                       % (c, name, n, end, limit))
                over.add(c)

        nops = sum(v for k, v in orch.ops.items()
                   if k != "store_unavailable")
        customers_over = len(over)
        sys.stderr.write(
            "\nconcurrency checker: seed %d, %d threads over %d daemons, "
            "%d customers, %d operations in %.1f s (%s); %d sends counted, "
            "%d held by Redis; cap violations: %d (%d as Redis holds the "
            "sends; %d customers); "
            "count mismatches: %d; stamp errors: %d; answer problems: %s\n"
            % (SEED, THREADS, len(self.daemons), len(customers), nops, took,
               ", ".join("%s %d" % kv for kv in sorted(orch.ops.items())),
               sum(len(v) for v in counted.values()), held_total,
               len(violations), len(held_violations), customers_over,
               len(mismatches), len(stamps),
               dict((k, len(v)) for k, v in orch.problems.items()) or 0))
        report = []
        for name, items in [("cap violations", violations),
                            ("cap violations as Redis holds the sends",
                             held_violations),
                            ("counted vs held", mismatches),
                            ("stamps", stamps)] + \
                sorted(orch.problems.items()):
            if items:
                report.append("%s: %d, e.g.\n  %s" % (
                    name, len(items), "\n  ".join(items[:5])))
        if report:
            self.fail("\n".join(report))

    # -- issue 12, point 1 -------------------------------------------------

    def test_two_daemons_decide_one_fresh_customer_at_once(self):
        # sms 1/1d, no client time: both daemons decide each fresh customer
        # at the same moment; one clock (Redis's) says what now is, so
        # exactly one sms is allowed per customer.
        pairs, rounds = 16, 8
        customers = [self.consented_customer("f%d" % j)
                     for j in range(pairs * rounds)]
        answers = collections.defaultdict(list)
        lock = threading.Lock()
        barriers = [threading.Barrier(2, timeout=30) for _ in range(pairs)]

        def worker(j, d):
            cl = HttpClient(self.daemons[d].port, timeout=30)
            pace = random.Random(SEED + j)
            try:
                for r in range(rounds):
                    c = customers[r * pairs + j]
                    # Rounds at every phase of the second (a boundary
                    # between the two clocks' seconds is where they differ).
                    if d == 0:
                        time.sleep(pace.uniform(0, 0.3))
                    barriers[j].wait()
                    st, body = cl.post("/v1/decide", {"customer": c,
                                                      "channel": "sms"})
                    with lock:
                        answers[c].append((d, st, body))
            except Exception as e:
                with lock:
                    answers["exception"].append(repr(e))
            finally:
                cl.close()

        threads = [threading.Thread(target=worker, args=(j, d), daemon=True)
                   for j in range(pairs) for d in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertNotIn("exception", answers, answers.get("exception"))
        twice = []
        for c in customers:
            got = answers[c]
            self.assertEqual(len(got), 2, got)
            for d, st, body in got:
                self.assertTrue(is_decision(st, body), (d, st, body))
                self.assertNotEqual(body["reason"], "store_unavailable",
                                    (d, body))
            allowed = sum(1 for _, _, b in got if b["allow"])
            held = [h for h in history(self.redis.port, c) if h[1] == "sms"]
            if allowed != 1 or len(held) != 1:
                twice.append((c, allowed, held))
        self.assertEqual(twice, [], "%d of %d customers did not get exactly "
                         "one sms: %r" % (len(twice), len(customers),
                                          twice[:5]))

    def test_a_later_contact_counts_against_an_earlier_decision(self):
        c = self.consented_customer()
        now = self.redis_now()
        st, body = self.decide(c, "sms", time=now + 1)
        self.assertDecision(st, body, True, "ok")
        # A contact stamped later than this decision's time still counts:
        # an sms at now and one at now + 1 would be two in one day.
        st, body = self.decide(c, "sms", time=now)
        self.assertDecision(st, body, False, "cap", rule="sms 1/1d",
                            msg="sms at NOW after one at NOW+1")
        self.assertEqual([h[0] for h in history(self.redis.port, c)],
                         [now + 1])

    def test_a_far_future_decision_does_not_trim_the_history(self):
        c = self.consented_customer()
        now = self.redis_now()
        st, first = self.decide(c, "sms", send_id="now", time=now)
        self.assertDecision(st, first, True, "ok")
        st, body = self.decide(c, "sms", send_id="later", time=now + 30 * DAY)
        # Allowed (a month on), or refused as a time too far ahead: either
        # way the contact at now stays.
        self.assertIn(st, (200, 400), body)
        held = history(self.redis.port, c)
        self.assertIn((now, "sms", "", "now"), held,
                      "the contact at NOW was dropped: %r" % held)
        st, body = self.decide(c, "sms", send_id="again", time=now + 1)
        self.assertDecision(st, body, False, "cap", rule="sms 1/1d",
                            msg="sms at NOW+1 after NOW and NOW+30d")
        # The first answer still stands.
        self.assertEqual(self.decide(c, "sms", send_id="now", time=now),
                         (200, first))

    # -- issue 12, point 4 -------------------------------------------------

    def test_decide_cancel_decide_reserves_again(self):
        c = self.consented_customer()
        st, first = self.decide(c, "email", send_id="X")
        self.assertDecision(st, first, True, "ok")
        self.assertEqual(self.http.post("/v1/cancel", {
            "customer": c, "send_id": "X"}), (200, {"released": True}))
        self.assertEqual([h[3] for h in history(self.redis.port, c)], [])
        # Cancelled: decided anew, and (email 1/1d has room) reserved again.
        st, again = self.decide(c, "email", send_id="X")
        self.assertDecision(st, again, True, "ok", msg="X after its cancel")
        self.assertEqual([h[3] for h in history(self.redis.port, c)], ["X"],
                         "X must be reserved again")
        # Which leaves no room for a new id under email 1/1d ...
        st, body = self.decide(c, "email", send_id="Y")
        self.assertDecision(st, body, False, "cap", rule="email 1/1d",
                            msg="a new id after X was decided anew")
        st, body = self.decide(c, "email")
        self.assertDecision(st, body, False, "cap", rule="email 1/1d")
        # ... and X, repeated, is its new answer, counted once.
        self.assertEqual(self.decide(c, "email", send_id="X"), (200, again))
        self.assertEqual([h[3] for h in history(self.redis.port, c)], ["X"])
        # From the other daemon too.
        self.assertEqual(self.decide(c, "email", send_id="X",
                                     client=self.clients[1]), (200, again))

    def assertConflict(self, st, body, msg=""):
        self.assertEqual(st, 409, "%s -> %s %r" % (msg, st, body))
        self.assertIsInstance(body, dict, msg)
        self.assertEqual(body.get("code"), "send_id_conflict", body)
        self.assertIsInstance(body.get("error"), str, body)
        self.assertTrue(body["error"], body)

    def test_send_id_reused_on_another_channel_or_campaign_is_409(self):
        # Consent on email only: the reuse on sms or push must not be
        # answered with email's allow.
        c = self.consented_customer(channels=("email",))
        st, first = self.decide(c, "email", send_id="X")
        self.assertDecision(st, first, True, "ok")
        before = self.customer_keys(c), self.dump("%s:{%s}:*" % (PREFIX, c))
        for client in self.clients:
            for ch in ("push", "sms"):
                st, body = self.decide(c, ch, send_id="X", client=client)
                self.assertConflict(st, body, "X on %s" % ch)
            st, body = self.decide(c, "email", send_id="X", campaign="sales",
                                   client=client)
            self.assertConflict(st, body, "X with another campaign")
        # Changes nothing.
        self.assertEqual((self.customer_keys(c),
                          self.dump("%s:{%s}:*" % (PREFIX, c))), before)
        # The id's own request still gets its first answer.
        self.assertEqual(self.decide(c, "email", send_id="X"), (200, first))
        # A denied id is live as well: its reuse elsewhere is a conflict.
        st, denied = self.decide(c, "email", send_id="Y")
        self.assertDecision(st, denied, False, "cap")
        st, body = self.decide(c, "push", send_id="Y")
        self.assertConflict(st, body, "denied Y on push")
        self.assertEqual(self.decide(c, "email", send_id="Y"), (200, denied))


class TestForgottenFailures(SkewCase):
    """A store_unavailable answer is not the send id's first answer."""

    CONF = dict(CONF, **{
        "channel push": {"cap": ["2/1d"], "on_store_failure": "allow"},
        "redis": {"timeout_ms": "100"},
    })
    CLOCKS = [None]

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st, _ = self.http.get("/readyz")
            if st == 200:
                return
            time.sleep(0.05)
        self.fail("/readyz not 200 within %ss after Redis woke" % timeout)

    def test_store_unavailable_answer_is_not_remembered(self):
        c = self.consented_customer()
        self.wait_ready()
        sleeper = threading.Thread(target=lambda: self.redis.cli(
            "DEBUG", "SLEEP", "0.8"), daemon=True)
        sleeper.start()
        time.sleep(0.1)
        st, x = self.decide(c, "email", send_id="X")
        self.assertDecision(st, x, False, "store_unavailable",
                            msg="email while Redis sleeps (fails closed)")
        st, y = self.decide(c, "push", send_id="Y")
        self.assertDecision(st, y, True, "store_unavailable",
                            msg="push while Redis sleeps (fails open)")
        sleeper.join(timeout=10)
        self.wait_ready()
        # Redis is back: X is decided anew (and reserved) ...
        st, body = self.decide(c, "email", send_id="X")
        self.assertDecision(st, body, True, "ok",
                            msg="X again once Redis answers")
        # ... counted once: email 1/1d has no room left.
        st, body = self.decide(c, "email", send_id="Z")
        self.assertDecision(st, body, False, "cap", rule="email 1/1d")
        held = history(self.redis.port, c)
        self.assertEqual([h[3] for h in held if h[1] == "email"], ["X"], held)
        # Y likewise is decided anew; it is one send, so its cancel
        # releases all that Y holds (the fail-open reservation the late call
        # made included).
        st, body = self.decide(c, "push", send_id="Y")
        self.assertDecision(st, body, True, "ok",
                            msg="Y again once Redis answers")
        self.assertEqual(self.http.post("/v1/cancel", {
            "customer": c, "send_id": "Y"}), (200, {"released": True}))
        held = history(self.redis.port, c)
        self.assertEqual([h[3] for h in held if h[1] == "push"], [],
                         "Y still counts after its cancel: %r" % held)


if __name__ == "__main__":
    main()
