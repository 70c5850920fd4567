"""
pacertest: the harness of pacer's integration tests (Python 3 standard
library only).

Each test class gets its own throwaway redis-server on a free port (no
persistence), its own config file written from conf/pacer.conf with test
overrides, and one or more real pacerd processes started with `pacerd -c FILE`.
Everything is stopped on teardown, even when set-up fails half way; the
daemon's log is printed when a test fails.

Environment (set by ctest, see tests/CMakeLists.txt):
  PACER_SOURCE_DIR   the source tree (conf/pacer.conf, conf/offers.csv)
  PACER_BUILD_DIR    the build tree (daemon/pacerd, solver/pacer)
  PACER_KEEP_TMP=1   keep the temporary folders (logs, configs) after the run

A test is skipped only when redis-server is not installed; a missing pacerd
or pacer binary is a failure.

Typical use:

    from pacertest import PacerTestCase, main

    class TestX(PacerTestCase):
        CONF = {"channel email": {"cap": ["3/7d"]}}

        def test_ok(self):
            c = self.consented_customer()
            st, body = self.decide(c, "email")
            self.assertDecision(st, body, True, "ok")

    if __name__ == "__main__":
        main()
"""

import atexit
import calendar
import datetime
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

# --------------------------------------------------------------------------
# Locations

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.environ.get(
    "PACER_SOURCE_DIR", os.path.join(HERE, "..", "..")))
BUILD_DIR = os.path.abspath(os.environ.get(
    "PACER_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))

EXAMPLE_CONF = os.path.join(SOURCE_DIR, "conf", "pacer.conf")
OFFERS_CSV = os.path.join(SOURCE_DIR, "conf", "offers.csv")
TOKENS_EXAMPLE = os.path.join(SOURCE_DIR, "conf", "tokens")

PREFIX = "pacer"          # the [redis] prefix the tests use
START_TIMEOUT = 15.0       # seconds for a process to become ready
STOP_TIMEOUT = 15.0        # seconds for a process to exit after SIGTERM
HTTP_TIMEOUT = 10.0        # seconds for one HTTP exchange
REDIS_TIMEOUT = 10.0       # seconds for one Redis exchange


def pacerd_path():
    """Path of the pacerd binary under PACER_BUILD_DIR."""
    return os.path.join(BUILD_DIR, "daemon", "pacerd")


def pacer_path():
    """Path of the pacer command under PACER_BUILD_DIR."""
    return os.path.join(BUILD_DIR, "solver", "pacer")


def redis_server_path():
    """Path of redis-server, or None when it is not installed."""
    return shutil.which("redis-server")


def require_redis():
    """Raise unittest.SkipTest when redis-server is not installed."""
    if redis_server_path() is None:
        raise unittest.SkipTest("redis-server is not installed")


def require_binary(path, what):
    """Fail (never skip) when a project binary is missing."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError(
            "%s not found at %s (build the tree; set PACER_BUILD_DIR)"
            % (what, path))


# --------------------------------------------------------------------------
# Processes: every child is registered so that none outlives the test run.

_CHILDREN = []
_CHILDREN_LOCK = threading.Lock()


def _register(proc):
    with _CHILDREN_LOCK:
        _CHILDREN.append(proc)


def _unregister(proc):
    with _CHILDREN_LOCK:
        if proc in _CHILDREN:
            _CHILDREN.remove(proc)


def _kill_children():
    """Last resort at interpreter exit: kill what is still running."""
    with _CHILDREN_LOCK:
        procs = list(_CHILDREN)
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass


atexit.register(_kill_children)


def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_for_port(port, timeout=START_TIMEOUT, proc=None):
    """Wait until something accepts on 127.0.0.1:port; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def stop_process(proc, timeout=STOP_TIMEOUT, sig=signal.SIGTERM):
    """
    Send sig and wait; kill after timeout. Returns (exit status, whether it
    exited by itself within the timeout).
    """
    if proc.poll() is not None:
        _unregister(proc)
        return proc.returncode, True
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass
    try:
        rc = proc.wait(timeout=timeout)
        clean = True
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait(timeout=10)
        clean = False
    _unregister(proc)
    return rc, clean


def read_text(path, limit=200000):
    """A file's text (its last `limit` characters), '' if missing."""
    try:
        with open(path, "r", errors="replace") as f:
            text = f.read()
    except OSError:
        return ""
    return text[-limit:]


# --------------------------------------------------------------------------
# Redis: a tiny RESP client and a throwaway server.

class RedisError(Exception):
    """An error reply from Redis (-ERR ...)."""


class Redis:
    """A blocking RESP2 client over one socket (enough for tests)."""

    def __init__(self, port, host="127.0.0.1", timeout=REDIS_TIMEOUT,
                 password=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self.buf = b""
        self.password = password

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port),
                                             timeout=self.timeout)
        self.buf = b""
        if self.password:
            self.call("AUTH", self.password)
        return self

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, bytes):
                b = a
            else:
                b = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("redis closed the connection")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            return self._exact(n).decode("utf-8", errors="surrogateescape")
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._reply() for _ in range(n)]
        raise RedisError("bad RESP reply: %r" % line)

    def call(self, *args):
        """Send one command; return its reply (raise RedisError on -ERR)."""
        if self.sock is None:
            self.connect()
        self.sock.sendall(self.encode(args))
        r = self._reply()
        if isinstance(r, RedisError):
            raise r
        return r

    def pipeline(self, commands):
        """Send many commands at once; return their replies (errors as values)."""
        if self.sock is None:
            self.connect()
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        return [self._reply() for _ in commands]


def redis_cli(port, *args):
    """Run one Redis command on 127.0.0.1:port and return its reply."""
    with Redis(port) as r:
        return r.call(*args)


class RedisServer:
    """A throwaway redis-server: no persistence, private dir, free port."""

    def __init__(self, workdir, port=None):
        self.port = port or free_port()
        self.dir = os.path.join(workdir, "redis-%d" % self.port)
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "redis.log")
        self.proc = None

    def start(self):
        require_redis()
        args = [redis_server_path(), "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--logfile", self.log,
                "--daemonize", "no", "--protected-mode", "no"]
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

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, timeout=5)
            self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self):
        return Redis(self.port).connect()

    def cli(self, *args):
        return redis_cli(self.port, *args)


def redis_dump(port, match="*"):
    """
    Every key matching `match` with its type and value (TTLs left out), as a
    dict that compares equal when the data is the same.
    """
    out = {}
    with Redis(port) as r:
        keys = scan_keys(r, match)
        for k in keys:
            t = r.call("TYPE", k)
            if t == "string":
                v = r.call("GET", k)
            elif t == "hash":
                flat = r.call("HGETALL", k) or []
                v = dict(zip(flat[0::2], flat[1::2]))
            elif t == "zset":
                v = r.call("ZRANGE", k, 0, -1, "WITHSCORES")
            elif t == "list":
                v = r.call("LRANGE", k, 0, -1)
            elif t == "set":
                v = sorted(r.call("SMEMBERS", k))
            elif t == "stream":
                v = r.call("XRANGE", k, "-", "+")
            elif t == "none":
                continue        # expired between SCAN and TYPE
            else:
                v = "<%s>" % t
            out[k] = (t, v)
    return out


def scan_keys(r, match="*"):
    """Every key matching `match`, by SCAN (sorted)."""
    keys, cursor = set(), "0"
    while True:
        cursor, batch = r.call("SCAN", cursor, "MATCH", match, "COUNT", 1000)
        keys.update(batch)
        if cursor == "0":
            return sorted(keys)


SLOTS = 16384


def crc16(data):
    """CRC16/XMODEM, as Redis Cluster hashes keys."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xffff
    return crc


_slot_tags = []


def slot_tag(slot):
    """slot_tag() of solver/model/slot.c: the first string of 1 to 4 of
    [0-9a-z] (shortest first, in order) whose CRC16 falls in the slot."""
    if not _slot_tags:
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"
        tags, left = [None] * SLOTS, SLOTS
        for n in range(1, 5):
            for t in itertools.product(digits, repeat=n):
                s = "".join(t)
                k = crc16(s.encode()) % SLOTS
                if tags[k] is None:
                    tags[k] = s
                    left -= 1
                    if left == 0:
                        break
            if left == 0:
                break
        _slot_tags.extend(tags)
    return _slot_tags[slot]


def customer_hash(customer):
    """keys_hash() of solver/model/keys.c: FNV-1a 64, then a mix."""
    m = (1 << 64) - 1
    h = 1469598103934665603
    for b in customer.encode():
        h ^= b
        h = (h * 1099511628211) & m
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & m
    h ^= h >> 33
    return h


def plan_bucket(stem, customer, prefix="pacer"):
    """The key of the plan bucket of stem (a run's field plan) holding
    customer's entry (include/pacer/keys.h): PREFIX:plan:{TAG}:STEM:K, TAG
    of its slot, K its part."""
    return "%s:plan:{%s}:%s:%x" % (
        prefix, slot_tag(crc16(customer.encode()) % SLOTS), stem,
        customer_hash(customer) >> 60)


def plan_records(blob):
    """customer -> set of offers of a bucket ("\nCUSTOMER\tOFFERS"...)."""
    out = {}
    for rec in (blob or "").split("\n")[1:]:
        c, offers = rec.split("\t")
        out[c] = set(offers.split(","))
    return out


def plan_stem(call, run, prefix="pacer"):
    """Where run's plan entries are (its hash's field plan), or None."""
    return call("HGET", "%s:run:%s" % (prefix, run), "plan")


def plan_entry(call, run, customer, prefix="pacer"):
    """The set of offers run plans for customer, or None."""
    stem = plan_stem(call, run, prefix)
    blob = stem and call("GET", plan_bucket(stem, customer, prefix))
    return plan_records(blob).get(customer)


def plan_entries(r, run, prefix="pacer"):
    """customer -> set of offers of run's plan buckets in Redis r."""
    out = {}
    stem = plan_stem(r.call, run, prefix)
    if stem is None:
        return out
    for k in scan_keys(r, "%s:plan:{*}:%s:?" % (prefix, stem)):
        out.update(plan_records(r.call("GET", k)))
    return out


def in_holdout(customer, share):
    """keys_in_holdout() of solver/model/keys.c."""
    if share <= 0:
        return False
    return customer_hash(customer) % 1000000 < share * 1000000.0


def parse_history(h, categories=False):
    """
    Field h ("TIME|CHANNEL|CAMPAIGN|SEND_ID\n" per contact, with
    "|CATEGORY" before the newline for an offer of a category) as a list of
    (time, channel, campaign, send_id), and the category ("" for none) as a
    fifth item when categories; raises ValueError when malformed.
    """
    out = []
    if not h:
        return out
    if not h.endswith("\n"):
        raise ValueError("h does not end with a newline: %r" % h)
    for line in h[:-1].split("\n"):
        f = line.split("|")
        if len(f) not in (4, 5) or not f[0].isdigit() or not f[1] or \
                (len(f) == 5 and not f[4]):
            raise ValueError("malformed history entry %r" % line)
        e = (int(f[0]), f[1], f[2], f[3])
        out.append(e + (f[4] if len(f) == 5 else "",) if categories else e)
    return out


def customer_history(r, customer, prefix=PREFIX):
    """
    A customer's contact history (field h of the customer hash, see
    include/pacer/keys.h) as [(time, "CHANNEL|CAMPAIGN|SEND_ID"), ...].
    """
    h = r.call("HGET", "%s:{%s}:p" % (prefix, customer), "h")
    return [(t, "%s|%s|%s" % (ch, cp, sid))
            for t, ch, cp, sid in parse_history(h)]


def customer_records(r, customer, prefix=PREFIX):
    """A customer's decision records: {send_id: "reason|retry|..."}."""
    flat = r.call("HGETALL", "%s:{%s}:p" % (prefix, customer)) or []
    return {k[2:]: v for k, v in zip(flat[0::2], flat[1::2])
            if k.startswith("d:")}


def customer_pattern(customer, prefix=PREFIX):
    """The SCAN pattern of every key of one customer ("pacer:{C}:*")."""
    return "%s:{%s}:*" % (prefix, customer)


# --------------------------------------------------------------------------
# Config files: the documented example with test overrides.

def _strip_comment(line):
    """The line without its ';' or '#' comment."""
    for i, ch in enumerate(line):
        if ch in ";#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def make_config(overrides=None, base=None):
    """
    Config text: base (default: conf/pacer.conf) with overrides applied.

    overrides maps a section name ("server", "channel email", ...) to either
    None (drop the whole section) or a dict of key -> value, where value is a
    string (replace every line of that key by one), a list of strings
    (replace by several lines, e.g. caps), or None (drop the key). Sections
    not in the base are appended. Comments of untouched lines are kept.
    """
    if base is None:
        with open(EXAMPLE_CONF) as f:
            base = f.read()
    overrides = overrides or {}
    sections = []            # [(name or None, [lines])]
    cur = (None, [])
    sections.append(cur)
    for line in base.splitlines():
        s = _strip_comment(line).strip()
        if s.startswith("[") and s.endswith("]"):
            cur = (s[1:-1].strip(), [line])
            sections.append(cur)
        else:
            cur[1].append(line)
    out = []
    seen = set()
    for name, lines in sections:
        if name is not None and name in overrides:
            seen.add(name)
            ov = overrides[name]
            if ov is None:
                continue
            out.extend(_apply_section(lines, ov))
        else:
            out.extend(lines)
    for name, ov in overrides.items():
        if name in seen or ov is None:
            continue
        out.append("")
        out.extend(_apply_section(["[%s]" % name], ov))
    return "\n".join(out) + "\n"


def _values(v):
    return [] if v is None else (list(v) if isinstance(v, (list, tuple))
                                 else [v])


def _apply_section(lines, ov):
    """Apply one section's key overrides to its lines (header first)."""
    result = [lines[0]]
    placed = set()
    for line in lines[1:]:
        s = _strip_comment(line).strip()
        key = s.split("=", 1)[0].strip() if "=" in s else None
        if key is not None and key in ov:
            if key not in placed:
                placed.add(key)
                result.extend("%s = %s" % (key, _str(v))
                              for v in _values(ov[key]))
            continue
        result.append(line)
    # Keys new to the section go after its last non-blank line.
    while len(result) > 1 and result[-1].strip() == "":
        result.pop()
    for key, v in ov.items():
        if key not in placed:
            result.extend("%s = %s" % (key, _str(x)) for x in _values(v))
    result.append("")
    return result


def _str(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def merge_overrides(*layers):
    """Merge override dicts; later layers win per key (None drops)."""
    out = {}
    for layer in layers:
        for sec, ov in (layer or {}).items():
            if ov is None:
                out[sec] = None
            elif out.get(sec) is None:
                out[sec] = dict(ov)
            else:
                out[sec].update(ov)
    return out


def base_overrides(http_port, redis_port, workdir):
    """
    What every test config changes in the example: private ports, client
    time, absolute paths, no holdout and no plan enforcement (tests of those
    turn them back on), and no scheduled optimizer run.
    """
    return {
        "server": {"listen": "127.0.0.1:%d" % http_port,
                   "allow_client_time": "true"},
        "redis": {"host": "127.0.0.1", "port": str(redis_port),
                  "prefix": PREFIX, "timeout_ms": "1000"},
        "optimizer": {"offers": OFFERS_CSV,
                      "scores": os.path.join(workdir, "scores.csv"),
                      "out_dir": os.path.join(workdir, "reports"),
                      "holdout": "0", "enforce_plan": "false"},
    }


def midday_zone():
    """
    An Etc/GMT zone where it is 11:00-13:59 now (Etc/GMT-N is UTC+N): for a
    customer of a test whose decisions carry no time, so that the store's
    clock decides and no quiet hours may apply whatever the hour of the run.
    """
    offset = 12 - time.gmtime().tm_hour          # -11 .. 12
    return "Etc/GMT%+d" % -offset if offset else "UTC"


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def check_config(path, timeout=30):
    """Run `pacerd -t -c path`; return the CompletedProcess."""
    require_binary(pacerd_path(), "pacerd")
    return subprocess.run([pacerd_path(), "-t", "-c", path],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


# --------------------------------------------------------------------------
# HTTP

class HttpClient:
    """
    A keep-alive HTTP/1.1 client for one pacerd. request() returns
    (status, body) where body is the parsed JSON when it parses, else text;
    the last response's headers are in .headers.
    """

    def __init__(self, port, host="127.0.0.1", token=None,
                 timeout=HTTP_TIMEOUT):
        self.host, self.port, self.token, self.timeout = host, port, token, \
            timeout
        self.conn = None
        self.headers = {}
        self.raw = b""

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port,
                                               timeout=self.timeout)

    def request(self, method, path, body=None, headers=None, token=None):
        """
        body: dict/list (sent as JSON), str/bytes (sent as is) or None.
        token: overrides the client's token; "" sends no Authorization.
        """
        hdrs = {}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body, separators=(",", ":"))
            hdrs["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        tok = self.token if token is None else token
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        hdrs.update(headers or {})
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self._connect()
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError, http.client.CannotSendRequest,
                    http.client.BadStatusLine) as e:
                # A kept-alive connection the server closed: retry once on a
                # new one (the request never reached it). A fresh connection
                # failing is a real error.
                self.close()
                if fresh or attempt == 1:
                    raise e
        self.headers = {k.lower(): v for k, v in resp.getheaders()}
        self.raw = data
        if self.headers.get("connection", "").lower() == "close" or \
                resp.will_close:
            self.close()
        return resp.status, parse_body(data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def parse_body(data):
    """JSON when it parses, else the text."""
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def raw_http(port, data, timeout=HTTP_TIMEOUT, host="127.0.0.1"):
    """
    Send raw bytes on a new connection (tolerating the server closing early,
    e.g. on an oversized body) and read one response.
    Returns (status, headers dict, parsed body); status None when the server
    closed without answering.
    """
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except ConnectionResetError:
            pass
        if b"\r\n\r\n" not in buf:
            return None, {}, None
        head, body = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "-1"))
        try:
            while n >= 0 and len(body) < n:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
        except ConnectionResetError:
            pass
        if n >= 0:
            body = body[:n]
        return status, headers, parse_body(body)
    finally:
        s.close()


# --------------------------------------------------------------------------
# pacerd and pacer

class Pacerd:
    """One pacerd process: `pacerd -c FILE`, stderr captured to a log."""

    def __init__(self, conf_path, port, workdir, name="pacerd"):
        self.conf_path, self.port, self.workdir = conf_path, port, workdir
        self.log = os.path.join(workdir, "%s.log" % name)
        self.proc = None
        self.name = name

    def command(self):
        """The command line and environment (None: ours) that start it."""
        return [pacerd_path(), "-c", self.conf_path], None

    def start(self, timeout=START_TIMEOUT):
        """Start and wait until GET /healthz answers 200."""
        require_binary(pacerd_path(), "pacerd")
        cmd, env = self.command()
        logf = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                cwd=self.workdir, env=env)
        finally:
            logf.close()
        _register(self.proc)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                _unregister(self.proc)
                raise AssertionError("%s exited with %s at start:\n%s" % (
                    self.name, rc, read_text(self.log)))
            try:
                c = HttpClient(self.port, timeout=1.0)
                st, _ = c.get("/healthz")
                c.close()
                if st == 200:
                    return self
                last = "status %s" % st
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.02)
        self.kill()
        raise AssertionError("%s: /healthz not 200 within %ss (%s):\n%s" % (
            self.name, timeout, last, read_text(self.log)))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; returns (exit status, exited in time). Kills on timeout."""
        if self.proc is None:
            return 0, True
        rc, clean = stop_process(self.proc, timeout)
        self.proc = None
        return rc, clean

    def stop_and_check(self, timeout=STOP_TIMEOUT):
        """SIGTERM and assert a clean exit 0."""
        was_running = self.running()
        rc, clean = self.stop(timeout)
        if not was_running and rc != 0:
            raise AssertionError("%s had already exited with %s:\n%s" % (
                self.name, rc, read_text(self.log)))
        if not clean:
            raise AssertionError("%s did not exit within %ss of SIGTERM:\n%s"
                                 % (self.name, timeout, read_text(self.log)))
        if rc != 0:
            raise AssertionError("%s exited with %s after SIGTERM:\n%s" % (
                self.name, rc, read_text(self.log)))

    def kill(self):
        if self.proc is not None:
            stop_process(self.proc, timeout=2, sig=signal.SIGKILL)
            self.proc = None

    def log_text(self):
        return read_text(self.log)


def run_pacer(*args, timeout=120, cwd=None, input=None):
    """Run the pacer command; return the CompletedProcess (text mode)."""
    require_binary(pacer_path(), "pacer")
    return subprocess.run([pacer_path()] + [str(a) for a in args],
                          stdin=subprocess.DEVNULL if input is None else None,
                          input=input, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


# --------------------------------------------------------------------------
# Time

DAY = 86400
WEEK = 7 * DAY


def base_time():
    """
    A deterministic time of day in the near future: 12:00:00 UTC two days
    from now. (Near "now" so that a store expiring keys by the request's
    time never drops them early; in the future so that tests may walk
    forward a few weeks.)
    """
    return (int(time.time()) // DAY + 2) * DAY + 12 * 3600


def local_to_unix(zone, year, month, day, hour=0, minute=0, second=0,
                  fold=0):
    """Unix seconds of a wall-clock time in an IANA zone."""
    from zoneinfo import ZoneInfo
    dt = datetime.datetime(year, month, day, hour, minute, second,
                           tzinfo=ZoneInfo(zone), fold=fold)
    return int(dt.timestamp())


def next_transitions(zone, after=None, count=2):
    """
    The next `count` UTC-offset changes of zone after `after` (unix seconds):
    a list of (unix seconds of the change, offset before, offset after).
    """
    from zoneinfo import ZoneInfo
    tz = ZoneInfo(zone)
    t = int(after if after is not None else time.time())
    t -= t % 3600

    def off(x):
        return int(datetime.datetime.fromtimestamp(x, tz).utcoffset()
                   .total_seconds())
    out = []
    prev = off(t)
    end = t + 3 * 366 * DAY
    while t < end and len(out) < count:
        t += 3600
        o = off(t)
        if o != prev:
            # Refine to the second inside the last hour.
            lo, hi = t - 3600, t
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(mid) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, prev, o))
            prev = o
    return out


def utc_midnight(t):
    return t - t % DAY


# --------------------------------------------------------------------------
# The test base class

def unique(tag="c"):
    """A fresh customer id (valid alphabet), unique in this run."""
    return "%s-%s" % (tag, uuid.uuid4().hex[:16])


class PacerTestCase(unittest.TestCase):
    """
    Per class: a redis-server, a config from conf/pacer.conf + base_overrides
    + CONF, and DAEMONS pacerd processes on that Redis (self.http talks to
    the first; self.clients[i] to each). Customers are unique per test, so
    tests of one class share the store without meeting.
    """

    CONF = {}          # overrides on top of test_overrides (see make_config)
    DAEMONS = 1
    TOKEN = None       # Bearer token self.http sends, if any

    @classmethod
    def setUpClass(cls):
        require_redis()
        require_binary(pacerd_path(), "pacerd")
        cls.workdir = tempfile.mkdtemp(prefix="pacer-it-%s-" % cls.__name__)
        cls.addClassCleanup(cls._remove_workdir)
        cls.redis = RedisServer(cls.workdir)
        cls.addClassCleanup(cls.redis.stop)
        cls.redis.start()
        cls.daemons = []
        cls.clients = []
        cls.addClassCleanup(cls._stop_daemons)
        cls.conf_paths = []
        for i in range(cls.DAEMONS):
            port = free_port()
            conf = make_config(merge_overrides(
                base_overrides(port, cls.redis.port, cls.workdir),
                cls.extra_conf(), cls.CONF))
            path = write_file(os.path.join(cls.workdir, "pacer%d.conf" % i),
                              conf)
            cls.conf_paths.append(path)
            d = Pacerd(path, port, cls.workdir, name="pacerd%d" % i)
            cls.daemons.append(d)
            d.start()
            cls.clients.append(HttpClient(port, token=cls.TOKEN))
        cls.daemon = cls.daemons[0]
        cls.http = cls.clients[0]
        cls.conf_path = cls.conf_paths[0]
        cls.T0 = base_time()

    @classmethod
    def extra_conf(cls):
        """Overrides computed at set-up (subclasses: e.g. paths in workdir)."""
        return {}

    @classmethod
    def _stop_daemons(cls):
        for c in cls.clients:
            c.close()
        errors = []
        for d in cls.daemons:
            try:
                d.stop_and_check()
            except AssertionError as e:
                errors.append(str(e))
        if errors:
            raise AssertionError("\n".join(errors))

    @classmethod
    def _remove_workdir(cls):
        if os.environ.get("PACER_KEEP_TMP"):
            sys.stderr.write("kept %s\n" % cls.workdir)
            return
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def run(self, result=None):
        """Run the test; print the daemons' logs when it failed."""
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            for d in getattr(self, "daemons", []):
                sys.stderr.write("\n----- %s log (%s) -----\n%s\n-----\n" % (
                    d.name, self.id(), d.log_text()[-20000:]))
        return out

    # -- helpers -----------------------------------------------------------

    def customer(self, tag=None):
        """A fresh, unique customer id."""
        return unique(tag or self._testMethodName[5:17].replace("_", "-"))

    def put_customer(self, customer, client=None, expect=200, **profile):
        """PUT /v1/customers/{id} with profile fields; assert the status."""
        st, body = (client or self.http).put("/v1/customers/" + customer,
                                             profile)
        self.assertEqual(st, expect, "PUT %s %r -> %s %r" % (
            customer, profile, st, body))
        return body

    def consented_customer(self, tag=None, tz="UTC", segments=None,
                           channels=("email", "sms", "push")):
        """A new customer with consent on the given channels."""
        c = self.customer(tag)
        profile = {"consent": {ch: True for ch in channels}, "tz": tz}
        if segments is not None:
            profile["segments"] = segments
        self.put_customer(c, **profile)
        return c

    def decide(self, customer, channel, client=None, path="/v1/decide",
               **fields):
        """POST /v1/decide; fields are campaign, offer, send_id, time, ..."""
        req = {"customer": customer, "channel": channel}
        req.update({k: v for k, v in fields.items() if v is not None})
        return (client or self.http).post(path, req)

    def assertDecision(self, status, body, allow, reason, rule=None,
                       retry_after=None, msg=""):
        """Assert a 200 decision with exactly these fields."""
        ctx = "%s -> %s %r" % (msg, status, body)
        self.assertEqual(status, 200, ctx)
        self.assertIsInstance(body, dict, ctx)
        self.assertIs(body.get("allow"), allow, ctx)
        self.assertEqual(body.get("reason"), reason, ctx)
        self.assertIsInstance(body.get("send_id"), str, ctx)
        self.assertTrue(body["send_id"], ctx)
        if rule is not None:
            self.assertEqual(body.get("rule"), rule, ctx)
        if retry_after is not None:
            self.assertEqual(body.get("retry_after"), retry_after, ctx)
        if allow:
            self.assertIsNone(body.get("rule"), ctx)
        return body

    def assertError(self, status, body, expect_status=None, mentions=None,
                    msg=""):
        """Assert a 4xx with {"error": "...", "code": "..."} (naming
        `mentions` if given)."""
        ctx = "%s -> %s %r" % (msg, status, body)
        if expect_status is not None:
            self.assertEqual(status, expect_status, ctx)
        else:
            self.assertTrue(400 <= status < 500, ctx)
        self.assertIsInstance(body, dict, ctx)
        self.assertIn("error", body, ctx)
        self.assertIsInstance(body["error"], str, ctx)
        self.assertTrue(body["error"], ctx)
        # Every error carries a stable machine-readable code (SPEC 3).
        self.assertRegex(body.get("code", ""), r"^[a-z][a-z_]*$", ctx)
        if mentions is not None:
            words = mentions if isinstance(mentions, (list, tuple)) \
                else [mentions]
            low = body["error"].lower()
            self.assertTrue(any(w.lower() in low for w in words),
                            "error should name one of %r: %s" % (words, ctx))

    def dump(self, match="*"):
        """The store's keys and values (see redis_dump)."""
        return redis_dump(self.redis.port, match)

    def customer_keys(self, customer):
        """Every key of one customer, by SCAN MATCH "pacer:{C}:*"."""
        with Redis(self.redis.port) as r:
            return scan_keys(r, customer_pattern(customer))

    def feature_present(self, method, path, body=None, client=None):
        """
        Whether the daemon serves method+path: not 404, 405 or 501.
        (A route that does not exist yet answers 404 or 405.)
        """
        st, _ = (client or self.http).request(method, path, body)
        return st not in (404, 405, 501)

    def requireFeature(self, method, path, body=None, client=None):
        """Skip this test when the daemon does not serve method+path yet."""
        if not self.feature_present(method, path, body, client):
            self.skipTest("pacerd does not serve %s %s yet" % (method, path))


def needs_feature(method, path, body=None):
    """
    Decorator: skip the test when the running daemon answers method+path
    with 404/405/501 (the endpoint does not exist yet). The probe runs at
    test time against the class's daemon (not at import, when none runs).
    """
    def deco(fn):
        def wrapper(self, *a, **kw):
            self.requireFeature(method, path, body)
            return fn(self, *a, **kw)
        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper
    return deco


def main():
    """unittest.main with verbose output (what ctest shows on failure)."""
    unittest.main(verbosity=2)
