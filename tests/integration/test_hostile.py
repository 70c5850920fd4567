"""
Hostile clients against a real pacerd (issue 12, point 5; README "HTTP
deadlines"):

- 5,000 slow connections (one byte a second, a head begun and never
  finished, or nothing at all) while a normal client, on a new connection
  each time, is answered within a second; the slow ones are closed by the
  head deadline (10 s from the first byte or the accept, never refreshed
  by the bytes that trickle in) with a 408 counted in /metrics;
- past server.max_connections, a new connection is refused with a 503
  written before it sends a byte (so without reading it), counted in
  /metrics, while the admitted connections serve on; a slow head yields its
  slot to a new connection;
- 100,000 pipelined requests on four connections, all answered in order;
- accept() failing (EMFILE) does not spin the event loop: the listener
  pauses, the warning is rate-limited, and service resumes once descriptors
  are free.

Figures (slow-client answer times, pipelined throughput) go to stderr.
"""
import os
import re
import resource
import socket
import sys
import threading
import time

from pacertest import HttpClient, PacerTestCase, main

HEAD_TIMEOUT = 10.0     # daemon/http.c HTTP_HEAD_TIMEOUT_MS
SLOW_CONNECTIONS = 5000
PIPELINED = 100000
PIPE_CONNECTIONS = 4


def raise_nofile(want):
    """Raise this process's descriptor limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return True
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            return False
        return True
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return True


# Before any daemon starts, so that it inherits room for its connections.
NOFILE_OK = raise_nofile(SLOW_CONNECTIONS + 1024)


def metrics_text(port):
    c = HttpClient(port, timeout=5.0)
    try:
        st, text = c.get("/metrics")
    finally:
        c.close()
    assert st == 200, (st, text)
    return text


def sample(text, name, labels=""):
    """One sample of a /metrics text, 0 when absent."""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)),
                  text, re.M)
    return float(m.group(1)) if m else 0.0


def http_errors(port, status):
    return sample(metrics_text(port), "pacer_http_errors_total",
                  '{status="%d"}' % status)


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    """Responses read one by one from a socket (offsets, no copying)."""

    def __init__(self, sock):
        self.sock, self.buf, self.pos = sock, b"", 0

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise EOFError("closed before a whole response")
        self.buf = self.buf[self.pos:] + data
        self.pos = 0

    def response(self):
        """(status, headers with lower-case names, body)."""
        while True:
            end = self.buf.find(b"\r\n\r\n", self.pos)
            if end >= 0:
                break
            self._fill()
        lines = self.buf[self.pos:end].decode("latin-1").split("\r\n")
        start = end + 4
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < start + n:
            shift = self.pos
            self._fill()
            start -= shift
        body = self.buf[start:start + n]
        self.pos = start + n
        return status, headers, body


def read_response(sock):
    """(status, headers, body) of the one response expected on sock."""
    return Reader(sock).response()


def closed_by_server(sock, timeout):
    """Whether the server closes sock within timeout (reading what comes)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TestSlowClients(PacerTestCase):
    CONF = {"server": {"max_connections": "4096"},
            "consent": {"default": "allow"}}

    def probe(self, times, statuses):
        """A normal client on a new connection: GET /healthz, then a decision."""
        t = time.monotonic()
        c = HttpClient(self.daemon.port, timeout=5.0)
        try:
            st, _ = c.get("/healthz")
            statuses.append(st)
            st, body = c.post("/v1/decide", {
                "customer": "normal", "channel": "push", "dry_run": True})
            statuses.append(st)
        except OSError as e:
            statuses.append(repr(e))
        finally:
            c.close()
        times.append(time.monotonic() - t)

    def test_slow_connections_do_not_starve_a_normal_client(self):
        if not NOFILE_OK:
            self.skipTest("cannot raise RLIMIT_NOFILE to %d"
                          % (SLOW_CONNECTIONS + 1024))
        self.http.close()
        port = self.daemon.port
        before_408 = http_errors(port, 408)
        head = (b"POST /v1/decide HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 40\r\n"
                b"X-Padding: " + b"z" * 200 + b"\r\n\r\n")
        slow = []               # [socket, kind, bytes sent, open]
        t0 = time.monotonic()
        for i in range(SLOW_CONNECTIONS):
            try:
                s = connect(port)
            except OSError as e:
                self.fail("connection %d refused by the kernel: %r" % (i, e))
            s.setblocking(False)
            kind = ("trickle", "stalled", "silent")[i % 3]
            sent = 0
            if kind == "stalled":
                s.send(head[:20])       # a head begun, never finished
                sent = 20
            slow.append([s, kind, sent, True])
        self.addCleanup(lambda: [x[0].close() for x in slow])
        connected = time.monotonic() - t0
        sys.stderr.write("hostile: %d slow connections opened in %.2f s\n"
                         % (SLOW_CONNECTIONS, connected))

        # Trickle one byte a second on a third of them while a normal
        # client comes every quarter second.
        times, statuses = [], []
        next_tick = time.monotonic()
        end = time.monotonic() + HEAD_TIMEOUT + 4
        while time.monotonic() < end:
            if time.monotonic() >= next_tick:
                next_tick += 1.0
                for x in slow:
                    if x[1] != "trickle" or not x[3]:
                        continue
                    try:
                        x[0].send(head[x[2] % len(head):x[2] % len(head) + 1])
                        x[2] += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        x[3] = False
            self.probe(times, statuses)
            time.sleep(0.25)
        times.sort()
        sys.stderr.write(
            "hostile: %d normal probes among %d slow connections: median "
            "%.1f ms, max %.1f ms\n" % (len(times), SLOW_CONNECTIONS,
                                        1000 * times[len(times) // 2],
                                        1000 * times[-1]))
        self.assertTrue(all(st == 200 for st in statuses), statuses)
        self.assertLess(times[-1], 1.0, "a normal client waited %.2f s"
                        % times[-1])

        # Every slow connection is gone by now: closed at the head deadline
        # (or earlier, its slot taken by a newer connection).
        left = [x for x in slow if not closed_by_server(x[0], 0.001)]
        self.assertEqual(len(left), 0, "%d of %d slow connections still open "
                         "%.1f s after the last was opened (%s)" % (
                             len(left), SLOW_CONNECTIONS,
                             time.monotonic() - t0 - connected,
                             sorted(set(x[1] for x in left))))
        text = metrics_text(port)
        self.assertLessEqual(sample(text, "pacer_http_connections"), 2)
        self.assertGreaterEqual(
            sample(text, "pacer_http_errors_total", '{status="408"}')
            - before_408, SLOW_CONNECTIONS * 0.9)


class TestConnectionCap(PacerTestCase):
    CAP = 32
    CONF = {"server": {"max_connections": str(CAP)}}

    def hold(self, n):
        """n admitted keep-alive connections, idle after one answer each."""
        held = []
        deadline = time.monotonic() + 10
        while len(held) < n and time.monotonic() < deadline:
            s = connect(self.daemon.port)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            st, _, _ = read_response(s)
            if st == 200:
                held.append(s)
            else:
                s.close()       # a closed one still counted: retry
                time.sleep(0.05)
        self.assertEqual(len(held), n)
        self.addCleanup(lambda: [s.close() for s in held])
        return held

    def test_refused_without_reading(self):
        self.http.close()
        port = self.daemon.port
        before = http_errors(port, 503)
        held = self.hold(self.CAP)
        refused = 50
        for i in range(refused):
            s = connect(port)
            try:
                s.settimeout(3.0)
                # Not a byte sent: the answer cannot come from reading.
                st, headers, body = read_response(s)
                self.assertEqual(st, 503, body)
                self.assertIn(b"max_connections", body)
                self.assertEqual(headers.get("connection"), "close")
                self.assertTrue(closed_by_server(s, 3.0))
            finally:
                s.close()
        # The admitted ones serve on.
        for s in held:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(read_response(s)[0], 200)
        for s in held:
            s.close()
        time.sleep(0.2)
        self.assertGreaterEqual(http_errors(port, 503) - before, refused)

    def test_slow_head_yields_its_slot(self):
        self.http.close()
        port = self.daemon.port
        held = self.hold(self.CAP - 1)
        slow = connect(port)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        time.sleep(1.3)
        t = time.monotonic()
        s = connect(port)
        try:
            s.settimeout(3.0)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            st, _, body = read_response(s)
        finally:
            s.close()
        self.assertEqual(st, 200, body)
        self.assertLess(time.monotonic() - t, 1.0)
        slow.settimeout(3.0)
        st, _, body = read_response(slow)
        self.assertEqual(st, 408, body)
        for x in held:
            x.close()


class TestPipelining(PacerTestCase):
    CONF = {"consent": {"default": "allow"}}

    def test_100000_pipelined_requests(self):
        port = self.daemon.port
        per = PIPELINED // PIPE_CONNECTIONS
        errors = []
        answered = [0] * PIPE_CONNECTIONS

        def request(k, i):
            if i % 10 == 0:
                body = ('{"customer":"pipe-%d","channel":"push",'
                        '"dry_run":true,"send_id":"p%d-%d"}' % (k, k, i))
                return (b"POST /v1/decide HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: %d\r\n\r\n%s"
                        % (len(body), body.encode()))
            return b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

        def run(k):
            try:
                s = connect(port, timeout=60.0)
                blob = b"".join(request(k, i) for i in range(per))
                w = threading.Thread(target=s.sendall, args=(blob,))
                w.start()
                rd = Reader(s)
                for i in range(per):
                    st, _, body = rd.response()
                    if st != 200:
                        errors.append((k, i, st, body))
                        break
                    if i % 10 == 0 and (b'"send_id":"p%d-%d"' % (k, i)
                                        not in body):
                        errors.append((k, i, "out of order", body))
                        break
                    answered[k] += 1
                w.join()
                s.close()
            except Exception as e:      # reported below
                errors.append((k, repr(e)))

        t = time.monotonic()
        threads = [threading.Thread(target=run, args=(k,))
                   for k in range(PIPE_CONNECTIONS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(300)
        took = time.monotonic() - t
        sys.stderr.write("hostile: %d pipelined requests on %d connections "
                         "in %.2f s (%.0f/s, a tenth of them decisions)\n"
                         % (sum(answered), PIPE_CONNECTIONS, took,
                            sum(answered) / took))
        self.assertEqual(errors, [])
        self.assertEqual(sum(answered), PIPELINED)


class TestAcceptErrors(PacerTestCase):
    def test_emfile_does_not_spin(self):
        self.http.close()
        pid = self.daemon.proc.pid
        port = self.daemon.port
        nfd = len(os.listdir("/proc/%d/fd" % pid))
        limit = nfd + 4
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
        conns = []
        try:
            for _ in range(40):
                conns.append(connect(port))     # the backlog holds them
            time.sleep(0.5)
            log_before = self.daemon.log_text().count("accept failed")
            cpu = cpu_seconds(pid)
            time.sleep(3.0)
            used = cpu_seconds(pid) - cpu
            warns = self.daemon.log_text().count("accept failed") - log_before
            sys.stderr.write("hostile: out of descriptors, pacerd used %.2f "
                             "s of CPU in 3 s, %d warn lines\n"
                             % (used, warns))
            self.assertLess(used, 0.5, "the loop spins on accept errors")
            self.assertLessEqual(warns, 1)
            self.assertGreaterEqual(self.daemon.log_text().count(
                "accept failed"), 1)
        finally:
            for s in conns:
                s.close()
        # Descriptors free again: service resumes within the pause.
        t = time.monotonic()
        ok = False
        while time.monotonic() - t < 5 and not ok:
            try:
                c = HttpClient(port, timeout=2.0)
                ok = c.get("/healthz")[0] == 200
                c.close()
            except OSError:
                time.sleep(0.1)
        self.assertTrue(ok, "not served again after the descriptors freed")


if __name__ == "__main__":
    main()
