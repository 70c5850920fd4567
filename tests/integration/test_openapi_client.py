"""
A client GENERATED from the OpenAPI document decides (issue 17).

tests/clients/openapi-ts/ pins @hey-api/openapi-ts and TypeScript
(package.json + package-lock.json with integrity hashes). The test copies it
into a temporary folder, installs it with `npm ci` (the npm registry, or
npm's cache), fetches the document pacerd serves at GET /v1/openapi.json
(which must be conf/share/openapi.json), generates the TypeScript client
from it (./gen: one function per operationId), compiles decide.ts with
`tsc --strict` against the generated types (a field the program reads that
the document does not declare fails the build), and runs it with Node.js
against a real pacerd with a tokens file and channel push capped at 1/1h:

  putCustomer (admin token, path parameter id, JSON body)  -> 200
  decide push send_id gen-1                                -> allowed, ok
  decide push send_id gen-2                                -> denied by the cap,
                                     rule "push 1/1h", retry_after, next_allowed
  cancel gen-1                                             -> released
  decide push send_id gen-3                                -> allowed again
  decide email send_id gen-3                               -> 409 send_id_conflict
  explainCustomer                                          -> contacts: gen-3 only
  an unknown token / a decide token on putCustomer         -> 401 / 403 with codes

and the store, read by this test over plain HTTP, agrees.

Skipped, saying why, when node or npm is missing or node is older than the
generator needs (20.19); a failed install or generation is a failure.
"""

import json
import os
import re
import shutil
import subprocess
import time
import unittest

from pacertest import PacerTestCase, SOURCE_DIR, write_file, main

CLIENT_SRC = os.path.join(SOURCE_DIR, "tests", "clients", "openapi-ts")
DOCUMENT = os.path.join(SOURCE_DIR, "conf", "share", "openapi.json")
CLIENT_FILES = ("package.json", "package-lock.json", "tsconfig.json",
                "decide.ts")
NODE_MIN = (20, 19)       # @hey-api/openapi-ts 0.94's engines

DECIDE = "gen-decide-7Qw2xLp9Kd"
ADMIN = "gen-admin-4Rt8mZc3Vb"


def node_problem():
    """Why the generated client cannot run here, or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return ("node and npm are needed to generate and run the client "
                "(missing: %s)" % ", ".join(
                    n for n, p in (("node", node), ("npm", npm)) if p is None))
    out = subprocess.run([node, "--version"], capture_output=True,
                         text=True, timeout=30).stdout.strip()
    m = re.match(r"v(\d+)\.(\d+)", out)
    if not m or (int(m.group(1)), int(m.group(2))) < NODE_MIN:
        return ("node %s is older than %d.%d, which @hey-api/openapi-ts "
                "needs" % (out or "?", NODE_MIN[0], NODE_MIN[1]))
    return None


def run(cmd, cwd, timeout, what):
    """Run a command; fail with its output when it fails."""
    env = dict(os.environ, npm_config_update_notifier="false",
               npm_config_fund="false", npm_config_audit="false",
               NO_COLOR="1")
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                       timeout=timeout, env=env)
    if p.returncode != 0:
        raise AssertionError("%s failed (exit %d): %s\n%s\n%s" % (
            what, p.returncode, " ".join(cmd), p.stdout[-4000:],
            p.stderr[-4000:]))
    return p.stdout


class TestOpenApiClient(PacerTestCase):
    CONF = {"channel push": {"cap": ["1/1h"]}}
    TOKEN = ADMIN

    @classmethod
    def extra_conf(cls):
        path = write_file(os.path.join(cls.workdir, "tokens"),
                          "# test tokens\n%s decide\n%s admin\n"
                          % (DECIDE, ADMIN))
        os.chmod(path, 0o600)
        return {"server": {"tokens_file": path}}

    @classmethod
    def setUpClass(cls):
        why = node_problem()
        if why:
            raise unittest.SkipTest(why)
        super().setUpClass()

    def build_client(self):
        """Install the generator, generate from the served document,
        compile; the client's folder."""
        d = os.path.join(self.workdir, "client")
        os.makedirs(d)
        for f in CLIENT_FILES:
            shutil.copy(os.path.join(CLIENT_SRC, f), d)
        npm_ci = ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"]
        try:
            run(npm_ci, d, 180, "npm ci")
        except AssertionError:
            time.sleep(2)                  # one more try: a network hiccup
            run(npm_ci, d, 180, "npm ci")

        st, served = self.http.request("GET", "/v1/openapi.json", token="")
        self.assertEqual(st, 200, served)
        with open(DOCUMENT) as f:
            self.assertEqual(served, json.load(f),
                             "GET /v1/openapi.json is not "
                             "conf/share/openapi.json")
        doc = write_file(os.path.join(d, "openapi.json"), json.dumps(served))

        bin_ = os.path.join(d, "node_modules", ".bin")
        run([os.path.join(bin_, "openapi-ts"), "-i", doc, "-o", "gen"], d,
            120, "openapi-ts")
        with open(os.path.join(d, "gen", "sdk.gen.ts")) as f:
            sdk = f.read()
        for path, ops in served["paths"].items():
            for method, op in ops.items():
                if isinstance(op, dict) and "operationId" in op:
                    self.assertIn("export const %s = " % op["operationId"],
                                  sdk, "no generated function for %s %s"
                                  % (method.upper(), path))
        run([os.path.join(bin_, "tsc"), "-p", "tsconfig.json"], d, 120,
            "tsc --strict on the generated client and decide.ts")
        return d

    def test_generated_client_decides(self):
        d = self.build_client()
        c = self.customer()
        t0 = int(time.time())
        out = run(["node", os.path.join("dist", "decide.js"),
                   "http://127.0.0.1:%d" % self.daemon.port, ADMIN, DECIDE,
                   c], d, 60, "the generated client")
        t1 = int(time.time())
        lines = [json.loads(l) for l in out.splitlines() if l.strip()]
        steps = {l["step"]: l for l in lines}
        self.assertNotIn("crash", steps, out)
        self.assertEqual(list(steps), [
            "put", "allowed", "capped", "cancel", "allowed_again",
            "conflict", "explain", "unauthorized", "forbidden"], out)
        ok = {s: l for s, l in steps.items()
              if s not in ("conflict", "unauthorized", "forbidden")}
        for s, l in ok.items():
            self.assertEqual(l["status"], 200, l)
            self.assertNotIn("error", l, l)

        a = steps["allowed"]["data"]
        self.assertEqual((a["allow"], a["reason"], a["send_id"]),
                         (True, "ok", "gen-1"), a)

        capped = steps["capped"]["data"]
        self.assertEqual((capped["allow"], capped["reason"],
                          capped["send_id"], capped["rule"]),
                         (False, "cap", "gen-2", "push 1/1h"), capped)
        self.assertTrue(0 < capped["retry_after"] <= 3600, capped)
        self.assertTrue(t0 + capped["retry_after"] - 2
                        <= capped["next_allowed"]
                        <= t1 + capped["retry_after"] + 2, capped)

        self.assertEqual(steps["cancel"]["data"], {"released": True})
        again = steps["allowed_again"]["data"]
        self.assertEqual((again["allow"], again["reason"], again["send_id"]),
                         (True, "ok", "gen-3"), again)

        for step, status, code in (("conflict", 409, "send_id_conflict"),
                                   ("unauthorized", 401, "unauthorized"),
                                   ("forbidden", 403, "forbidden")):
            l = steps[step]
            self.assertEqual(l["status"], status, l)
            self.assertNotIn("data", l, l)
            self.assertEqual(l["error"]["code"], code, l)
            self.assertTrue(l["error"]["error"], l)

        seen = [x["send_id"] for x in
                steps["explain"]["data"]["recent_contacts"]]
        self.assertEqual(seen, ["gen-3"], steps["explain"])
        # The store agrees, read without the generated client.
        st, ex = self.http.get("/v1/customers/" + c)
        self.assertEqual(st, 200, ex)
        self.assertEqual([x["send_id"] for x in ex["recent_contacts"]],
                         ["gen-3"], ex)
        self.assertEqual(ex["consent"]["push"]["granted"]
                         if isinstance(ex["consent"]["push"], dict)
                         else ex["consent"]["push"], True, ex)


if __name__ == "__main__":
    main()
