"""
The OpenAPI document (conf/share/openapi.json, served at GET /v1/openapi.json
without a token): the document is valid OpenAPI 3.1 and complete, and REAL
answers of a running pacerd, every route, success and error, validate
against it.

Debian (bookworm) packages no OpenAPI validator (python3-openapi-spec-
validator is not in the archive), so the document is checked here against
OpenAPI 3.1's rules with python3-jsonschema: every schema is a valid JSON
Schema 2020-12 schema (Draft202012Validator.check_schema), every $ref
resolves, every operation has an id (unique), responses with descriptions,
its path parameters declared, known security schemes and tags. Answers are
validated with the 2020-12 dialect the document declares. Every error code
of the document is listed in the README.

Completeness against the router: every documented path answers its
documented methods (never 404/405) and 405 to the others, and every answer
seen has its status documented for its operation.
"""

import json
import os
import sys
import shutil
import tempfile
import time
import unittest

from pacertest import (PacerTestCase, HttpClient, SOURCE_DIR, write_file,
                       main)

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:           # scripts/deps.sh installs python3-jsonschema
    jsonschema = None

DOC_PATH = os.path.join(SOURCE_DIR, "conf", "share", "openapi.json")
README = os.path.join(SOURCE_DIR, "README.md")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")
DECIDE = "decide-token-0123456789"
ADMIN = "admin-token-abcdefghijk"

# The daemon's routes (SPEC section 3 and the README): all must be there.
ROUTES = {
    ("post", "/v1/decide"), ("post", "/v1/decide/batch"),
    ("post", "/v1/cancel"), ("get", "/v1/customers/{id}"),
    ("put", "/v1/customers/{id}"), ("delete", "/v1/customers/{id}"),
    ("post", "/v1/optimize"), ("get", "/v1/optimize/{run_id}"),
    ("post", "/v1/admin/reload"), ("get", "/v1/openapi.json"),
    ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
}

# A stand-in optimizer: one progress line, then a second's work, so that a
# second POST /v1/optimize meets the first one running.
STAND_IN = """#!%s
import sys, time
sys.stderr.write("pacer optimize: exact iteration=1 objective=10.5000 "
                 "bound=10.6000 gap=0.95000%% elapsed=0.01s\\n")
sys.stderr.flush()
time.sleep(1.0)
"""


def load_doc():
    with open(DOC_PATH) as f:
        return json.load(f)


def pointer(doc, ref):
    """The node a local $ref ("#/a/b") points at; KeyError if none."""
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part] if isinstance(node, dict) else node[int(part)]
    return node


def deref(doc, node):
    """An OpenAPI object, following its $ref if it is one."""
    while isinstance(node, dict) and "$ref" in node:
        node = pointer(doc, node["$ref"])
    return node


def walk(node, path=""):
    """Every (json path, dict) below node."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, path + "/" + str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + "/" + str(i))


class TestDocument(unittest.TestCase):
    """The document alone: valid OpenAPI 3.1, complete, codes listed."""

    @classmethod
    def setUpClass(cls):
        if jsonschema is None:
            raise unittest.SkipTest("python3-jsonschema is not installed")
        cls.doc = load_doc()

    def test_header(self):
        d = self.doc
        self.assertRegex(d["openapi"], r"^3\.1\.\d+$")
        self.assertEqual(d["jsonSchemaDialect"],
                         "https://json-schema.org/draft/2020-12/schema")
        self.assertTrue(d["info"]["title"])
        self.assertTrue(d["info"]["version"])
        self.assertEqual(set(d) - {"openapi", "info", "jsonSchemaDialect",
                                   "servers", "paths", "webhooks",
                                   "components", "security", "tags",
                                   "externalDocs"}, set())

    def test_every_ref_resolves(self):
        for where, node in walk(self.doc):
            if "$ref" in node:
                try:
                    pointer(self.doc, node["$ref"])
                except (KeyError, IndexError, ValueError):
                    self.fail("%s: $ref %s does not resolve"
                              % (where, node["$ref"]))

    def schemas(self):
        """Every schema of the document, with where it is."""
        d = self.doc
        for name, s in d["components"]["schemas"].items():
            yield "components/schemas/" + name, s
        for p, item in d["paths"].items():
            for m, op in item.items():
                if m not in METHODS:
                    continue
                for prm in op.get("parameters", []):
                    yield "%s %s parameter" % (m, p), deref(d, prm)["schema"]
                rb = op.get("requestBody")
                for mt, media in (deref(d, rb)["content"].items()
                                  if rb else []):
                    yield "%s %s request %s" % (m, p, mt), media["schema"]
                for st, r in op["responses"].items():
                    for mt, media in deref(d, r).get("content", {}).items():
                        yield "%s %s %s %s" % (m, p, st, mt), media["schema"]

    def test_every_schema_is_json_schema_2020_12(self):
        n = 0
        for where, s in self.schemas():
            try:
                Draft202012Validator.check_schema(s)
            except jsonschema.SchemaError as e:
                self.fail("%s: %s" % (where, e.message))
            n += 1
        self.assertGreater(n, 40)

    def test_operations(self):
        d = self.doc
        ids, schemes = set(), set(d["components"]["securitySchemes"])
        tags = {t["name"] for t in d.get("tags", [])}
        found = set()
        for p, item in d["paths"].items():
            self.assertTrue(p.startswith("/"), p)
            templ = {x.split("}")[0] for x in p.split("{")[1:]}
            for m, op in item.items():
                self.assertIn(m, METHODS + ("parameters", "summary",
                                            "description", "servers"), p)
                if m not in METHODS:
                    continue
                found.add((m, p))
                ctx = "%s %s" % (m, p)
                self.assertNotIn(op["operationId"], ids, ctx)
                ids.add(op["operationId"])
                self.assertTrue(op["responses"], ctx)
                for st, r in op["responses"].items():
                    self.assertRegex(st, r"^([1-5]\d\d|[1-5]XX|default)$",
                                     ctx)
                    self.assertTrue(deref(d, r).get("description"), ctx)
                params = [deref(d, x) for x in op.get("parameters", [])]
                inpath = {x["name"] for x in params if x["in"] == "path"}
                self.assertEqual(inpath, templ, ctx)
                for x in params:
                    if x["in"] == "path":
                        self.assertIs(x.get("required"), True, ctx)
                for req in op.get("security", d.get("security", [])):
                    self.assertLessEqual(set(req), schemes, ctx)
                self.assertLessEqual(set(op.get("tags", [])), tags, ctx)
                # Every error answer is {"error", "code"}.
                for st, r in op["responses"].items():
                    if st[0] in "45":
                        s = deref(d, r)["content"]["application/json"][
                            "schema"]
                        self.assertEqual(s, {"$ref":
                                             "#/components/schemas/Error"},
                                         ctx + " " + st)
        self.assertEqual(found, ROUTES)

    def test_error_codes_are_in_the_readme(self):
        codes = self.doc["components"]["schemas"]["ErrorCode"]["enum"]
        with open(README) as f:
            readme = f.read()
        missing = [c for c in codes if "`%s`" % c not in readme]
        self.assertEqual(missing, [], "error codes the README does not list")

    def test_installed_copy_is_the_source(self):
        # conf/install.cmake installs conf/share/ as it is; nothing to
        # generate, so the served, the installed and the source document
        # are one file.
        self.assertTrue(os.path.isfile(DOC_PATH))


class ApiCase(PacerTestCase):
    """A daemon with tokens; every answer is checked against the document."""

    TOKEN = ADMIN
    CONF = {"optimizer": {"run_at": None}}

    @classmethod
    def setUpClass(cls):
        if jsonschema is None:
            raise unittest.SkipTest("python3-jsonschema is not installed")
        cls.doc = load_doc()
        cls.stand_in_dir = tempfile.mkdtemp(prefix="pacer-it-openapi-")
        cls.addClassCleanup(shutil.rmtree, cls.stand_in_dir, True)
        script = write_file(os.path.join(cls.stand_in_dir, "pacer"),
                            STAND_IN % sys.executable)
        os.chmod(script, 0o755)
        old = os.environ.get("PACER_BIN")
        os.environ["PACER_BIN"] = script
        try:
            super().setUpClass()
        finally:
            if old is None:
                del os.environ["PACER_BIN"]
            else:
                os.environ["PACER_BIN"] = old

    @classmethod
    def extra_conf(cls):
        path = write_file(os.path.join(cls.workdir, "tokens"),
                          "%s decide\n%s admin\n" % (DECIDE, ADMIN))
        os.chmod(path, 0o600)
        return {"server": {"tokens_file": path}}

    def setUp(self):
        self.anon = HttpClient(self.daemon.port, token="")
        self.dec = HttpClient(self.daemon.port, token=DECIDE)

    def tearDown(self):
        self.anon.close()
        self.dec.close()

    def validate(self, schema, instance, ctx):
        # The document's components ride along in the root, so that its
        # "#/components/..." references resolve as they do in the document.
        root = dict(schema, components=self.doc["components"])
        v = Draft202012Validator(root)
        errors = sorted(v.iter_errors(instance), key=lambda e: e.path)
        if errors:
            self.fail("%s: %r does not match the document: %s" % (
                ctx, instance, "; ".join(
                    "%s at %s" % (e.message, "/".join(map(str, e.path)))
                    for e in errors[:5])))

    def check(self, method, template, status, body, headers, ctx=""):
        """A real answer against its operation in the document."""
        ctx = "%s %s -> %s %s" % (method.upper(), template, status, ctx)
        op = self.doc["paths"][template][method]
        self.assertIn(str(status), op["responses"],
                      ctx + ": status not documented: %r" % (body,))
        resp = deref(self.doc, op["responses"][str(status)])
        (mtype, media), = resp["content"].items()
        self.assertTrue(headers.get("content-type", "").startswith(mtype),
                        ctx + ": " + headers.get("content-type", ""))
        self.validate(media["schema"], body, ctx)

    def call(self, method, path, template, body=None, client=None,
             expect=None, ctx=""):
        """Request path, check the answer against template's operation."""
        c = client or self.http
        st, got = c.request(method.upper(), path, body)
        if expect is not None:
            self.assertEqual(st, expect, "%s %s: %r" % (method, path, got))
        self.check(method, template, st, got, c.headers, ctx)
        if 400 <= st < 500:
            self.assertError(st, got)
        return st, got

    def error_schema(self, st, body, ctx):
        """An error outside the documented operations (404, 501, ...)."""
        self.validate({"$ref": "#/components/schemas/Error"}, body,
                      "%s -> %s" % (ctx, st))


class TestAnswers(ApiCase):

    def test_openapi_served_without_token(self):
        st, body = self.call("get", "/v1/openapi.json", "/v1/openapi.json",
                             client=self.anon, expect=200)
        self.assertEqual(body, self.doc)

    def test_decide(self):
        c = self.consented_customer()
        T = self.T0
        D = "/v1/decide"
        self.call("post", D, D, {"customer": c, "channel": "push",
                                 "time": T, "dry_run": True}, expect=200)
        st, a = self.call("post", D, D, {"customer": c, "channel": "push",
                                         "time": T, "send_id": "s1"},
                          expect=200)
        self.assertTrue(a["allow"])
        self.call("post", D, D, {"customer": c, "channel": "push",
                                 "time": T + 1}, expect=200)
        st, a = self.call("post", D, D, {"customer": c, "channel": "push",
                                         "time": T + 2}, expect=200)
        self.assertEqual(a["reason"], "cap", a)
        self.assertIn("retry_after", a)
        self.call("post", D, D, {"customer": self.customer(),
                                 "channel": "sms", "time": T}, expect=200)
        self.call("post", D, D, {"customer": c, "channel": "email",
                                 "offer": "welcome10", "campaign": "welcome",
                                 "time": T}, client=self.dec, expect=200)
        # Errors, each with its code.
        for body, code in [
                ("{bad", "bad_json"), ("", "bad_json"), ("[1]", "bad_json"),
                ({"customer": c, "channel": "push", "dryrun": True},
                 "unknown_field"),
                ({"customer": c, "channel": "fax"}, "unknown_channel"),
                ({"customer": c}, "bad_channel"),
                ({"customer": "a b", "channel": "push"}, "bad_customer"),
                ({"customer": c, "channel": "push", "offer": "nope"},
                 "unknown_offer"),
                ({"customer": c, "channel": "push", "offer": "welcome10"},
                 "bad_offer"),
                ({"customer": c, "channel": "push", "campaign": "nope"},
                 "unknown_campaign"),
                ({"customer": c, "channel": "push", "send_id": "a b"},
                 "bad_send_id"),
                ({"customer": c, "channel": "push", "time": -1}, "bad_time"),
                ({"customer": c, "channel": "push", "dry_run": 1},
                 "bad_dry_run")]:
            st, e = self.call("post", D, D, body, expect=400, ctx=repr(body))
            self.assertEqual(e["code"], code, body)
        st, e = self.call("post", D, D, {"customer": c, "channel": "sms",
                                         "time": T, "send_id": "s1"},
                          expect=409)
        self.assertEqual(e["code"], "send_id_conflict")
        st, e = self.call("post", D, D, {"customer": c, "channel": "push"},
                          client=self.anon, expect=401)
        self.assertEqual(e["code"], "unauthorized")
        st, e = self.call("post", D, D, {"customer": c, "channel": "push",
                                         "send_id": "x" * 70000},
                          expect=413)
        self.assertEqual(e["code"], "too_large")
        st, e = self.http.get(D)
        self.assertEqual(st, 405)
        self.error_schema(st, e, "GET /v1/decide")
        self.assertEqual(self.http.headers.get("allow"), "POST")

    def test_batch(self):
        c = self.consented_customer()
        B = "/v1/decide/batch"
        st, r = self.call("post", B, B, {"requests": [
            {"customer": c, "channel": "push", "time": self.T0},
            {"customer": c, "channel": "fax"},
            {"customer": c, "channel": "push", "bogus": 1},
            "not an object"]}, client=self.dec, expect=200)
        self.assertEqual(len(r["results"]), 4)
        self.assertIn("code", r["results"][1])
        self.call("post", B, B, {"requests": []}, expect=200)
        st, e = self.call("post", B, B, {"requests": [{}] * 1001},
                          expect=400)
        self.assertEqual(e["code"], "bad_requests")
        st, e = self.call("post", B, B, {"request": []}, expect=400)
        self.call("post", B, B, {"requests": []}, client=self.anon,
                  expect=401)

    def test_cancel(self):
        c = self.consented_customer()
        C = "/v1/cancel"
        self.decide(c, "push", time=self.T0, send_id="k1")
        st, r = self.call("post", C, C, {"customer": c, "send_id": "k1"},
                          client=self.dec, expect=200)
        self.assertTrue(r["released"])
        st, r = self.call("post", C, C, {"customer": c, "send_id": "k1"},
                          expect=200)
        self.assertFalse(r["released"])
        for body, code in [({"customer": c}, "bad_send_id"),
                           ({"customer": c, "send_id": "k", "x": 1},
                            "unknown_field"),
                           ({"send_id": "k"}, "bad_customer")]:
            st, e = self.call("post", C, C, body, expect=400)
            self.assertEqual(e["code"], code)
        self.call("post", C, C, {"customer": c, "send_id": "k"},
                  client=self.anon, expect=401)

    def test_customers(self):
        U = "/v1/customers/{id}"
        c = self.customer()
        p = "/v1/customers/" + c
        self.call("get", p, U, expect=200, ctx="unknown customer")
        st, prof = self.call("put", p, U, {
            "consent": {"email": True, "sms": False}, "tz": "Europe/Paris",
            "segments": ["vulnerable"]}, expect=200)
        self.assertIsNone(prof["consent"]["push"])
        for i in range(3):
            self.decide(c, "email", time=self.T0 + i, offer="welcome10",
                        campaign="welcome", send_id="e%d" % i)
        self.http.post("/v1/cancel", {"customer": c, "send_id": "e0"})
        st, ex = self.call("get", p + "?time=%d" % (self.T0 + 10), U,
                           client=self.dec, expect=200)
        self.assertTrue(ex["caps"] and ex["recent_decisions"], ex)
        self.assertTrue(any("would_change" in a and a["would_change"]
                            for a in ex["channels"].values()), ex)
        for body, code in [({"tz": "Mars/Olympus"}, "unknown_tz"),
                           ({"tz": 5}, "bad_tz"),
                           ({"consent": []}, "bad_consent"),
                           ({"consent": {"fax": True}}, "unknown_consent"),
                           ({"consent": {"email": 1}}, "bad_consent"),
                           ({"segments": "vulnerable"}, "bad_segments"),
                           ({"segments": ["a b"]}, "bad_segments"),
                           ({"nick": "x"}, "unknown_field"),
                           ({}, "bad_request"), ("{", "bad_json")]:
            st, e = self.call("put", p, U, body, expect=400, ctx=repr(body))
            self.assertEqual(e["code"], code, body)
        st, e = self.call("get", "/v1/customers/a%20b", U, expect=400)
        st, e = self.call("put", p, U, {"tz": "UTC"}, client=self.dec,
                          expect=403)
        self.assertEqual(e["code"], "forbidden")
        self.call("delete", p, U, client=self.dec, expect=403)
        self.call("get", p, U, client=self.anon, expect=401)
        st, r = self.call("delete", p, U, expect=200)
        self.assertGreater(r["removed"], 0)

    def test_optimize(self):
        O, S = "/v1/optimize", "/v1/optimize/{run_id}"
        self.call("post", O, O, {}, client=self.dec, expect=403)
        self.call("post", O, O, {}, client=self.anon, expect=401)
        st, r = self.call("post", O, O, {}, expect=202)
        st, e = self.call("post", O, O, {}, expect=409)
        self.assertEqual(e["code"], "conflict")
        run = "/v1/optimize/" + r["run_id"]
        st, s = self.call("get", run, S, expect=200)
        self.assertEqual(s["status"], "running", s)
        deadline = time.monotonic() + 15
        while s["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
            st, s = self.call("get", run, S, expect=200)
        self.assertEqual(s["status"], "done", s)
        self.assertAlmostEqual(s["gap"], 0.0095, places=6)
        st, e = self.call("get", "/v1/optimize/nope", S, expect=404)
        self.assertEqual(e["code"], "not_found")
        self.call("get", run, S, client=self.dec, expect=403)

    def test_reload(self):
        R = "/v1/admin/reload"
        self.call("post", R, R, {}, expect=200)
        self.call("post", R, R, {}, client=self.dec, expect=403)
        with open(self.conf_path) as f:
            good = f.read()
        try:
            write_file(self.conf_path, good + "\n[nonsense]\nx = 1\n")
            st, e = self.call("post", R, R, {}, expect=400)
            self.assertIn("nonsense", e["error"])
        finally:
            write_file(self.conf_path, good)
        self.call("post", R, R, {}, expect=200)

    def test_operations(self):
        self.call("get", "/healthz", "/healthz", client=self.anon,
                  expect=200)
        self.call("get", "/readyz", "/readyz", client=self.anon, expect=200)
        st, text = self.call("get", "/metrics", "/metrics",
                             client=self.anon, expect=200)
        self.assertIn("pacer_build_info", text)

    def test_router_matches_the_document(self):
        """Documented methods are served; the others are 405 (or 404)."""
        probe = {"id": "c-router", "run_id": "nope"}
        for p, item in self.doc["paths"].items():
            path = p.format(**probe)
            for m in ("get", "post", "put", "delete"):
                st, body = self.dec.request(m.upper(), path, {}
                                            if m in ("post", "put") else None)
                if m in item:
                    self.assertNotIn(st, (404, 405, 501), "%s %s: %r"
                                     % (m, p, body))
                    if p != "/v1/optimize/{run_id}":
                        self.check(m, p, st, body, self.dec.headers)
                else:
                    self.assertEqual(st, 405, "%s %s undocumented: %r"
                                     % (m, p, body))
                    self.error_schema(st, body, "%s %s" % (m, p))
                    self.assertEqual(body["code"], "method_not_allowed")

    def test_errors_outside_the_routes(self):
        st, body = self.anon.get("/v2/nothing")
        self.assertEqual(st, 404)
        self.error_schema(st, body, "GET /v2/nothing")
        self.assertEqual(body["code"], "not_found")
        st, body = self.anon.request("PROPFIND", "/v1/decide")
        self.assertEqual(st, 501)
        self.error_schema(st, body, "PROPFIND")
        self.assertEqual(body["code"], "not_implemented")
        st, body = self.anon.get("/" + "x" * 600)
        self.assertEqual(st, 414)
        self.error_schema(st, body, "long path")
        self.assertEqual(body["code"], "uri_too_long")
        st, body = self.anon.get("/healthz", headers={
            "X-H%d" % i: "v" for i in range(70)})
        self.assertEqual(st, 431)
        self.error_schema(st, body, "70 headers")
        self.assertEqual(body["code"], "headers_too_large")


class TestStoreDown(ApiCase):
    """Redis gone: the 503s and store_unavailable answers, as documented."""

    def test_store_unavailable(self):
        c = self.consented_customer()
        self.redis.stop()
        deadline = time.monotonic() + 10
        st = 200
        while st == 200 and time.monotonic() < deadline:
            st, body = self.anon.get("/readyz")
            time.sleep(0.05)
        self.check("get", "/readyz", st, body, self.anon.headers)
        self.assertEqual((st, body["code"]), (503, "store_unavailable"))
        st, a = self.call("post", "/v1/decide", "/v1/decide",
                          {"customer": c, "channel": "email"}, expect=200)
        self.assertEqual(a["reason"], "store_unavailable")
        st, r = self.call("post", "/v1/decide/batch", "/v1/decide/batch",
                          {"requests": [{"customer": c, "channel": "push"}]},
                          expect=200)
        U = "/v1/customers/{id}"
        for m in ("get", "put", "delete"):
            st, e = self.call(m, "/v1/customers/" + c, U,
                              {"tz": "UTC"} if m == "put" else None,
                              expect=503)
            self.assertEqual(e["code"], "store_unavailable")
        st, e = self.call("post", "/v1/cancel", "/v1/cancel",
                          {"customer": c, "send_id": "x"}, expect=503)
        self.assertEqual(e["code"], "store_unavailable")


if __name__ == "__main__":
    main()
