"""
promisekit: what the tests of the promise (issue 12) add to pacertest.

- FaultRedis: a throwaway redis-server that allows DEBUG (DEBUG SLEEP) and
  can be paused (SIGSTOP/SIGCONT), killed and restarted on the same port.
- SkewedPacerd: a pacerd whose clock is off by a fixed amount, run under
  Debian's faketime (libfaketime). Under an ASan build the sanitizer's
  runtime is preloaded first, as ASan requires.
- SkewCase: a PacerTestCase whose Redis is a FaultRedis and whose daemons
  may each run with a clock offset (CLOCKS).
- cap_violations: the promise as a checker: for every cap N/W and every
  instant s, at most N contacts in (s - W, s].
- metrics, warn-line counting, RSS and timing-margin helpers.
"""

import calendar
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from pacertest import (
    PacerTestCase, Pacerd, RedisServer, HttpClient, RedisError,
    START_TIMEOUT, _register, base_overrides, base_time,
    free_port, make_config, merge_overrides, pacerd_path, read_text,
    redis_cli, redis_server_path, require_binary, require_redis,
    stop_process, write_file)

# --------------------------------------------------------------------------
# The build under test

def asan_runtime():
    """
    The AddressSanitizer runtime pacerd is linked with (a path), or None for
    a build without it.
    """
    try:
        out = subprocess.run(["ldd", pacerd_path()], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "libasan" in line and "=>" in line:
            path = line.split("=>", 1)[1].strip().split(" ")[0]
            if os.path.exists(path):
                return path
    return None


def sanitized():
    """Whether pacerd is an ASan build (slower: bounds get more room)."""
    return asan_runtime() is not None or "asan" in \
        os.environ.get("PACER_BUILD_DIR", "").lower()


def slack(release, asan):
    """A timing margin: `release` seconds, or `asan` under the sanitizer."""
    return asan if sanitized() else release


# --------------------------------------------------------------------------
# faketime

def faketime_path():
    return shutil.which("faketime")


def libfaketime_path():
    """The preloadable libfaketime of Debian's faketime package."""
    for pattern in ("/usr/lib/*/faketime/libfaketime.so.1",
                    "/usr/lib/faketime/libfaketime.so.1",
                    "/usr/local/lib/faketime/libfaketime.so.1"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def require_faketime():
    """faketime is a test dependency (scripts/deps.sh): fail, never skip."""
    if faketime_path() is None or libfaketime_path() is None:
        raise AssertionError("faketime is not installed (scripts/deps.sh "
                             "lists it: apt-get install faketime)")


class SkewedPacerd(Pacerd):
    """
    A pacerd whose clock is off by `offset` (faketime's syntax: "+0.5s",
    "-0.2s"); offset None runs it plainly.
    """

    def __init__(self, conf_path, port, workdir, name="pacerd",
                 offset=None):
        super().__init__(conf_path, port, workdir, name)
        self.offset = offset

    def command(self):
        """
        The command line and environment. libfaketime is preloaded directly
        rather than through the faketime wrapper: the wrapper stays as the
        parent, so SIGTERM would stop it and orphan pacerd.
        """
        cmd = [pacerd_path(), "-c", self.conf_path]
        if self.offset is None:
            return cmd, None
        env = dict(os.environ)
        # ASan's runtime must come first in the preload list.
        rt = asan_runtime()
        env["LD_PRELOAD"] = ":".join(
            ([rt] if rt is not None else []) + [libfaketime_path()])
        env["FAKETIME"] = self.offset
        return cmd, env

    def start(self, timeout=START_TIMEOUT):
        """Start (under faketime when skewed); wait for /healthz 200."""
        if self.offset is not None:
            require_faketime()
        return super().start(timeout)

    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def clock_lead(self, timeout=10.0):
        """
        How far ahead of the host's clock the daemon's clock is (seconds,
        negative when behind): SIGHUP makes it log "config reloaded" (the
        same config), whose time stamp (its clock) is compared with the
        moment the signal went (plus the little it took to handle it).
        """
        mark = os.path.getsize(self.log)
        sent = time.time()
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log, "rb") as f:
                f.seek(mark)
                text = f.read(65536).decode("utf-8", errors="replace")
            for line in text.splitlines():
                m = _LOG_TS.search(line)
                if m and "reloaded" in line:
                    t = calendar.timegm(time.strptime(m.group(1),
                                                      "%Y-%m-%dT%H:%M:%S"))
                    return t + int(m.group(2)) / 1000.0 - sent
            time.sleep(0.02)
        raise AssertionError("%s: no \"config reloaded\" line within %ss "
                             "of SIGHUP:\n%s" % (self.name, timeout, text))


_LOG_TS = re.compile(r"ts=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z")


# --------------------------------------------------------------------------
# Redis that can be paused, put to sleep, killed and restarted

class FaultRedis(RedisServer):
    """A RedisServer with DEBUG enabled, and fault switches."""

    def start(self):
        require_redis()
        args = [redis_server_path(), "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--logfile", self.log,
                "--daemonize", "no", "--protected-mode", "no",
                "--enable-debug-command", "yes"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        _register(self.proc)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited (%s):\n%s" % (
                    self.proc.returncode, read_text(self.log)))
            try:
                if redis_cli(self.port, "PING") == "PONG":
                    return self
            except (OSError, ConnectionError, RedisError):
                pass
            time.sleep(0.02)
        self.stop()
        raise AssertionError("redis-server did not answer PING on port %d"
                             % self.port)

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def kill(self):
        """SIGKILL: gone at once, its data with it (no persistence)."""
        if self.proc is not None:
            stop_process(self.proc, timeout=5, sig=signal.SIGKILL)
            self.proc = None

    def restart(self):
        """Start again on the same port (empty)."""
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.start()
            except AssertionError:
                # The port may linger a moment after the kill.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def server_time(self):
        """Redis's clock (TIME) in unix seconds (float)."""
        s, us = self.cli("TIME")
        return int(s) + int(us) / 1e6


# --------------------------------------------------------------------------
# A test class on a FaultRedis, daemons with clock offsets

class SkewCase(PacerTestCase):
    """
    Like PacerTestCase, with CLOCKS: one entry per daemon, None (the host's
    clock) or a faketime offset such as "+0.5s". DAEMON_CONF: per-daemon
    overrides on top of CONF (a list, one dict per daemon, or empty).
    """

    CLOCKS = [None]
    DAEMON_CONF = []

    @classmethod
    def setUpClass(cls):
        require_redis()
        require_binary(pacerd_path(), "pacerd")
        if any(c is not None for c in cls.CLOCKS):
            require_faketime()
        cls.workdir = tempfile.mkdtemp(prefix="pacer-it-%s-" % cls.__name__)
        cls.addClassCleanup(cls._remove_workdir)
        cls.redis = FaultRedis(cls.workdir)
        cls.addClassCleanup(cls._stop_redis)
        cls.redis.start()
        cls.daemons = []
        cls.clients = []
        cls.addClassCleanup(cls._stop_daemons)
        cls.conf_paths = []
        for i, offset in enumerate(cls.CLOCKS):
            port = free_port()
            own = cls.DAEMON_CONF[i] if i < len(cls.DAEMON_CONF) else {}
            conf = make_config(merge_overrides(
                base_overrides(port, cls.redis.port, cls.workdir),
                cls.extra_conf(), cls.CONF, own))
            path = write_file(os.path.join(cls.workdir, "pacer%d.conf" % i),
                              conf)
            cls.conf_paths.append(path)
            d = SkewedPacerd(path, port, cls.workdir, name="pacerd%d" % i,
                             offset=offset)
            cls.daemons.append(d)
            d.start()
            cls.clients.append(HttpClient(port, token=cls.TOKEN))
        cls.daemon = cls.daemons[0]
        cls.http = cls.clients[0]
        cls.conf_path = cls.conf_paths[0]
        cls.T0 = base_time()

    @classmethod
    def _stop_redis(cls):
        # A test may leave it paused: wake it so that it stops.
        try:
            if cls.redis.proc is not None:
                cls.redis.resume()
        except (ProcessLookupError, OSError):
            pass
        cls.redis.stop()


# --------------------------------------------------------------------------
# The promise as a checker

def cap_violations(contacts, caps):
    """
    contacts: [(time, channel, campaign)] of one customer (allowed,
    uncancelled, not dry runs; campaign "" for none).
    caps: [(name, scope, channel, limit, window)] with scope "channel"
    (contacts on `channel`), "all" or "campaign" (per campaign, contacts
    that name one).
    Returns [(cap name, window end s, contacts in (s - W, s], limit)]: every
    window that holds too many. The count in (s - W, s] only grows at a
    contact's time, so the windows ending at each contact are all there is
    to check.
    """
    out = []
    for name, scope, channel, limit, window in caps:
        groups = {}
        for t, ch, cp in contacts:
            if scope == "channel" and ch != channel:
                continue
            if scope == "campaign":
                if not cp:
                    continue
                groups.setdefault(cp, []).append(t)
            else:
                groups.setdefault("", []).append(t)
        for key, times in groups.items():
            times.sort()
            lo = 0
            for hi, s in enumerate(times):
                while times[lo] <= s - window:
                    lo += 1
                # times[hi+1..] equal to s are in the window too.
                end = hi
                while end + 1 < len(times) and times[end + 1] == s:
                    end += 1
                n = end - lo + 1
                if n > limit and (hi == 0 or times[hi - 1] != s):
                    out.append(("%s%s" % (name, " " + key if key else ""),
                                s, n, limit))
    return out


# --------------------------------------------------------------------------
# Observing a daemon

_METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def metrics(client):
    """GET /metrics as {"name{labels}": value} (labels as written)."""
    st, body = client.get("/metrics")
    if st != 200:
        raise AssertionError("/metrics -> %s %r" % (st, body))
    text = body if isinstance(body, str) else str(body)
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC.match(line)
        if m:
            try:
                out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
            except ValueError:
                pass
    return out


def decisions_metric(m, channel, reason):
    """pacer_decisions_total for one channel and reason (0 when absent)."""
    total = 0.0
    for k, v in m.items():
        if k.startswith("pacer_decisions_total{") and \
                'channel="%s"' % channel in k and 'reason="%s"' % reason in k:
            total += v
    return total


def labelled_metric(m, name, **labels):
    """
    The sum of a metric's samples that carry these labels; None when no
    sample of that name exists at all.
    """
    found, total = False, 0.0
    for k, v in m.items():
        if k == name or k.startswith(name + "{"):
            found = True
            if all('%s="%s"' % kv in k for kv in labels.items()):
                total += v
    return total if found else None


def rss_kb(pid):
    """VmRSS of a process in kB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class LogMark:
    """A position in a daemon's log: what was written since."""

    def __init__(self, daemon):
        self.path = daemon.log
        try:
            self.offset = os.path.getsize(self.path)
        except OSError:
            self.offset = 0

    def text(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def lines(self, level):
        """Lines since the mark at `level` (warn, error, ...)."""
        tag = "level=%s" % level
        return [l for l in self.text().splitlines() if tag in l]
