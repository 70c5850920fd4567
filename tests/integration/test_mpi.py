"""
mpirun -np K pacer optimize (SPEC section 1): the run split over K
processes, customers sharded by their Redis Cluster slot, joined by MPI.

- Every check of test_optimize's TestOptimize (run folder, candidate in
  Redis, a plan feasible under every rule of SPEC section 4 checked from the
  CSVs alone, the reasons for nothing) holds for a two-process run.
- At the configured gap of 1e-4 the two-process plan and one process's
  are each within the other's certified bound.
- With budgets, capacities and a [fairness] row that bind, at a gap of
  1e-9, two processes give one process's objective and bound, to 1e-8
  (sums in another order may differ in the last bits), and the same
  assignments count, in scale and in exact mode.
- assignments.csv, written by both processes at their offsets, has its
  header once and every planned customer's rows once, together, as in
  Redis; summary.json counts every customer.
- On a Redis Cluster of three masters, three processes each read the
  master of their slot range and plan as one process does.
- A bad scores line in one process's shard stops both with exit 1, the
  message naming file and line.

Open MPI in a container as root needs --allow-run-as-root (and the two
OMPI_ALLOW_RUN_AS_ROOT variables for older versions) and the TCP transport
(--mca btl self,tcp: shared memory needs /dev/shm and ptrace rights a
container may not give). Skipped when pacer was built without MPI
(PACER_MPI); mpirun missing from an MPI build is a failure.
"""
import collections
import os
import shutil
import subprocess
import time
import unittest
from collections import defaultdict

import test_optimize
from clusterkit import ClusterCase, key_slot
from pacertest import (BUILD_DIR, main, pacer_path, plan_records,
                       require_binary)
from test_optimize import OptimizeCase, load_json, read_csv

RANKS = 2
MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--mca", "btl",
          "self,tcp"]
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1",
           "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def mpi_built():
    """Whether the build under test has MPI (CMake's PACER_WITH_MPI)."""
    try:
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            return "PACER_WITH_MPI:INTERNAL=ON" in f.read()
    except OSError:
        return False


def require_mpi():
    """Skip the class when pacer was built without MPI."""
    if not mpi_built():
        raise unittest.SkipTest("pacer built without MPI (PACER_MPI)")


def run_mpi(*args, timeout=300, ranks=RANKS):
    """mpirun -np ranks pacer ARGS; the CompletedProcess (text mode)."""
    require_binary(pacer_path(), "pacer")
    if shutil.which("mpirun") is None:
        raise AssertionError("pacer is built with MPI but mpirun is not "
                             "installed (openmpi-bin, scripts/deps.sh)")
    env = dict(os.environ, **MPI_ENV)
    return subprocess.run(MPIRUN + ["-np", str(ranks), pacer_path()] +
                          [str(a) for a in args],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, env=env)


def run_id_of(stderr):
    for line in stderr.splitlines():
        if "candidate is " in line:
            return line.rsplit("candidate is ", 1)[1].strip()
    raise AssertionError("no run id in:\n" + stderr)


class MpiCase(OptimizeCase):

    @classmethod
    def setUpClass(cls):
        require_mpi()
        super().setUpClass()

    @classmethod
    def optimize_run(cls, *extra, mpi=True, conf=None):
        """One run (no warm start from an earlier one): its folder."""
        from pacertest import run_pacer
        cls.redis.cli("DEL", "pacer:plan:candidate", "pacer:plan:live")
        args = ["optimize", "-c", conf or cls.conf_path, "--offers",
                os.path.join(cls.data, "offers.csv"), "--scores",
                os.path.join(cls.data, "scores.csv"), "--out",
                cls.reports] + list(extra)
        p = run_mpi(*args) if mpi else run_pacer(*args, timeout=300)
        assert p.returncode == 0, p.stderr
        return os.path.join(cls.reports, run_id_of(p.stderr)), p


class TestMpiOptimize(test_optimize.TestOptimize):
    """TestOptimize's checks, on a run of two processes."""

    @classmethod
    def setUpClass(cls):
        require_mpi()
        OptimizeCase.setUpClass.__func__(cls)
        from pacertest import run_pacer
        # One process first (no warm start for either), at the same time.
        now = int(time.time())
        args = ["optimize", "-c", cls.conf_path, "--offers",
                os.path.join(cls.data, "offers.csv"), "--scores",
                os.path.join(cls.data, "scores.csv"), "--out", cls.reports,
                "--now", now]
        p = run_pacer(*args, timeout=300)
        assert p.returncode == 0, p.stderr
        cls.one = load_json(os.path.join(cls.reports, run_id_of(p.stderr),
                                         "summary.json"))
        cls.redis.cli("DEL", "pacer:plan:candidate")
        p = run_mpi(*args)
        assert p.returncode == 0, p.stderr
        cls.proc = p
        cls.run_id = run_id_of(p.stderr)
        cls.folder = os.path.join(cls.reports, cls.run_id)

    def test_certificates_agree(self):
        """At gap 1e-4 each run's plan is within the other's bound."""
        two = load_json(os.path.join(self.folder, "summary.json"))
        gap = test_optimize.GAP
        for a, b in ((self.one, two), (two, self.one)):
            self.assertIn(a["status"], ("optimal", "gap_reached"))
            self.assertGreaterEqual(a["objective"],
                                    b["bound"] * (1 - gap) - 1e-6)
            self.assertGreaterEqual(a["bound"], b["objective"] - 1e-6)
        self.assertEqual(self.one["customers"], two["customers"])

    def test_split_over_two(self):
        self.assertIn("(2 processes, this one ", self.proc.stderr)
        # Progress lines from rank 0 only: one "done" line.
        self.assertEqual(self.proc.stderr.count("pacer optimize: done in"), 1)


class TestMpiSameAsOne(MpiCase):
    """
    Two processes against one, with every kind of row binding, at a gap of
    1e-9: both methods end at the optimum (scale mode by its exact fallback
    where the dual loop and polish leave a gap), so what two processes
    find must be one process's to the last digits, whatever the CPUs.
    """
    CONF = dict(OptimizeCase.CONF)
    CONF["segment student"] = {}
    CONF["fairness"] = {"segments": "student,vulnerable",
                        "min_ratio": "0.9"}
    CONF["optimizer"] = dict(OptimizeCase.CONF["optimizer"], gap="1e-9")
    N, M, SEED = 1500, 12, 17
    TIGHT = 1e-8

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.runs = {}
        now = int(time.time())
        # The scale run of two processes last: its plan entries stay.
        for method in ("exact", "scale"):
            for mpi in (False, True):
                cls.runs[method, mpi] = cls.optimize_run(
                    "--method", method, "--now", now, mpi=mpi)[0]
        cls.sums = {k: load_json(os.path.join(v, "summary.json"))
                    for k, v in cls.runs.items()}

    def close(self, a, b, what):
        self.assertAlmostEqual(a, b, delta=self.TIGHT * max(1.0, abs(a)),
                               msg=what)

    def same(self, method):
        one, two = self.sums[method, False], self.sums[method, True]
        optimum = self.sums["exact", False]["objective"]
        for k in ("objective", "bound"):
            self.close(one[k], two[k], "%s %s" % (method, k))
        for s in (one, two):
            self.close(s["objective"], optimum, method + " optimum")
            self.assertGreaterEqual(s["bound"], optimum * (1 - 1e-12))
            self.assertLessEqual(s["gap"], self.TIGHT)
        self.assertEqual(one["assignments"], two["assignments"], method)
        self.assertEqual(one["customers"], two["customers"])
        return one, two

    def test_rows_bind(self):
        """The instance is one where budgets, capacities and fairness bind."""
        s = self.sums["exact", False]
        self.assertTrue(any(o.get("budget_binding") or
                            o.get("capacity_binding") for o in s["offers"]),
                        s["offers"])
        rows = s["fairness"].get("constraints", [])
        self.assertTrue(any(r.get("binding") for r in rows), rows)

    def test_scale_same_as_one_process(self):
        self.same("scale")

    def test_exact_same_as_one_process(self):
        self.same("exact")

    def test_fairness_rows_hold(self):
        for (method, mpi), s in self.sums.items():
            for row in s["fairness"].get("constraints", []):
                self.assertGreaterEqual(
                    row["sends_per_customer"] + 1e-9,
                    row["min_ratio"] * row["base_sends_per_customer"],
                    "%s mpi=%s %s" % (method, mpi, row))

    def test_plan_file_every_customer_once(self):
        folder = self.runs["scale", True]
        with open(os.path.join(folder, "assignments.csv")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "customer,offer,channel,expected_value")
        self.assertNotIn(lines[0], lines[1:])
        rows = [l.split(",") for l in lines[1:]]
        self.assertEqual(len({(r[0], r[1]) for r in rows}), len(rows))
        # Each customer's rows together: written by one process, once.
        seen, last = set(), None
        for r in rows:
            if r[0] != last:
                self.assertNotIn(r[0], seen, "customer split: " + r[0])
                seen.add(r[0])
                last = r[0]
        want = defaultdict(set)
        for r in rows:
            want[r[0]].add(r[1])
        run_id = os.path.basename(folder)
        self.assertEqual(self.plan_entries(run_id), dict(want))
        s = self.sums["scale", True]
        self.assertEqual(s["assignments"], len(rows))
        self.assertEqual(s["customers"], self.N)
        self.assertEqual(sorted(os.listdir(folder)),
                         ["assignments.csv", "report.html", "summary.json"])


class TestMpiCluster(ClusterCase):
    """
    Three processes on a Redis Cluster of three masters: each rank's slot
    range is (but for a slot) one master's, so each reads its own; the plan
    matches one process's and its entries land on every master.
    """
    DAEMONS = 0
    MASTERS = 3
    CONF = {
        "channel email": {"cap": ["3/7d", "1/1d"]},
        "optimizer": {"max_offers_per_customer": "3", "gap": "0.0001",
                      "time_limit_s": "120", "horizon": "1d"},
    }
    N, M, SEED = 600, 8, 7

    @classmethod
    def setUpClass(cls):
        require_mpi()
        super().setUpClass()
        cls.cli_demo(load=True)

    def run_once(self, mpi, now):
        from pacertest import run_pacer
        self.rc.call("DEL", "pacer:plan:candidate")
        args = ("optimize", "-c", self.conf_path, "--offers",
                os.path.join(self.data, "offers.csv"), "--scores",
                os.path.join(self.data, "scores.csv"), "--out", self.reports,
                "--now", now)
        p = run_mpi(*args, ranks=3) if mpi else run_pacer(*args,
                                                          timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        run_id = run_id_of(p.stderr)
        return run_id, load_json(os.path.join(self.reports, run_id,
                                              "summary.json"))

    def test_three_ranks_on_three_masters(self):
        now = int(time.time())
        _, one = self.run_once(False, now)
        run_id, two = self.run_once(True, now)
        self.assertEqual(one["bound"], two["bound"])
        self.assertAlmostEqual(one["objective"], two["objective"],
                               delta=1e-4 * one["bound"])
        self.assertEqual(one["customers"], two["customers"])
        # Each rank's slots [r 16384/3, (r+1) 16384/3) are one master's.
        smap = self.cluster.slot_map()
        for r in range(3):
            owners = collections.Counter(
                smap[s] for s in range(r * 16384 // 3, (r + 1) * 16384 // 3))
            self.assertGreater(owners.most_common(1)[0][1],
                               0.999 * sum(owners.values()), owners)
        stem = self.rc.call("HGET", "pacer:run:" + run_id, "plan")
        entries = self.cluster.keys("pacer:plan:{*}:" + stem + ":?")
        self.assertEqual(len([p for p in entries if entries[p]]), 3)
        rows = read_csv(os.path.join(self.reports, run_id, "assignments.csv"))
        self.assertEqual(two["assignments"], len(rows))
        got, want = {}, collections.defaultdict(set)
        for port, keys in entries.items():
            for k in keys:
                self.assertEqual(smap[key_slot(k)], port)
                got.update(plan_records(self.rc.call("GET", k)))
        for r in rows:
            want[r["customer"]].add(r["offer"])
        self.assertEqual(got, dict(want))


class TestMpiBadInput(MpiCase):
    N, M, SEED = 60, 6, 3

    def test_bad_line_in_one_shard_stops_both(self):
        rows = read_csv(os.path.join(self.data, "scores.csv"))
        path = os.path.join(self.workdir, "bad.csv")
        with open(path, "w") as f:
            f.write("customer,offer,propensity\n")
            for r in rows:
                f.write("%s,%s,%s\n" % (r["customer"], r["offer"],
                                        r["propensity"]))
            f.write("%s,%s,1.5\n" % (rows[0]["customer"], rows[1]["offer"]))
        p = run_mpi("optimize", "-c", self.conf_path, "--offers",
                    os.path.join(self.data, "offers.csv"), "--scores", path,
                    "--out", os.path.join(self.workdir, "bad"), timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("bad.csv:%d: field propensity" % (len(rows) + 2),
                      p.stderr)


if __name__ == "__main__":
    main()
