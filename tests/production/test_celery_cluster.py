"""The production-shaped run: every pipeline on CeleryExecutor (PostgreSQL, Redis, two workers), and a
Celery worker SIGKILLed in the middle of a task without losing or duplicating anything.

Run with ``make test-production`` (needs PostgreSQL and Redis); the default ``make test`` deselects these.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from local.cluster import WORKERS, Cluster, RunResult
from local.demo import PIPELINE_ORDER

pytestmark = [pytest.mark.production, pytest.mark.timeout(1800)]

CAMPAIGN = "personalized_email_campaign"
KILL_CAMPAIGN_ID = "worker-kill-test"
# Bedrock stand-in latency while the doomed task runs: long enough to kill it half-way, after a flush
SLOW_MODEL_MS = 2500


def query(sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the cluster stack's Snowflake, through the stock hook."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return [tuple(row) for row in SnowflakeHook(snowflake_conn_id="snowflake_default").get_records(sql) or []]


def process_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def db() -> str:
    return os.environ.get("GENAI_SNOWFLAKE_DATABASE", "GENAI")


def until(what: str, probe: Any, timeout_s: float = 600.0, every_s: float = 0.5) -> Any:  # noqa: ANN401
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every_s)


def bedrock_config(cluster: Cluster, **knobs: float) -> dict[str, Any]:
    """Change the Bedrock stand-in's runtime knobs (POST /_local/config)."""
    request = urllib.request.Request(f"{cluster.stack.cfg.url('bedrock')}/_local/config", method="POST",
                                     data=json.dumps(knobs).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local URL)
        return json.load(response)


def seed_manifest() -> dict[str, Any]:
    """What the harness seeded (local.seed's manifest, uploaded beside the landing prefixes)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return json.loads(S3Hook(aws_conn_id="aws_default").read_key("seed/_manifest.json",
                                                                  os.environ["GENAI_LANDING_BUCKET"]))


def test_every_pipeline_succeeds_on_two_celery_workers(cluster: Cluster, pipelines_ran: list[RunResult]) -> None:
    # every DAG the cluster parsed ran, in the demo's dependency order
    parsed = {d["dag_id"] for d in cluster.api("GET", "/dags?limit=1000")["dags"]}
    assert [r.dag_id for r in pipelines_ran] == [d for d in PIPELINE_ORDER if d in parsed]
    assert parsed and parsed <= set(PIPELINE_ORDER)
    task_instances = []
    for result in pipelines_ran:
        run = cluster.api("GET", f"/dags/{result.dag_id}/dagRuns/{result.run_id}")
        assert run["state"] == "success", run
        task_instances += cluster.task_instances(result.dag_id, result.run_id)
    assert {t["state"] for t in task_instances} <= {"success", "skipped"}
    # the tasks were spread over both Celery workers, and ran nowhere else
    hosts = Counter(t["hostname"] for t in task_instances if t["state"] == "success")
    assert set(hosts) == set(WORKERS), hosts

    # the data at the end matches what was seeded
    manifest = seed_manifest()["counts"]
    (customers, consenting), = query(f"SELECT COUNT(*), COUNT_IF(MARKETING_CONSENT) FROM {db()}.RAW.CUSTOMERS")
    assert customers == manifest["customers"]
    assert query(f"SELECT COUNT(*), COUNT(DISTINCT EVENT_ID) FROM {db()}.RAW.POS_TRANSACTIONS") == \
        [(manifest["good_events"], manifest["good_events"])]
    assert query(f"SELECT COUNT(*), COUNT(DISTINCT PRODUCT_ID) FROM {db()}.RAW.PRODUCTS") == \
        [(manifest["products"], manifest["products"])]
    (chunks, embedded), = query(f"SELECT (SELECT COUNT(*) FROM {db()}.RAG.CHUNKS), "
                                f"(SELECT COUNT(DISTINCT CHUNK_ID) FROM {db()}.RAG.CHUNK_EMBEDDINGS)")
    assert chunks > 0 and embedded == chunks
    (recommendations, distinct_ranks, customers_recommended), = query(
        f"SELECT COUNT(*), COUNT(DISTINCT AS_OF_DATE || CUSTOMER_ID || RANK), COUNT(DISTINCT CUSTOMER_ID) "
        f"FROM {db()}.ANALYTICS.RECOMMENDATIONS")
    assert recommendations == distinct_ranks == 5 * customers_recommended and customers_recommended == customers
    # one email per (campaign, consenting customer), none failed
    emails = query(f"SELECT CAMPAIGN_ID, COUNT(*), COUNT(DISTINCT CUSTOMER_ID), COUNT_IF(STATUS = 'failed') "
                   f"FROM {db()}.MARKETING.EMAILS GROUP BY 1")
    assert len(emails) == 1 and emails[0][1:] == (consenting, consenting, 0), emails


def test_worker_killed_mid_task_is_retried_on_the_other_worker(cluster: Cluster,
                                                               pipelines_ran: list[RunResult]) -> None:
    emails = f"{db()}.MARKETING.EMAILS"
    (consenting,), = query(f"SELECT COUNT_IF(MARKETING_CONSENT) FROM {db()}.RAW.CUSTOMERS")
    bedrock_config(cluster, latency_ms=0)
    # one mapped batch for the whole audience, so the one task holds every customer
    run_id = cluster.trigger(CAMPAIGN, {"campaign_id": KILL_CAMPAIGN_ID, "mode": "on_demand", "batch_size": 1000})
    cluster.set_paused(CAMPAIGN, False)

    def task(task_id: str, map_index: int = -1) -> dict[str, Any] | None:
        return next((t for t in cluster.task_instances(CAMPAIGN, run_id)
                     if t["task_id"] == task_id and t["map_index"] == map_index), None)

    try:
        # slow the model down once the context is retrieved (it embeds through the same stand-in)
        until("retrieve_context to succeed", lambda: (task("retrieve_context") or {}).get("state") == "success")
        bedrock_config(cluster, latency_ms=SLOW_MODEL_MS)
        running = until("generate_batch to run on a worker", lambda: (
            (t := task("generate_batch", 0)) and t["state"] == "running" and t["hostname"] in WORKERS and t))
        victim = running["hostname"]
        survivor = next(w for w in WORKERS if w != victim)
        assert running["try_number"] == 1
        # the task has written part of its emails: the retry must neither lose nor repeat them
        until("a first flush of emails", lambda: query(
            f"SELECT COUNT(*) FROM {emails} WHERE CAMPAIGN_ID = '{KILL_CAMPAIGN_ID}' AND STATUS <> 'skipped'")[0][0])
        victims = [p.pid for p in cluster.processes(victim)]
        killed = cluster.kill(victim)
        assert killed == len(victims) and killed >= 2  # the worker and at least the task's processes
    finally:
        bedrock_config(cluster, latency_ms=0)
    assert not [pid for pid in victims if process_alive(pid)], "a process of the killed worker survived"

    cluster.wait(CAMPAIGN, run_id)
    cluster.set_paused(CAMPAIGN, True)
    assert cluster.api("GET", f"/dags/{CAMPAIGN}/dagRuns/{run_id}")["state"] == "success"

    # the scheduler found the task without heartbeat, and the retry ran on the other worker
    tries = cluster.api("GET", f"/dags/{CAMPAIGN}/dagRuns/{run_id}/taskInstances/generate_batch/0/tries")
    by_try = {t["try_number"]: t for t in tries["task_instances"]}
    assert sorted(by_try) == [1, 2]
    assert (by_try[1]["hostname"], by_try[1]["state"]) == (victim, "failed")
    assert (by_try[2]["hostname"], by_try[2]["state"]) == (survivor, "success")
    timeouts = cluster.api("GET", f"/eventLogs?event=heartbeat%20timeout&dag_id={CAMPAIGN}")["event_logs"]
    assert [(e["run_id"], e["task_id"], e["map_index"], e["try_number"]) for e in timeouts] == \
        [(run_id, "generate_batch", 0, 1)]
    # the rest of the run ran on the survivor too; the scheduler and the survivor are still up
    after = [t for t in cluster.task_instances(CAMPAIGN, run_id) if t["task_id"] == "summarize"]
    assert [t["hostname"] for t in after] == [survivor]
    assert cluster.pid("scheduler") and cluster.pid(survivor) and cluster.pid(victim) is None
    assert [host.split("@")[0] for host in cluster.ping_workers()] == [survivor]
    health = cluster.api("GET", "/monitor/health")
    assert health["scheduler"]["status"] == "healthy"

    # exactly one email per consenting customer
    assert query(f"SELECT COUNT(*), COUNT(DISTINCT CUSTOMER_ID), COUNT_IF(STATUS = 'failed') FROM {emails} "
                 f"WHERE CAMPAIGN_ID = '{KILL_CAMPAIGN_ID}'") == [(consenting, consenting, 0)]
    # the killed try had written part of them (emails first written before the retry started), and the
    # retry generated exactly the rest: nothing lost, nothing generated twice
    retry_started = datetime.fromisoformat(by_try[2]["start_date"].replace("Z", "+00:00"))
    first_written = [row[0] for row in query(f"SELECT GENERATED_AT FROM {emails} "
                                             f"WHERE CAMPAIGN_ID = '{KILL_CAMPAIGN_ID}' AND STATUS <> 'skipped'")]
    by_killed_try = sum(1 for written in first_written if written < retry_started)
    assert 0 < by_killed_try < len(first_written), "the kill did not interrupt the task half-way"
    (retry_items,), = query(f"SELECT ITEMS FROM {db()}.OPS.LLM_USAGE WHERE RUN_ID = '{run_id}' "
                            f"AND TASK_ID = 'generate_batch' AND TRY_NUMBER = 2")
    assert retry_items == len(first_written) - by_killed_try
    # no duplicated rows in any table the run wrote
    for table, key in (
        ("MARKETING.EMAILS", "CAMPAIGN_ID, CUSTOMER_ID"),
        ("MARKETING.CAMPAIGN_AUDIENCE", "CAMPAIGN_ID, RUN_ID, CUSTOMER_ID"),
        ("MARKETING.CAMPAIGN_RUNS", "CAMPAIGN_ID, RUN_ID"),
        ("MARKETING.CAMPAIGN_CONTEXT", "CAMPAIGN_ID, PRODUCT_ID, RANK"),
        ("OPS.LLM_USAGE", "RUN_ID, TASK_ID, MAP_INDEX, TRY_NUMBER, MODEL_ID, PURPOSE"),
    ):
        (rows,), = query(f"SELECT COUNT(*) FROM {db()}.{table}")
        (duplicated,), = query(f"SELECT COUNT(*) FROM (SELECT {key} FROM {db()}.{table} GROUP BY {key} "
                               f"HAVING COUNT(*) > 1)")
        assert rows > 0 and duplicated == 0, f"{table}: {duplicated} keys ({key}) on more than one row"
