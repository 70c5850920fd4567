"""
GET /metrics (SPEC section 3): Prometheus text exposition that Prometheus's
own linter would accept: HELP and TYPE for every metric family, counters
ending in _total, base units (seconds), the pacer_ prefix, well-formed
samples, histograms with cumulative buckets ending in le="+Inf" equal to
_count. And the figures move by exactly what the tests did: decisions by
channel and reason, shadow-rule denials, HTTP errors.

Uses promtool's "check metrics" too when it is installed. Skipped when the
endpoint does not exist yet (404/405).

Also: pacer_build_info against `pacerd --version`, the process_* families
against /proc/PID of the daemon, pacer_http_requests_total by route,
method and status, the last optimizer run's figures after real `pacer
optimize` runs (one failing, one done), and the shipped alert rules
(conf/share/alerts.yml: `promtool check rules`, `promtool test rules` on
synthetic series) and Grafana dashboard (conf/share/grafana-dashboard.json):
every metric they name is one pacerd exposes.
"""

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from pacertest import (PacerTestCase, DAY, SOURCE_DIR, pacerd_path,
                       write_file, main)

ALERTS = os.path.join(SOURCE_DIR, "conf", "share", "alerts.yml")
DASHBOARD = os.path.join(SOURCE_DIR, "conf", "share", "grafana-dashboard.json")
# The families Prometheus's client libraries export for any process.
PROCESS_FAMILIES = ("process_cpu_seconds_total", "process_resident_memory_bytes",
                    "process_virtual_memory_bytes", "process_start_time_seconds",
                    "process_open_fds", "process_max_fds")

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
        if not name.startswith("pacer_") and name not in PROCESS_FAMILIES:
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


class TestOperateMetrics(PacerTestCase):
    """Build, process and request figures of issue 17."""

    CONF = {"optimizer": {"run_at": None}}

    def scrape(self):
        st, body = self.http.get("/metrics")
        self.assertEqual(st, 200, body)
        fams, samples, problems = parse_exposition(body)
        self.assertEqual(problems, [], body)
        return fams, samples

    def one(self, samples, name, **labels):
        got = [v for n, l, v in samples if n == name and
               all(l.get(k) == x for k, x in labels.items())]
        self.assertEqual(len(got), 1, "%s%r: %r" % (name, labels, got))
        return got[0]

    def test_build_info(self):
        out = subprocess.run([pacerd_path(), "--version"], capture_output=True,
                             text=True, timeout=10).stdout
        m = re.match(r"pacerd (\S+) \(git (\S+)\)", out)
        self.assertIsNotNone(m, out)
        fams, samples = self.scrape()
        self.assertEqual(fams["pacer_build_info"]["type"], "gauge")
        self.assertEqual(self.one(samples, "pacer_build_info",
                                  version=m.group(1), commit=m.group(2)), 1)

    def test_process_figures_are_the_daemons(self):
        pid = self.daemon.proc.pid
        fams, samples = self.scrape()
        for f in PROCESS_FAMILIES:
            self.assertIn(f, fams)
        self.assertEqual(fams["process_cpu_seconds_total"]["type"], "counter")
        with open("/proc/%d/status" % pid) as f:
            rss = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
        got = self.one(samples, "process_resident_memory_bytes")
        self.assertLess(abs(got - rss * 1024), max(rss * 1024 * 0.5, 4 << 20),
                        (got, rss))
        fds = len(os.listdir("/proc/%d/fd" % pid))
        self.assertLessEqual(abs(self.one(samples, "process_open_fds") - fds),
                             3)
        started = os.stat("/proc/%d" % pid).st_mtime
        start = self.one(samples, "process_start_time_seconds")
        self.assertLess(abs(start - started), 60, (start, started))
        self.assertLessEqual(start, time.time())
        cpu0 = self.one(samples, "process_cpu_seconds_total")
        c = self.consented_customer()
        for i in range(300):
            self.decide(c, "push", time=self.T0 + i, dry_run=True)
        _, samples = self.scrape()
        self.assertGreaterEqual(self.one(samples, "process_cpu_seconds_total"),
                                cpu0)
        self.assertGreater(self.one(samples, "process_max_fds"), fds)

    def test_requests_by_route_and_status(self):
        def counts():
            _, samples = self.scrape()
            return {(l["route"], l["method"], l["status"]): v
                    for n, l, v in samples if n == "pacer_http_requests_total"}
        before = counts()
        c = self.consented_customer()
        self.decide(c, "push", time=self.T0)
        self.decide(c, "fax")
        self.http.get("/v1/customers/" + c)
        self.http.get("/v1/customers/" + c)
        self.http.get("/v1/optimize/none")
        self.http.get("/v1/openapi.json")
        self.http.get("/nowhere")
        self.http.get("/v1/decide")
        after = counts()
        delta = {k: v - before.get(k, 0) for k, v in after.items()
                 if v != before.get(k, 0)}
        # The PUT of the customer and the first scrape's own GET /metrics.
        self.assertEqual(delta, {
            ("/v1/customers/{id}", "PUT", "200"): 1,
            ("/v1/decide", "POST", "200"): 1,
            ("/v1/decide", "POST", "400"): 1,
            ("/v1/customers/{id}", "GET", "200"): 2,
            ("/v1/optimize/{run_id}", "GET", "404"): 1,
            ("/v1/openapi.json", "GET", "200"): 1,
            ("unknown", "GET", "404"): 1,
            ("/v1/decide", "GET", "405"): 1,
            ("/metrics", "GET", "200"): 1}, delta)

    def run_optimizer(self):
        st, body = self.http.post("/v1/optimize", {})
        self.assertEqual(st, 202, body)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            st, run = self.http.get("/v1/optimize/" + body["run_id"])
            if run.get("status") != "running":
                return run
            time.sleep(0.1)
        self.fail("optimizer run did not finish: %r" % run)

    def test_last_optimizer_run(self):
        scores = os.path.join(self.workdir, "scores.csv")
        if os.path.exists(scores):
            os.remove(scores)
        fams, samples = self.scrape()
        for f in ("pacer_optimizer_last_run_success",
                  "pacer_optimizer_last_run_gap_ratio",
                  "pacer_optimizer_last_run_objective",
                  "pacer_optimizer_last_run_duration_seconds",
                  "pacer_optimizer_last_run_finish_timestamp_seconds"):
            self.assertEqual(fams[f]["type"], "gauge", f)
        failed0 = self.one(samples, "pacer_optimizer_runs_total",
                           result="failed")
        done0 = self.one(samples, "pacer_optimizer_runs_total", result="done")
        # No scores file: the run fails.
        run = self.run_optimizer()
        self.assertEqual(run["status"], "failed", run)
        _, samples = self.scrape()
        self.assertEqual(self.one(samples, "pacer_optimizer_last_run_success"),
                         0)
        self.assertEqual(self.one(samples,
                                  "pacer_optimizer_last_run_exit_code"),
                         run["exit_code"])
        self.assertEqual(self.one(samples, "pacer_optimizer_runs_total",
                                  result="failed"), failed0 + 1)
        # Scores for a few consented customers: a real plan.
        rows = ["customer,offer,propensity"]
        for i in range(5):
            c = self.consented_customer("opt%d" % i)
            rows += ["%s,welcome10,0.3" % c, "%s,app_nudge,0.5" % c]
        write_file(scores, "\n".join(rows) + "\n")
        run = self.run_optimizer()
        self.assertEqual(run["status"], "done", run)
        _, samples = self.scrape()
        self.assertEqual(self.one(samples, "pacer_optimizer_last_run_success"),
                         1)
        self.assertEqual(self.one(samples, "pacer_optimizer_runs_total",
                                  result="done"), done0 + 1)
        gap = self.one(samples, "pacer_optimizer_last_run_gap_ratio")
        self.assertAlmostEqual(gap, run["gap"], places=6)
        self.assertLessEqual(gap, 0.001 + 1e-9)
        objective = self.one(samples, "pacer_optimizer_last_run_objective")
        self.assertGreater(objective, 0)
        with open(os.path.join(self.workdir, "reports", run["run_id"],
                               "summary.json")) as f:
            summary = json.load(f)
        self.assertAlmostEqual(objective, summary["objective"], places=3)
        self.assertEqual(self.one(
            samples, "pacer_optimizer_last_run_finish_timestamp_seconds"),
            run["finished"])
        self.assertEqual(self.one(
            samples, "pacer_optimizer_last_run_duration_seconds"),
            run["finished"] - run["started"])


PROMTOOL_TEST = """
rule_files: [%s]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="pacerd",instance="a"}'
        values: '0x5'
      - series: 'pacer_store_up{instance="a"}'
        values: '1 0 0 0 0'
      - series: 'pacer_decisions_total{instance="a",channel="push",reason="ok"}'
        values: '0+100x20'
      - series: 'pacer_fail_open_total{instance="a",channel="push"}'
        values: '0+5x20'
      - series: 'pacer_optimizer_last_run_success{instance="a"}'
        values: '0x5'
      - series: 'pacer_optimizer_last_run_finish_timestamp_seconds{instance="a"}'
        values: '-100000x20'
      - series: 'pacer_decision_duration_seconds_bucket{instance="a",le="0.001"}'
        values: '0+10x20'
      - series: 'pacer_decision_duration_seconds_bucket{instance="a",le="0.005"}'
        values: '0+20x20'
      - series: 'pacer_decision_duration_seconds_bucket{instance="a",le="+Inf"}'
        values: '0+20x20'
    alert_rule_test:
      - eval_time: 3m
        alertname: PacerDown
        exp_alerts:
          - exp_labels: {severity: critical, job: pacerd, instance: a}
      - eval_time: 3m
        alertname: PacerStoreDown
        exp_alerts:
          - exp_labels: {severity: critical, instance: a}
      - eval_time: 15m
        alertname: PacerFailOpenShare
        exp_alerts:
          - exp_labels: {severity: warning, instance: a}
      - eval_time: 2m
        alertname: PacerOptimizerFailed
        exp_alerts:
          - exp_labels: {severity: warning, instance: a}
      - eval_time: 20m
        alertname: PacerOptimizerStale
        exp_alerts:
          - exp_labels: {severity: warning, instance: a}
      - eval_time: 20m
        alertname: PacerDecisionLatencyHigh
        exp_alerts:
          - exp_labels: {severity: warning, instance: a}
  - interval: 1m
    input_series:
      - series: 'pacer_store_up{instance="b"}'
        values: '1x20'
      - series: 'pacer_decisions_total{instance="b",channel="push",reason="ok"}'
        values: '0+100x20'
      - series: 'pacer_fail_open_total{instance="b",channel="push"}'
        values: '0x20'
      - series: 'pacer_optimizer_last_run_success{instance="b"}'
        values: '1x20'
      - series: 'pacer_optimizer_last_run_finish_timestamp_seconds{instance="b"}'
        values: '0x20'
      - series: 'pacer_decision_duration_seconds_bucket{instance="b",le="0.001"}'
        values: '0+20x20'
      - series: 'pacer_decision_duration_seconds_bucket{instance="b",le="+Inf"}'
        values: '0+20x20'
    alert_rule_test:
      - {eval_time: 15m, alertname: PacerStoreDown, exp_alerts: []}
      - {eval_time: 15m, alertname: PacerFailOpenShare, exp_alerts: []}
      - {eval_time: 15m, alertname: PacerOptimizerFailed, exp_alerts: []}
      - {eval_time: 15m, alertname: PacerOptimizerStale, exp_alerts: []}
      - {eval_time: 15m, alertname: PacerDecisionLatencyHigh, exp_alerts: []}
"""

# Names in PromQL that are not metrics.
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "time",
                "le", "job", "instance", "reason", "channel", "kind", "route",
                "method", "status", "result", "rule", "up", "and", "or"}


class TestAlertsAndDashboard(PacerTestCase):
    """The shipped rules and dashboard name only what pacerd exposes."""

    def exposed(self):
        st, text = self.http.get("/metrics")
        fams, _, problems = parse_exposition(text)
        self.assertEqual(problems, [])
        names = set()
        for f, d in fams.items():
            names.add(f)
            if d.get("type") == "histogram":
                names.update(f + s for s in ("_bucket", "_sum", "_count"))
        return names

    def metric_names(self, expr):
        expr = re.sub(r'"[^"]*"', '""', expr)
        expr = re.sub(r"\[[^\]]*\]", "", expr)
        return {w for w in re.findall(r"[a-z_:][a-z0-9_:]*", expr)
                if "_" in w and w not in PROMQL_WORDS}

    def test_promtool_check_rules(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed (Debian: prometheus)")
        p = subprocess.run([promtool, "check", "rules", ALERTS],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("6 rules found", p.stdout)

    def test_promtool_test_rules(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed (Debian: prometheus)")
        import yaml
        d = tempfile.mkdtemp(prefix="pacer-it-rules-")
        self.addCleanup(shutil.rmtree, d, True)
        # What fires, when and with which labels; promtool would compare
        # the rendered annotations too, which check rules already parses.
        with open(ALERTS) as f:
            rules = yaml.safe_load(f)
        for g in rules["groups"]:
            for r in g["rules"]:
                r.pop("annotations", None)
        bare = write_file(os.path.join(d, "alerts.yml"), yaml.safe_dump(rules))
        t = write_file(os.path.join(d, "test.yml"),
                       PROMTOOL_TEST % json.dumps(bare))
        p = subprocess.run([promtool, "test", "rules", t],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_rules_name_exposed_metrics(self):
        import yaml
        with open(ALERTS) as f:
            rules = yaml.safe_load(f)
        names = self.exposed()
        alerts = set()
        for g in rules["groups"]:
            for r in g["rules"]:
                alerts.add(r["alert"])
                self.assertIn(r["labels"]["severity"], ("warning", "critical"))
                self.assertTrue(r["annotations"]["summary"])
                for m in self.metric_names(r["expr"]):
                    self.assertIn(m, names, r["alert"])
        self.assertEqual(alerts, {"PacerDown", "PacerStoreDown",
                                  "PacerFailOpenShare", "PacerOptimizerFailed",
                                  "PacerOptimizerStale",
                                  "PacerDecisionLatencyHigh"})

    def test_dashboard_names_exposed_metrics(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        names = self.exposed()
        used = set()
        ids = set()
        for p in dash["panels"]:
            self.assertNotIn(p["id"], ids)
            ids.add(p["id"])
            for t in p.get("targets", []):
                for m in self.metric_names(t["expr"]):
                    self.assertIn(m, names, p["title"])
                    used.add(m)
        # Every pacer family is on the dashboard.
        families = {n for n in names if not n.endswith(("_bucket", "_sum",
                                                        "_count"))}
        self.assertEqual(families - used - {"pacer_decision_duration_seconds",
                                            "pacer_store_round_trip_seconds",
                                            "pacer_optimizer_last_run_exit_code"},
                         set())


if __name__ == "__main__":
    main()
