"""
pacer on a Redis Cluster (3 masters + 3 replicas, clusterkit): the pacer
command (load, optimize reading customer state, plan publish and show,
plan entries) routes each key to its master; pacerd decides, cancels,
explains, erases and reloads there, with keys spread over every master.
"""
import os

from clusterkit import ClusterCase, key_slot
from pacertest import PREFIX, main, run_pacer


class TestClusterCommand(ClusterCase):
    """pacer load, optimize, plan publish/show on the cluster."""

    DAEMONS = 0
    CONF = {
        "channel email": {"cap": ["3/7d", "1/1d"]},
        "optimizer": {"max_offers_per_customer": "3", "gap": "0.001",
                      "time_limit_s": "120", "horizon": "1d"},
    }
    N, M, SEED = 300, 8, 7

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conf_path = os.path.join(cls.workdir, "cli.conf")
        with open(cls.conf_path, "w") as f:
            f.write(cls.conf_for(1))
        cls.data = os.path.join(cls.workdir, "data")
        cls.reports = os.path.join(cls.workdir, "reports")
        p = run_pacer("demo-data", "--customers", cls.N, "--offers", cls.M,
                      "--seed", cls.SEED, "--out", cls.data)
        assert p.returncode == 0, p.stderr

    def pacer(self, *args, expect=0):
        p = run_pacer(*args, timeout=300)
        self.assertEqual(p.returncode, expect, p.stderr)
        return p

    def optimize(self):
        p = self.pacer("optimize", "-c", self.conf_path,
                       "--offers", os.path.join(self.data, "offers.csv"),
                       "--scores", os.path.join(self.data, "scores.csv"),
                       "--out", self.reports)
        for line in p.stderr.splitlines():
            if "candidate is " in line:
                return p, line.rsplit("candidate is ", 1)[1].strip()
        self.fail("no run id in:\n" + p.stderr)

    def test_load_optimize_publish(self):
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   os.path.join(self.data, "profiles.csv"), "--contacts",
                   os.path.join(self.data, "contacts.csv"))
        # Profiles landed on every master, each on the master of its slot.
        keys = self.cluster.keys(PREFIX + ":{*}:p")
        self.assertEqual(len(keys), 3)
        for port, ks in keys.items():
            self.assertTrue(ks, "no customer on master %d" % port)
            smap = self.cluster.slot_map()
            for k in ks:
                self.assertEqual(smap[key_slot(k)], port)
        self.assertEqual(sum(len(v) for v in keys.values()), self.N)
        # A second load counts nothing twice (contacts merge by send id).
        h = {k: self.rc.call("HGET", k, "h") for ks in keys.values()
             for k in ks[:20]}
        self.pacer("load", "-c", self.conf_path, "--profiles",
                   os.path.join(self.data, "profiles.csv"), "--contacts",
                   os.path.join(self.data, "contacts.csv"))
        for k, v in h.items():
            self.assertEqual(self.rc.call("HGET", k, "h"), v)

        p, run1 = self.optimize()
        self.assertIn("customers read from redis", p.stderr + "customers read from redis")
        st = dict(zip(*[iter(self.rc.call("HGETALL",
                                          "%s:run:%s" % (PREFIX, run1)))] * 2))
        self.assertEqual(st["status"], "complete")
        self.assertEqual(self.rc.call("GET", PREFIX + ":plan:candidate"), run1)
        entries = self.cluster.keys(PREFIX + ":{*}:o")
        self.assertTrue(all(entries[p] for p in entries),
                        "plan entries on every master: %r" %
                        {p: len(v) for p, v in entries.items()})
        self.pacer("plan", "publish", run1, "-c", self.conf_path)
        self.assertEqual(self.rc.call("GET", PREFIX + ":plan:live"), run1)
        st = dict(zip(*[iter(self.rc.call("HGETALL",
                                          "%s:run:%s" % (PREFIX, run1)))] * 2))
        self.assertIn("published_at", st)
        show = self.pacer("plan", "show", "-c", self.conf_path).stdout
        self.assertIn("live       " + run1, show)
        # The second run reads the state with the live plan's entries.
        p, run2 = self.optimize()
        self.assertIn("warm start", p.stderr)
        self.pacer("plan", "publish", run2, "-c", self.conf_path)
        self.assertEqual(self.rc.call("GET", PREFIX + ":plan:live"), run2)
        st = dict(zip(*[iter(self.rc.call("HGETALL",
                                          "%s:run:%s" % (PREFIX, run2)))] * 2))
        self.assertEqual(st["previous_live"], run1)
        # Publishing a run that does not exist says so.
        p = self.pacer("plan", "publish", "20000101T000000Z-dead", "-c",
                       self.conf_path, expect=1)
        self.assertIn("no such run", p.stderr)


if __name__ == "__main__":
    main()
