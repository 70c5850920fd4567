"""
Bad input (SPEC section 3): malformed JSON, wrong types, unknown channel,
campaign or offer, bad customer ids, "time" when not allowed, oversized
bodies (413), unknown paths (404), wrong methods (405), bad batches and
cancels. Each gets a 4xx with {"error": "<what is wrong>"} naming the
problem; the store is unchanged (DBSIZE and a dump of every key compared
before and after); the daemon keeps serving on the same connection.
"""

import json

from pacertest import PacerTestCase, raw_http, main

LONG_ID = "x" * 129


def decide_cases(customer):
    """(description, body, expected status or None for any 4xx, mentions)."""
    ok = {"customer": customer, "channel": "email"}

    def w(**kw):
        d = dict(ok)
        for k, v in kw.items():
            if v is _DROP:
                d.pop(k, None)
            else:
                d[k] = v
        return d
    return [
        ("truncated JSON", '{"customer": "%s", "channel":' % customer, 400,
         "json"),
        ("not JSON", "customer=a&channel=email", 400, "json"),
        ("empty body", "", 400, None),
        ("trailing garbage", json.dumps(ok) + " x", 400, "json"),
        ("JSON array", json.dumps([ok]), 400, None),
        ("JSON string", '"hello"', 400, None),
        ("JSON null", "null", 400, None),
        ("customer missing", w(customer=_DROP), 400, "customer"),
        ("channel missing", w(channel=_DROP), 400, "channel"),
        ("customer is a number", w(customer=12345), 400, "customer"),
        ("customer is null", w(customer=None), 400, "customer"),
        ("customer is an object", w(customer={"id": "a"}), 400, "customer"),
        ("channel is a number", w(channel=1), 400, "channel"),
        ("channel is a list", w(channel=["email"]), 400, "channel"),
        ("campaign is a number", w(campaign=3), 400, "campaign"),
        ("offer is a list", w(offer=["newsletter"]), 400, "offer"),
        ("send_id is an object", w(send_id={"a": 1}), 400, "send_id"),
        ("time is a string", w(time="now"), 400, "time"),
        ("time is a bool", w(time=True), 400, "time"),
        ("dry_run is a string", w(dry_run="yes"), 400, "dry_run"),
        ("unknown channel", w(channel="fax"), 400, ["channel", "fax"]),
        ("channel case differs", w(channel="EMAIL"), 400, "channel"),
        ("unknown campaign", w(campaign="no_such_campaign"), 400,
         ["campaign", "no_such_campaign"]),
        ("unknown offer", w(offer="no_such_offer"), 400,
         ["offer", "no_such_offer"]),
        ("empty customer", w(customer=""), 400, "customer"),
        ("customer with space", w(customer="a b"), 400, "customer"),
        ("customer with slash", w(customer="a/b"), 400, "customer"),
        ("customer with braces", w(customer="{a}"), 400, "customer"),
        ("customer with star", w(customer="a*"), 400, "customer"),
        ("customer non-ASCII", w(customer="caf\u00e9"), 400, "customer"),
        ("customer with NUL", w(customer="a\u0000b"), 400, None),
        ("customer of 129 bytes", w(customer=LONG_ID), 400, "customer"),
    ]


class _Drop:
    pass


_DROP = _Drop()


class BadInputCase(PacerTestCase):
    """Helpers: a seeded store, and a bad request that must change nothing."""

    CONF = {"shadow": None}

    def setUp(self):
        # Some real data, so "unchanged" means something.
        self.seed = self.consented_customer("seed", tz="Europe/Paris",
                                            segments=["vulnerable"])
        st, body = self.decide(self.seed, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def tearDown(self):
        # Still alive and serving on the same connection.
        st, _ = self.http.get("/healthz")
        self.assertEqual(st, 200, "daemon no longer healthy")
        self.assertTrue(self.daemon.running(), "pacerd died")

    def assertRejected(self, method, path, body, status=None, mentions=None,
                       desc=""):
        before_size = self.redis.cli("DBSIZE")
        before = self.dump()
        st, resp = self.http.request(method, path, body)
        self.assertError(st, resp, status, mentions,
                         msg="%s: %s %s %.300r" % (desc, method, path, body))
        self.assertEqual(self.redis.cli("DBSIZE"), before_size,
                         "%s changed the key count" % desc)
        self.assertEqual(self.dump(), before, "%s changed the store" % desc)
        return st, resp


class TestDecideBadInput(BadInputCase):

    def test_every_bad_decide_body(self):
        for desc, body, status, mentions in decide_cases(self.seed):
            with self.subTest(desc):
                self.assertRejected("POST", "/v1/decide", body, status,
                                    mentions, desc)

    def test_bad_customer_never_creates_keys(self):
        for cid in ("{a}", "a b", LONG_ID):
            with self.subTest(cid):
                self.assertRejected("POST", "/v1/decide",
                                    {"customer": cid, "channel": "push"},
                                    400, "customer", cid)

    def test_128_byte_customer_is_fine(self):
        cid = "y" * 120 + "-_.:@AZ9"
        self.assertEqual(len(cid), 128)
        self.put_customer(cid, consent={"push": True})
        st, body = self.decide(cid, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_every_id_character_is_fine(self):
        cid = "Az09_.:@-" + self.customer()
        self.put_customer(cid, consent={"push": True})
        st, body = self.decide(cid, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_good_request_after_bad_ones(self):
        self.http.post("/v1/decide", "{{{")
        c = self.consented_customer()
        st, body = self.decide(c, "push", time=self.T0)
        self.assertDecision(st, body, True, "ok")

    def test_oversized_body_is_413(self):
        before = self.dump()
        pad = "p" * 70000          # max_body_bytes = 65536
        body = json.dumps({"customer": self.seed, "channel": "push",
                           "campaign": "sales", "pad": pad}).encode()
        req = (b"POST /v1/decide HTTP/1.1\r\nHost: localhost\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n"
               b"Connection: close\r\n\r\n" % len(body)) + body
        st, headers, resp = raw_http(self.daemon.port, req)
        self.assertError(st, resp, 413, None, msg="oversized body")
        self.assertEqual(self.dump(), before)

    def test_oversized_batch_is_413(self):
        before = self.dump()
        items = [{"customer": self.seed, "channel": "push"}] * 2000
        body = json.dumps({"requests": items}).encode()
        self.assertGreater(len(body), 65536)
        req = (b"POST /v1/decide/batch HTTP/1.1\r\nHost: localhost\r\n"
               b"Content-Length: %d\r\nConnection: close\r\n\r\n"
               % len(body)) + body
        st, headers, resp = raw_http(self.daemon.port, req)
        self.assertError(st, resp, 413, None, msg="oversized batch body")
        self.assertEqual(self.dump(), before)

    def test_body_at_the_limit_is_read(self):
        # A body just under max_body_bytes is parsed (and here rejected for
        # its unknown channel, not its size).
        base = json.dumps({"customer": self.seed, "channel": "fax"})
        body = base[:-1] + " " * (65536 - len(base) - 10) + "}"
        self.assertLessEqual(len(body), 65536)
        st, resp = self.http.post("/v1/decide", body)
        self.assertError(st, resp, 400, "channel", msg="body at the limit")


class TestPathsAndMethods(BadInputCase):

    def test_unknown_paths_are_404(self):
        for method, path in (("GET", "/"), ("GET", "/v1"),
                             ("POST", "/v1/decid"), ("POST", "/v1/decide/"
                                                     "batchx"),
                             ("GET", "/v2/decide"), ("GET", "/healthz/x"),
                             ("POST", "/v1/nope")):
            with self.subTest("%s %s" % (method, path)):
                body = {} if method == "POST" else None
                self.assertRejected(method, path, body, 404, None, path)

    def test_wrong_methods_are_405(self):
        c = self.seed
        for method, path in (("GET", "/v1/decide"), ("PUT", "/v1/decide"),
                             ("DELETE", "/v1/decide"),
                             ("GET", "/v1/decide/batch"),
                             ("GET", "/v1/cancel"),
                             ("POST", "/v1/customers/" + c),
                             ("POST", "/healthz")):
            with self.subTest("%s %s" % (method, path)):
                body = {} if method in ("POST", "PUT") else None
                self.assertRejected(method, path, body, 405, None, path)

    def test_405_names_the_allowed_methods(self):
        st, _ = self.http.get("/v1/decide")
        self.assertEqual(st, 405)
        self.assertIn("POST", self.http.headers.get("allow", ""),
                      "405 without an Allow header: %r" % self.http.headers)

    def test_errors_are_json(self):
        st, body = self.http.post("/v1/decide", "{")
        self.assertEqual(st, 400)
        self.assertIn("application/json",
                      self.http.headers.get("content-type", ""))


class TestBatchBadInput(BadInputCase):

    def test_bad_batch_bodies(self):
        item = {"customer": self.seed, "channel": "push"}
        cases = [
            ("malformed", "{\"requests\": [", 400, "json"),
            ("requests missing", {}, 400, "requests"),
            ("requests not a list", {"requests": item}, 400, "requests"),
            ("requests a string", {"requests": "x"}, 400, "requests"),
            ("1001 items", {"requests": [item] * 1001}, None,
             ["1000", "requests", "many"]),
        ]
        for desc, body, status, mentions in cases:
            with self.subTest(desc):
                self.assertRejected("POST", "/v1/decide/batch", body, status,
                                    mentions, desc)

    def test_bad_items_get_errors_in_place_and_change_nothing(self):
        before = self.dump()
        reqs = [{"customer": "a b", "channel": "push"},
                {"customer": self.seed, "channel": "fax"},
                {"customer": self.seed, "channel": "push", "time": "x"},
                "not an object",
                {"customer": self.seed},
                {"customer": LONG_ID, "channel": "push"}]
        st, body = self.http.post("/v1/decide/batch", {"requests": reqs})
        self.assertEqual(st, 200, body)
        self.assertEqual(len(body["results"]), len(reqs), body)
        for i, r in enumerate(body["results"]):
            self.assertEqual(sorted(r.keys()), ["code", "error"],
                             "item %d: %r" % (i, r))
            self.assertIsInstance(r["error"], str)
            self.assertRegex(r["code"], r"^[a-z_]+$")
        self.assertEqual(self.dump(), before)


class TestCancelBadInput(BadInputCase):

    def test_bad_cancel_bodies(self):
        cases = [
            ("malformed", "{", 400, "json"),
            ("customer missing", {"send_id": "x"}, 400, "customer"),
            ("send_id missing", {"customer": self.seed}, 400, "send_id"),
            ("bad customer", {"customer": "a b", "send_id": "x"}, 400,
             "customer"),
            ("customer too long", {"customer": LONG_ID, "send_id": "x"}, 400,
             "customer"),
            ("send_id a number", {"customer": self.seed, "send_id": 5}, 400,
             "send_id"),
            # The field's name lives in the parsed body: the answer must
            # be written before the body goes (a use after free before).
            ("unknown field", {"customer": self.seed, "send_id": "x",
                               "frobnicate_the_field_name": 1}, 400,
             "frobnicate_the_field_name"),
        ]
        for desc, body, status, mentions in cases:
            with self.subTest(desc):
                self.assertRejected("POST", "/v1/cancel", body, status,
                                    mentions, desc)


class TestClientTimeRefused(BadInputCase):
    """allow_client_time = false (the default): "time" is a 400."""
    CONF = {"server": {"allow_client_time": "false"}, "shadow": None}

    def setUp(self):
        self.seed = self.consented_customer("seed")
        st, body = self.decide(self.seed, "push")
        self.assertDecision(st, body, True, "ok")

    def test_time_is_refused(self):
        self.assertRejected("POST", "/v1/decide",
                            {"customer": self.seed, "channel": "push",
                             "time": self.T0}, 400, "time", "time")

    def test_time_in_batch_item_is_refused(self):
        before = self.dump()
        st, body = self.http.post("/v1/decide/batch", {"requests": [
            {"customer": self.seed, "channel": "push", "time": self.T0}]})
        if st == 200:
            self.assertIn("error", body["results"][0], body)
            self.assertIn("time", body["results"][0]["error"])
        else:
            self.assertError(st, body, 400, "time")
        self.assertEqual(self.dump(), before)

    def test_decisions_without_time_use_the_clock(self):
        st, body = self.decide(self.seed, "push")
        self.assertDecision(st, body, True, "ok")
        st, body = self.decide(self.seed, "push")
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")


class TestProtocolAbuse(BadInputCase):
    """Broken HTTP and hostile JSON: answered or closed, never a crash."""

    def send_raw(self, data, desc):
        before = self.dump()
        st, headers, body = raw_http(self.daemon.port, data, timeout=10)
        self.assertTrue(self.daemon.running(), "%s killed pacerd" % desc)
        self.assertEqual(self.dump(), before, "%s changed the store" % desc)
        return st, body

    def test_garbage_request_lines(self):
        for data in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                     b"POST /v1/decide HTTP/9.9\r\n\r\n",
                     b"POST /v1/decide HTTP/1.1\r\nContent-Length: -5\r\n"
                     b"\r\n",
                     b"POST /v1/decide HTTP/1.1\r\nContent-Length: zz\r\n"
                     b"\r\n",
                     b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nX: " + b"h" * 100000 +
                     b"\r\n\r\n"):
            with self.subTest(data[:40]):
                st, body = self.send_raw(data, repr(data[:40]))
                if st is not None:
                    self.assertTrue(400 <= st < 500, (st, body))

    def test_body_shorter_than_announced(self):
        c = self.seed
        body = b'{"customer":"%s","channel":"push"}' % c.encode()
        req = (b"POST /v1/decide HTTP/1.1\r\nHost: x\r\n"
               b"Content-Length: %d\r\n\r\n" % (len(body) + 50)) + body
        s = __import__("socket").create_connection(("127.0.0.1",
                                                    self.daemon.port))
        s.sendall(req)
        s.close()          # gone before the body is complete
        st, _ = self.http.get("/healthz")
        self.assertEqual(st, 200)

    def test_pipelined_requests_answer_in_order(self):
        c = self.consented_customer()
        one = b'{"customer":"%s","channel":"push","time":%d}' % (
            c.encode(), self.T0)
        bad = b'{"customer":"%s","channel":"fax"}' % c.encode()
        req = b""
        for b in (one, bad, one):
            req += (b"POST /v1/decide HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(b)) + b
        s = __import__("socket").create_connection(("127.0.0.1",
                                                    self.daemon.port),
                                                   timeout=10)
        try:
            s.sendall(req)
            data = b""
            while data.count(b"HTTP/1.1 ") < 3 or not data.endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        statuses = [int(p.split(b" ", 1)[0]) for p in
                    data.split(b"HTTP/1.1 ")[1:]]
        self.assertEqual(statuses, [200, 400, 200], data)
        # Two contacts for push 2/1d: the store saw both.
        st, body = self.decide(c, "push", time=self.T0 + 1)
        self.assertDecision(st, body, False, "cap", rule="push 2/1d")

    def test_hostile_json(self):
        c = self.seed
        cases = [
            ("deep nesting", "[" * 30000 + "]" * 30000),
            ("deep object", '{"a":' * 10000 + "1" + "}" * 10000),
            ("invalid UTF-8", b'{"customer":"\xff\xfe","channel":"push"}'),
            ("lone surrogate",
             '{"customer":"\\ud800","channel":"push"}'),
            ("huge number",
             '{"customer":"%s","channel":"push","time":1e400}' % c),
            ("huge integer",
             '{"customer":"%s","channel":"push","time":%d}' % (c, 2 ** 70)),
        ]
        for desc, body in cases:
            with self.subTest(desc):
                self.assertRejected("POST", "/v1/decide", body, 400, None,
                                    desc)

    def test_bad_explanation_times_are_400(self):
        # Taken as 0 before, or a signed overflow in the rule engine.
        for t in ("abc", "99999999999999999999", "-5", "1e9", "", "12x"):
            with self.subTest(t):
                st, body = self.http.get("/v1/customers/%s?time=%s"
                                         % (self.seed, t))
                self.assertError(st, body, 400, "time")
        st, body = self.http.get("/v1/customers/%s?time=%d"
                                 % (self.seed, self.T0))
        self.assertEqual(st, 200, body)

    def test_extreme_times_never_crash(self):
        for t in (0, -1, 2 ** 62, -(2 ** 62), 2 ** 63 - 1):
            with self.subTest(t):
                st, body = self.decide(self.seed, "push", time=t,
                                       dry_run=True)
                self.assertTrue(st == 200 or 400 <= st < 500, (st, body))
                if st != 200:
                    self.assertError(st, body, None, "time")
        st, _ = self.http.get("/healthz")
        self.assertEqual(st, 200)


if __name__ == "__main__":
    main()
