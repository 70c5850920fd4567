"""
pacer optimize against a real Redis: demo data loaded with pacer load, one
run, then an independent check in Python (from the CSV files alone) that the
plan obeys consent, holdout, segment exclusions, every cap, budgets and
capacities; the candidate in Redis matches assignments.csv; bad input exits
1 naming file, line and field; no Redis exits 2.
"""
import csv
import json
import os
import time
from collections import defaultdict

from pacertest import in_holdout, main, plan_bucket
from test_load import RedisCase

DAY = 86400
CAPS = {  # what CONF below configures: (limit, window seconds)
    "email": [(3, 7 * DAY), (1, DAY)],
    "sms": [(1, DAY)],
    "push": [(2, DAY)],
}
ALL_CAPS = [(5, 7 * DAY)]
CAMPAIGN_CAPS = [(1, DAY)]
SEGMENT_CAPS = {"vulnerable": [(1, 7 * DAY)]}
SEGMENT_EXCLUDE = {"vulnerable": {"credit"}}
HOLDOUT = 0.1
MAX_OFFERS = 3
GAP = 0.0001


def load_json(path):
    with open(path) as f:
        return json.load(f)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class OptimizeCase(RedisCase):
    CONF = {
        "channel email": {"cap": ["3/7d", "1/1d"]},
        "channel sms": {"cap": ["1/1d"]},
        "channel push": {"cap": ["2/1d"]},
        "all": {"cap": ["5/7d"]},
        "campaign": {"cap": ["1/1d"]},
        "segment vulnerable": {"cap": ["1/7d"], "exclude_offers": "credit"},
        "optimizer": {"holdout": str(HOLDOUT),
                      "max_offers_per_customer": str(MAX_OFFERS),
                      "gap": str(GAP), "time_limit_s": "120",
                      "horizon": "1d"},
    }
    N, M, SEED = 400, 12, 11

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = os.path.join(cls.workdir, "data")
        cls.reports = os.path.join(cls.workdir, "reports")
        from pacertest import run_pacer
        p = run_pacer("demo-data", "--customers", cls.N, "--offers", cls.M,
                      "--seed", cls.SEED, "--out", cls.data)
        assert p.returncode == 0, p.stderr
        p = run_pacer("load", "-c", cls.conf_path, "--profiles",
                      os.path.join(cls.data, "profiles.csv"), "--contacts",
                      os.path.join(cls.data, "contacts.csv"))
        assert p.returncode == 0, p.stderr

    def optimize(self, *extra, expect=0, scores=None, offers=None, conf=None):
        args = ["optimize", "-c", conf or self.conf_path,
                "--offers", offers or os.path.join(self.data, "offers.csv"),
                "--scores", scores or os.path.join(self.data, "scores.csv"),
                "--out", self.reports] + list(extra)
        return self.pacer(*args, expect=expect)

    def run_id_of(self, p):
        for line in p.stderr.splitlines():
            if "candidate is " in line:
                return line.rsplit("candidate is ", 1)[1].strip()
        self.fail("no run id in:\n" + p.stderr)

    def scored(self):
        """Customers in scores.csv (demo data may leave one without)."""
        return len({r["customer"] for r in read_csv(
            os.path.join(self.data, "scores.csv"))})

    def run_hash(self, run_id):
        flat = self.r("HGETALL", "pacer:run:" + run_id) or []
        return dict(zip(flat[0::2], flat[1::2]))

    def plan_entries(self, run_id):
        """customer -> set of offers of run_id's plan buckets in Redis."""
        from pacertest import Redis, plan_entries
        with Redis(self.redis.port) as r:
            return plan_entries(r, run_id)


class TestOptimize(OptimizeCase):
    # More than two batches of 1024: the state is read in parts, one
    # thread and connection each, on a machine of two CPUs or more.
    N = 2500

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from pacertest import run_pacer
        cls.started = time.time()
        p = run_pacer("optimize", "-c", cls.conf_path, "--offers",
                      os.path.join(cls.data, "offers.csv"), "--scores",
                      os.path.join(cls.data, "scores.csv"), "--out",
                      cls.reports, timeout=300)
        assert p.returncode == 0, p.stderr
        cls.proc = p
        cls.run_id = [l.rsplit("candidate is ", 1)[1].strip()
                      for l in p.stderr.splitlines() if "candidate is " in l][0]
        cls.folder = os.path.join(cls.reports, cls.run_id)

    def test_run_id_and_progress(self):
        self.assertRegex(self.run_id, r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")
        err = self.proc.stderr
        self.assertRegex(err, r"iteration=\d+ objective=[-0-9.]+ bound=[-0-9.]+ "
                              r"gap=[0-9.]+% elapsed=")

    def test_run_folder(self):
        for name in ("assignments.csv", "summary.json", "report.html"):
            self.assertTrue(os.path.isfile(os.path.join(self.folder, name)),
                            name)
        with open(os.path.join(self.folder, "assignments.csv")) as f:
            self.assertEqual(f.readline().strip(),
                             "customer,offer,channel,expected_value")
        s = load_json(os.path.join(self.folder, "summary.json"))
        for k in ("objective", "bound", "gap", "status", "offers"):
            self.assertIn(k, s)
        self.assertGreater(s["objective"], 0)
        self.assertGreaterEqual(s["bound"] + 1e-6, s["objective"])
        self.assertEqual(s["customers"], self.scored())
        self.assertEqual(len(s["offers"]), self.M)

    def test_candidate_in_redis(self):
        self.assertEqual(self.r("GET", "pacer:plan:candidate"), self.run_id)
        h = self.run_hash(self.run_id)
        self.assertEqual(h["status"], "complete")
        self.assertEqual(h["phase"], "done")
        self.assertEqual(h["method"], "scale")
        self.assertEqual(os.path.realpath(h["folder"]),
                         os.path.realpath(self.folder))
        for k in ("objective", "bound", "gap", "created", "prices"):
            self.assertIn(k, h)
        rows = read_csv(os.path.join(self.folder, "assignments.csv"))
        want = defaultdict(set)
        for a in rows:
            want[a["customer"]].add(a["offer"])
        self.assertEqual(self.plan_entries(self.run_id), dict(want))
        self.assertEqual(int(h["assignments"]), len(rows))
        some = next(iter(want))
        ttl = self.r("TTL", plan_bucket(h["plan"], some))
        self.assertTrue(2 * DAY - 60 <= ttl <= 2 * DAY, ttl)  # horizon + 1d
        # Registered for an erasure to find, scored by when its keys are
        # gone (with an hour to spare), on the real clock.
        gone = int(self.r("ZSCORE", "pacer:plan:runs", h["plan"]))
        self.assertAlmostEqual(gone, time.time() + 2 * DAY + 3600, delta=300)
        self.assertTrue(h["plan"].startswith(self.run_id + ":"), h["plan"])

    def test_plan_is_feasible(self):
        """Every rule of SPEC section 4, checked from the CSVs alone."""
        offers = {o["offer"]: o for o in
                  read_csv(os.path.join(self.data, "offers.csv"))}
        scores = {(s["customer"], s["offer"]): float(s["propensity"])
                  for s in read_csv(os.path.join(self.data, "scores.csv"))}
        profiles = {p["customer"]: p for p in
                    read_csv(os.path.join(self.data, "profiles.csv"))}
        t = int(self.run_hash(self.run_id)["created"])
        history = defaultdict(list)
        for c in read_csv(os.path.join(self.data, "contacts.csv")):
            history[c["customer"]].append((int(c["time"]), c["channel"],
                                           c["campaign"]))
        plan = defaultdict(list)
        total = 0.0
        for a in read_csv(os.path.join(self.folder, "assignments.csv")):
            o = offers[a["offer"]]
            self.assertEqual(a["channel"], o["channel"])
            p = scores.get((a["customer"], a["offer"]))
            self.assertIsNotNone(p, "only eligible pairs")
            ev = p * float(o["value"]) - float(o["cost"])
            self.assertAlmostEqual(float(a["expected_value"]), ev, places=4)
            self.assertGreater(ev, 0)
            total += ev
            plan[a["customer"]].append(o)
        self.assertGreater(len(plan), self.N // 4)

        def used(h, window, pred):
            return sum(1 for (tm, ch, cp) in h if t - window < tm <= t and
                       pred(ch, cp))

        for cust, planned in plan.items():
            prof = profiles[cust]
            segs = set(filter(None, prof["segments"].split(";")))
            h = history[cust]
            self.assertFalse(in_holdout(cust, HOLDOUT), cust + " is holdout")
            self.assertLessEqual(len(planned), MAX_OFFERS)
            self.assertEqual(len({o["offer"] for o in planned}), len(planned))
            for o in planned:
                self.assertEqual(prof[o["channel"]], "1", "consent")
                for s in segs:
                    self.assertNotIn(o["category"],
                                     SEGMENT_EXCLUDE.get(s, set()))
            for ch, caps in CAPS.items():
                n = sum(1 for o in planned if o["channel"] == ch)
                for limit, w in caps:
                    if n:
                        self.assertLessEqual(
                            used(h, w, lambda c, _: c == ch) + n, limit,
                            "%s %s %d/%d" % (cust, ch, limit, w))
            all_limits = list(ALL_CAPS)
            for s in segs:
                all_limits += SEGMENT_CAPS.get(s, [])
            for limit, w in all_limits:
                self.assertLessEqual(used(h, w, lambda c, _: True) +
                                     len(planned), limit, cust)
            for cp in {o["campaign"] for o in planned}:
                n = sum(1 for o in planned if o["campaign"] == cp)
                for limit, w in CAMPAIGN_CAPS:
                    self.assertLessEqual(
                        used(h, w, lambda _, c: c == cp) + n, limit, cust)
        sends = defaultdict(int)
        for planned in plan.values():
            for o in planned:
                sends[o["offer"]] += 1
        binding = 0
        for name, o in offers.items():
            cost = float(o["cost"])
            if o["budget"]:
                budget = float(o["budget"])
                self.assertLessEqual(sends[name] * cost, budget + 1e-6, name)
                if (sends[name] + 1) * cost > budget:
                    binding += 1
            if o["capacity"]:
                self.assertLessEqual(sends[name], int(o["capacity"]), name)
        self.assertGreater(binding, 0, "demo budgets bind")
        s = load_json(os.path.join(self.folder, "summary.json"))
        self.assertAlmostEqual(s["objective"], total,
                               delta=1e-6 * max(1.0, abs(total)) + 1e-3)

    def test_segment_counts(self):
        """Each segment's customers and allocated customers in the summary
        are what profiles.csv and assignments.csv say (the state is read
        in parts; each part's segment names are joined)."""
        s = load_json(os.path.join(self.folder, "summary.json"))
        scored = {r["customer"] for r in read_csv(
            os.path.join(self.data, "scores.csv"))}
        got = {a["customer"] for a in read_csv(
            os.path.join(self.folder, "assignments.csv"))}
        want = defaultdict(lambda: [0, 0])
        for p in read_csv(os.path.join(self.data, "profiles.csv")):
            if p["customer"] not in scored:
                continue
            for seg in set(filter(None, p["segments"].split(";"))) or \
                    {"(no segment)"}:
                want[seg][0] += 1
                want[seg][1] += p["customer"] in got
        self.assertGreater(len(want), 2)
        self.assertEqual({g["name"]: [g["customers"], g["allocated"]]
                          for g in s["segments"]}, dict(want))

    def test_nothing_reasons(self):
        s = load_json(os.path.join(self.folder, "summary.json"))
        nothing = s["nothing"]
        got = len({a["customer"] for a in read_csv(
            os.path.join(self.folder, "assignments.csv"))})
        counted = sum(v for k, v in nothing.items() if k != "total")
        self.assertEqual(counted, self.scored() - got)
        holdout = sum(in_holdout(c["customer"], HOLDOUT) for c in read_csv(
            os.path.join(self.data, "profiles.csv")))
        self.assertGreater(nothing["holdout"], 0)
        self.assertLessEqual(nothing["holdout"], holdout)
        self.assertGreater(nothing["no_consent"], 0)
        self.assertGreater(nothing["saturated"], 0)


class TestOptimizeInput(OptimizeCase):
    N, M, SEED = 60, 6, 3

    def bad_scores(self, body):
        return self.write("bad_scores.csv", "customer,offer,propensity\n"
                          "c000001,%s,0.5\n%s" % (self.first_offer(), body))

    def first_offer(self):
        return read_csv(os.path.join(self.data, "offers.csv"))[0]["offer"]

    def test_bad_scores_exit_1(self):
        o = self.first_offer()
        before = self.dump()
        for body, what in (("c000002,nosuch,0.5\n", "field offer"),
                           ("c000002,%s,1.5\n" % o, "field propensity"),
                           ("c000002,%s,-0.1\n" % o, "field propensity"),
                           ("c000002,%s,abc\n" % o, "field propensity"),
                           ("c000002,%s\n" % o, "fields"),
                           ("c 2,%s,0.1\n" % o, "field customer"),
                           ("c000001,%s,0.3\n" % o, "twice")):
            with self.subTest(body=body):
                p = self.optimize(scores=self.bad_scores(body), expect=1)
                self.assertIn("bad_scores.csv:3", p.stderr)
                self.assertIn(what, p.stderr)
        self.assertEqual(self.dump(), before, "nothing written")

    def test_bad_offers_exit_1(self):
        path = self.write("bad_offers.csv",
                          "offer,channel,campaign,category,value,cost,budget,"
                          "capacity\nx,fax,c,d,1,0.1,,\n")
        p = self.optimize(offers=path, expect=1)
        self.assertIn("bad_offers.csv:2", p.stderr)

    def test_missing_scores_column(self):
        path = self.write("nocol.csv", "customer,offer\nc1,x\n")
        p = self.optimize(scores=path, expect=1)
        self.assertIn("propensity", p.stderr)

    def test_redis_unreachable_exit_2(self):
        from pacertest import free_port
        dead = self.write_conf("dead.conf", free_port())
        p = self.optimize(conf=dead, expect=2)
        self.assertIn("redis", p.stderr.lower())

    def test_empty_instance(self):
        """Nobody has a profile: consent defaults to deny, the plan is empty."""
        path = self.write("strangers.csv", "customer,offer,propensity\n"
                          "stranger1,%s,0.5\n" % self.first_offer())
        p = self.optimize("--run-id", "empty-run", scores=path)
        self.assertIn("empty", p.stderr)
        folder = os.path.join(self.reports, "empty-run")
        with open(os.path.join(folder, "assignments.csv")) as f:
            self.assertEqual(f.read(), "customer,offer,channel,expected_value\n")
        s = load_json(os.path.join(folder, "summary.json"))
        self.assertEqual(s["assignments"], 0)
        self.assertEqual(s["nothing"]["no_consent"], 1)
        self.assertEqual(self.run_hash("empty-run")["status"], "complete")

    def test_no_scores_at_all(self):
        path = self.write("header_only.csv", "customer,offer,propensity\n")
        p = self.optimize("--run-id", "nothing-run", scores=path)
        self.assertIn("empty", p.stderr)

    def test_scores_any_order_crlf_quotes(self):
        """Shuffled rows, CRLF line ends and quoted fields read the same."""
        import random
        with open(os.path.join(self.data, "scores.csv")) as f:
            lines = f.read().splitlines()
        body = lines[1:]
        random.Random(1).shuffle(body)
        # Columns in another order, quotes on some fields, CRLF.
        out = ["propensity,customer,offer"]
        for i, line in enumerate(body):
            c, o, p = line.split(",")
            if i % 3 == 0:
                c = '"%s"' % c
            out.append("%s,%s,%s" % (p, c, o))
        path = self.path("shuffled.csv")
        with open(path, "w", newline="") as f:
            f.write("\r\n".join(out) + "\r\n")
        a = self.optimize("--run-id", "sorted-run")
        b = self.optimize("--run-id", "shuffled-run", scores=path)
        sa = load_json(os.path.join(self.reports, "sorted-run", "summary.json"))
        sb = load_json(os.path.join(self.reports, "shuffled-run",
                                    "summary.json"))
        for k in ("customers", "eligible_pairs"):
            self.assertEqual(sa[k], sb[k], k)
        for k in ("no_consent", "saturated", "holdout", "suppressed"):
            self.assertEqual(sa["nothing"][k], sb["nothing"][k], k)
        self.assertAlmostEqual(sa["objective"], sb["objective"],
                               delta=2 * GAP * abs(sa["bound"]) + 1e-6,
                               msg=a.stderr + b.stderr)

    def test_exact_within_scale_bound(self):
        pe = self.optimize("--method", "exact", "--run-id", "exact-run")
        ps = self.optimize("--method", "scale", "--run-id", "scale-run")
        ex = load_json(os.path.join(self.reports, "exact-run",
                                     "summary.json"))
        sc = load_json(os.path.join(self.reports, "scale-run",
                                     "summary.json"))
        self.assertLessEqual(ex["objective"], sc["bound"] + 1e-6,
                             pe.stderr + ps.stderr)
        self.assertGreaterEqual(sc["objective"],
                                ex["objective"] * (1 - GAP) - 1e-6)


class TestOptimizeHistory(RedisCase):
    """
    The contacts optimize counts come from field h of the profile hash (what
    pacer load and pacerd store), in the window (t - longest window, t].
    """
    CONF = {
        "channel email": {"cap": ["3/7d", "1/1d"]},
        "channel sms": {"cap": ["1/1d"]},
        "optimizer": {"holdout": "0", "max_offers_per_customer": "3",
                      "horizon": "1d"},
    }
    OFFERS = ("offer,channel,campaign,category,value,cost,budget,capacity\n"
              "mail_a,email,ca,discount,50,0.01,,\n"
              "text_b,sms,cb,discount,40,0.01,,\n")

    def setUp(self):
        self.flush()
        self.offers = self.write("h_offers.csv", self.OFFERS)
        self.reports = self.path("h_reports")

    def run_optimize(self, customers, expect=0, conf=None):
        """Optimize customers (every one scored for both offers)."""
        scores = self.write("h_scores.csv", "customer,offer,propensity\n" +
                            "".join("%s,mail_a,0.5\n%s,text_b,0.5\n" % (c, c)
                                    for c in customers))
        return self.pacer("optimize", "-c", conf or self.conf_path,
                          "--offers", self.offers, "--scores", scores,
                          "--out", self.reports, expect=expect)

    def planned(self, p):
        """customer -> set of offers of the run p made."""
        run_id = [l.rsplit("candidate is ", 1)[1].strip()
                  for l in p.stderr.splitlines() if "candidate is " in l][0]
        out = defaultdict(set)
        for a in read_csv(os.path.join(self.reports, run_id,
                                       "assignments.csv")):
            out[a["customer"]].add(a["offer"])
        return out

    def test_loaded_contacts_use_up_room(self):
        now = int(time.time())
        who = ["free", "day_capped", "week_capped", "future", "too_old"]
        self.write("h_profiles.csv", "customer,tz,segments,email,sms,push\n" +
                   "".join("%s,UTC,,1,1,1\n" % c for c in who))
        rows = [(now - 3600, "day_capped", "email", "", "")]           # 1/1d
        rows += [(now - d * DAY, "week_capped", "email", "", "")        # 3/7d
                 for d in (2, 3, 4)]
        rows += [(now + 3600, "future", "email", "", ""),               # after t
                 (now + 7200, "future", "sms", "", "")]
        self.write("h_contacts.csv", "time,customer,channel,campaign,offer\n" +
                   "".join("%d,%s,%s,%s,%s\n" % r for r in rows))
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   self.path("h_profiles.csv"), "--contacts",
                   self.path("h_contacts.csv"))
        # Stored, not loaded: three emails just past the longest window.
        old = "".join("%d|email||o%d\n" % (now - 7 * DAY - 60 - i, i)
                      for i in range(3))
        self.r("HSET", "pacer:{too_old}:p", "h", old)
        plan = self.planned(self.run_optimize(who))
        self.assertEqual(plan["free"], {"mail_a", "text_b"})
        self.assertEqual(plan["day_capped"], {"text_b"}, "email 1/1d is used")
        self.assertEqual(plan["week_capped"], {"text_b"}, "email 3/7d is used")
        self.assertEqual(plan["future"], {"mail_a", "text_b"},
                         "contacts after the run's start do not count")
        self.assertEqual(plan["too_old"], {"mail_a", "text_b"},
                         "contacts past the longest window do not count")

    def test_own_caps_and_pause(self):
        """The customer's own caps and pause (a preference centre's, loaded
        with pacer load's optional columns) leave no room: a paused customer
        and a customer whose own cap is full get no planned offer there."""
        now = int(time.time())
        self.write("h_profiles.csv",
                   "customer,tz,segments,email,sms,push,caps,pause_until\n"
                   "paused,UTC,,1,1,1,,%d\n"
                   "pause_over,UTC,,1,1,1,,%d\n"
                   "own_email_full,UTC,,1,1,1,email 1/7d,\n"
                   "own_all_full,UTC,,1,1,1,all 1/30d,\n"
                   "own_roomy,UTC,,1,1,1,email 5/7d;all 9/30d,\n"
                   % (now + DAY, now - 60))
        # email 3/7d and 1/1d hold room; the own caps do not.
        self.write("h_contacts.csv", "time,customer,channel,campaign,offer\n"
                   "%d,own_email_full,email,,\n"
                   "%d,own_roomy,email,,\n" % (now - 3 * DAY, now - 3 * DAY))
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   self.path("h_profiles.csv"), "--contacts",
                   self.path("h_contacts.csv"))
        # Stored by pacerd, not loaded (load drops what is past every
        # configured window): an sms 10 days ago, inside all 1/30d.
        self.r("HSET", "pacer:{own_all_full}:p", "h",
               "%d|sms||s1\n" % (now - 10 * DAY))
        who = ["paused", "pause_over", "own_email_full", "own_all_full",
               "own_roomy"]
        plan = self.planned(self.run_optimize(who))
        self.assertEqual(plan["paused"], set(), "paused past the run's start")
        self.assertEqual(plan["pause_over"], {"mail_a", "text_b"})
        self.assertEqual(plan["own_email_full"], {"text_b"},
                         "the customer's email 1/7d is used")
        self.assertEqual(plan["own_all_full"], set(),
                         "the customer's all 1/30d is used")
        self.assertEqual(plan["own_roomy"], {"mail_a", "text_b"})

    def test_every_contact_in_the_window_counts(self):
        """Past 4096 contacts in the longest window, the newest still count:
        an email an hour ago, behind 4999 older texts, fills email 1/1d."""
        now = int(time.time())
        self.write("h_profiles.csv", "customer,tz,segments,email,sms,push\n"
                   "busy,UTC,,1,1,1\n")
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   self.path("h_profiles.csv"))
        old = "".join("%d|sms||s%d\n" % (now - 6 * DAY + 60 * i, i)
                      for i in range(4999))
        self.r("HSET", "pacer:{busy}:p", "h",
               old + "%d|email||e1\n" % (now - 3600))
        conf = self.write_conf("busy.conf", self.redis.port,
                               {"all": {"cap": ["10000/7d"]}})
        plan = self.planned(self.run_optimize(["busy"], conf=conf))
        self.assertEqual(plan["busy"], {"text_b"}, "email 1/1d is used")

    def test_room_past_255(self):
        """max_offers_per_customer = 300 with caps of a million (no cap
        that can bind): one customer, 500 offers; both methods plan the
        300 best, and the bound is not below them."""
        conf = self.write_conf("wide.conf", self.redis.port, {
            "channel email": {"cap": ["1000000/1d"]},
            "all": {"cap": ["1000000/7d"]},
            "campaign": {"cap": ["1000000/1d"]},
            "optimizer": {"max_offers_per_customer": "300"}})
        self.write("h_profiles.csv", "customer,tz,segments,email,sms,push\n"
                   "wide,UTC,,1,1,1\n")
        self.pacer("load", "-c", conf, "--profiles",
                   self.path("h_profiles.csv"))
        offers = self.write("wide_offers.csv",
                            "offer,channel,campaign,category,value,cost,"
                            "budget,capacity\n" +
                            "".join("o%d,email,cw,discount,%d,0.01,,\n" %
                                    (i, 10 + i) for i in range(500)))
        scores = self.write("wide_scores.csv", "customer,offer,propensity\n"
                            + "".join("wide,o%d,0.5\n" % i
                                      for i in range(500)))
        best = sum(0.5 * (10 + i) - 0.01 for i in range(200, 500))
        for method in ("scale", "exact"):
            run = "wide-" + method
            self.pacer("optimize", "-c", conf, "--offers", offers, "--scores",
                       scores, "--out", self.reports, "--method", method,
                       "--run-id", run)
            s = load_json(os.path.join(self.reports, run, "summary.json"))
            self.assertEqual(s["assignments"], 300, method)
            self.assertAlmostEqual(s["objective"], best, places=4)
            self.assertGreaterEqual(s["bound"], best - 1e-6, method)
            self.assertIn(s["status"], ("optimal", "gap_reached"), method)

    def test_malformed_history_names_the_customer(self):
        self.write("h_profiles.csv", "customer,tz,segments,email,sms,push\n"
                   "fine,UTC,,1,1,1\nbroken-7,UTC,,1,1,1\n")
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   self.path("h_profiles.csv"))
        self.r("HSET", "pacer:{broken-7}:p", "h", "1700000000|email|x\n")
        p = self.run_optimize(["fine", "broken-7"], expect=1)
        self.assertIn("customer broken-7: malformed contact history", p.stderr)
        self.assertIn("pacer:{broken-7}:p", p.stderr)


if __name__ == "__main__":
    main()
