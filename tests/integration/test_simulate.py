"""
pacer simulate: a hand-worked contact log replayed under a proposed and a
current config, with and without profiles; bad input; the HTML page.

No Redis needed: simulate reads files only.

Day D0 is 2026-01-01 00:00 UTC (1767225600). Times are "Dn hh:mm" UTC.

PROPOSED: email 2/7d with quiet hours 21:00-08:00, sms 1/1d, push 5/1d,
all 3/7d, campaign 1/1d, segment vulnerable 1/7d excluding "credit",
shadow email 1/7d. CURRENT: email 3/7d, sms 1/1d, push 5/1d, all 5/7d.

The log, and what the proposed config does without profiles (consent,
quiet hours and segments unknown, so not evaluated):
  a1 D0 12:00 email          allowed
  a2 D1 12:00 email          allowed                shadow email 1/7d: 1 used -> counts
  a3 D2 12:00 email          DENIED email 2/7d      (a1, a2 in window) shadow counts too
  a4 D8 12:00 email          allowed: window (D1 12:00, D8 12:00] excludes
                             a2 exactly 7 days old; a3 was denied, never sent
  b1 D0 10:00 sms  camp X    allowed
  b2 D0 11:00 sms  camp Y    DENIED sms 1/1d
  b3 D1 10:00 sms  camp X    allowed: b1 is exactly one day old
  c1 D0 09:00 email camp P   allowed
  c2 D0 10:00 push  camp P   DENIED campaign 1/1d (c1, same campaign)
  c3 D0 11:00 push  camp Q   allowed (all: 1 used of 3)
  c4 D0 12:00 sms            allowed (all: 2 of 3)
  c5 D0 13:00 push  camp R   DENIED all 3/7d (c1, c3, c4)
  d1 D0 12:00 email offer card   allowed
  d2 D0 13:00 email offer tips   allowed (email 1 of 2); shadow email 1/7d counts
  d3 D1 12:00 push  offer tips   allowed (all 2 of 3)
=> 15 contacts, 4 denied (a3, b2, c2, c5) of 3 customers (a, b, c); one per
   rule: email 2/7d, sms 1/1d, campaign 1/1d, all 3/7d. Shadow email 1/7d:
   a2, a3, d2 = 3 contacts of 2 customers (never denies). Every cap denial
   is one time cures: "schedule": true would hold all 4 (column held).

CURRENT without profiles: a3 allowed (3/7d), a4 allowed (a3 in window: 1 of
3); b2 denied sms 1/1d; no campaign cap, so c2 allowed, and c5 sees 4 of 5
all-channel contacts: allowed. => 1 denied (b2), 1 customer.
Difference per rule: sms 1/1d 1 -> 1 (0); email 2/7d +1 (proposed only),
campaign 1/1d +1, all 3/7d +1; email 3/7d and all 5/7d 0 in both.

PROPOSED with profiles (a Europe/Paris, b vulnerable with sms consent 0,
c America/New_York, d vulnerable without time zone, i.e. UTC):
  a: as above (12:00 UTC is 13:00 in Paris): a3 DENIED email 2/7d
  b: b1, b2, b3 DENIED no_consent sms (consent comes first)
  c: c1 09:00 UTC is 04:00 in New York: DENIED email quiet_hours
     c2 allowed now (c1 was never sent, campaign P unused); c3 allowed;
     c4 allowed (sms has no quiet hours); c5 DENIED all 3/7d (c2, c3, c4)
  d: d1 offer card is category credit: DENIED suppressed; d2 allowed
     (segment vulnerable 1/7d: 0 used); d3 DENIED segment vulnerable 1/7d
  shadow email 1/7d: a2, a3 (d1 was never sent; c1 stopped before caps)
=> 8 denied of 4 customers.
"""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.environ.get(
    "PACER_SOURCE_DIR", os.path.join(HERE, "..", "..")))
BUILD_DIR = os.path.abspath(os.environ.get(
    "PACER_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))
PACER = os.path.join(BUILD_DIR, "solver", "pacer")

D0 = 1767225600


def t(day, hh, mm=0):
    return D0 + day * 86400 + hh * 3600 + mm * 60


CONTACTS = [
    # time, customer, channel, campaign, offer (deliberately not sorted)
    (t(8, 12), "a", "email", "", ""),
    (t(0, 12), "a", "email", "", ""),
    (t(1, 12), "a", "email", "", ""),
    (t(2, 12), "a", "email", "", ""),
    (t(0, 10), "b", "sms", "X", ""),
    (t(0, 11), "b", "sms", "Y", ""),
    (t(1, 10), "b", "sms", "X", ""),
    (t(0, 9), "c", "email", "P", ""),
    (t(0, 10), "c", "push", "P", ""),
    (t(0, 11), "c", "push", "Q", ""),
    (t(0, 12), "c", "sms", "", ""),
    (t(0, 13), "c", "push", "R", ""),
    (t(0, 12), "d", "email", "", "card"),
    (t(0, 13), "d", "email", "", "tips"),
    (t(1, 12), "d", "push", "", "tips"),
]

OFFERS = """offer,channel,campaign,category,value,cost,budget,capacity
card,email,spring,credit,100,1,,
tips,email,care,info,10,0.1,,
"""

PROFILES = """customer,tz,segments,email,sms,push
a,Europe/Paris,,1,1,1
b,,vulnerable,1,0,1
c,America/New_York,,1,1,1
d,,vulnerable,1,1,1
zz,UTC,,1,1,1
"""

PROPOSED = """[consent]
default = deny

[channel email]
cap = 2/7d
quiet_hours = 21:00-08:00

[channel sms]
cap = 1/1d

[channel push]
cap = 5/1d

[all]
cap = 3/7d

[campaign]
cap = 1/1d

[segment vulnerable]
cap = 1/7d
exclude_offers = credit

[shadow]
cap = email 1/7d

[optimizer]
offers = {offers}
"""

CURRENT = """[consent]
default = deny

[channel email]
cap = 3/7d
quiet_hours = 21:00-08:00

[channel sms]
cap = 1/1d

[channel push]
cap = 5/1d

[all]
cap = 5/7d

[optimizer]
offers = {offers}
"""


def parse_table(out):
    """Rows of the per-rule table: {rule: [numbers or '-' ...]}."""
    rows = {}
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("rule "))
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        line = line.replace("(shadow)", "").replace("(current only)", "")
        parts = line.split()
        # The rule text may hold spaces; the numbers are the last columns.
        nums = []
        while parts and (parts[-1].lstrip("-").replace(",", "").isdigit()
                         or parts[-1] == "-"):
            nums.insert(0, parts.pop())
        rows[" ".join(parts)] = [int(n.replace(",", "")) if n != "-" else None
                                 for n in nums]
    return rows


class TestSimulate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(PACER):
            raise AssertionError("pacer binary missing: " + PACER)
        cls.tmp = tempfile.TemporaryDirectory(prefix="pacer-sim-")
        d = cls.tmp.name
        cls.offers = os.path.join(d, "offers.csv")
        with open(cls.offers, "w") as f:
            f.write(OFFERS)
        cls.proposed = os.path.join(d, "proposed.conf")
        with open(cls.proposed, "w") as f:
            f.write(PROPOSED.format(offers=cls.offers))
        cls.current = os.path.join(d, "current.conf")
        with open(cls.current, "w") as f:
            f.write(CURRENT.format(offers=cls.offers))
        cls.contacts = os.path.join(d, "contacts.csv")
        with open(cls.contacts, "w") as f:
            f.write("time,customer,channel,campaign,offer\n")
            for row in CONTACTS:
                f.write(",".join(str(x) for x in row) + "\n")
        cls.profiles = os.path.join(d, "profiles.csv")
        with open(cls.profiles, "w") as f:
            f.write(PROFILES)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_pacer(self, *args):
        p = subprocess.run([PACER, "simulate"] + list(args),
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def test_proposed_without_profiles(self):
        rc, out, err = self.run_pacer("-c", self.proposed,
                                      "--contacts", self.contacts)
        self.assertEqual(rc, 0, err)
        self.assertIn("replayed 15 contacts of 4 customers", out)
        self.assertIn("4 contacts denied", out)
        self.assertIn("3 customers affected", out)
        rows = parse_table(out)
        self.assertEqual(rows["email 2/7d"], [1, 1, 1])
        self.assertEqual(rows["sms 1/1d"], [1, 1, 1])
        self.assertEqual(rows["push 5/1d"], [0, 0, 0])
        self.assertEqual(rows["campaign 1/1d"], [1, 1, 1])
        self.assertEqual(rows["all 3/7d"], [1, 1, 1])
        self.assertEqual(rows["segment vulnerable 1/7d"], [0, 0, 0])
        self.assertEqual(rows["shadow email 1/7d"], [3, 2, None])
        self.assertEqual(rows["all rules"], [4, 3, 4])
        # No profiles: no consent or quiet-hours rows.
        self.assertFalse(any(r.startswith("no_consent") for r in rows))

    def test_against_current(self):
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts",
                                      self.contacts, "--against", self.current)
        self.assertEqual(rc, 0, err)
        rows = parse_table(out)
        # proposed denied, customers, held, current denied, customers,
        # changes
        self.assertEqual(rows["sms 1/1d"], [1, 1, 1, 1, 1, 0, 0])
        self.assertEqual(rows["email 2/7d"], [1, 1, 1, None, None, 1, 1])
        self.assertEqual(rows["campaign 1/1d"], [1, 1, 1, None, None, 1, 1])
        self.assertEqual(rows["all 3/7d"], [1, 1, 1, None, None, 1, 1])
        self.assertEqual(rows["email 3/7d"], [None, None, None, 0, 0, 0, 0])
        self.assertEqual(rows["all 5/7d"], [None, None, None, 0, 0, 0, 0])
        self.assertEqual(rows["all rules"], [4, 3, 4, 1, 1, 3, 2])

    def test_with_profiles(self):
        html = os.path.join(self.tmp.name, "sim.html")
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts",
                                      self.contacts, "--profiles",
                                      self.profiles, "--html", html)
        self.assertEqual(rc, 0, err)
        rows = parse_table(out)
        self.assertEqual(rows["email 2/7d"], [1, 1, 1])
        self.assertEqual(rows["no_consent sms"], [3, 1, 0])
        self.assertEqual(rows["no_consent email"], [0, 0, 0])
        self.assertEqual(rows["email quiet_hours 21:00-08:00"], [1, 1, 1])
        self.assertEqual(rows["campaign 1/1d"], [0, 0, 0])
        self.assertEqual(rows["all 3/7d"], [1, 1, 1])
        self.assertEqual(rows["suppressed"], [1, 1, 0])
        self.assertEqual(rows["segment vulnerable 1/7d"], [1, 1, 1])
        self.assertEqual(rows["shadow email 1/7d"], [2, 1, None])
        self.assertEqual(rows["all rules"], [8, 4, 4])
        with open(html) as f:
            page = f.read()
        self.assertIn("<svg", page)
        self.assertIn("Contacts denied per rule", page)
        self.assertIn("Held by schedule", page)
        self.assertIn("segment vulnerable 1/7d", page)
        self.assertNotIn("http://", page)
        self.assertNotIn("https://", page)
        self.assertNotIn("<script", page)

    def test_own_caps_and_pause(self):
        """
        A profiles.csv as pacer load takes it, with a customer's own caps
        (column caps) and pause (pause_until): they deny as pacerd would,
        each own cap a row named as answers name it.
          a (own email 1/7d): D0 12:00 allowed, D1 and D2 12:00 DENIED
            customer email 1/7d, D8 12:00 allowed (D0 left the week)
          b (paused until D0 10:30): sms D0 10:00 DENIED paused, D0 11:00
            allowed
          c (own all 2/1d): push D0 09:00, 10:00 allowed, 11:00 DENIED
            customer all 2/1d
        """
        d = self.tmp.name
        prof = os.path.join(d, "own-profiles.csv")
        with open(prof, "w") as f:
            f.write("customer,tz,segments,email,sms,push,caps,pause_until\n"
                    "a,UTC,,1,1,1,email 1/7d,\n"
                    "b,UTC,,1,1,1,,%d\n"
                    "c,UTC,,1,1,1,all 2/1d; ,\n" % t(0, 10, 30))
        log = os.path.join(d, "own-contacts.csv")
        with open(log, "w") as f:
            f.write("time,customer,channel,campaign,offer\n")
            for day, hh, c, ch in ((0, 12, "a", "email"), (1, 12, "a", "email"),
                                   (2, 12, "a", "email"), (8, 12, "a", "email"),
                                   (0, 10, "b", "sms"), (0, 11, "b", "sms"),
                                   (0, 9, "c", "push"), (0, 10, "c", "push"),
                                   (0, 11, "c", "push")):
                f.write("%d,%s,%s,,\n" % (t(day, hh), c, ch))
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts", log,
                                      "--profiles", prof)
        self.assertEqual(rc, 0, err)
        rows = parse_table(out)
        self.assertEqual(rows["customer email 1/7d"][:2], [2, 1])
        self.assertEqual(rows["customer all 2/1d"][:2], [1, 1])
        self.assertEqual(rows["paused"][:2], [1, 1])
        self.assertEqual(rows["all rules"][:2], [4, 3])
        self.assertNotIn("caps", rows)
        # A cap pacer load would refuse is refused here too, with its line.
        with open(prof, "w") as f:
            f.write("customer,tz,segments,caps\na,UTC,,fax 1/7d\n")
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts", log,
                                      "--profiles", prof)
        self.assertEqual(rc, 1)
        self.assertIn("own-profiles.csv:2", err)
        self.assertIn("caps", err)

    def test_bad_input(self):
        d = self.tmp.name
        bad = os.path.join(d, "bad.csv")
        with open(bad, "w") as f:
            f.write("time,customer,channel,campaign,offer\n"
                    "1767225600,a,email,,\n"
                    "soon,a,email,,\n")
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts", bad)
        self.assertEqual(rc, 1)
        self.assertIn("bad.csv:3", err)
        self.assertIn("time", err)

        with open(bad, "w") as f:
            f.write("time,customer,channel\n1767225600,a,fax\n")
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts", bad)
        self.assertEqual(rc, 1)
        self.assertIn("bad.csv:2", err)
        self.assertIn("fax", err)

        with open(bad, "w") as f:
            f.write("time,customer,channel\n1767225600,bad id!,email\n")
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts", bad)
        self.assertEqual(rc, 1)
        self.assertIn("bad.csv:2", err)
        self.assertIn("customer", err)

        with open(bad, "w") as f:
            f.write("when,customer,channel\n")
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts", bad)
        self.assertEqual(rc, 1)
        self.assertIn("time", err)

        prof = os.path.join(d, "badprof.csv")
        with open(prof, "w") as f:
            f.write("customer,tz,segments,email,sms,push\n"
                    "a,Mars/Olympus,,1,1,1\n")
        rc, out, err = self.run_pacer("-c", self.proposed, "--contacts",
                                      self.contacts, "--profiles", prof)
        self.assertEqual(rc, 1)
        self.assertIn("badprof.csv:2", err)
        self.assertIn("tz", err)

        rc, out, err = self.run_pacer("-c", self.proposed)
        self.assertEqual(rc, 1)
        self.assertIn("usage", err)


class TestSimulateCategory(unittest.TestCase):
    """
    [category credit] cap = 1/30d across channels: e1 (card, email, D0)
    allowed; e2 (loan, sms, D5) DENIED category credit 1/30d, held until
    D30; e3 (tips, email, D6) allowed (another category); e4 (loan, sms,
    D31) allowed: e1 left the window. Customer f: f1 (loan, D0) allowed.
    """

    def test_category_cap(self):
        with tempfile.TemporaryDirectory(prefix="pacer-sim-cat-") as d:
            offers = os.path.join(d, "offers.csv")
            with open(offers, "w") as f:
                f.write(OFFERS + "loan,sms,loans,credit,90,1,,\n")
            conf = os.path.join(d, "cat.conf")
            with open(conf, "w") as f:
                f.write("[channel email]\ncap = 5/1d\n[channel sms]\n"
                        "cap = 5/1d\n[category credit]\ncap = 1/30d\n"
                        "[optimizer]\noffers = %s\n" % offers)
            contacts = os.path.join(d, "contacts.csv")
            with open(contacts, "w") as f:
                f.write("time,customer,channel,campaign,offer\n")
                for row in [(t(0, 12), "e", "email", "spring", "card"),
                            (t(5, 12), "e", "sms", "loans", "loan"),
                            (t(6, 12), "e", "email", "care", "tips"),
                            (t(31, 12), "e", "sms", "loans", "loan"),
                            (t(0, 12), "f", "sms", "loans", "loan")]:
                    f.write(",".join(str(x) for x in row) + "\n")
            p = subprocess.run([PACER, "simulate", "-c", conf, "--contacts",
                                contacts], capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            rows = parse_table(p.stdout)
            self.assertEqual(rows["category credit 1/30d"], [1, 1, 1],
                             p.stdout)
            self.assertEqual(rows["all rules"], [1, 1, 1], p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
