"""
TLS on the listener ([server] tls_cert, tls_key): a self-signed certificate
made here with openssl, decisions over HTTPS with curl and with Python's ssl
module (keep-alive, pipelining, chunked bodies), plain HTTP refused, a client
that never handshakes dropped by the head deadline, bad files refused by
pacerd -t with file:line, and new certificates on reload.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import warnings

from pacertest import (RedisServer, base_overrides, check_config, free_port,
                       main, make_config, merge_overrides, midday_zone,
                       pacerd_path,
                       read_text, require_binary, require_redis,
                       stop_process, write_file, _register, _unregister,
                       START_TIMEOUT)

HEAD_TIMEOUT_S = 10     # http.c HTTP_HEAD_TIMEOUT_MS


def make_cert(folder, name, cn="localhost"):
    """A self-signed certificate and its key: (cert path, key path)."""
    cert = os.path.join(folder, name + ".pem")
    key = os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=" + cn, "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def line_of(text, prefix):
    """The 1-based line of the first line of text starting with prefix."""
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith(prefix):
            return i
    raise AssertionError("no line starts with %r" % prefix)


class TestTls(unittest.TestCase):
    """One pacerd speaking TLS on a throwaway Redis."""

    @classmethod
    def setUpClass(cls):
        require_redis()
        require_binary(pacerd_path(), "pacerd")
        if shutil.which("openssl") is None or shutil.which("curl") is None:
            raise AssertionError("openssl and curl are needed")
        cls.workdir = tempfile.mkdtemp(prefix="pacer-it-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.tlsdir = os.path.join(cls.workdir, "tls")
        os.mkdir(cls.tlsdir)
        cls.cert, cls.key = make_cert(cls.tlsdir, "server")
        cls.other_cert, cls.other_key = make_cert(cls.tlsdir, "other")
        cls.redis = RedisServer(cls.workdir)
        cls.addClassCleanup(cls.redis.stop)
        cls.redis.start()
        cls.port = free_port()
        # Relative paths: resolved against the config's folder, not the
        # working directory (pacerd runs in /).
        cls.conf_text = cls.config_text("tls/server.pem", "tls/server.key")
        cls.conf_path = write_file(os.path.join(cls.workdir, "pacer.conf"),
                                   cls.conf_text)
        cls.log = os.path.join(cls.workdir, "pacerd.log")
        cls.proc = None
        cls.addClassCleanup(cls.stop_daemon)
        cls.start_daemon()

    @classmethod
    def config_text(cls, cert, key, extra=None):
        server = {"tls_cert": cert, "tls_key": key}
        server.update(extra or {})
        return make_config(merge_overrides(
            base_overrides(cls.port, cls.redis.port, cls.workdir),
            {"server": server}))

    @classmethod
    def start_daemon(cls):
        logf = open(cls.log, "ab")
        try:
            cls.proc = subprocess.Popen([pacerd_path(), "-c", cls.conf_path],
                                        stdin=subprocess.DEVNULL, stdout=logf,
                                        stderr=logf, cwd="/")
        finally:
            logf.close()
        _register(cls.proc)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if cls.proc.poll() is not None:
                _unregister(cls.proc)
                raise AssertionError("pacerd exited at start:\n" +
                                     read_text(cls.log))
            try:
                st, _, _ = cls.https("GET", "/healthz")
                if st == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise AssertionError("pacerd not ready over HTTPS:\n" +
                             read_text(cls.log))

    @classmethod
    def stop_daemon(cls):
        if cls.proc is None:
            return
        rc, clean = stop_process(cls.proc)
        cls.proc = None
        if rc != 0 or not clean:
            raise AssertionError("pacerd exit %s clean %s:\n%s" % (
                rc, clean, read_text(cls.log)))

    @classmethod
    def context(cls, cafile=None):
        ctx = ssl.create_default_context(cafile=cafile or cls.cert)
        return ctx

    @classmethod
    def https(cls, method, path, body=None, conn=None):
        """One request on conn (or a new connection): status, headers, body."""
        own = conn is None
        if own:
            conn = http.client.HTTPSConnection("127.0.0.1", cls.port,
                                               context=cls.context(),
                                               timeout=10)
        try:
            hdrs = {}
            if body is not None:
                body = json.dumps(body)
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), \
                json.loads(data) if data else None
        finally:
            if own:
                conn.close()

    def tls_socket(self):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return self.context().wrap_socket(raw, server_hostname="localhost")

    def read_responses(self, s, n):
        """Read n responses (Content-Length framed) from s: [(status, body)]."""
        buf, out = b"", []
        while len(out) < n:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                self.assertTrue(chunk, "closed after %d answers" % len(out))
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v)
            while len(buf) < length:
                chunk = s.recv(65536)
                self.assertTrue(chunk)
                buf += chunk
            out.append((int(lines[0].split()[1]), buf[:length]))
            buf = buf[length:]
        return out

    def customer(self, tag):
        """
        A customer with consent everywhere, living where it is midday now:
        these decisions carry no time, so the store's clock decides, and a
        zone fixed to UTC put them in sms's quiet hours (20:00-09:00) for
        half of every day.
        """
        c = "%s-%s" % (tag, os.urandom(6).hex())
        st, _, body = self.https("PUT", "/v1/customers/" + c, {
            "consent": {"email": True, "sms": True, "push": True},
            "tz": midday_zone()})
        self.assertEqual(st, 200, body)
        return c

    def curl(self, *args):
        return subprocess.run(["curl", "-sS", "--max-time", "10"] +
                              list(args), capture_output=True, text=True,
                              timeout=30)

    # -- tests -------------------------------------------------------------

    def test_curl_decides(self):
        c = self.customer("curl")
        url = "https://localhost:%d/v1/decide" % self.port
        r = self.curl("--cacert", self.cert, "-H",
                      "Content-Type: application/json", "-d",
                      json.dumps({"customer": c, "channel": "email"}), url)
        self.assertEqual(r.returncode, 0, r.stderr)
        body = json.loads(r.stdout)
        self.assertIs(body["allow"], True, body)
        # Without the CA, curl refuses the self-signed certificate.
        r = self.curl(url, "-d", "{}")
        self.assertNotEqual(r.returncode, 0)

    def test_curl_keep_alive(self):
        url = "https://127.0.0.1:%d/healthz" % self.port
        r = self.curl("-v", "--cacert", self.cert, url, url, url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count('"ok"'), 3, r.stdout)
        self.assertIn("Re-using existing connection", r.stderr)

    def test_keep_alive_python(self):
        c = self.customer("ka")
        conn = http.client.HTTPSConnection("127.0.0.1", self.port,
                                           context=self.context(), timeout=10)
        try:
            answers = []
            for i in range(5):
                st, _, body = self.https("POST", "/v1/decide", {
                    "customer": c, "channel": "push"}, conn=conn)
                self.assertEqual(st, 200, body)
                answers.append(body["allow"])
                if i == 0:
                    sock = conn.sock
                self.assertIs(conn.sock, sock, "the connection was kept")
            self.assertEqual(answers[:2], [True, True])    # push cap 2/1d
            self.assertNotIn(True, answers[2:])
            self.assertIn(conn.sock.version(), ("TLSv1.2", "TLSv1.3"))
        finally:
            conn.close()

    def test_pipelined(self):
        c = self.customer("pipe")
        body = json.dumps({"customer": c, "channel": "email"}).encode()
        one = (b"POST /v1/decide HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % len(body)) + body
        health = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        # Far more than the connection's 8 KB input buffer in one write, so
        # decrypted bytes wait inside OpenSSL while answers are written.
        n = 400
        with self.tls_socket() as s:
            s.sendall(one + health * n + one)
            answers = self.read_responses(s, n + 2)
        self.assertEqual([st for st, _ in answers], [200] * (n + 2))
        self.assertIs(json.loads(answers[0][1])["allow"], True)
        self.assertEqual(answers[1][1], b'{"status":"ok"}')
        self.assertIs(json.loads(answers[-1][1])["allow"], False)  # 1/1d

    def test_chunked_body(self):
        c = self.customer("chunk")
        body = json.dumps({"customer": c, "channel": "sms"}).encode()
        with self.tls_socket() as s:
            s.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 7):
                part = body[i:i + 7]
                s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                time.sleep(0.01)
            s.sendall(b"0\r\n\r\n")
            [(st, data)] = self.read_responses(s, 1)
        self.assertEqual(st, 200, data)
        self.assertIs(json.loads(data)["allow"], True)

    def test_plain_http_refused(self):
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400 "), data)
        self.assertIn(b"Connection: close", head)
        self.assertEqual(json.loads(body)["code"], "tls_required")
        r = self.curl("http://127.0.0.1:%d/healthz" % self.port)
        self.assertNotIn('"ok"', r.stdout)

    def test_no_handshake_dropped(self):
        silent = socket.create_connection(("127.0.0.1", self.port))
        # A handshake begun and never finished is as slow as none.
        half = socket.create_connection(("127.0.0.1", self.port))
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        t0 = time.monotonic()
        for s in (silent, half):
            s.settimeout(HEAD_TIMEOUT_S + 5)
            try:
                self.assertEqual(s.recv(100), b"")
            except ConnectionResetError:
                pass
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, HEAD_TIMEOUT_S - 1)
            self.assertLess(took, HEAD_TIMEOUT_S + 4)
            s.close()
        st, _, _ = self.https("GET", "/healthz")
        self.assertEqual(st, 200)

    def check(self, text):
        path = write_file(os.path.join(self.workdir, "check.conf"), text)
        return path, check_config(path)

    def test_check_config_bad_files(self):
        r = check_config(self.conf_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)
        cases = [
            ("tls/server.pem", "tls/missing.key", "tls_key",
             "cannot open"),
            ("tls/server.pem", "tls/other.key", "tls_key",
             "does not match"),
            ("tls/server.key", "tls/server.key", "tls_cert",
             "not a PEM certificate"),
            ("tls/server.pem", "tls/server.pem", "tls_key",
             "not an unencrypted PEM private key"),
        ]
        for cert, key, bad, words in cases:
            text = self.config_text(cert, key)
            path, r = self.check(text)
            self.assertEqual(r.returncode, 1, (cert, key, r.stdout))
            want = "%s:%d: %s: " % (path, line_of(text, bad + " ="), bad)
            self.assertIn(want, r.stderr)
            self.assertIn(words, r.stderr)
        # Half a setting.
        text = make_config(merge_overrides(
            base_overrides(self.port, self.redis.port, self.workdir),
            {"server": {"tls_cert": "tls/server.pem"}}))
        path, r = self.check(text)
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:%d: tls_cert: " % (path, line_of(text, "tls_cert =")),
                      r.stderr)
        self.assertIn("go together", r.stderr)

    def test_reload_new_certificate(self):
        def peer_cert():
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", self.port),
                                          timeout=10) as raw:
                with ctx.wrap_socket(raw) as s:
                    return s.getpeercert(binary_form=True)

        def pem_der(path):
            with open(path) as f:
                return ssl.PEM_cert_to_DER_cert(f.read())

        self.assertEqual(peer_cert(), pem_der(self.cert))
        # A reload with a mismatched key fails and keeps the running one.
        write_file(self.conf_path, self.config_text("tls/server.pem",
                                                    "tls/other.key"))
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload failed" not in read_text(self.log) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("does not match", read_text(self.log))
        self.assertEqual(peer_cert(), pem_der(self.cert))
        # A good one brings the new certificate to new connections.
        write_file(self.conf_path, self.config_text("tls/other.pem",
                                                    "tls/other.key"))
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while peer_cert() != pem_der(self.other_cert) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(peer_cert(), pem_der(self.other_cert))
        write_file(self.conf_path, self.conf_text)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while peer_cert() != pem_der(self.cert) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(peer_cert(), pem_der(self.cert))

    def test_old_protocols_refused(self):
        ctx = self.context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                self.assertEqual(s.version(), "TLSv1.2")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            self.skipTest("this Python cannot speak TLS 1.1")
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=10) as raw:
            with self.assertRaises((ssl.SSLError, ConnectionResetError)):
                ctx.wrap_socket(raw).close()


if __name__ == "__main__":
    main()
