"""
pacer load: profiles and contacts into Redis with the key layout of
include/pacer/keys.h; a bad file writes nothing; exit 2 without Redis.

RedisCase (a throwaway redis-server and a config, no pacerd) is shared with
test_optimize.py and test_plan.py.
"""
import datetime
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from pacertest import (PREFIX, Redis, RedisServer, base_overrides, free_port,
                       main, make_config, merge_overrides, read_text,
                       redis_dump, redis_server_path, require_redis,
                       run_pacer, scan_keys, stop_process, write_file)

WEEK = 7 * 86400


def fnv_holdout(customer, share):
    """keys_in_holdout() of keys.c, in Python."""
    if share <= 0:
        return False
    h = 1469598103934665603
    for b in customer.encode():
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    return (h % 1000000) < share * 1000000.0


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
            "pacer:{alice}:p", "pacer:{bob}:p", "pacer:{carol@x.y}:p",
            "pacer:{alice}:h", "pacer:{bob}:h"]))
        t, alice = d["pacer:{alice}:p"]
        self.assertEqual(t, "hash")
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

        # tzt: "OFFSET@FROM;..." from 400 days back; the offset in force now
        # is the zone's current offset.
        from zoneinfo import ZoneInfo
        for key, zone in (("pacer:{alice}:p", "Europe/Paris"),
                          ("pacer:{carol@x.y}:p", "America/New_York")):
            entries = [tuple(map(int, e.split("@")))
                       for e in d[key][1]["tzt"].split(";")]
            self.assertTrue(abs(entries[0][1] - (now - 400 * 86400)) < 60)
            current = [o for o, at in entries if at <= now][-1]
            want = int(datetime.datetime.now(ZoneInfo(zone)).utcoffset()
                       .total_seconds())
            self.assertEqual(current, want, key)
            self.assertGreaterEqual(len(entries), 3, "DST changes included")

        t, hist = d["pacer:{alice}:h"]
        self.assertEqual(t, "zset")
        members = hist[0::2]
        scores = [int(float(s)) for s in hist[1::2]]
        self.assertEqual(scores, [now - 7200, now - 3600])
        self.assertTrue(members[0].startswith("sms||load-"), members)
        self.assertTrue(members[1].startswith("email|winback|load-"), members)
        bob_h = d["pacer:{bob}:h"][1]
        self.assertEqual(len(bob_h), 2, "the old contact is not stored")
        self.assertTrue(bob_h[0].startswith("push|engagement|"))
        # History expires after the longest window (7d in the example).
        ttl = self.r("TTL", "pacer:{alice}:h")
        self.assertTrue(WEEK - 30 <= ttl <= WEEK, ttl)
        self.assertEqual(self.r("TTL", "pacer:{alice}:p"), -1)

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
        self.assertEqual(alice, {"c:sms": "1", "seg": ""})

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

    def test_missing_column(self):
        path = self.write("nocol.csv", "customer,tz,segments,email,sms\n"
                                       "a,UTC,,1,1\n")
        self.assertRejected(["--profiles", path], ["nocol.csv:1", "push"])

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
            self.assertEqual(len(scan_keys(r, "pacer:*:p")), 20000)
        self.assertIn("profiles", p.stderr)
        self.assertLess(el, 20, p.stderr)


if __name__ == "__main__":
    main()
