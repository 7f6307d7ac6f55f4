"""The production-shaped cluster for ``make test-production``: CeleryExecutor on PostgreSQL and Redis.

One cluster per session, of its own (database ``genai_airflow_cluster_test``, Redis db 12, free ports,
a temporary folder), so it never touches a cluster started with ``python -m local.cluster up``. Its
stack's connections are put in os.environ so the tests can read the warehouse through the stock hooks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.cluster import Cluster, ClusterConfig, RunResult

CLUSTER_DATABASE = "genai_airflow_cluster_test"
CLUSTER_REDIS_DB = 12


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cfg = ClusterConfig.private(tmp_path_factory.mktemp("cluster"), database=CLUSTER_DATABASE,
                                redis_db=CLUSTER_REDIS_DB)
    cluster = Cluster(cfg)
    cluster.up()  # a ClusterError says in one line what is missing (PostgreSQL, Redis) or which component failed
    # the connections, CA bundle and project settings; AIRFLOW_HOME and the folders stay the test session's
    env = {k: v for k, v in cluster.stack_env().items()
           if k.startswith("AIRFLOW_CONN_") or not (k.startswith("AIRFLOW") or k == "PYTHONPATH")}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield cluster
    finally:
        cluster.down()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def pipelines_ran(cluster: Cluster) -> list[RunResult]:
    """Every pipeline once, in PIPELINE_ORDER, triggered through the REST API (the harness's `run`)."""
    return cluster.run()

