"""
pacer load: profiles and contacts into Redis with the key layout of
include/pacer/keys.h (one hash PREFIX:{C}:p: the profile, pv, and the packed
contact history h); a bad file writes nothing; exit 2 without Redis.
Cells are bounded: at most 32 segments a customer, each once (names the
config lacks are kept with a warning, at most 64 of them); contacts no more
than a day ahead of now; one profile row per customer (a second is an error
naming both lines).

RedisCase (a throwaway redis-server and a config, no pacerd) is shared with
test_optimize.py and test_plan.py.
"""
import datetime
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from pacertest import (PREFIX, Redis, RedisServer, base_overrides, free_port,
                       main, make_config, merge_overrides, parse_history,
                       read_text, redis_dump, redis_server_path, require_redis,
                       run_pacer, scan_keys, stop_process, write_file)

WEEK = 7 * 86400


class RedisCase(unittest.TestCase):
    """A redis-server and a config (conf/pacer.conf + overrides) per class."""

    CONF = {}

    @classmethod
    def setUpClass(cls):
        require_redis()
        cls.workdir = tempfile.mkdtemp(prefix="pacer-it-%s-" % cls.__name__)
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.redis = RedisServer(cls.workdir)
        cls.addClassCleanup(cls.redis.stop)
        cls.redis.start()
        cls.conf_path = cls.write_conf("pacer.conf", cls.redis.port)

    @classmethod
    def write_conf(cls, name, redis_port, extra=None):
        text = make_config(merge_overrides(
            base_overrides(free_port(), redis_port, cls.workdir), cls.CONF,
            extra))
        return write_file(os.path.join(cls.workdir, name), text)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def write(self, name, text):
        return write_file(self.path(name), text)

    def r(self, *args):
        return self.redis.cli(*args)

    def dump(self, match="*"):
        return redis_dump(self.redis.port, match)

    def flush(self):
        self.r("FLUSHALL")

    def pacer(self, *args, expect=0, timeout=300):
        p = run_pacer(*args, timeout=timeout)
        if expect is not None:
            self.assertEqual(p.returncode, expect, "pacer %s\n%s" % (
                " ".join(map(str, args)), p.stderr[-5000:]))
        return p


class TestLoad(RedisCase):

    def setUp(self):
        self.flush()

    def profiles(self):
        return self.write("profiles.csv", (
            "customer,tz,segments,email,sms,push\n"
            "alice,Europe/Paris,vulnerable;premium,1,0,\n"
            "bob,,,true,false,1\n"
            "carol@x.y,America/New_York, premium ; student ,0,1,0\n"))

    def contacts(self, now):
        return self.write("contacts.csv", (
            "time,customer,channel,campaign,offer\n"
            "%d,alice,email,winback,winback_email\n"
            "%d,alice,sms,,\n"
            "%d,bob,push,engagement,app_nudge\n"
            "%d,bob,email,winback,winback_email\n"   # older than every window
            % (now - 3600, now - 7200, now - 60, now - WEEK - 100)))

    def test_writes_exactly_the_expected_keys(self):
        now = int(time.time())
        self.pacer("load", "-c", self.conf_path, "--profiles", self.profiles(),
                   "--contacts", self.contacts(now))
        d = self.dump()
        self.assertEqual(sorted(d), sorted([
            "pacer:{alice}:p", "pacer:{bob}:p", "pacer:{carol@x.y}:p"]))
        t, alice = d["pacer:{alice}:p"]
        self.assertEqual(t, "hash")
        self.assertEqual(alice["pv"], "1")
        self.assertEqual(alice["c:email"], "1")
        self.assertEqual(alice["c:sms"], "0")
        self.assertNotIn("c:push", alice)       # empty: unknown consent
        self.assertEqual(alice["tz"], "Europe/Paris")
        self.assertEqual(alice["seg"], "vulnerable;premium")
        bob = d["pacer:{bob}:p"][1]
        self.assertEqual((bob["c:email"], bob["c:sms"], bob["c:push"]),
                         ("1", "0", "1"))
        self.assertNotIn("tz", bob)
        self.assertNotIn("tzt", bob)
        self.assertEqual(bob["seg"], "")
        carol = d["pacer:{carol@x.y}:p"][1]
        self.assertEqual(carol["seg"], "premium;student")

        # tzt: "OFFSET@FROM;..." from the UTC day 400 days back (so that a
        # reload the same day writes the same text); the offset in force now
        # is the zone's current offset.
        from zoneinfo import ZoneInfo
        for key, zone in (("pacer:{alice}:p", "Europe/Paris"),
                          ("pacer:{carol@x.y}:p", "America/New_York")):
            entries = [tuple(map(int, e.split("@")))
                       for e in d[key][1]["tzt"].split(";")]
            self.assertEqual(entries[0][1], now - now % 86400 - 400 * 86400)
            current = [o for o, at in entries if at <= now][-1]
            want = int(datetime.datetime.now(ZoneInfo(zone)).utcoffset()
                       .total_seconds())
            self.assertEqual(current, want, key)
            self.assertGreaterEqual(len(entries), 3, "DST changes included")

        # The history: field h of the profile hash, ascending time.
        hist = parse_history(alice["h"])
        self.assertEqual([(t, ch, cp) for t, ch, cp, _ in hist],
                         [(now - 7200, "sms", ""),
                          (now - 3600, "email", "winback")])
        self.assertTrue(all(s.startswith("load-") for *_, s in hist), hist)
        self.assertEqual(len({s for *_, s in hist}), 2, "distinct send ids")
        bob_h = parse_history(d["pacer:{bob}:p"][1]["h"])
        self.assertEqual([(t, ch, cp) for t, ch, cp, _ in bob_h],
                         [(now - 60, "push", "engagement")],
                         "the contact older than every window is not stored")
        self.assertNotIn("h", carol)
        # With a profile the key never expires.
        for c in ("alice", "bob", "carol@x.y"):
            self.assertEqual(self.r("TTL", "pacer:{%s}:p" % c), -1, c)

        # Loading the same files again changes nothing (stable send ids).
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   self.path("profiles.csv"), "--contacts",
                   self.path("contacts.csv"))
        self.assertEqual(self.dump(), d)

    def test_profile_row_replaces_consent(self):
        self.pacer("load", "-c", self.conf_path, "--profiles", self.profiles())
        self.write("p2.csv", "customer,tz,segments,email,sms,push\n"
                             "alice,,,,1,\n")
        self.pacer("load", "-c", self.conf_path, "--profiles", self.path("p2.csv"))
        alice = self.dump()["pacer:{alice}:p"][1]
        self.assertEqual(alice, {"c:sms": "1", "seg": "", "pv": "1"})

    def history(self, customer):
        """The customer's stored history (see parse_history)."""
        return parse_history(self.r("HGET", "pacer:{%s}:p" % customer, "h"))

    def load_contacts(self, name, rows, *extra):
        """Write rows (time, customer, channel, campaign, offer) and load."""
        path = self.write(name, "time,customer,channel,campaign,offer\n" +
                          "".join("%d,%s,%s,%s,%s\n" % r for r in rows))
        return self.pacer("load", "-c", self.conf_path, "--contacts", path,
                          *extra)

    def test_contacts_merge_without_duplicates(self):
        now = int(time.time())
        first = [(now - 3 * 86400, "dave", "email", "winback", ""),
                 (now - 86400, "dave", "sms", "", "")]
        self.load_contacts("k1.csv", first)
        h1 = self.history("dave")
        self.assertEqual([(t, ch) for t, ch, _, _ in h1],
                         [(now - 3 * 86400, "email"), (now - 86400, "sms")])
        # The same file again: nothing counts twice.
        self.load_contacts("k1.csv", first)
        self.assertEqual(self.history("dave"), h1)
        # A file with those two rows and two new ones, one older than what
        # is stored: only the new ones are added, in time order.
        self.load_contacts("k1.csv", first + [
            (now - 5 * 86400, "dave", "push", "", ""),
            (now - 3600, "dave", "email", "", "")])
        h2 = self.history("dave")
        self.assertEqual([(t, ch) for t, ch, _, _ in h2],
                         [(now - 5 * 86400, "push"), (now - 3 * 86400, "email"),
                          (now - 86400, "sms"), (now - 3600, "email")])
        self.assertEqual([e for e in h2 if e in h1], h1, "kept as they were")

    def test_profileless_key_expires_until_a_profile_is_loaded(self):
        now = int(time.time())
        self.load_contacts("k.csv", [(now - 60, "erin", "email", "", "")])
        key = "pacer:{erin}:p"
        self.assertEqual(self.r("HKEYS", key), ["h"])
        ttl = self.r("TTL", key)
        self.assertTrue(WEEK - 30 <= ttl <= WEEK, "longest window: %s" % ttl)
        # A longer TTL (decision records kept longer) is not shortened.
        self.r("EXPIRE", key, 30 * 86400)
        self.load_contacts("k2.csv", [(now - 30, "erin", "sms", "", "")])
        self.assertGreater(self.r("TTL", key), 29 * 86400)
        # A key that lost its TTL without a profile gets it back.
        self.r("PERSIST", key)
        self.load_contacts("k3.csv", [(now - 20, "erin", "push", "", "")])
        self.assertTrue(WEEK - 30 <= self.r("TTL", key) <= WEEK)
        # Loading a profile marks it (pv) and removes the TTL; the history
        # stays, and later contacts leave the TTL alone.
        self.write("pe.csv", "customer,tz,segments,email,sms,push\n"
                             "erin,UTC,,1,1,1\n")
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   self.path("pe.csv"))
        self.assertEqual(self.r("TTL", key), -1)
        self.assertEqual(self.r("HGET", key, "pv"), "1")
        self.assertEqual(len(self.history("erin")), 3)
        self.load_contacts("k4.csv", [(now - 10, "erin", "email", "", "")])
        self.assertEqual(self.r("TTL", key), -1)
        self.assertEqual(len(self.history("erin")), 4)

    def test_contacts_past_the_longest_window_are_dropped(self):
        now = int(time.time())
        key = "pacer:{fay}:p"
        # Stored before: one past the longest window (7d), one inside, one
        # line that is not an entry (kept: optimize reports it, load does
        # not repair it).
        self.r("HSET", key, "pv", "1", "h",
               "%d|email||old\n%d|sms|winback|kept\ngarbage\n"
               % (now - WEEK - 100, now - 2 * 86400))
        p = self.load_contacts("k.csv", [
            (now - WEEK - 50, "fay", "push", "", ""),   # too old: skipped
            (now - 86400, "fay", "email", "", "")])
        self.assertIn("1 older than the longest window skipped", p.stderr)
        h = self.r("HGET", key, "h").split("\n")
        self.assertEqual(h[0], "%d|sms|winback|kept" % (now - 2 * 86400))
        self.assertEqual(h[1], "garbage")
        self.assertTrue(h[2].startswith("%d|email||load-" % (now - 86400)), h)
        self.assertEqual(h[3:], [""])

    def test_script_lost_midway(self):
        """Redis forgetting pacer's function library (FUNCTION FLUSH) loses
        no contact: pacer load loads it again and goes on."""
        now = int(time.time())
        n = 20000
        rows = [(now - 3600 - i % 1000, "g%05d" % i, "email", "", "")
                for i in range(n)]
        stop = threading.Event()

        def flusher():
            with Redis(self.redis.port) as r:
                while not stop.is_set():
                    r.call("FUNCTION", "FLUSH")
                    time.sleep(0.02)
        th = threading.Thread(target=flusher)
        th.start()
        try:
            p = self.load_contacts("many.csv", rows)
        finally:
            stop.set()
            th.join()
        with Redis(self.redis.port) as r:
            got = r.pipeline([("HGET", "pacer:{g%05d}:p" % i, "h")
                              for i in range(n)])
        self.assertEqual([len(parse_history(h)) for h in got], [1] * n)
        # A flush every 20 ms meets a load of 20,000 customers.
        self.assertIn("redis lost pacer's function library: loading it again",
                      p.stderr)

    def assertRejected(self, args, mentions):
        before = self.dump()
        p = self.pacer("load", "-c", self.conf_path, *args, expect=1)
        for m in mentions:
            self.assertIn(m, p.stderr)
        self.assertEqual(self.dump(), before, "nothing written")

    def test_bad_profiles_write_nothing(self):
        good = "customer,tz,segments,email,sms,push\n" + "".join(
            "c%d,UTC,,1,1,1\n" % i for i in range(100))
        cases = [
            ("c100,UTC,,yes,1,1\n", "field email"),
            ("c100,Mars/Base,,1,1,1\n", "field tz"),
            ("bad id!,UTC,,1,1,1\n", "field customer"),
            ("c100,UTC,a b,1,1,1\n", "field segments"),
            ("c100,UTC,,1,1\n", "fields"),
        ]
        for bad, what in cases:
            with self.subTest(bad=bad):
                path = self.write("bad.csv", good + bad + "c101,UTC,,1,1,1\n")
                self.assertRejected(["--profiles", path],
                                    ["bad.csv:102", what])

    def test_bad_contacts_write_nothing(self):
        now = int(time.time())
        profiles = self.profiles()
        for bad, what in (("%d,alice,fax,,\n" % now, "field channel"),
                          ("soon,alice,email,,\n", "field time"),
                          ("%d,,email,,\n" % now, "field customer"),
                          ("%d,alice,email,a|b,\n" % now, "field campaign")):
            with self.subTest(bad=bad):
                path = self.write("badc.csv", "time,customer,channel,campaign,"
                                  "offer\n%d,bob,email,,\n%s" % (now, bad))
                self.assertRejected(["--profiles", profiles, "--contacts", path],
                                    ["badc.csv:3", what])

    def test_segments_bounded(self):
        head = "customer,tz,segments,email,sms,push\nc1,UTC,premium,1,1,1\n"
        many = ";".join("s%d" % i for i in range(33))
        for cell, what in (("premium; premium", "twice"),
                           (many, "too many"),
                           ("vulnerable;x" + "y" * 70, "segment"),
                           ("vulnerable;" * 100000, "bytes"),
                           ("x" * (1 << 20), "bytes")):
            with self.subTest(cell=cell[:30]):
                path = self.write("seg.csv", head + "c2,UTC,%s,1,1,1\n" % cell)
                t = time.monotonic()
                self.assertRejected(["--profiles", path],
                                    ["seg.csv:3", "field segments", what])
                self.assertLess(time.monotonic() - t, 10)
        # 32 names, or names the config lacks (with a warning), are taken.
        path = self.write("seg.csv", head + "c2,UTC, %s ;vulnerable,1,1,1\n"
                          "c3,UTC,gold,1,1,1\nc4,UTC,gold;premium,1,1,1\n"
                          % ";".join("s%d" % i for i in range(31)))
        p = self.pacer("load", "-c", self.conf_path, "--profiles", path)
        self.assertEqual(self.r("HGET", "pacer:{c2}:p", "seg"),
                         ";".join("s%d" % i for i in range(31)) + ";vulnerable")
        self.assertEqual(self.r("HGET", "pacer:{c4}:p", "seg"), "gold;premium")
        self.assertIn('seg.csv:4: warning: segment "gold" (2 rows) is not in '
                      'the config', p.stderr)
        self.assertIn('seg.csv:2: warning: segment "premium" (2 rows)',
                      p.stderr)
        self.assertNotIn('"vulnerable"', p.stderr)
        # More than 64 names the config lacks is no segment column.
        path = self.write("seg.csv", "customer,tz,segments,email,sms,push\n" +
                          "".join("c%d,UTC,n%d,1,1,1\n" % (i, i)
                                  for i in range(65)))
        self.assertRejected(["--profiles", path],
                            ["seg.csv:66", "field segments", "64 names"])

    def test_future_contacts_refused(self):
        now = int(time.time())
        profiles = self.profiles()
        for ahead in (86400 + 120, 30 * 86400, 10 ** 12):
            with self.subTest(ahead=ahead):
                path = self.write("fut.csv", "time,customer,channel,campaign,"
                                  "offer\n%d,bob,email,,\n%d,alice,sms,,\n"
                                  % (now, now + ahead))
                self.assertRejected(["--profiles", profiles,
                                     "--contacts", path],
                                    ["fut.csv:3", "field time", "ahead"])
        # Up to a day ahead (clock skew, scheduled sends) is taken.
        path = self.write("fut.csv", "time,customer,channel,campaign,offer\n"
                          "%d,alice,sms,,\n" % (now + 86400 - 120))
        self.pacer("load", "-c", self.conf_path, "--profiles", profiles,
                   "--contacts", path)
        hist = parse_history(self.r("HGET", "pacer:{alice}:p", "h"))
        self.assertEqual([t for t, *_ in hist], [now + 86400 - 120])

    def test_duplicate_customer_rows(self):
        rows = ["c%d,UTC,,1,1,1\n" % i for i in range(20000)]
        rows.insert(15000, "c123,UTC,,0,0,0\n")      # line 15002
        path = self.write("dup.csv", "customer,tz,segments,email,sms,push\n"
                          + "".join(rows))
        self.assertRejected(["--profiles", path],
                            ["dup.csv:15002", "field customer", "c123",
                             "line 125"])
        path = self.write("dup.csv", "customer,tz,segments,email,sms,push\n"
                          "alice,UTC,,1,1,1\nbob,UTC,,1,1,1\n"
                          "alice,Europe/Paris,,0,0,0\n")
        self.assertRejected(["--profiles", path],
                            ["dup.csv:4", "alice", "line 2"])

    def test_missing_column(self):
        path = self.write("nocol.csv", "customer,tz,segments,email,sms\n"
                                       "a,UTC,,1,1\n")
        self.assertRejected(["--profiles", path], ["nocol.csv:1", "push"])

    def test_contacts_kept_for_a_longer_own_cap(self):
        """A contact older than every configured window (the longest is
        7d) still counts for a loaded customer whose own cap looks further
        back (email 1/60d): load keeps it; one older than that is dropped."""
        now = int(time.time())
        prof = self.write("far.csv", (
            "customer,tz,segments,email,sms,push,caps,pause_until\n"
            "far-own,UTC,,1,1,1,email 1/60d,\n"))
        contacts = self.write("far-k.csv", (
            "time,customer,channel,campaign,offer\n"
            "%d,far-own,email,,\n%d,far-own,sms,,\n" %
            (now - 90 * 86400, now - 30 * 86400)))
        self.pacer("load", "-c", self.conf_path, "--profiles", prof,
                   "--contacts", contacts)
        self.assertEqual([(t, ch) for t, ch, _, _ in self.history("far-own")],
                         [(now - 30 * 86400, "sms")])

    def test_own_caps_and_pause(self):
        """Optional columns caps and pause_until, stored as pacerd's PUT
        stores them (ucap "CHANNEL LIMIT WINDOW;...", pause); empty cells
        remove them, an absent column leaves them."""
        path = self.write("own.csv", (
            "customer,tz,segments,email,sms,push,caps,pause_until\n"
            "alice,UTC,,1,1,1,email 1/7d; all 4/30d,1796100000\n"
            "bob,UTC,,1,1,1,,\n"
            "carol,UTC,,1,1,1,sms 2/1w;,0\n"))
        self.pacer("load", "-c", self.conf_path, "--profiles", path)
        alice = self.dump()["pacer:{alice}:p"][1]
        self.assertEqual(alice["ucap"], "email 1 604800;all 4 2592000")
        self.assertEqual(alice["pause"], "1796100000")
        bob = self.dump()["pacer:{bob}:p"][1]
        self.assertNotIn("ucap", bob)
        self.assertNotIn("pause", bob)
        carol = self.dump()["pacer:{carol}:p"][1]
        self.assertEqual(carol["ucap"], "sms 2 604800")
        self.assertNotIn("pause", carol)
        # Without the columns, what is stored stays; empty cells remove it.
        self.pacer("load", "-c", self.conf_path, "--profiles", self.write(
            "plain.csv", "customer,tz,segments,email,sms,push\n"
                         "alice,UTC,,1,1,1\n"))
        alice = self.dump()["pacer:{alice}:p"][1]
        self.assertEqual((alice["ucap"], alice["pause"]),
                         ("email 1 604800;all 4 2592000", "1796100000"))
        self.pacer("load", "-c", self.conf_path, "--profiles", self.write(
            "clear.csv", "customer,tz,segments,email,sms,push,caps,pause_until\n"
                         "alice,UTC,,1,1,1,,\n"))
        alice = self.dump()["pacer:{alice}:p"][1]
        self.assertNotIn("ucap", alice)
        self.assertNotIn("pause", alice)

    def test_bad_own_caps_and_pause_write_nothing(self):
        head = "customer,tz,segments,email,sms,push,caps,pause_until\n"
        good = "".join("c%d,UTC,,1,1,1,email 1/7d,\n" % i for i in range(10))
        for bad, what in (
                ("fax 1/7d,", "field caps"),
                ("email 1/500d,", "field caps"),
                ("email,", "field caps"),
                ("email 1/7d x,", "field caps"),
                (";".join(["email 1/7d"] * 9) + ",", "field caps"),
                (",tomorrow", "field pause_until"),
                (",-5", "field pause_until")):
            with self.subTest(bad=bad):
                path = self.write("badown.csv", head + good +
                                  "c10,UTC,,1,1,1," + bad + "\n")
                self.assertRejected(["--profiles", path],
                                    ["badown.csv:12", what])

    def test_missing_file(self):
        self.assertRejected(["--profiles", self.path("nope.csv")], ["nope.csv"])

    def test_redis_unreachable_exits_2(self):
        dead = self.write_conf("dead.conf", free_port())
        p = self.pacer("load", "-c", dead, "--profiles", self.profiles(),
                       expect=2)
        self.assertIn("redis", p.stderr.lower())

    def test_auth(self):
        port = free_port()
        d = os.path.join(self.workdir, "auth")
        os.makedirs(d, exist_ok=True)
        proc = subprocess.Popen([redis_server_path(), "--port", str(port),
                                 "--bind", "127.0.0.1", "--save", "",
                                 "--requirepass", "s3cret", "--dir", d],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    with Redis(port, password="s3cret") as r:
                        r.call("PING")
                    break
                except Exception:
                    time.sleep(0.05)
            ok = self.write_conf("auth.conf", port,
                                 {"redis": {"password": "s3cret"}})
            self.pacer("load", "-c", ok, "--profiles", self.profiles())
            with Redis(port, password="s3cret") as r:
                self.assertEqual(r.call("HGET", "pacer:{bob}:p", "c:push"), "1")
            wrong = self.write_conf("wrong.conf", port,
                                    {"redis": {"password": "nope"}})
            self.pacer("load", "-c", wrong, "--profiles", self.profiles(),
                       expect=2)
        finally:
            stop_process(proc, timeout=5)

    def test_bulk_rate(self):
        """demo-data at 20,000 customers loads at well over 20k records/s."""
        out = self.path("bulk")
        self.pacer("demo-data", "--customers", 20000, "--offers", 10,
                   "--seed", 5, "--out", out)
        t = time.monotonic()
        p = self.pacer("load", "-c", self.conf_path, "--profiles",
                       os.path.join(out, "profiles.csv"), "--contacts",
                       os.path.join(out, "contacts.csv"))
        el = time.monotonic() - t
        with Redis(self.redis.port) as r:
            keys = scan_keys(r, "pacer:*:p")
            self.assertEqual(len(keys), 20000)
            hs = r.pipeline([("HGET", k, "h") for k in keys])
        self.assertIn("profiles", p.stderr)
        self.assertLess(el, 20, p.stderr)
        # Every contact inside the longest window is stored, once.
        valid, old = map(int, re.search(
            r"(\d+) contacts valid, (\d+) older", p.stderr).groups())
        with open(os.path.join(out, "contacts.csv")) as f:
            self.assertEqual(valid + old, sum(1 for _ in f) - 1)
        self.assertGreater(valid, 10000)
        self.assertEqual(sum(len(parse_history(h)) for h in hs), valid)


if __name__ == "__main__":
    main()
