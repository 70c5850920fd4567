"""
Operating pacerd under load (issue 4, SPEC sections 1-3):

- reload: a bad config (SIGHUP and POST /v1/admin/reload) is refused with
  file:line in the log and in pacer_reloads_total{result="failed"}, the old
  caps keep applying; a good config (SIGHUP and POST) takes effect; stored
  counters survive; no request fails meanwhile.
- Redis killed and restarted under load: decisions keep answering 200 with
  store_unavailable and allow per channel's on_store_failure, /readyz flips
  to 503 and back, the daemon never crashes.
- Redis frozen (SIGSTOP) with timeout_ms = 50: store_unavailable answers
  arrive while Redis is still frozen; service recovers after SIGCONT (also
  after a freeze longer than the daemon's hung-connection limit).
- SIGTERM under load (with requests held in Redis at the moment of the
  signal): every request sent before the signal is answered, every answered
  allowed reservation is in Redis, exit 0.
- Redis AUTH: the right password works; a wrong or missing one gives
  store_unavailable answers and /readyz 503, no crash.

Timing assertions are only generous upper bounds on recovery.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

from pacertest import (EXAMPLE_CONF, HttpClient, Pacerd, PacerTestCase, Redis,
                       customer_history,
                       RedisServer, START_TIMEOUT, base_overrides, free_port,
                       base_time, main, make_config, merge_overrides,
                       read_text, scan_keys,
                       redis_server_path, require_binary, require_redis,
                       pacerd_path, stop_process, write_file, _register)

CLIENT_TIMEOUT = 3.0      # no decision may take this long: a hang fails
READY_DOWN_BOUND = 2.0    # /readyz 503 at most this long after Redis dies
READY_UP_BOUND = 3.0      # /readyz 200 at most this long after Redis is back

# on_store_failure of conf/pacer.conf
FAIL_ALLOW = {"email": False, "sms": False, "push": True}


# --------------------------------------------------------------------------
# helpers

_METRIC_RE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def metric(text, name, **labels):
    """The value of one sample in Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _METRIC_RE.match(line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if got == {k: str(v) for k, v in labels.items()}:
            return float(m.group(3))
    return None


def write_atomic(path, text):
    tmp = path + ".tmp-%s" % uuid.uuid4().hex[:6]
    write_file(tmp, text)
    os.replace(tmp, path)


def wait_until(pred, timeout, step=0.02):
    """Poll pred() until true; (True, seconds) or (False, seconds)."""
    t0 = time.monotonic()
    while True:
        if pred():
            return True, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return False, time.monotonic() - t0
        time.sleep(step)


def http_status(port, path, timeout=1.0):
    """One GET on a fresh connection: status, or None on a socket error."""
    c = HttpClient(port, timeout=timeout)
    try:
        st, _ = c.get(path)
        return st
    except Exception:
        return None
    finally:
        c.close()


class Rec:
    """One request of a load thread."""
    __slots__ = ("worker", "t0", "t1", "body", "status", "resp", "error")

    def __init__(self, worker, t0, t1, body, status, resp, error):
        self.worker, self.t0, self.t1 = worker, t0, t1
        self.body, self.status, self.resp, self.error = body, status, resp, \
            error

    def __repr__(self):
        return "Rec(w=%d t0=%.3f dt=%.3f req=%r -> %r %r err=%r)" % (
            self.worker, self.t0, self.t1 - self.t0, self.body, self.status,
            self.resp, self.error)


class Load:
    """
    Threads sending requests, each on its own keep-alive connection, until
    stop(). request(worker, seq) -> (method, path, body). Every exchange is
    recorded (monotonic send and answer times, status, body or error).
    """

    def __init__(self, port, request, threads=4, timeout=CLIENT_TIMEOUT,
                 stop_on_error=False, pause=0.0):
        self.port, self.request, self.nthreads = port, request, threads
        self.timeout, self.stop_on_error, self.pause = timeout, \
            stop_on_error, pause
        self.records = []
        self._stop = threading.Event()
        self._threads = []

    def _worker(self, i):
        c = HttpClient(self.port, timeout=self.timeout)
        seq = 0
        try:
            while not self._stop.is_set():
                method, path, body = self.request(i, seq)
                seq += 1
                t0 = time.monotonic()
                try:
                    st, resp = c.request(method, path, body)
                    err = None
                except Exception as e:          # noqa: BLE001 - recorded
                    st, resp, err = None, None, repr(e)
                    c.close()
                self.records.append(Rec(i, t0, time.monotonic(), body, st,
                                        resp, err))
                if err is not None and self.stop_on_error:
                    return
                if self.pause:
                    time.sleep(self.pause)
        finally:
            c.close()

    def start(self):
        for i in range(self.nthreads):
            t = threading.Thread(target=self._worker, args=(i,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 10)
        alive = [t for t in self._threads if t.is_alive()]
        if alive:
            raise AssertionError("%d load threads still blocked" % len(alive))
        return self.records

    def wait_for(self, n, timeout=10):
        """Wait until at least n more requests were recorded."""
        start = len(self.records)
        ok, _ = wait_until(lambda: len(self.records) >= start + n, timeout)
        if not ok:
            raise AssertionError("load made %d requests in %ss" % (
                len(self.records) - start, timeout))


def decision_load(customers, channels, t, dry_run=True):
    """A request function: dry-run decisions cycling customers x channels."""
    def request(worker, seq):
        k = worker * 7919 + seq
        return ("POST", "/v1/decide", {
            "customer": customers[k % len(customers)],
            "channel": channels[k % len(channels)],
            "time": t, "dry_run": dry_run})
    return request


class DebugPacerd(Pacerd):
    """A pacerd started with -d (debug log lines)."""

    def start(self, timeout=START_TIMEOUT):
        require_binary(pacerd_path(), "pacerd")
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(
                [pacerd_path(), "-d", "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                cwd=self.workdir)
        _register(self.proc)
        ok, _ = wait_until(lambda: not self.running() or
                           http_status(self.port, "/healthz") == 200, timeout)
        if not ok or not self.running():
            self.kill()
            raise AssertionError("%s did not start:\n%s" % (
                self.name, self.log_text()))
        return self


class OpsCase(PacerTestCase):
    """PacerTestCase with the helpers these tests share."""

    def metrics(self, client=None):
        st, body = (client or self.http).get("/metrics")
        self.assertEqual(st, 200, body)
        return body

    def zrange(self, customer):
        """The customer's history members, oldest first."""
        with Redis(self.redis.port) as r:
            return [m for _, m in customer_history(r, customer)]

    def assertFailures(self, records, ok, what):
        """Every record satisfies ok(rec); list the first offenders."""
        bad = [r for r in records if not ok(r)]
        self.assertFalse(bad, "%s: %d of %d requests failed, e.g.:\n%s" % (
            what, len(bad), len(records), "\n".join(map(repr, bad[:10]))))


# --------------------------------------------------------------------------
# 1. reload under load

class TestReload(OpsCase):
    CONF = {
        "channel push": {"cap": ["2/1d"]},
        "all": {"cap": ["50/7d"]},
        "optimizer": {"run_at": None},
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(cls.conf_path) as f:
            cls.good_text = f.read()

    def setUp(self):
        self.pool = [self.consented_customer("load") for _ in range(8)]
        self.load = Load(self.daemon.port,
                         decision_load(self.pool, ["push", "email", "sms"],
                                       self.T0), threads=4)
        self.addCleanup(self.restore_config)

    def restore_config(self):
        write_atomic(self.conf_path, self.good_text)
        st, body = self.http.post("/v1/admin/reload")
        self.assertEqual(st, 200, body)

    def conf_text(self, push_caps, extra_push=None):
        ov = dict(self.__class__.CONF)
        push = {"cap": push_caps}
        push.update(extra_push or {})
        return make_config(merge_overrides(
            base_overrides(self.daemon.port, self.redis.port, self.workdir),
            ov, {"channel push": push}))

    def push_n(self, customer, n, expect_rule):
        """n allowed push reservations, then one denied by expect_rule."""
        for i in range(n):
            st, body = self.decide(customer, "push", time=self.T0,
                                   send_id="s%d-%s" % (i, uuid.uuid4().hex))
            self.assertDecision(st, body, True, "ok", msg="push #%d" % (i + 1))
        st, body = self.decide(customer, "push", time=self.T0,
                               send_id="deny-" + uuid.uuid4().hex)
        self.assertDecision(st, body, False, "cap", rule=expect_rule,
                            msg="push after %d" % n)

    def reloads(self):
        m = self.metrics()
        return (metric(m, "pacer_reloads_total", result="ok"),
                metric(m, "pacer_reloads_total", result="failed"))

    def assertAllOk(self, records):
        self.assertGreater(len(records), 20, "the load hardly ran")
        self.assertFailures(
            records, lambda r: r.status == 200 and isinstance(r.resp, dict)
            and r.resp.get("reason") == "ok" and r.resp.get("allow") is True,
            "decisions during the reload")

    def test_bad_reload_under_load_keeps_old_config(self):
        a = self.consented_customer()
        self.push_n(a, 2, "push 2/1d")
        ok0, failed0 = self.reloads()
        self.assertIsNotNone(failed0, "no pacer_reloads_total{result=failed}")

        bad = self.conf_text(["2/1d"], {"frobnicate": "1"})
        line = bad.splitlines().index("frobnicate = 1") + 1
        where = "%s:%d:" % (self.conf_path, line)

        self.load.start()
        try:
            self.load.wait_for(20)
            write_atomic(self.conf_path, bad)
            self.daemon.signal(signal.SIGHUP)
            pattern = re.compile(
                r'level=warn msg="reload failed, the running config stays" '
                r'error="' + re.escape(where) + r'[^\n]*frobnicate')
            ok, _ = wait_until(
                lambda: pattern.search(self.daemon.log_text()), 5)
            self.assertTrue(ok, "no reload-failed line naming %s in the log"
                            % where)
            self.load.wait_for(20)
            # The same bad file through the API: 400 naming file:line.
            st, body = self.http.post("/v1/admin/reload")
            self.assertError(st, body, 400, mentions=where)
            self.load.wait_for(20)
        finally:
            records = self.load.stop()
        self.assertAllOk(records)

        ok1, failed1 = self.reloads()
        self.assertEqual(failed1, failed0 + 2)
        self.assertEqual(ok1, ok0)
        self.assertEqual(len(pattern.findall(self.daemon.log_text())), 2)
        # The old caps apply: to the old customer and to a new one.
        st, body = self.decide(a, "push", time=self.T0)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")
        self.push_n(self.consented_customer(), 2, "push 2/1d")
        self.assertEqual(len(self.zrange(a)), 2)
        self.assertTrue(self.daemon.running())
        st, _ = self.http.get("/readyz")
        self.assertEqual(st, 200)

    def test_api_reload_reschedules_optimizer_like_sighup(self):
        # [optimizer] every is reloadable: SIGHUP and POST /v1/admin/reload
        # must both re-arm the schedule. A pacerd with -d logs each arming
        # ("optimizer scheduled" in_seconds=N).
        port = free_port()

        def conf(every):
            return make_config(merge_overrides(
                base_overrides(port, self.redis.port, self.workdir),
                self.CONF, {"optimizer": {"every": every}}))
        path = write_file(os.path.join(self.workdir, "sched.conf"),
                          conf("1h"))
        d = DebugPacerd(path, port, self.workdir, name="sched")
        d.start()
        self.daemons.append(d)          # its log on failure, stopped at end

        def armed(n):
            return ("in_seconds=%d" % n) in d.log_text()
        ok, _ = wait_until(lambda: armed(3600), 5)
        self.assertTrue(ok, "no 'optimizer scheduled in_seconds=3600' at start")
        write_atomic(path, conf("2h"))
        d.signal(signal.SIGHUP)
        ok, _ = wait_until(lambda: armed(7200), 5)
        self.assertTrue(ok, "SIGHUP did not re-arm the schedule (every=2h)")
        write_atomic(path, conf("3h"))
        st, body = HttpClient(port).post("/v1/admin/reload")
        self.assertEqual((st, body), (200, {"reloaded": True}))
        ok, _ = wait_until(lambda: armed(10800), 2)
        self.assertTrue(ok, "POST /v1/admin/reload -> 200 {\"reloaded\":true} "
                        "with every = 3h, but the optimizer schedule was not "
                        "re-armed (SIGHUP does re-arm it)")

    def test_good_reload_under_load_new_caps_counters_kept(self):
        a = self.consented_customer()
        self.push_n(a, 2, "push 2/1d")
        before = self.zrange(a)
        self.assertEqual(len(before), 2)
        ok0, failed0 = self.reloads()

        self.load.start()
        try:
            self.load.wait_for(20)
            # SIGHUP: push 2/1d -> 5/1d
            write_atomic(self.conf_path, self.conf_text(["5/1d"]))
            self.daemon.signal(signal.SIGHUP)
            ok, _ = wait_until(lambda: self.reloads()[0] == ok0 + 1, 5,
                               step=0.05)
            self.assertTrue(ok, "SIGHUP reload not counted as ok")
            self.load.wait_for(20)
            # The counters survived: a has 2, so exactly 3 more.
            self.assertEqual(self.zrange(a), before)
            self.push_n(a, 3, "push 5/1d")
            # POST /v1/admin/reload: push -> 3/1d
            write_atomic(self.conf_path, self.conf_text(["3/1d"]))
            st, body = self.http.post("/v1/admin/reload")
            self.assertEqual(st, 200, body)
            self.assertEqual(body, {"reloaded": True})
            self.load.wait_for(20)
            self.push_n(self.consented_customer(), 3, "push 3/1d")
            st, body = self.decide(a, "push", time=self.T0)
            self.assertDecision(st, body, False, "cap", rule="push 3/1d")
        finally:
            records = self.load.stop()
        self.assertAllOk(records)
        ok1, failed1 = self.reloads()
        self.assertEqual((ok1, failed1), (ok0 + 2, failed0))
        h = self.zrange(a)
        self.assertEqual(len(h), 5)
        self.assertTrue(set(before) <= set(h))
        self.assertIn('msg="config reloaded"', self.daemon.log_text())


# --------------------------------------------------------------------------
# 2. Redis killed and restarted, Redis frozen

class StoreFaultCase(OpsCase):

    def setUp(self):
        self.assertTrue(self.redis.running())
        ok, _ = wait_until(
            lambda: http_status(self.daemon.port, "/readyz") == 200, 5)
        self.assertTrue(ok, "not ready at the start of the test")
        self.channels = ["email", "sms", "push"]
        self.pool = [self.consented_customer("pool") for _ in range(6)]

    def recreate_pool(self):
        """Redis came back empty: store the pool's profiles again."""
        for c in self.pool:
            self.put_customer(c, consent={ch: True for ch in self.channels},
                              tz="UTC")

    def assertFailOver(self, rec, msg=""):
        self.assertEqual(rec.status, 200, repr(rec))
        self.assertEqual(rec.resp.get("reason"), "store_unavailable",
                         "%s %r" % (msg, rec))
        self.assertIs(rec.resp.get("allow"), FAIL_ALLOW[rec.body["channel"]],
                      "%s %r" % (msg, rec))

    def wait_recovered(self, since, probe):
        """
        /readyz 200 and an ok decision for `probe` (a consented customer)
        again; returns the seconds from `since` to /readyz 200.
        """
        ok, _ = wait_until(
            lambda: http_status(self.daemon.port, "/readyz") == 200, 10)
        t_ready = time.monotonic() - since
        self.assertTrue(ok, "/readyz never back to 200")

        def decided_ok():
            st, body = self.decide(probe, "email", time=self.T0, dry_run=True)
            return st == 200 and body.get("reason") == "ok"
        ok, _ = wait_until(decided_ok, 10, step=0.05)
        self.assertTrue(ok, "decisions not ok again after recovery")
        return t_ready


class TestRedisRestart(StoreFaultCase):
    CONF = {
        "redis": {"timeout_ms": "200"},
        "all": {"cap": ["50/7d"]},
        "optimizer": {"run_at": None},
    }

    def test_kill_and_restart_under_load(self):
        load = Load(self.daemon.port,
                    decision_load(self.pool, self.channels, self.T0),
                    threads=4, pause=0.002)
        load.start()
        try:
            load.wait_for(30)
            m = self.metrics()
            self.assertEqual(metric(m, "pacer_store_up"), 1)

            # Kill Redis (SIGKILL: no goodbye on the socket).
            t_kill = time.monotonic()
            stop_process(self.redis.proc, timeout=5, sig=signal.SIGKILL)
            self.redis.proc = None
            ok, took = wait_until(
                lambda: http_status(self.daemon.port, "/readyz") == 503, 5)
            t_503 = time.monotonic()
            self.assertTrue(ok, "/readyz never 503 after Redis died")
            self.assertLess(took, READY_DOWN_BOUND,
                            "/readyz took %.2fs to turn 503" % took)
            self.assertEqual(metric(self.metrics(), "pacer_store_up"), 0)
            # A while down, with the daemon retrying its connection.
            time.sleep(1.0)
            load.wait_for(30)
            # A decision that would reserve is not reserved anywhere and
            # answers at once.
            st, body = self.decide(self.pool[0], "push", time=self.T0,
                                   send_id="down-" + uuid.uuid4().hex)
            self.assertDecision(st, body, True, "store_unavailable")
            st, body = self.decide(self.pool[0], "email", time=self.T0)
            self.assertDecision(st, body, False, "store_unavailable")

            # Redis back on the same port (empty: no persistence).
            t_restart = time.monotonic()
            self.redis.start()
            t_up = time.monotonic()
            ok, _ = wait_until(
                lambda: http_status(self.daemon.port, "/readyz") == 200, 10)
            back = time.monotonic() - t_up
            self.assertTrue(ok, "/readyz never 200 after Redis came back")
            self.assertLess(back, READY_UP_BOUND,
                            "/readyz took %.2fs to return" % back)
            self.assertEqual(metric(self.metrics(), "pacer_store_up"), 1)
            self.recreate_pool()
            t_ok = time.monotonic()
            load.wait_for(30)
        finally:
            records = load.stop()
            if not self.redis.running():
                self.redis.start()

        self.assertFailures(
            records, lambda r: r.error is None and r.status == 200,
            "decisions while Redis died and came back")
        down = [r for r in records if r.t0 > t_503 and r.t1 < t_restart]
        self.assertGreater(len(down), 10)
        for r in down:
            self.assertFailOver(r, "while Redis was down")
        self.assertEqual({r.body["channel"] for r in down},
                         set(self.channels))
        for r in records:
            reason = r.resp.get("reason")
            self.assertIn(reason, ("ok", "store_unavailable", "no_consent"),
                          repr(r))
            if reason == "store_unavailable":
                self.assertFailOver(r)
        after = [r for r in records if r.t0 > t_ok]
        self.assertTrue(after)
        self.assertFailures(after, lambda r: r.resp.get("reason") == "ok",
                            "decisions after recovery")
        self.assertLess(t_kill, t_503)

        # Reserving works again and lands in the new Redis.
        c = self.consented_customer()
        sid = "back-" + uuid.uuid4().hex
        st, body = self.decide(c, "push", time=self.T0, send_id=sid)
        self.assertDecision(st, body, True, "ok")
        self.assertEqual(self.zrange(c), ["push||" + sid])
        self.assertTrue(self.daemon.running())
        log = self.daemon.log_text()
        self.assertIn('msg="redis disconnected"', log)
        self.assertIn('msg="redis connected"', log)


class TestFunctionsFlushed(StoreFaultCase):
    CONF = {
        "all": {"cap": ["50/7d"]},
        "optimizer": {"run_at": None},
    }

    def test_flush_under_load_loads_the_library_again(self):
        """FUNCTION FLUSH: pacerd loads its library again; no answer lost."""
        load = Load(self.daemon.port,
                    decision_load(self.pool, self.channels, self.T0),
                    threads=4)
        load.start()
        try:
            with Redis(self.redis.port) as r:
                for _ in range(20):
                    load.wait_for(20)
                    self.assertEqual(r.call("FUNCTION", "FLUSH"), "OK")
                load.wait_for(20)
                libs = r.call("FUNCTION", "LIST")
        finally:
            records = load.stop()
        self.assertEqual(len(libs), 1, libs)
        self.assertTrue(libs[0][1].startswith("pacer_"), libs)
        bad = [x for x in records
               if x.status != 200 or x.resp.get("reason") != "ok"]
        self.assertEqual(bad, [], "%d of %d decisions" % (len(bad),
                                                          len(records)))
        self.assertIn("redis lost the function library",
                      self.daemon.log_text())

    def test_profile_write_loads_the_library_again(self):
        """
        A profile write is a call of the library too: after FUNCTION FLUSH
        (or before the library's first load, right after pacerd starts) it
        loads the library and goes through, instead of answering 503.
        """
        c = self.customer("flushed")
        for _ in range(3):
            with Redis(self.redis.port) as r:
                self.assertEqual(r.call("FUNCTION", "FLUSH"), "OK")
            self.put_customer(c, consent={"email": True}, tz="UTC")
        self.assertDecision(*self.decide(c, "email", time=self.T0), True,
                            "ok")


class TestRedisFrozen(StoreFaultCase):
    CONF = {
        "redis": {"timeout_ms": "50"},
        "all": {"cap": ["50/7d"]},
        "optimizer": {"run_at": None},
    }

    def freeze(self, seconds, probes):
        """
        SIGSTOP redis-server for `seconds` under load; meanwhile send the
        probe decisions one by one. Returns (load records, probe results
        [(rec)], t_stop, t_cont).
        """
        load = Load(self.daemon.port,
                    decision_load(self.pool, self.channels, self.T0),
                    threads=3, pause=0.002)
        pid = self.redis.proc.pid
        results = []
        probe = self.consented_customer("probe")
        load.start()
        try:
            load.wait_for(20)
            t_stop = time.monotonic()
            os.kill(pid, signal.SIGSTOP)
            try:
                c = HttpClient(self.daemon.port, timeout=CLIENT_TIMEOUT)
                for ch in probes:
                    body = {"customer": self.pool[0], "channel": ch,
                            "time": self.T0, "dry_run": True}
                    t0 = time.monotonic()
                    try:
                        st, resp = c.post("/v1/decide", body)
                        err = None
                    except Exception as e:      # noqa: BLE001
                        st, resp, err = None, None, repr(e)
                    results.append(Rec(-1, t0, time.monotonic(), body, st,
                                       resp, err))
                    time.sleep(0.1)
                ready_frozen = http_status(self.daemon.port, "/readyz")
                c.close()
                rest = t_stop + seconds - time.monotonic()
                if rest > 0:
                    time.sleep(rest)
            finally:
                t_cont = time.monotonic()
                os.kill(pid, signal.SIGCONT)
            t_ready = self.wait_recovered(t_cont, probe)
            load.wait_for(20)
        finally:
            records = load.stop()
        return records, results, t_stop, t_cont, ready_frozen, t_ready

    def check(self, records, results, t_stop, t_cont):
        for r in results:
            self.assertIsNone(r.error, repr(r))
            # Answered while Redis was still frozen, by the timeout.
            self.assertLess(r.t1, t_cont, "answer waited for Redis: %r" % r)
            self.assertLess(r.t1 - r.t0, 1.0, repr(r))
            self.assertFailOver(r, "while Redis was frozen")
        self.assertFailures(
            records, lambda r: r.error is None and r.status == 200,
            "decisions while Redis was frozen")
        for r in records:
            reason = r.resp.get("reason")
            self.assertIn(reason, ("ok", "store_unavailable"), repr(r))
            if reason == "store_unavailable":
                self.assertFailOver(r)
        frozen = [r for r in records if r.t0 > t_stop + 0.01
                  and r.t1 < t_cont]
        self.assertTrue(frozen)
        for r in frozen:
            self.assertFailOver(r, "sent while Redis was frozen")
        self.assertTrue(self.daemon.running())

    def test_slow_redis_answers_by_timeout(self):
        records, results, t_stop, t_cont, ready, t_ready = self.freeze(
            1.5, ["email", "push", "sms", "email"])
        self.check(records, results, t_stop, t_cont)
        self.assertEqual(ready, 503, "/readyz while Redis is frozen")
        self.assertLess(t_ready, READY_UP_BOUND)
        m = self.metrics()
        self.assertGreater(metric(m, "pacer_store_errors_total",
                                  kind="timeout"), 0)

    def test_denied_on_timeout_is_not_reserved(self):
        # A decision answered "deny, store_unavailable" must not count as a
        # contact when the frozen Redis later runs the queued script: the
        # caller did not send. (email: on_store_failure = deny, 1/1d.)
        c = self.consented_customer()
        probe = self.consented_customer("probe")
        sid = "frozen-" + uuid.uuid4().hex[:12]
        pid = self.redis.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            st, first = self.decide(c, "email", time=self.T0, send_id=sid)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertDecision(st, first, False, "store_unavailable",
                            msg="email during the freeze")
        self.wait_recovered(time.monotonic(), probe)
        self.assertEqual(self.zrange(c), [],
                         "POST /v1/decide %r answered %r, yet its contact "
                         "was reserved once Redis resumed" % (
                             {"customer": c, "channel": "email",
                              "send_id": sid}, first))
        st, body = self.decide(c, "email", time=self.T0,
                               send_id="next-" + uuid.uuid4().hex[:8])
        self.assertDecision(st, body, True, "ok",
                            msg="the first real email of the day")

    def test_long_freeze_recovers(self):
        # Longer than the daemon's hung-connection limit (2 s).
        records, results, t_stop, t_cont, ready, t_ready = self.freeze(
            3.0, ["email", "push"] * 6)
        self.check(records, results, t_stop, t_cont)
        self.assertEqual(ready, 503)
        self.assertLess(t_ready, READY_UP_BOUND)
        self.assertEqual(metric(self.metrics(), "pacer_store_up"), 1)


class TestReadyAfterHang(StoreFaultCase):
    """
    /readyz must not claim readiness while store calls still fail: after a
    freeze longer than the hung-connection limit (2 s) the daemon drops the
    connection and makes a new one; in between it is not ready.
    """
    CONF = {
        "redis": {"timeout_ms": "300"},
        "all": {"cap": ["50/7d"]},
        "optimizer": {"run_at": None},
    }

    def test_ready_only_when_store_usable(self):
        probe = self.customer("probe")      # never stored: dry-run only

        def batches(worker, seq):
            return ("POST", "/v1/decide/batch", {"requests": [
                {"customer": self.pool[(worker + k) % len(self.pool)],
                 "channel": self.channels[k % 3], "time": self.T0,
                 "dry_run": True} for k in range(100)]})
        load = Load(self.daemon.port, batches, threads=4)
        pid = self.redis.proc.pid
        load.start()
        seq = []
        try:
            load.wait_for(8)
            os.kill(pid, signal.SIGSTOP)
            try:
                time.sleep(2.8)
            finally:
                t_cont = time.monotonic()
                os.kill(pid, signal.SIGCONT)
            c = HttpClient(self.daemon.port, timeout=CLIENT_TIMEOUT)
            while time.monotonic() - t_cont < 1.5:
                ready = http_status(self.daemon.port, "/readyz")
                st, body = self.decide(probe, "email", client=c,
                                       time=self.T0, dry_run=True)
                seq.append((round(time.monotonic() - t_cont, 3), ready, st,
                            body))
            c.close()
        finally:
            records = load.stop()
        self.assertFailures(records, lambda r: r.status == 200,
                            "batches around the freeze")
        # Consent is absent for the probe: a working store says no_consent.
        self.assertEqual(seq[-1][1:3], (200, 200), seq[-1])
        self.assertEqual(seq[-1][3].get("reason"), "no_consent", seq[-1])
        lies = [s for s in seq if s[1] == 200 and
                s[3].get("reason") == "store_unavailable"]
        if lies:
            self.fail("GET /readyz answered 200, then at once POST "
                      "/v1/decide answered store_unavailable (%d times "
                      "after SIGCONT, of %d probes), e.g. %r"
                      % (len(lies), len(seq), lies[:3]))


# --------------------------------------------------------------------------
# 3. SIGTERM under load

class TestSigterm(OpsCase):
    CONF = {
        "consent": {"default": "allow"},
        "channel push": {"cap": ["1000/1d"]},
        "all": {"cap": ["1000/7d"]},
        "campaign": {"cap": ["1000/1d"]},
        "redis": {"timeout_ms": "3000"},
        "optimizer": {"run_at": None},
    }

    def start_daemon(self, name):
        port = free_port()
        conf = make_config(merge_overrides(
            base_overrides(port, self.redis.port, self.workdir), self.CONF))
        path = write_file(os.path.join(self.workdir, name + ".conf"), conf)
        d = Pacerd(path, port, self.workdir, name=name)
        d.start()
        self.daemons.append(d)      # its log on failure, stopped at the end
        return d

    def requests(self, tag):
        """Unique customers (consent by default), singles and batches."""
        def request(worker, seq):
            def one(k):
                return {"customer": "%s-%d-%d-%d" % (tag, worker, seq, k),
                        "channel": "push", "campaign": "welcome",
                        "send_id": "sid-%d-%d-%d" % (worker, seq, k)}
            if seq % 3 == 2:
                return ("POST", "/v1/decide/batch",
                        {"requests": [one(k) for k in range(25)]})
            return ("POST", "/v1/decide", one(0))
        return request

    def answered_allowed(self, records):
        """(customer, member) of every answered allowed reservation."""
        out = []
        for r in records:
            if r.status != 200:
                continue
            if "requests" in r.body:
                self.assertEqual(len(r.resp["results"]), len(r.body["requests"]))
                pairs = zip(r.body["requests"], r.resp["results"])
            else:
                pairs = [(r.body, r.resp)]
            for req, res in pairs:
                self.assertNotEqual(res.get("reason"), "store_unavailable",
                                    "%r -> %r" % (req, res))
                if res.get("allow") is True:
                    self.assertEqual(res.get("send_id"), req["send_id"])
                    out.append((req["customer"], "push|welcome|" +
                                req["send_id"]))
        return out

    def assertReserved(self, pairs):
        with Redis(self.redis.port) as r:
            got = [[m for _, m in customer_history(r, c)] for c, _ in pairs]
        lost = [(c, m) for (c, m), h in zip(pairs, got) if m not in h]
        self.assertFalse(lost, "%d of %d answered reservations lost, e.g. %r"
                         % (len(lost), len(pairs), lost[:5]))

    def drain(self, d, hold_redis):
        load = Load(d.port, self.requests(d.name), threads=16,
                    timeout=15, stop_on_error=True)
        load.start()
        try:
            load.wait_for(100)
            pid = self.redis.proc.pid
            if hold_redis:
                # Hold every worker's request in Redis when the signal comes.
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.25)
            t_term = time.monotonic()
            inflight = metric(self.metrics(HttpClient(d.port)),
                              "pacer_inflight_requests")
            d.signal(signal.SIGTERM)
            if hold_redis:
                time.sleep(0.25)
                os.kill(pid, signal.SIGCONT)
            rc, clean = d.stop(timeout=20)
        finally:
            if hold_redis:
                os.kill(self.redis.proc.pid, signal.SIGCONT)
            records = load.stop()
        self.assertTrue(clean, "pacerd did not exit after SIGTERM")
        self.assertEqual(rc, 0, "pacerd exit status after SIGTERM")
        return records, t_term, inflight

    def check(self, d, records, t_term):
        pairs = self.answered_allowed(records)
        self.assertGreater(len(pairs), 100)
        self.assertReserved(pairs)
        log = d.log_text()
        self.assertIn('msg="draining"', log)
        self.assertIn('msg="pacerd stopped"', log)
        self.assertNotIn("exiting with requests in flight", log)
        # Whatever was answered after the signal was a full answer or 503.
        for r in records:
            if r.status is not None:
                self.assertIn(r.status, (200, 503), repr(r))

    def test_sigterm_under_load(self):
        d = self.start_daemon("drain1")
        records, t_term, _ = self.drain(d, hold_redis=False)
        self.check(d, records, t_term)

    def test_sigterm_with_requests_waiting_on_redis(self):
        d = self.start_daemon("drain2")
        records, t_term, inflight = self.drain(d, hold_redis=True)
        self.check(d, records, t_term)
        # Each worker had a request held in Redis at the signal: all of
        # them were answered in full, none cut off.
        self.assertGreater(inflight or 0, 0)
        held = [r for r in records if r.t0 < t_term - 0.15 and r.t1 > t_term]
        self.assertGreaterEqual(len(held), 8, "few requests in flight")
        self.assertFailures(held, lambda r: r.status == 200,
                            "requests in flight at SIGTERM")
        self.assertFailures(records, lambda r: r.status is not None or
                            r.t0 > t_term - 0.15,
                            "requests sent before SIGTERM")


# --------------------------------------------------------------------------
# 4. Redis AUTH

PASSWORD = "s3cret-" + uuid.uuid4().hex[:8]


class AuthRedisServer(RedisServer):
    """A throwaway redis-server that requires a password."""

    def __init__(self, workdir, password):
        super().__init__(workdir)
        self.password = password

    def start(self):
        require_redis()
        args = [redis_server_path(), "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--logfile", self.log,
                "--daemonize", "no", "--protected-mode", "no",
                "--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        _register(self.proc)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited:\n" +
                                     read_text(self.log))
            try:
                if self.cli("PING") == "PONG":
                    return self
            except Exception:       # noqa: BLE001 - not up yet
                pass
            time.sleep(0.02)
        self.stop()
        raise AssertionError("redis-server with a password did not start")

    def client(self):
        return Redis(self.port, password=self.password).connect()

    def cli(self, *args):
        with Redis(self.port, password=self.password) as r:
            return r.call(*args)


class TestRedisAuth(OpsCase):
    """Daemons with the right, a wrong and no password on one Redis."""

    @classmethod
    def setUpClass(cls):
        require_redis()
        require_binary(pacerd_path(), "pacerd")
        cls.workdir = tempfile.mkdtemp(prefix="pacer-it-auth-")
        cls.addClassCleanup(cls._remove_workdir)
        cls.redis = AuthRedisServer(cls.workdir, PASSWORD)
        cls.addClassCleanup(cls.redis.stop)
        cls.redis.start()
        cls.daemons, cls.clients = [], []
        cls.addClassCleanup(cls._stop_daemons)
        for name, pw in (("good", PASSWORD), ("wrong", "not-" + PASSWORD),
                         ("nopass", None)):
            port = free_port()
            conf = make_config(merge_overrides(
                base_overrides(port, cls.redis.port, cls.workdir),
                {"redis": {"password": pw or ""},
                 "optimizer": {"run_at": None}}))
            path = write_file(os.path.join(cls.workdir, name + ".conf"), conf)
            d = Pacerd(path, port, cls.workdir, name=name)
            cls.daemons.append(d)
            d.start()
            cls.clients.append(HttpClient(port, timeout=CLIENT_TIMEOUT))
        cls.daemon = cls.daemons[0]
        cls.http = cls.clients[0]
        cls.T0 = base_time()

    def zrange(self, customer):
        with self.redis.client() as r:
            return [m for _, m in customer_history(r, customer)]

    def test_right_password(self):
        ok, _ = wait_until(
            lambda: http_status(self.daemon.port, "/readyz") == 200, 5)
        self.assertTrue(ok, "/readyz with the right password")
        c = self.consented_customer()
        sid = "auth-" + uuid.uuid4().hex
        st, body = self.decide(c, "push", time=self.T0, send_id=sid)
        self.assertDecision(st, body, True, "ok")
        self.assertEqual(self.zrange(c), ["push||" + sid])
        self.assertEqual(metric(self.metrics(), "pacer_store_up"), 1)
        self.assertNotIn("AUTH failed", self.daemon.log_text())

    def check_refused(self, i, log_says):
        d, client = self.daemons[i], self.clients[i]
        # Not ready, and it stays so (it does not flap to 200).
        for _ in range(10):
            self.assertEqual(http_status(d.port, "/readyz"), 503, d.name)
            time.sleep(0.1)
        self.assertEqual(metric(self.metrics(client), "pacer_store_up"), 0)
        c = "auth-%s-%s" % (d.name, uuid.uuid4().hex[:8])
        for ch in ("email", "sms", "push"):
            t0 = time.monotonic()
            st, body = self.decide(c, ch, client=client, time=self.T0,
                                   send_id="s-" + ch)
            self.assertLess(time.monotonic() - t0, CLIENT_TIMEOUT)
            self.assertDecision(st, body, FAIL_ALLOW[ch], "store_unavailable",
                                msg="%s %s" % (d.name, ch))
        # Writes fail without crashing and store nothing.
        st, body = client.put("/v1/customers/" + c, {"tz": "UTC"})
        self.assertNotEqual(st, 200, body)
        st, body = client.get("/v1/customers/" + c)
        self.assertNotEqual(st, 200, body)
        with self.redis.client() as r:
            self.assertEqual(scan_keys(r, "pacer:{%s}:*" % c), [])
        self.assertTrue(d.running())
        self.assertIn(log_says, d.log_text())
        st, _ = client.get("/healthz")
        self.assertEqual(st, 200)

    def test_wrong_password(self):
        self.check_refused(1, 'msg="redis AUTH failed"')

    def test_no_password(self):
        self.check_refused(2, "NOAUTH")


if __name__ == "__main__":
    main()
