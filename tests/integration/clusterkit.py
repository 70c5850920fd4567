"""
clusterkit: a throwaway Redis Cluster for pacer's integration tests.

Six redis-server processes with `cluster-enabled yes` on free ports, made
into 3 masters + 3 replicas by `redis-cli --cluster create ...
--cluster-replicas 1 --cluster-yes`; set-up waits for `cluster_state:ok` on
every node. ClusterClient routes a test's own commands by slot (CRC16 of
the hash tag) and follows MOVED/ASK, so tests read what pacerd and pacer
wrote wherever it lives.

    from clusterkit import Cluster, ClusterCase

    class TestX(ClusterCase):
        def test_spread(self):
            ...  # self.cluster, self.rc (ClusterClient), self.http
"""

import os
import subprocess
import time

from pacertest import (PREFIX, SLOTS, START_TIMEOUT, PacerTestCase, Pacerd,
                       HttpClient, Redis, RedisError, RedisServer,
                       base_overrides, free_port, make_config,
                       merge_overrides, require_binary, require_redis,
                       pacerd_path, read_text, write_file, _register,
                       crc16)
import tempfile

NODE_TIMEOUT_MS = 1000     # cluster-node-timeout: how soon a dead master fails over


def key_slot(key):
    """The slot of a key (its {hash tag} when it has a non-empty one)."""
    k = key.encode() if isinstance(key, str) else key
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return crc16(k) % SLOTS


def redis_cli_path():
    for d in ("/usr/bin", "/usr/local/bin"):
        p = os.path.join(d, "redis-cli")
        if os.path.exists(p):
            return p
    return "redis-cli"


def cluster_free_port():
    """A free port p <= 55535 whose bus port p + 10000 is free too."""
    import random
    import socket
    for _ in range(1000):
        p = random.randint(20000, 45000)
        ok = True
        for q in (p, p + 10000):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return p
    raise AssertionError("no free port pair for a cluster node")


class ClusterNode(RedisServer):
    """One redis-server of a cluster (no persistence, its own nodes.conf)."""

    def __init__(self, workdir):
        super().__init__(workdir, port=cluster_free_port())

    def start(self):
        """Start the node; a port taken meanwhile (its bus port by another
        test's socket) is traded for a new pair, a few times."""
        for attempt in range(5):
            try:
                return self._start()
            except AssertionError as e:
                if "Address already in use" not in str(e) or attempt == 4:
                    raise
                self.port = cluster_free_port()

    def _start(self):
        require_redis()
        from pacertest import redis_server_path
        args = [redis_server_path(), "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--logfile", self.log,
                "--daemonize", "no", "--protected-mode", "no",
                "--cluster-enabled", "yes",
                "--cluster-config-file", os.path.join(self.dir, "nodes.conf"),
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                "--cluster-replica-validity-factor", "0",
                "--repl-diskless-sync-delay", "0",
                "--hash-max-listpack-value", "1024"]
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
                if self.cli("PING") == "PONG":
                    return self
            except (OSError, ConnectionError, RedisError):
                pass
            time.sleep(0.02)
        self.stop()
        raise AssertionError("cluster node did not answer on %d" % self.port)

    def kill9(self):
        """kill -9: the node dies without a word."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


class Cluster:
    """3 masters + 3 replicas on free ports (or `masters` and `replicas`)."""

    def __init__(self, workdir, masters=3, replicas=1):
        self.workdir = workdir
        self.nodes = [ClusterNode(workdir)
                      for _ in range(masters * (1 + replicas))]
        self.masters_wanted = masters
        self.replicas = replicas

    def start(self):
        for n in self.nodes:
            n.start()
        addrs = ["127.0.0.1:%d" % n.port for n in self.nodes]
        cmd = [redis_cli_path(), "--cluster", "create"] + addrs + \
            ["--cluster-replicas", str(self.replicas), "--cluster-yes"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("redis-cli --cluster create failed:\n%s%s" %
                                 (p.stdout, p.stderr))
        self.wait_ok()
        self.wait_synced()
        return self

    def wait_synced(self, timeout=30.0):
        """Wait until every master has its replicas online (their first
        sync done: WAIT counts only those)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            online = [sum(1 for k, v in self.info(m, "replication").items()
                          if k.startswith("slave") and "state=online" in v)
                      for m in self.masters()]
            if all(n >= self.replicas for n in online):
                return
            time.sleep(0.05)
        raise AssertionError("replicas not online within %ss: %r" %
                             (timeout, online))

    def stop(self):
        for n in self.nodes:
            n.stop()

    def seeds(self):
        """The nodes = line of a config: every node as host:port."""
        return ",".join("127.0.0.1:%d" % n.port for n in self.nodes)

    def alive(self):
        return [n for n in self.nodes if n.running()]

    def node(self, port):
        for n in self.nodes:
            if n.port == port:
                return n
        return None

    def info(self, node, section="cluster"):
        text = node.cli("CLUSTER", "INFO") if section == "cluster" else \
            node.cli("INFO", section)
        out = {}
        for line in text.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k.strip()] = v.strip()
        return out

    def wait_ok(self, timeout=30.0):
        """Wait until every live node says cluster_state:ok and agrees on
        the slot map (every slot served)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                states = [self.info(n) for n in self.alive()]
                if all(s.get("cluster_state") == "ok" and
                       s.get("cluster_slots_assigned") == str(SLOTS)
                       for s in states) and self._maps_agree():
                    return
                last = [s.get("cluster_state") for s in states]
            except (OSError, ConnectionError, RedisError) as e:
                last = repr(e)
            time.sleep(0.05)
        raise AssertionError("cluster not ok within %ss: %s" % (timeout, last))

    def _maps_agree(self):
        maps = [tuple(sorted((a, b, tuple(m[:2])) for a, b, m, *_ in
                             n.cli("CLUSTER", "SLOTS")))
                for n in self.alive()]
        return all(m == maps[0] for m in maps)

    def slot_map(self):
        """slot -> port of its master, from the first live node."""
        out = [None] * SLOTS
        for e in self.alive()[0].cli("CLUSTER", "SLOTS"):
            for s in range(e[0], e[1] + 1):
                out[s] = e[2][1]
        return out

    def masters(self):
        """The live masters (ClusterNode), by the slot map."""
        ports = sorted(set(p for p in self.slot_map() if p is not None))
        return [self.node(p) for p in ports]

    def master_of(self, key):
        return self.node(self.slot_map()[key_slot(key)])

    def replica_of(self, master):
        """The live replica of master (its node), or None."""
        for n in self.alive():
            if n is master:
                continue
            info = self.info(n, "replication")
            if info.get("role") == "slave" and \
                    info.get("master_port") == str(master.port):
                return n
        return None

    def keys(self, match="*"):
        """{port: [keys]} of every live master."""
        out = {}
        for n in self.masters():
            keys, cursor = [], "0"
            while True:
                cursor, batch = n.cli("SCAN", cursor, "MATCH", match,
                                      "COUNT", "1000")
                keys.extend(batch)
                if cursor == "0":
                    break
            out[n.port] = keys
        return out

    def flush(self):
        for n in self.masters():
            n.cli("FLUSHALL")

    def reshard(self, source, target, slots, timeout=120):
        """redis-cli --cluster reshard: move `slots` slots from source to
        target (ClusterNodes); returns the CompletedProcess."""
        sid = source.cli("CLUSTER", "MYID")
        tid = target.cli("CLUSTER", "MYID")
        cmd = [redis_cli_path(), "--cluster", "reshard",
               "127.0.0.1:%d" % source.port, "--cluster-from", sid,
               "--cluster-to", tid, "--cluster-slots", str(slots),
               "--cluster-yes", "--cluster-pipeline", "10"]
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)


class ClusterClient:
    """Routes each command by its key's slot; follows MOVED and ASK."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.conns = {}
        self.map = cluster.slot_map()

    def _conn(self, port):
        c = self.conns.get(port)
        if c is None:
            c = self.conns[port] = Redis(port).connect()
        return c

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}

    def call(self, *args):
        key = args[1] if len(args) > 1 else ""
        if args[0].upper() in ("EVAL", "EVALSHA", "FCALL") and len(args) > 3:
            key = args[3]
        port = self.map[key_slot(key)]
        asking = False
        for _ in range(8):
            try:
                c = self._conn(port)
                if asking:
                    c.call("ASKING")
                return c.call(*args)
            except RedisError as e:
                msg = str(e)
                if msg.startswith("MOVED") or msg.startswith("ASK"):
                    port = int(msg.split()[2].rsplit(":", 1)[1])
                    asking = msg.startswith("ASK")
                    if not asking:
                        self.map = self.cluster.slot_map()
                    continue
                if msg.startswith("TRYAGAIN") or msg.startswith("CLUSTERDOWN"):
                    time.sleep(0.1)
                    self.map = self.cluster.slot_map()
                    port = self.map[key_slot(key)]
                    continue
                raise
            except (OSError, ConnectionError):
                c = self.conns.pop(port, None)
                if c is not None:
                    c.close()
                time.sleep(0.1)
                self.map = self.cluster.slot_map()
                port = self.map[key_slot(key)]
        raise RedisError("too many redirections for %r" % (args,))


def cluster_overrides(http_port, cluster, workdir):
    """base_overrides with [redis] nodes instead of host and port."""
    ov = base_overrides(http_port, 1, workdir)
    ov["redis"] = {"nodes": cluster.seeds(), "prefix": PREFIX,
                   "timeout_ms": "1000"}
    return ov


class ClusterCase(PacerTestCase):
    """
    PacerTestCase on a Redis Cluster: one cluster per class (self.cluster),
    DAEMONS pacerd processes with [redis] nodes, self.rc a ClusterClient.
    cls.redis is the first master (for helpers that need one node).
    """

    MASTERS = 3

    @classmethod
    def setUpClass(cls):
        require_redis()
        require_binary(pacerd_path(), "pacerd")
        cls.workdir = tempfile.mkdtemp(prefix="pacer-it-%s-" % cls.__name__)
        cls.addClassCleanup(cls._remove_workdir)
        cls.cluster = Cluster(cls.workdir, masters=cls.MASTERS)
        cls.addClassCleanup(cls.cluster.stop)
        cls.cluster.start()
        cls.redis = cls.cluster.masters()[0]
        cls.rc = ClusterClient(cls.cluster)
        cls.addClassCleanup(cls.rc.close)
        cls.daemons = []
        cls.clients = []
        cls.conf_paths = []
        cls.addClassCleanup(cls._stop_daemons)
        for i in range(cls.DAEMONS):
            cls.add_daemon()
        cls.daemon = cls.daemons[0] if cls.daemons else None
        cls.http = cls.clients[0] if cls.clients else None
        cls.conf_path = cls.conf_paths[0] if cls.conf_paths else None
        from pacertest import base_time
        cls.T0 = base_time()

    @classmethod
    def conf_for(cls, port, extra=None):
        return make_config(merge_overrides(
            cluster_overrides(port, cls.cluster, cls.workdir),
            cls.extra_conf(), cls.CONF, extra or {}))

    @classmethod
    def cli_demo(cls, load=False):
        """
        The pacer CLI on this cluster: cls.conf_path (cli.conf), demo data
        of cls.N customers x cls.M offers (cls.SEED) in cls.data, loaded
        into the cluster when load; cls.reports for run folders.
        """
        from pacertest import run_pacer
        cls.conf_path = write_file(os.path.join(cls.workdir, "cli.conf"),
                                   cls.conf_for(1))
        cls.data = os.path.join(cls.workdir, "data")
        cls.reports = os.path.join(cls.workdir, "reports")
        steps = [("demo-data", "--customers", cls.N, "--offers", cls.M,
                  "--seed", cls.SEED, "--out", cls.data)]
        if load:
            steps.append(("load", "-c", cls.conf_path, "--profiles",
                          os.path.join(cls.data, "profiles.csv"),
                          "--contacts", os.path.join(cls.data,
                                                     "contacts.csv")))
        for args in steps:
            p = run_pacer(*args, timeout=300)
            assert p.returncode == 0, p.stderr

    @classmethod
    def add_daemon(cls, extra=None, start=True):
        i = len(cls.daemons)
        port = free_port()
        path = write_file(os.path.join(cls.workdir, "pacer%d.conf" % i),
                          cls.conf_for(port, extra))
        d = Pacerd(path, port, cls.workdir, name="pacerd%d" % i)
        cls.conf_paths.append(path)
        cls.daemons.append(d)
        if start:
            d.start()
            wait_ready(port)
        cls.clients.append(HttpClient(port, token=cls.TOKEN))
        return d

    def dump(self, match="*"):
        out = {}
        for port, keys in self.cluster.keys(match).items():
            for k in keys:
                out[k] = port
        return out

    def customer_keys(self, customer):
        return sorted(k for k, _ in self.dump("%s:{%s}:*" % (PREFIX, customer))
                      .items())


def wait_ready(port, timeout=15.0):
    """Wait until pacerd on port says /readyz 200 (its store is ready)."""
    deadline = time.monotonic() + timeout
    c = HttpClient(port, timeout=2.0)
    try:
        while time.monotonic() < deadline:
            try:
                st, _ = c.get("/readyz")
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
    finally:
        c.close()
    raise AssertionError("pacerd on %d not ready within %ss" % (port, timeout))
