"""
Erasure under load (issue 12, point 6): with the audit stream full
(DECIDE_AUDIT_LEN = 100,000 entries, daemon/pacerd.h), DELETE
/v1/customers/{id} of a customer with tens of thousands of entries while
other customers' decisions go on:

- every concurrent decision is answered within timeout_ms (+ a margin) and
  none fails over (store_unavailable): the erase never holds Redis long;
- /readyz stays 200 throughout;
- the erase answers 200 {"erased": true};
- afterwards no key and no audit entry of the customer remains, and the
  other customers' entries are still there.
"""

import sys
import threading
import time

from pacertest import HttpClient, Redis, PREFIX, main
from promisekit import SkewCase, slack

AUDIT_LEN = 100000          # DECIDE_AUDIT_LEN
TIMEOUT_MS = 50
MARGIN_S = slack(0.25, 0.5)
TARGET_SHARE = 4            # one decision in TARGET_SHARE is the target's
BATCH = 1000

CONF = {
    "consent": {"default": "deny"},
    "channel email": {"cap": ["100000/1d"], "quiet_hours": None,
                      "on_store_failure": "deny"},
    "channel push": {"cap": ["100000/1d"], "on_store_failure": "deny"},
    "channel sms": {"quiet_hours": None},
    "all": {"cap": ["100000/7d"]},
    "campaign": {"cap": ["100000/1d"]},
    "segment vulnerable": None,
    "shadow": None,
    "server": {"allow_client_time": "false"},
    "redis": {"timeout_ms": str(TIMEOUT_MS)},
}

AUDIT_KEY = "%s:audit" % PREFIX


def audit_entries(port):
    """Every audit stream entry as (id, {field: value})."""
    out = []
    with Redis(port) as r:
        start = "-"
        while True:
            batch = r.call("XRANGE", AUDIT_KEY, start, "+", "COUNT", 10000)
            if not batch:
                return out
            for eid, flat in batch:
                out.append((eid, dict(zip(flat[0::2], flat[1::2]))))
            start = "(" + batch[-1][0]


def mentions(fields, customer):
    """Whether an audit entry names the customer (in any field)."""
    return any(v == customer or customer in v for v in fields.values())


class TestErasureUnderLoad(SkewCase):
    CONF = CONF
    CLOCKS = [None]

    def fill(self, target, others):
        """
        Decisions through the batch endpoint until the audit stream holds
        AUDIT_LEN entries: one in TARGET_SHARE for the target, the rest
        spread over `others`. Nobody has consent (no_consent: a record and
        an audit entry each, and no history to grow).
        """
        n, k = 0, 0
        while n < 3 * AUDIT_LEN:
            reqs = []
            for _ in range(BATCH):
                c = target if k % TARGET_SHARE == 0 else \
                    others[k % len(others)]
                reqs.append({"customer": c,
                             "channel": "email" if k % 2 else "push"})
                k += 1
            st, body = self.http.post("/v1/decide/batch",
                                      {"requests": reqs})
            self.assertEqual(st, 200, body)
            for r in body["results"]:
                # (A call slower than timeout_ms on a busy machine fails
                # over; the fill only needs the stream full.)
                self.assertIn(r.get("reason"),
                              ("no_consent", "store_unavailable"), r)
            n += BATCH
            if n >= AUDIT_LEN and \
                    self.redis.cli("XLEN", AUDIT_KEY) >= AUDIT_LEN:
                return n
        self.fail("the audit stream holds %s entries after %d decisions"
                  % (self.redis.cli("XLEN", AUDIT_KEY), n))

    def test_erase_a_customer_with_a_full_audit_stream(self):
        target = self.customer("target")
        others = ["aud-%d" % i for i in range(2000)]
        t0 = time.monotonic()
        sent = self.fill(target, others)
        took_fill = time.monotonic() - t0
        entries = audit_entries(self.redis.port)
        mine = sum(1 for _, f in entries if mentions(f, target))
        sys.stderr.write("\naudit stream: %d entries after %d decisions "
                         "(%.1f s), %d of them the target's\n"
                         % (len(entries), sent, took_fill, mine))
        self.assertGreaterEqual(len(entries), AUDIT_LEN)
        self.assertGreater(mine, AUDIT_LEN // (TARGET_SHARE + 1))

        # Load: consented customers deciding while the erase runs.
        load_customers = [self.consented_customer("l%d" % i)
                          for i in range(40)]
        answers, errors = [], []
        stop = threading.Event()
        lock = threading.Lock()

        def decide_loop(i):
            cl = HttpClient(self.daemon.port, timeout=30)
            n = 0
            try:
                while not stop.is_set():
                    c = load_customers[(i * 7 + n) % len(load_customers)]
                    ch = "email" if n % 2 else "push"
                    n += 1
                    s = time.monotonic()
                    try:
                        st, body = cl.post("/v1/decide",
                                           {"customer": c, "channel": ch})
                    except Exception as e:
                        cl.close()
                        with lock:
                            errors.append(repr(e))
                        continue
                    with lock:
                        answers.append((s, time.monotonic() - s, st, body))
            finally:
                cl.close()

        ready = []

        def probe():
            cl = HttpClient(self.daemon.port, timeout=10)
            while not stop.is_set():
                try:
                    st, _ = cl.get("/readyz")
                except Exception:
                    cl.close()
                    st = None
                ready.append(st)
                time.sleep(0.02)
            cl.close()

        threads = [threading.Thread(target=decide_loop, args=(i,),
                                    daemon=True) for i in range(3)]
        threads.append(threading.Thread(target=probe, daemon=True))
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            er = HttpClient(self.daemon.port, timeout=60)
            e0 = time.monotonic()
            st, body = er.delete("/v1/customers/" + target)
            e1 = time.monotonic()
            er.close()
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        during = [a for a in answers if a[0] <= e1 and a[0] + a[1] >= e0]
        slow = [(round(a[1], 3), a[3]) for a in answers
                if a[1] > TIMEOUT_MS / 1000.0 + MARGIN_S]
        failed = [a[3] for a in answers
                  if not (a[2] == 200 and isinstance(a[3], dict) and
                          a[3].get("reason") == "ok")]
        sys.stderr.write(
            "erase: %s %r in %.3f s; %d decisions meanwhile (%d during the "
            "erase), slowest %s s, %d not ok; /readyz non-200 %d of %d\n"
            % (st, body, e1 - e0, len(answers), len(during),
               sorted(round(a[1], 3) for a in answers)[-5:], len(failed),
               sum(1 for r in ready if r != 200), len(ready)))

        problems = []
        if errors:
            problems.append("requests failed: %r" % errors[:5])
        if st != 200 or not isinstance(body, dict) or \
                body.get("erased") is not True:
            problems.append("the erase answered %s %r" % (st, body))
        if not during:
            problems.append("no decision ran during the erase")
        if slow:
            problems.append("%d decisions slower than timeout_ms + %.2f s, "
                            "e.g. %r" % (len(slow), MARGIN_S, slow[:5]))
        if failed:
            problems.append("%d decisions not ok, e.g. %r" % (
                len(failed), failed[:5]))
        if any(r != 200 for r in ready):
            problems.append("/readyz flapped: %r" % [
                r for r in ready if r != 200][:10])
        if problems:
            self.fail("\n- " + "\n- ".join(problems))

        # Gone: keys and audit entries (an erase that finishes in the
        # background gets a few seconds).
        deadline = time.monotonic() + slack(10, 20)
        while True:
            entries = audit_entries(self.redis.port)
            left = [e for e in entries if mentions(e[1], target)]
            keys = self.customer_keys(target)
            if (not left and not keys) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(keys, [])
        self.assertEqual(left[:3], [], "%d audit entries of the erased "
                         "customer remain" % len(left))
        others_left = sum(1 for _, f in entries
                          if any(v.startswith("aud-") for v in f.values()))
        self.assertGreater(others_left, 0, "the other customers' audit "
                           "entries went too")


if __name__ == "__main__":
    main()
