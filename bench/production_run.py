"""Every pipeline on the production-shaped Celery cluster vs the same pipelines under `airflow dags test`.

Both in one run, each on a freshly started and freshly seeded local stack (the demo's data, seeded by
``local.demo.seed_command``):

(a) CeleryExecutor (local/cluster.py): its own PostgreSQL database (genai_airflow_cluster_bench) and
    Redis db (13), api-server, scheduler, dag-processor, triggerer, two Celery workers; every pipeline
    triggered through the REST API and waited on in PIPELINE_ORDER (polled every second). Measured: the
    pipelines, from the first trigger to the last run's end (cluster start-up and seeding apart).
(b) `airflow dags test <dag> <hour>` per DAG in PIPELINE_ORDER, in-process executor, SQLite, exactly as
    local/demo.py runs them (its ``_run``: one process per DAG, Airflow's start-up included).

Needs PostgreSQL and Redis (LOCAL_CLUSTER_POSTGRES / LOCAL_CLUSTER_REDIS); skipped without them.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DATABASE = "genai_airflow_cluster_bench"
BENCH_REDIS_DB = 13


def _reachable(url: str, default_port: int) -> bool:
    parsed = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2).close()
        return True
    except OSError:
        return False


def celery_cluster(folder: Path) -> dict[str, Any]:
    from local.cluster import Cluster, ClusterConfig

    cluster = Cluster(ClusterConfig.private(folder, database=BENCH_DATABASE, redis_db=BENCH_REDIS_DB))
    started = time.perf_counter()
    cluster.up()
    up_s = time.perf_counter() - started
    try:
        started = time.perf_counter()
        results = cluster.run()
        run_s = time.perf_counter() - started
        hosts = Counter(ti.get("hostname") for r in results for ti in cluster.task_instances(r.dag_id, r.run_id))
    finally:
        cluster.down()
    pipelines_s = sum(r.seconds for r in results)
    return {
        "pipelines_s": round(pipelines_s, 1),
        "per_dag_s": {r.dag_id: round(r.seconds, 1) for r in results},
        "runs_waited_on": sum(r.runs for r in results),
        "tasks_per_worker": dict(sorted(hosts.items())),
        "cluster_up_s": round(up_s, 1),
        "seed_s": round(run_s - pipelines_s, 1),
    }


def dags_test(folder: Path) -> dict[str, Any]:
    from local import assets
    from local.demo import _run, dag_ids, seed_command
    from local.stack import DEFAULT_PORTS, LocalStack, StackConfig, free_port

    stack = LocalStack(StackConfig(state_dir=folder / "stack", assets_dir=assets.DEFAULT_ASSETS_DIR,
                                   ports={name: free_port() for name in DEFAULT_PORTS}))
    logs = folder / "logs"
    try:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}, **stack.up()}
        as_of = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        _run(seed_command(as_of), {**env, "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}, logs / "seed.log")
        _run([sys.executable, "-m", "local.airflow_home", "prepare"], env, logs / "prepare.log")
        per_dag = {}
        for dag_id in dag_ids(env):
            per_dag[dag_id] = _run([sys.executable, "-m", "airflow", "dags", "test", dag_id, as_of.isoformat()],
                                   env, logs / f"{dag_id}.log")
    finally:
        stack.down()
    return {"pipelines_s": round(sum(per_dag.values()), 1), "per_dag_s": {k: round(v, 1) for k, v in per_dag.items()}}


def run() -> dict[str, object]:
    from local.cluster import ClusterConfig

    cfg = ClusterConfig.from_env()
    if not (_reachable(cfg.postgres, 5432) and _reachable(cfg.redis, 6379)):
        return {"skipped": f"PostgreSQL ({cfg.postgres}) or Redis ({cfg.redis}) not reachable"}
    with tempfile.TemporaryDirectory(prefix="bench-production-") as tmp:
        celery = celery_cluster(Path(tmp) / "cluster")
        local = dags_test(Path(tmp) / "dags-test")
    return {
        "celery_two_workers": celery,
        "airflow_dags_test": local,
        "celery_vs_dags_test": round(celery["pipelines_s"] / local["pipelines_s"], 2),
    }


if __name__ == "__main__":
    import json
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(run(), indent=2))
