"""
GET /metrics (SPEC section 3): Prometheus text exposition that Prometheus's
own linter would accept: HELP and TYPE for every metric family, counters
ending in _total, base units (seconds), the pacer_ prefix, well-formed
samples, histograms with cumulative buckets ending in le="+Inf" equal to
_count. And the figures move by exactly what the tests did: decisions by
channel and reason, shadow-rule denials, HTTP errors.

Uses promtool's "check metrics" too when it is installed. Skipped when the
endpoint does not exist yet (404/405).
"""

import math
import re
import shutil
import subprocess

from pacertest import PacerTestCase, DAY, main

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,(?:%s))*,?\})?[ ]+(\S+)(?:[ ]+(-?\d+))?$"
                    % (NAME, LABEL, LABEL))
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"')
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_value(v):
    if v in ("+Inf", "Inf"):
        return math.inf
    if v == "-Inf":
        return -math.inf
    if v == "NaN":
        return math.nan
    return float(v)


def parse_exposition(text):
    """
    Parse and lint Prometheus text format. Returns (families, samples,
    problems): families name -> {"type", "help"}; samples
    [(name, labels dict, value)]; problems a list of strings.
    """
    families, samples, problems = {}, [], []
    seen_series = set()
    current = None
    if not text.endswith("\n"):
        problems.append("exposition does not end with a newline")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not parts[3].strip():
                problems.append("line %d: HELP without text" % n)
                continue
            name = parts[2]
            fam = families.setdefault(name, {})
            if "help" in fam:
                problems.append("line %d: second HELP for %s" % (n, name))
            fam["help"] = parts[3]
            current = name
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in TYPES:
                problems.append("line %d: bad TYPE line %r" % (n, line))
                continue
            name = parts[2]
            fam = families.setdefault(name, {})
            if "type" in fam:
                problems.append("line %d: second TYPE for %s" % (n, name))
            if fam.get("samples"):
                problems.append("line %d: TYPE after samples of %s" % (n,
                                                                        name))
            fam["type"] = parts[3]
            current = name
        elif line.startswith("#") or line == "":
            if line == "":
                problems.append("line %d: empty line" % n)
            continue
        else:
            m = SAMPLE.match(line)
            if not m:
                problems.append("line %d: malformed sample %r" % (n, line))
                continue
            name, labels_text, value = m.group(1), m.group(2) or "", \
                m.group(3)
            labels = dict(LABEL_RE.findall(labels_text))
            try:
                v = parse_value(value)
            except ValueError:
                problems.append("line %d: bad value %r" % (n, value))
                continue
            fam_name = family_of(name, families)
            if fam_name is None:
                problems.append("line %d: %s has no HELP/TYPE" % (n, name))
                fam_name = name
            elif fam_name != current:
                problems.append("line %d: %s not grouped under its family"
                                % (n, name))
            families.setdefault(fam_name, {})["samples"] = True
            key = (name, tuple(sorted(labels.items())))
            if key in seen_series:
                problems.append("line %d: duplicate series %r" % (n, key))
            seen_series.add(key)
            samples.append((name, labels, v))
    for name, fam in families.items():
        if "help" not in fam:
            problems.append("%s: no HELP" % name)
        if "type" not in fam:
            problems.append("%s: no TYPE" % name)
        if not name.startswith("pacer_"):
            problems.append("%s: not in the pacer_ namespace" % name)
        t = fam.get("type")
        if t == "counter" and not name.endswith("_total"):
            problems.append("%s: counter not ending in _total" % name)
        if t != "counter" and name.endswith("_total"):
            problems.append("%s: _total on a %s" % (name, t))
        for bad in ("_ms", "_milliseconds", "_microseconds", "_us",
                    "_minutes", "_hours", "_kilobytes", "_megabytes"):
            if bad + "_" in name + "_":
                problems.append("%s: not in base units (%s)" % (name, bad))
        if t == "histogram":
            problems.extend(lint_histogram(name, samples))
    return families, samples, problems


def family_of(sample_name, families):
    if sample_name in families:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix):
            base = sample_name[:-len(suffix)]
            if families.get(base, {}).get("type") in ("histogram", "summary"):
                return base
    return None


def lint_histogram(name, samples):
    problems = []
    series = {}
    for n, labels, v in samples:
        if n == name + "_bucket":
            rest = tuple(sorted((k, x) for k, x in labels.items()
                                if k != "le"))
            if "le" not in labels:
                problems.append("%s: bucket without le" % name)
                continue
            series.setdefault(rest, {"buckets": []})["buckets"].append(
                (parse_value(labels["le"]), v))
        elif n in (name + "_sum", name + "_count"):
            rest = tuple(sorted(labels.items()))
            series.setdefault(rest, {"buckets": []})[n[len(name) + 1:]] = v
    if not series:
        problems.append("%s: histogram without samples" % name)
    for rest, s in series.items():
        b = sorted(s["buckets"])
        if not b or b[-1][0] != math.inf:
            problems.append("%s%r: no le=\"+Inf\" bucket" % (name, rest))
            continue
        for (l1, v1), (l2, v2) in zip(b, b[1:]):
            if v2 < v1:
                problems.append("%s%r: buckets not cumulative at le=%s"
                                % (name, rest, l2))
        if "count" not in s or "sum" not in s:
            problems.append("%s%r: no _sum or _count" % (name, rest))
        elif s["count"] != b[-1][1]:
            problems.append("%s%r: _count %s != +Inf bucket %s"
                            % (name, rest, s["count"], b[-1][1]))
    return problems


class TestMetrics(PacerTestCase):
    # The example's shadow rule (email 2/7d) stays on; email 3/7d only, so a
    # third email is allowed and a shadow denial.
    CONF = {"channel email": {"cap": ["3/7d"], "quiet_hours": None}}

    def setUp(self):
        self.requireFeature("GET", "/metrics")

    def scrape(self):
        st, body = self.http.get("/metrics")
        self.assertEqual(st, 200, body)
        self.assertIsInstance(body, str, body)
        ctype = self.http.headers.get("content-type", "")
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        return body

    def values(self, text):
        fams, samples, problems = parse_exposition(text)
        return {(n, tuple(sorted(l.items()))): v for n, l, v in samples}

    def series(self, values, name, **labels):
        """Sum of the samples of name whose labels include these."""
        total, found = 0.0, False
        for (n, ls), v in values.items():
            d = dict(ls)
            if n == name and all(d.get(k) == x for k, x in labels.items()):
                total += v
                found = True
        return total if found else 0.0

    def test_exposition_lints_clean(self):
        c = self.consented_customer()
        self.decide(c, "push", time=self.T0)
        self.http.post("/v1/decide", "{bad")
        text = self.scrape()
        fams, samples, problems = parse_exposition(text)
        self.assertEqual(problems, [], text)
        self.assertTrue(samples, text)
        hist = [n for n, f in fams.items() if f.get("type") == "histogram"]
        self.assertTrue(hist, "no latency histogram:\n" + text)
        for n in hist:
            self.assertTrue(n.endswith("_seconds"),
                            "%s: a latency histogram in seconds" % n)

    def test_promtool_accepts_it(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed")
        text = self.scrape()
        p = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def find_decisions_family(self, fams, samples):
        for name, f in fams.items():
            if f.get("type") != "counter":
                continue
            labs = set()
            for n, l, v in samples:
                if n == name:
                    labs.update(l)
            if {"channel", "reason"} <= labs:
                return name
        self.fail("no counter labelled by channel and reason: %r"
                  % sorted(fams))

    def test_decisions_by_channel_and_reason(self):
        before_text = self.scrape()
        fams, samples, _ = parse_exposition(before_text)
        fam = self.find_decisions_family(fams, samples)
        before = self.values(before_text)
        c = self.consented_customer()
        n = self.customer()                     # no consent
        for i in range(3):
            self.decide(c, "push", time=self.T0 + i)       # ok, ok, cap
        self.decide(n, "sms", time=self.T0)                 # no_consent
        self.decide(n, "sms", time=self.T0 + 1)             # no_consent
        self.http.post("/v1/decide/batch", {"requests": [
            {"customer": c, "channel": "email", "time": self.T0},
            {"customer": c, "channel": "fax"}]})            # ok + error
        after = self.values(self.scrape())

        def delta(**labels):
            return self.series(after, fam, **labels) - \
                self.series(before, fam, **labels)
        self.assertEqual(delta(channel="push", reason="ok"), 2)
        self.assertEqual(delta(channel="push", reason="cap"), 1)
        self.assertEqual(delta(channel="sms", reason="no_consent"), 2)
        self.assertEqual(delta(channel="email", reason="ok"), 1)
        self.assertEqual(delta(), 6)

    def test_shadow_denials_are_counted(self):
        text = self.scrape()
        fams, _, _ = parse_exposition(text)
        shadow = [n for n in fams if "shadow" in n and
                  fams[n].get("type") == "counter"]
        self.assertEqual(len(shadow), 1, sorted(fams))
        before = self.values(text)
        c = self.consented_customer()
        for i in range(3):
            st, body = self.decide(c, "email", time=self.T0 + i * DAY)
            # Shadow rules are never enforced: all three are allowed.
            self.assertDecision(st, body, True, "ok", msg="email %d" % i)
        after = self.values(self.scrape())
        d = self.series(after, shadow[0]) - self.series(before, shadow[0])
        self.assertEqual(d, 1)

    def test_http_errors_are_counted(self):
        text = self.scrape()
        fams, samples, _ = parse_exposition(text)
        before = self.values(text)
        self.http.post("/v1/decide", "{bad")
        self.http.post("/v1/decide", {"customer": "a b", "channel": "push"})
        self.http.get("/v1/nope")
        after = self.values(self.scrape())
        moved = {}
        for key, v in after.items():
            if v != before.get(key, 0.0) and "error" in key[0]:
                moved[key] = v - before.get(key, 0.0)
        self.assertEqual(sum(moved.values()), 3, moved)

    def test_open_without_token_and_not_json(self):
        text = self.scrape()
        self.assertIn("# TYPE ", text)


if __name__ == "__main__":
    main()
