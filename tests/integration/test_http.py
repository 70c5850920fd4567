"""
pacerd's HTTP/1.1 layer, spoken to over raw sockets (SPEC section 3 and the
README's HTTP notes): pipelined requests answered in order (one that waits
on Redis holds back the next), a request trickled in a byte at a time,
chunked bodies, "Expect: 100-continue", Connection: close and HTTP/1.0
closing, HEAD, oversized head (431) and body (413, before the body is
read), a client that leaves while its decision waits on a frozen Redis
(the daemon drops the late answer and serves on), a client that shuts its
sending side and still gets its answer, an answer larger than the socket
takes at once, and the connection cap (503 and close).

No timing assertions: waits are generous deadlines for something to happen.
"""
import json
import os
import re
import signal
import socket
import struct
import threading
import time

from pacertest import HttpClient, PacerTestCase, main

TIMEOUT = 10.0
MAX_BODY = 262144


def wait_until(pred, timeout=TIMEOUT, step=0.02):
    """Poll pred() until it is true; whether it became true in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def metric(port, name):
    """One unlabelled sample of GET /metrics on a fresh connection."""
    c = HttpClient(port)
    try:
        st, text = c.get("/metrics")
    finally:
        c.close()
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


class Raw:
    """One client connection: write bytes, read responses one by one."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        self.buf += data

    def response(self):
        """(status, headers with lower-case names, body bytes)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(status), headers, body

    def json_response(self):
        st, headers, body = self.response()
        return st, headers, json.loads(body)

    def closed_by_server(self):
        """Whether the server closes once its answers are read."""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def post(path, body, extra=b"", version=b"1.1"):
    """A POST with Content-Length."""
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return (b"POST %s HTTP/%s\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n%s\r\n" % (path.encode(), version,
                                              len(body), extra)) + body


def chunked(path, chunks, trailer=b""):
    """A POST whose body is sent in these chunks (then trailer fields)."""
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"\r\n" % path.encode() +
            b"".join(b"%x\r\n%s\r\n" % (len(ch), ch) for ch in chunks) +
            b"0\r\n%s\r\n" % trailer)


def get(path, extra=b"", version=b"1.1"):
    return b"GET %s HTTP/%s\r\nHost: x\r\n%s\r\n" % (path.encode(), version,
                                                   extra)


class HttpCase(PacerTestCase):
    CONF = {
        "consent": {"default": "allow"},
        "channel push": {"cap": ["1000/1d"]},
        "all": {"cap": ["1000/7d"]},
        "server": {"max_body_bytes": str(MAX_BODY)},
        # Long enough that a frozen Redis answers before our timer does.
        "redis": {"timeout_ms": "8000"},
    }

    def decision(self, customer, **kw):
        d = {"customer": customer, "channel": "push", "time": self.T0}
        d.update(kw)
        return d

    def raw(self, **kw):
        r = Raw(self.daemon.port, **kw)
        self.addCleanup(r.close)
        return r

    def assertDecided(self, st, body, allow=True):
        self.assertEqual(st, 200, body)
        self.assertIs(body.get("allow"), allow, body)

    def assertAnswered(self, r, send_id):
        """The next answer on r is the decision send_id; r serves on."""
        st, _, body = r.json_response()
        self.assertDecided(st, body)
        self.assertEqual(body["send_id"], send_id)
        r.send(get("/healthz"))
        self.assertEqual(r.response()[0], 200)

    def assertStillServes(self):
        c = self.customer()
        st, body = self.http.post("/v1/decide", self.decision(c))
        self.assertDecided(st, body)


class TestHttp(HttpCase):

    def test_pipelined_requests_answer_in_order(self):
        # The decision waits on Redis, /healthz answers at once: it must
        # still come second; then an error, then a decision again.
        c = self.customer()
        r = self.raw()
        r.send(post("/v1/decide", self.decision(c, send_id="first")) +
               get("/healthz") +
               post("/v1/decide", {"customer": c, "channel": "fax"}) +
               post("/v1/decide", self.decision(c, send_id="second")))
        st, _, body = r.json_response()
        self.assertDecided(st, body)
        self.assertEqual(body["send_id"], "first")
        st, _, body = r.json_response()
        self.assertEqual((st, body), (200, {"status": "ok"}))
        st, _, body = r.json_response()
        self.assertError(st, body, 400, "channel")
        st, _, body = r.json_response()
        self.assertDecided(st, body)
        self.assertEqual(body["send_id"], "second")

    def test_many_pipelined_requests(self):
        # More than the input buffer holds: the reader waits, then resumes.
        c = self.customer()
        reqs = [post("/v1/decide", self.decision(c, send_id="s%d" % i,
                                                 dry_run=True))
                for i in range(300)]
        r = self.raw()
        r.send(b"".join(reqs))
        for i in range(300):
            st, _, body = r.json_response()
            self.assertDecided(st, body)
            self.assertEqual(body["send_id"], "s%d" % i)

    def test_request_a_byte_at_a_time(self):
        c = self.customer()
        data = post("/v1/decide", self.decision(c, send_id="trickle"))
        r = self.raw()
        for i in range(len(data)):
            r.send(data[i:i + 1])
        self.assertAnswered(r, "trickle")

    def test_chunked_body(self):
        c = self.customer()
        body = json.dumps(self.decision(c, send_id="chunked")).encode()
        r = self.raw()
        r.send(chunked("/v1/decide", [body[:5], body[5:17], body[17:]]))
        self.assertAnswered(r, "chunked")
        # Trailer fields after the last chunk are read and ignored.
        r.send(chunked("/v1/decide", [body.replace(b"chunked", b"trailer")],
                       b"X-Checksum: 1234\r\nX-Other: " + b"t" * 3000 + b"\r\n"))
        self.assertAnswered(r, "trailer")

    def test_chunked_body_over_the_limit_is_413(self):
        before = self.dump()
        pad = b"x" * 8192
        r = self.raw()
        r.send(chunked("/v1/decide", [pad] * (MAX_BODY // len(pad) + 2)))
        st, headers, body = r.json_response()
        self.assertError(st, body, 413, "max_body_bytes")
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(r.closed_by_server())
        self.assertEqual(self.dump(), before)

    def test_expect_100_continue(self):
        c = self.customer()
        body = json.dumps(self.decision(c, send_id="expect")).encode()
        r = self.raw()
        r.send(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
               b"Expect: 100-continue\r\n\r\n" % len(body))
        st, _, interim = r.response()
        self.assertEqual((st, interim), (100, b""))
        r.send(body)
        self.assertAnswered(r, "expect")

    def test_expect_100_continue_over_the_limit_is_413(self):
        # Refused from the head alone: no 100, the body is never needed.
        r = self.raw()
        r.send(b"POST /v1/decide/batch HTTP/1.1\r\nHost: x\r\n"
               b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
               % (MAX_BODY + 1))
        st, headers, body = r.json_response()
        self.assertError(st, body, 413, "max_body_bytes")
        self.assertIn("batch", body["error"])
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(r.closed_by_server())

    def test_oversized_body_is_413_and_closes(self):
        before = self.dump()
        r = self.raw()
        body = b'{"pad":"' + b"p" * (MAX_BODY + 100) + b'"}'
        r.send(post("/v1/decide", body))
        st, headers, resp = r.json_response()
        self.assertError(st, resp, 413, "max_body_bytes")
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(r.closed_by_server())
        self.assertEqual(self.dump(), before)
        self.assertStillServes()

    def test_connection_close(self):
        r = self.raw()
        r.send(get("/healthz", b"Connection: close\r\n"))
        st, headers, _ = r.response()
        self.assertEqual(st, 200)
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(r.closed_by_server())

    def test_http10_closes_unless_keep_alive(self):
        r = self.raw()
        r.send(get("/healthz", version=b"1.0"))
        st, headers, _ = r.response()
        self.assertEqual(st, 200)
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(r.closed_by_server())

        r = self.raw()
        r.send(get("/healthz", b"Connection: keep-alive\r\n", b"1.0"))
        st, headers, _ = r.response()
        self.assertEqual(st, 200)
        self.assertEqual(headers.get("connection", "").lower(), "keep-alive")
        r.send(get("/readyz", b"Connection: keep-alive\r\n", b"1.0"))
        self.assertEqual(r.response()[0], 200)

    def test_keep_alive_and_headers(self):
        r = self.raw()
        for path in ("/healthz", "/readyz", "/metrics"):
            r.send(get(path))
            st, headers, body = r.response()
            self.assertEqual(st, 200, path)
            self.assertEqual(int(headers["content-length"]), len(body))
            self.assertIn("content-type", headers)
            self.assertNotIn("connection", headers)

    def test_head_has_no_body(self):
        r = self.raw()
        r.send(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + get("/healthz"))
        # Read the HEAD answer's head only: no body follows it.
        while b"\r\n\r\n" not in r.buf:
            r._fill()
        head, r.buf = r.buf.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 405 "), head)
        st, _, body = r.json_response()
        self.assertEqual((st, body), (200, {"status": "ok"}))

    def test_query_parameters(self):
        # GET /v1/customers/{id}?time=T explains the customer at T
        # (allow_client_time is on in tests); percent-escapes are decoded.
        c = self.customer()
        t = str(self.T0).encode()
        for query in (b"time=" + t, b"x=1&time=%%%02X" % t[0] + t[1:] + b"&y",
                      b"timex=5&time=" + t + b"#frag"):
            with self.subTest(query):
                r = self.raw()
                r.send(get("/v1/customers/%s?%s" % (c, query.decode())))
                st, _, body = r.json_response()
                self.assertEqual(st, 200, body)
                self.assertEqual(body.get("time"), self.T0, body)

    def test_oversized_header_is_refused(self):
        r = self.raw()
        r.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"h" * 20000 +
               b"\r\n\r\n")
        st, headers, body = r.json_response()
        self.assertIn(st, (400, 431))
        self.assertIn("error", body)
        self.assertTrue(r.closed_by_server())
        r = self.raw()
        r.send(b"GET /healthz HTTP/1.1\r\n" +
               b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n")
        st, _, body = r.json_response()
        self.assertIn(st, (400, 431))
        self.assertTrue(r.closed_by_server())
        self.assertStillServes()

    def test_malformed_request_is_400_json(self):
        r = self.raw()
        r.send(b"GET /healthz HTTP/1.1\r\nContent-Length: 3\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
        st, headers, body = r.json_response()
        self.assertError(st, body, 400)
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(r.closed_by_server())

    def test_large_answers_to_a_slow_reader(self):
        # Answers far larger than the socket takes at once (invalid batch
        # items are answered without Redis, each error longer than its
        # item): the rest goes out as the client reads, in order, and the
        # connection serves on.
        items = [{"customer": "!%d" % i} for i in range(1000)]
        reqs = [post("/v1/decide/batch", {"requests": items})
                for _ in range(100)] + [get("/healthz")]
        r = self.raw(rcvbuf=4096)
        sender = threading.Thread(target=r.send, args=(b"".join(reqs),))
        sender.start()
        try:
            time.sleep(0.3)      # the client reads nothing for a while
            for _ in range(100):
                st, _, resp = r.json_response()
                self.assertEqual(st, 200)
                self.assertEqual(len(resp["results"]), 1000)
                self.assertTrue(all("customer" in x.get("error", "")
                                    for x in resp["results"]), resp)
            self.assertEqual(r.response()[0], 200)
        finally:
            sender.join(TIMEOUT)

    def client_gone_while_redis_is_frozen(self, reset):
        c = self.customer()
        pid = self.redis.proc.pid
        r = self.raw()
        os.kill(pid, signal.SIGSTOP)
        try:
            r.send(post("/v1/decide", self.decision(c, send_id="gone")))
            self.assertTrue(wait_until(lambda: metric(
                self.daemon.port, "pacer_inflight_requests") == 1),
                "the decision never waited on Redis")
            if reset:
                # Linger 0: the close resets the connection (no FIN).
                r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
            r.close()
            # The daemon notices the hang-up while Redis is still frozen.
            time.sleep(0.2)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertTrue(wait_until(lambda: metric(
            self.daemon.port, "pacer_inflight_requests") == 0),
            "the late answer never came back from Redis")
        self.assertTrue(self.daemon.running())
        self.assertStillServes()
        # The decision itself was made (the client left, not the request).
        st, body = self.http.post("/v1/decide", self.decision(c, send_id="gone"))
        self.assertDecided(st, body)

    def test_client_gone_while_redis_is_frozen(self):
        self.client_gone_while_redis_is_frozen(reset=False)

    def test_client_reset_while_redis_is_frozen(self):
        self.client_gone_while_redis_is_frozen(reset=True)

    def test_half_closed_client_gets_its_answer(self):
        c = self.customer()
        pid = self.redis.proc.pid
        r = self.raw()
        os.kill(pid, signal.SIGSTOP)
        try:
            r.send(post("/v1/decide", self.decision(c, send_id="half")) +
                   get("/healthz"))
            r.sock.shutdown(socket.SHUT_WR)
            self.assertTrue(wait_until(lambda: metric(
                self.daemon.port, "pacer_inflight_requests") == 1))
        finally:
            os.kill(pid, signal.SIGCONT)
        st, _, body = r.json_response()
        self.assertDecided(st, body)
        self.assertEqual(body["send_id"], "half")
        self.assertEqual(r.response()[0], 200)
        self.assertTrue(r.closed_by_server())


class TestConnectionCap(HttpCase):
    CONF = dict(HttpCase.CONF, server={"max_connections": "4"})

    def test_connection_cap(self):
        self.http.close()
        port = self.daemon.port

        def open_all():
            """Four admitted connections, or None while old ones linger."""
            conns = []
            for _ in range(4):
                r = Raw(port)
                conns.append(r)
                r.send(get("/healthz"))
                if r.response()[0] != 200:
                    for x in conns:
                        x.close()
                    return None
            return conns
        held = []
        self.assertTrue(wait_until(lambda: held.append(open_all()) or held[-1]))
        held = held[-1]
        for r in held:
            self.addCleanup(r.close)

        extra = self.raw()
        extra.send(get("/healthz"))
        st, headers, body = extra.json_response()
        self.assertEqual(st, 503, body)
        self.assertIn("max_connections", body.get("error", ""))
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(extra.closed_by_server())

        # The admitted ones serve on; a freed slot admits a new client.
        for r in held:
            r.send(get("/healthz"))
            self.assertEqual(r.response()[0], 200)
        held[0].close()

        def admitted():
            r = Raw(port)
            try:
                r.send(get("/healthz", b"Connection: close\r\n"))
                return r.response()[0] == 200
            finally:
                r.close()
        self.assertTrue(wait_until(admitted))


if __name__ == "__main__":
    main()
