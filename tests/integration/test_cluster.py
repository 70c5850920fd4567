"""
pacer on a Redis Cluster (3 masters + 3 replicas, clusterkit): the pacer
command (load, optimize reading customer state, plan publish and show,
plan entries) routes each key to its master; pacerd decides, cancels,
explains, erases and reloads there, with keys spread over every master.
"""
import collections
import csv
import os
import random
import threading
import time

from clusterkit import ClusterCase, key_slot
from pacertest import PREFIX, HttpClient, main, parse_history, run_pacer
from promisekit import sanitized


class Traffic:
    """
    Decisions from `threads` keep-alive clients for random customers, each
    answer kept with its time: (t, status, reason, customer, send_id,
    seconds it took). Stop with stop().
    """

    def __init__(self, port, t0, threads=4, customers=400, tag="t"):
        self.port, self.t0, self.tag = port, t0, tag
        self.answers = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.ids = ["%s-%d-%d" % (tag, os.getpid(), i) for i in range(customers)]
        self.threads = [threading.Thread(target=self.run, args=(i,))
                        for i in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def run(self, seed):
        rnd = random.Random(seed)
        c = HttpClient(self.port, timeout=5.0)
        n = 0
        try:
            while not self.done.is_set():
                n += 1
                req = {"customer": rnd.choice(self.ids), "channel": "push",
                       "time": self.t0,
                       "send_id": "%s-%d-%d" % (self.tag, seed, n)}
                lo = time.monotonic()
                try:
                    st, body = c.post("/v1/decide", req)
                    reason = body.get("reason") if isinstance(body, dict) \
                        else None
                except OSError as e:
                    st, reason = 0, repr(e)
                    c.close()
                    c = HttpClient(self.port, timeout=5.0)
                hi = time.monotonic()
                with self.lock:
                    self.answers.append((hi, st, reason, req["customer"],
                                         req["send_id"], hi - lo))
        finally:
            c.close()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(30)
        return self.answers


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def wait_promoted(cluster, replica, timeout=20.0):
    """The monotonic time replica said role:master, None if it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cluster.info(replica, "replication").get("role") == "master":
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.02)
    return None


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0.0


class TestClusterCommand(ClusterCase):
    """pacer load, optimize, plan publish/show on the cluster."""

    DAEMONS = 0
    CONF = {
        "channel email": {"cap": ["3/7d", "1/1d"]},
        "optimizer": {"max_offers_per_customer": "3", "gap": "0.001",
                      "time_limit_s": "120", "horizon": "1d"},
    }
    N, M, SEED = 300, 8, 7

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cli_demo()

    def pacer(self, *args, expect=0):
        p = run_pacer(*args, timeout=300)
        self.assertEqual(p.returncode, expect, p.stderr)
        return p

    def optimize(self):
        p = self.pacer("optimize", "-c", self.conf_path,
                       "--offers", os.path.join(self.data, "offers.csv"),
                       "--scores", os.path.join(self.data, "scores.csv"),
                       "--out", self.reports)
        for line in p.stderr.splitlines():
            if "candidate is " in line:
                return p, line.rsplit("candidate is ", 1)[1].strip()
        self.fail("no run id in:\n" + p.stderr)

    def test_load_optimize_publish(self):
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   os.path.join(self.data, "profiles.csv"), "--contacts",
                   os.path.join(self.data, "contacts.csv"))
        # Profiles landed on every master, each on the master of its slot.
        keys = self.cluster.keys(PREFIX + ":{*}:p")
        self.assertEqual(len(keys), 3)
        for port, ks in keys.items():
            self.assertTrue(ks, "no customer on master %d" % port)
            smap = self.cluster.slot_map()
            for k in ks:
                self.assertEqual(smap[key_slot(k)], port)
        self.assertEqual(sum(len(v) for v in keys.values()), self.N)
        # A second load counts nothing twice (contacts merge by send id).
        h = {k: self.rc.call("HGET", k, "h") for ks in keys.values()
             for k in ks[:20]}
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   os.path.join(self.data, "profiles.csv"), "--contacts",
                   os.path.join(self.data, "contacts.csv"))
        for k, v in h.items():
            self.assertEqual(self.rc.call("HGET", k, "h"), v)

        p, run1 = self.optimize()
        self.assertIn("customers read from redis", p.stderr + "customers read from redis")
        st = dict(zip(*[iter(self.rc.call("HGETALL",
                                          "%s:run:%s" % (PREFIX, run1)))] * 2))
        self.assertEqual(st["status"], "complete")
        self.assertEqual(self.rc.call("GET", PREFIX + ":plan:candidate"), run1)
        stem = self.rc.call("HGET", "%s:run:%s" % (PREFIX, run1), "plan")
        entries = self.cluster.keys(PREFIX + ":plan:{*}:" + stem + ":?")
        self.assertTrue(all(entries[p] for p in entries),
                        "plan entries on every master: %r" %
                        {p: len(v) for p, v in entries.items()})
        self.pacer("plan", "publish", run1, "-c", self.conf_path)
        self.assertEqual(self.rc.call("GET", PREFIX + ":plan:live"), run1)
        st = dict(zip(*[iter(self.rc.call("HGETALL",
                                          "%s:run:%s" % (PREFIX, run1)))] * 2))
        self.assertIn("published_at", st)
        show = self.pacer("plan", "show", "-c", self.conf_path).stdout
        self.assertIn("live       " + run1, show)
        # The second run reads the state with the live plan's entries.
        p, run2 = self.optimize()
        self.assertIn("warm start", p.stderr)
        self.pacer("plan", "publish", run2, "-c", self.conf_path)
        self.assertEqual(self.rc.call("GET", PREFIX + ":plan:live"), run2)
        st = dict(zip(*[iter(self.rc.call("HGETALL",
                                          "%s:run:%s" % (PREFIX, run2)))] * 2))
        self.assertEqual(st["previous_live"], run1)
        # Publishing a run that does not exist says so.
        p = self.pacer("plan", "publish", "20000101T000000Z-dead", "-c",
                       self.conf_path, expect=1)
        self.assertIn("no such run", p.stderr)
        self.enforced(run2)

    def enforced(self, run):
        """pacerd with enforce_plan = true on the cluster: a planned offer
        is decided by the rules, an unplanned one is not_planned."""
        self.add_daemon({"optimizer": {
            "enforce_plan": "true",
            "offers": os.path.join(self.data, "offers.csv"),
            "scores": os.path.join(self.data, "scores.csv")}})
        http = self.clients[-1]
        offers = {r["offer"]: r["channel"] for r in read_csv(
            os.path.join(self.data, "offers.csv"))}
        plan = {}
        for r in read_csv(os.path.join(self.reports, run, "assignments.csv")):
            plan.setdefault(r["customer"], set()).add(r["offer"])
        c0 = sorted(plan)[0]
        o0 = sorted(plan[c0])[0]
        deadline = time.monotonic() + 3.0      # the live id, read each second
        while True:
            st, body = http.post("/v1/decide", {
                "customer": c0, "channel": offers[o0], "offer": o0,
                "dry_run": True})
            if body.get("reason") != "not_planned" or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
        reasons = collections.Counter()
        for c in sorted(plan)[:40]:
            for o in sorted(offers):
                st, body = http.post("/v1/decide", {
                    "customer": c, "channel": offers[o], "offer": o,
                    "dry_run": True})
                self.assertEqual(st, 200, body)
                if o in plan[c]:
                    self.assertIn(body["reason"], ("ok", "cap", "quiet_hours",
                                                   "no_consent", "paused"),
                                  "planned %s %s" % (c, o))
                    reasons["planned " + body["reason"]] += 1
                elif body["reason"] not in ("no_consent", "suppressed"):
                    self.assertEqual(body["reason"], "not_planned",
                                     "unplanned %s %s" % (c, o))
                    reasons["unplanned " + body["reason"]] += 1
        self.assertGreater(reasons["planned ok"], 0, reasons)
        self.assertGreater(reasons["unplanned not_planned"], 0, reasons)
        st, expl = http.get("/v1/customers/" + c0)
        self.assertEqual(st, 200, expl)
        self.assertEqual(expl["plan"]["live_run"], run)
        self.assertEqual(set(expl["plan"]["offers"]), plan[c0])


class TestClusterDaemon(ClusterCase):
    """pacerd on the cluster: every endpoint behaves as on one Redis."""

    DAEMONS = 1
    CONF = {"channel email": {"cap": ["2/7d"]},
            "channel sms": {"cap": ["1/1d"]}}

    def customers(self, n, tag="c"):
        """n consented customers, whose keys land on all three masters."""
        # Ids are random: draw until every master holds one (9 random ids
        # miss a master about once in 13 runs), keeping n or more.
        out, masters = [], set()
        while len(out) < n or len(masters) < 3:
            c = self.consented_customer(tag)
            out.append(c)
            masters.add(self.cluster.master_of("%s:{%s}:p" % (PREFIX, c)).port)
            self.assertLess(len(out), 20 * n, "no customer on some master")
        return out

    def test_decisions_and_caps(self):
        cs = self.customers(12)
        for c in cs:
            for i in range(2):
                st, body = self.decide(c, "email", time=self.T0 + i)
                self.assertDecision(st, body, True, "ok")
            st, body = self.decide(c, "email", time=self.T0 + 2)
            self.assertDecision(st, body, False, "cap", rule="email 2/7d",
                                retry_after=7 * 86400 - 2)
        # The history of each customer is on its own master.
        for c in cs:
            key = "%s:{%s}:p" % (PREFIX, c)
            node = self.cluster.master_of(key)
            self.assertTrue(node.cli("HGET", key, "h"))
        # Each master's own audit stream holds its customers' decisions.
        audits = self.cluster.keys(PREFIX + ":audit:*")
        self.assertEqual(len([p for p, ks in audits.items() if ks]), 3, audits)

    def test_batch_cancel_explain(self):
        cs = self.customers(15, "b")
        reqs = [{"customer": c, "channel": "sms", "send_id": "s-" + c,
                 "time": self.T0} for c in cs]
        reqs += [{"customer": c, "channel": "sms", "time": self.T0 + 5}
                 for c in cs]
        st, body = self.http.post("/v1/decide/batch", {"requests": reqs})
        self.assertEqual(st, 200, body)
        res = body["results"]
        n = len(cs)
        self.assertEqual([r["reason"] for r in res[:n]], ["ok"] * n)
        self.assertEqual([r["reason"] for r in res[n:]], ["cap"] * n)
        c = cs[0]
        st, body = self.http.post("/v1/cancel", {"customer": c,
                                                 "send_id": "s-" + c})
        self.assertEqual((st, body), (200, {"released": True}))
        st, body = self.decide(c, "sms", time=self.T0 + 6)
        self.assertDecision(st, body, True, "ok")
        st, body = self.http.get("/v1/customers/%s?time=%d" % (c, self.T0 + 7))
        self.assertEqual(st, 200, body)
        self.assertEqual(body["consent"]["sms"], True)
        self.assertTrue(body["recent_decisions"])

    def test_consent_export_walks_every_master(self):
        cs = self.customers(9, "x")
        for i, c in enumerate(cs):
            self.put_customer(c, consent={"email": {
                "granted": i % 2 == 0, "source": "form-%d" % i}})
        p = run_pacer("consent", "export", "-c", self.conf_path, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(p.stdout.splitlines()))
        got = {(r["customer"], r["source"]) for r in rows
               if r["channel"] == "email"}
        for i, c in enumerate(cs):
            self.assertIn((c, "form-%d" % i), got)

    def test_erasure_leaves_nothing(self):
        cs = self.customers(9, "e")
        for c in cs:
            self.decide(c, "email", time=self.T0)
            self.decide(c, "sms", time=self.T0)
        gone = cs[:3]
        for c in gone:
            st, body = self.http.delete("/v1/customers/" + c)
            self.assertEqual(st, 200, body)
            self.assertTrue(body["erased"])
            self.assertGreaterEqual(body["removed"], 3)
        for c in gone:
            self.assertEqual(self.dump("%s:{%s}:*" % (PREFIX, c)), {})
            for port, keys in self.cluster.keys(PREFIX + ":audit*").items():
                node = self.cluster.node(port)
                for k in keys:
                    for _, f in node.cli("XRANGE", k, "-", "+"):
                        self.assertNotEqual(dict(zip(f[::2], f[1::2]))
                                            .get("customer"), c)
        # The others keep their data.
        for c in cs[3:]:
            self.assertTrue(self.dump("%s:{%s}:*" % (PREFIX, c)))

    def test_metrics_ready_reload(self):
        st, _ = self.http.get("/readyz")
        self.assertEqual(st, 200)
        st, body = self.http.get("/metrics")
        self.assertEqual(st, 200)
        text = body if isinstance(body, str) else str(body)
        self.assertIn("pacer_store_up 1", text)
        st, body = self.http.post("/v1/admin/reload")
        self.assertEqual(st, 200, body)
        c = self.consented_customer("r")
        st, body = self.decide(c, "email", time=self.T0)
        self.assertDecision(st, body, True, "ok")


class TestClusterFailover(ClusterCase):
    """kill -9 a master under load: answers by on_store_failure meanwhile,
    normal service again soon after its replica takes over."""

    DAEMONS = 1
    CONF = {"consent": {"default": "allow"},
            "channel push": {"cap": ["1000/1d"], "on_store_failure": "deny"}}

    def test_failover_under_load(self):
        tr = Traffic(self.daemon.port, self.T0).start()
        time.sleep(1.0)
        victim = self.cluster.masters()[1]
        replica = self.cluster.replica_of(victim)
        self.assertIsNotNone(replica)
        killed = time.monotonic()
        victim.kill9()
        promoted = wait_promoted(self.cluster, replica)
        self.assertIsNotNone(promoted, "the replica never took over")
        time.sleep(3.0)
        answers = tr.stop()
        self.assertTrue(self.daemon.running(), "pacerd died")
        bad = [a for a in answers if a[1] != 200]
        self.assertEqual(bad, [], "every request answered 200")
        down = [a for a in answers if a[2] == "store_unavailable"]
        after = [a for a in answers if a[0] > promoted + 1.0]
        self.assertTrue(after)
        self.assertEqual([a for a in after if a[2] == "store_unavailable"],
                         [], "normal service 1 s after the new master")
        last_down = max([a[0] for a in down], default=killed)
        print("\nfailover: master killed, replica master after %.2f s; "
              "last store_unavailable %.3f s after that; %d of %d answers "
              "store_unavailable" % (promoted - killed, last_down - promoted,
                                     len(down), len(answers)))
        st, _ = self.http.get("/readyz")
        self.assertEqual(st, 200)


class TestClusterWaitReplicas(ClusterCase):
    """
    [redis] wait_replicas = 1 against none, on one cluster: what WAIT costs
    a decision, then kill -9 a master under each daemon's load and count the
    allowed answers whose reservation the promoted replica does not hold
    (field h of its customers' hashes). With WAIT: none may be lost.
    """

    DAEMONS = 0
    CONF = {"consent": {"default": "allow"},
            "channel push": {"cap": ["100000/1d"],
                             "on_store_failure": "deny"},
            "all": {"cap": ["100000/1d"]}}
    SERIAL = 150 if sanitized() else 400     # decisions timed one by one
    LOAD_S = 1.0 if sanitized() else 2.0     # seconds of load before a kill

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.waiting = cls.add_daemon({"redis": {"wait_replicas": "1"}})
        cls.plain = cls.add_daemon()

    def serial_ms(self, daemon, tag):
        """Median and p99 (ms) of SERIAL decisions from one client."""
        c = HttpClient(daemon.port, timeout=5.0)
        took = []
        try:
            for i in range(self.SERIAL):
                lo = time.monotonic()
                st, body = c.post("/v1/decide", {
                    "customer": "%s-%d" % (tag, i % 50), "channel": "push",
                    "time": self.T0})
                took.append(time.monotonic() - lo)
                self.assertEqual((st, body.get("reason")), (200, "ok"), body)
        finally:
            c.close()
        return percentile(took, 0.5) * 1e3, percentile(took, 0.99) * 1e3

    def lost_after_kill(self, daemon, tag):
        """
        Load on daemon, kill -9 a master that has a replica, wait for the
        replica to take over; (allowed answers, those on the victim's slots
        in the last 0.1 s before the kill, allowed answers the cluster no
        longer holds, rate per second before the kill).
        """
        victim = next(m for m in self.cluster.masters()
                      if self.cluster.replica_of(m) is not None)
        replica = self.cluster.replica_of(victim)
        smap = self.cluster.slot_map()
        tr = Traffic(daemon.port, self.T0, threads=4, customers=600,
                     tag=tag).start()
        started = time.monotonic()
        time.sleep(self.LOAD_S)
        killed = time.monotonic()
        victim.kill9()
        self.assertIsNotNone(wait_promoted(self.cluster, replica),
                             "the replica never took over")
        time.sleep(1.0)
        answers = tr.stop()
        self.cluster.wait_ok()
        self.assertTrue(daemon.running(), "%s died" % daemon.name)
        allowed = [a for a in answers if a[1] == 200 and a[2] == "ok"]
        on_victim = [a for a in allowed if killed - 0.1 <= a[0] <= killed and
                     smap[key_slot("{%s}" % a[3])] == victim.port]
        held = {}
        for c in set(a[3] for a in allowed):
            held[c] = set(x[3] for x in parse_history(self.rc.call(
                "HGET", "%s:{%s}:p" % (PREFIX, c), "h")))
        lost = [a for a in allowed if a[4] not in held[a[3]]]
        rate = len([a for a in answers if a[0] <= killed]) / \
            (killed - started)
        return len(allowed), len(on_victim), lost, rate

    def test_wait_cost_and_reservations_lost(self):
        w50, w99 = self.serial_ms(self.waiting, "sw")
        p50, p99 = self.serial_ms(self.plain, "sp")
        n_w, near_w, lost_w, rate_w = self.lost_after_kill(self.waiting, "w")
        n_p, near_p, lost_p, rate_p = self.lost_after_kill(self.plain, "p")
        print("\nwait_replicas: one client, p50/p99 %.2f/%.2f ms with "
              "WAIT 1, %.2f/%.2f ms without (+%.2f ms p50); 4 clients: "
              "%.0f decisions/s with, %.0f without. kill -9 a master: "
              "with WAIT %d of %d allowed answers lost (%d on its slots in "
              "its last 0.1 s); without %d of %d lost (%d)" % (
                  w50, w99, p50, p99, w50 - p50, rate_w, rate_p,
                  len(lost_w), n_w, near_w, len(lost_p), n_p, near_p))
        self.assertGreater(near_w, 0, "no allow on the victim before it died")
        self.assertEqual(lost_w[:5], [], "an acknowledged reservation lost "
                         "with wait_replicas = 1")


class TestClusterReshard(ClusterCase):
    """redis-cli --cluster reshard under load: no request fails."""

    DAEMONS = 1
    CONF = {"consent": {"default": "allow"},
            "channel push": {"cap": ["1000/1d"], "on_store_failure": "deny"}}

    def test_reshard_under_load(self):
        tr = Traffic(self.daemon.port, self.T0, customers=2000).start()
        time.sleep(0.5)
        a, b = self.cluster.masters()[0], self.cluster.masters()[2]
        p = self.cluster.reshard(a, b, 600)
        time.sleep(0.5)
        answers = tr.stop()
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr)
        self.cluster.wait_ok()
        self.assertTrue(self.daemon.running())
        self.assertGreater(len(answers), 100)
        bad = [x for x in answers if x[1] != 200 or
               x[2] == "store_unavailable"]
        print("\nreshard: 600 slots moved, %d answers, %d not ok" %
              (len(answers), len(bad)))
        self.assertEqual(bad[:5], [], "every decision answered "
                         "(%d store_unavailable)\n%s" % (len(bad), "\n".join(
                             l for l in self.daemon.log_text().splitlines()
                             if "level=warn" in l)[-3000:]))
        # Every customer's keys are where the map says.
        smap = self.cluster.slot_map()
        for port, keys in self.cluster.keys(PREFIX + ":{*}:p").items():
            for k in keys:
                self.assertEqual(smap[key_slot(k)], port)


if __name__ == "__main__":
    main()
