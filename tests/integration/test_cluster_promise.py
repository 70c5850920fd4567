"""
The promise on a Redis Cluster (issue 15): test_promise's concurrency
checker (the seeded random orchestrator mix over 64 keep-alive connections,
then every cap in every rolling window, and the sends counted against those
the store holds) played against two pacerd processes with [redis] nodes =
on 3 masters + 3 replicas (clusterkit). Each customer's history is read
from the master of its slot.

PACER_PROMISE_SEED sets the checker's seed, as for test_promise.
"""

import test_promise
from clusterkit import ClusterCase
from pacertest import PREFIX, main, parse_history


class TestClusterPromise(ClusterCase):
    DAEMONS = 2
    CONF = test_promise.CONF

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The checker reads each customer's history through history(): on
        # the cluster, from the master of the customer's slot.
        test_promise.history = lambda _port, c: parse_history(cls.rc.call(
            "HGET", "%s:{%s}:p" % (PREFIX, c), "h"))

    def ports(self):
        return [d.port for d in self.daemons]

    # The same test, on the cluster.
    test_concurrency_checker = \
        test_promise.TestPromise.test_concurrency_checker


if __name__ == "__main__":
    main()
