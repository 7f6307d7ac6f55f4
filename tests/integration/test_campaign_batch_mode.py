"""personalized_email_campaign with mode=batch end to end on the local stack (fakesnow, moto S3, the Bedrock
stand-in's model invocation jobs), run with ``dag.test()``, which runs the deferred task's trigger inline.

The audience is 120 consenting customers in 8 languages (the stand-in, like Bedrock, refuses jobs under 100
records), in their own database so the on-demand campaign tests keep theirs. Without company knowledge here
(GENAI_CAMPAIGN_CONTEXT_K=0): retrieval is covered by the on-demand tests; this is about the batch path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from test_personalized_email_campaign import PRODUCTS, Stand, sql_text

from dag_runs import query, run_dag, xcom

pytestmark = pytest.mark.integration

DAG_ID = "personalized_email_campaign"
DATABASE = "CAMPAIGN_BATCH_IT"
BUCKET = "campaign-batch-it"
RUN_DATE = datetime(2026, 4, 1, 8, tzinfo=timezone.utc)
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt-BR", "ja"]
NAMES = ["Anna", "Lukas", "Camille", "Lucía", "Giulia", "Daan", "Beatriz", "Oliver"]
AUDIENCE = 120
CUSTOMERS = [(f"B{n:04d}", NAMES[n % 8], f"Tester{n}", LANGUAGES[n % 8],
              [PRODUCTS[(n + k) % len(PRODUCTS)][0] for k in range(3)]) for n in range(AUDIENCE)]


@pytest.fixture(scope="module")
def batch_warehouse(local_stack: Any, airflow_db: None) -> Iterator[Stand]:
    import genai_personalization.assets  # noqa: F401
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    stand = Stand(local_stack)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GENAI_SNOWFLAKE_DATABASE", DATABASE)
        env.setenv("GENAI_LANDING_BUCKET", BUCKET)
        env.setenv("GENAI_CAMPAIGN_CONTEXT_K", "0")
        env.setenv("GENAI_CAMPAIGN_REQUIRE_CONTEXT", "false")
        env.setenv("GENAI_CAMPAIGN_BATCH_POLL_SECONDS", "1")
        env.setenv("GENAI_CAMPAIGN_BACKOFF_BASE_SECONDS", "0.05")
        env.setenv("GENAI_CAMPAIGN_BACKOFF_CAP_SECONDS", "0.2")
        env.setenv("GENAI_CAMPAIGN_CONCURRENCY", "4")
        S3Hook(aws_conn_id="aws_default").create_bucket(BUCKET)
        stand.knobs(throttle_rate=0, error_rate=0, bad_output_rate=0)
        query(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        seed(DATABASE)
        yield stand
        stand.knobs(throttle_rate=0, error_rate=0, bad_output_rate=0)


def seed(db: str) -> None:
    for statement in (
        f"CREATE SCHEMA IF NOT EXISTS {db}.RAW", f"CREATE SCHEMA IF NOT EXISTS {db}.ANALYTICS",
        f"CREATE TABLE {db}.RAW.CUSTOMERS (CUSTOMER_ID VARCHAR NOT NULL PRIMARY KEY, FIRST_NAME VARCHAR, LAST_NAME VARCHAR, "
        "EMAIL VARCHAR NOT NULL, PREFERRED_LANGUAGE VARCHAR NOT NULL, COUNTRY VARCHAR(2) NOT NULL, MARKETING_CONSENT BOOLEAN NOT NULL)",
        f"CREATE TABLE {db}.RAW.PRODUCTS (PRODUCT_ID VARCHAR NOT NULL, PRODUCT_NAME VARCHAR, CATEGORY VARCHAR, SUB_CATEGORY VARCHAR, "
        "DISCOUNTED_PRICE NUMBER(12, 2), ACTUAL_PRICE NUMBER(12, 2), CURRENCY VARCHAR, RATING FLOAT, ABOUT_PRODUCT VARCHAR)",
        f"CREATE TABLE {db}.ANALYTICS.RECOMMENDATIONS (AS_OF_DATE DATE NOT NULL, CUSTOMER_ID VARCHAR NOT NULL, RANK INTEGER NOT NULL, "
        "PRODUCT_ID VARCHAR NOT NULL, SCORE FLOAT NOT NULL, REASON_CODE VARCHAR NOT NULL)",
        f"CREATE TABLE {db}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY (CUSTOMER_ID VARCHAR, ORDER_COUNT INTEGER, "
        "FAVOURITE_CATEGORIES ARRAY, LAST_PURCHASE_AT TIMESTAMP_TZ)",
    ):
        query(statement)
    query(f"INSERT INTO {db}.RAW.PRODUCTS VALUES " + ", ".join(
        f"({sql_text(pid)}, {sql_text(name)}, {sql_text(cat)}, {sql_text(sub)}, {price}, {price}, 'EUR', 4.5, NULL)"
        for pid, name, cat, sub, price in PRODUCTS))
    query(f"INSERT INTO {db}.RAW.CUSTOMERS VALUES " + ", ".join(
        f"({sql_text(cid)}, {sql_text(first)}, {sql_text(last)}, {sql_text(cid.lower() + '@example.net')}, "
        f"{sql_text(lang)}, 'DE', TRUE)" for cid, first, last, lang, _ in CUSTOMERS))
    query(f"INSERT INTO {db}.ANALYTICS.RECOMMENDATIONS VALUES " + ", ".join(
        f"('2026-03-31', {sql_text(cid)}, {rank}, {sql_text(pid)}, {1 / rank}, 'CATEGORY_AFFINITY')"
        for cid, *_, products in CUSTOMERS for rank, pid in enumerate(products, start=1)))
    for cid, *_ in CUSTOMERS:
        query(f"INSERT INTO {db}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY SELECT {sql_text(cid)}, 3, "
              "ARRAY_CONSTRUCT('Outdoor&Trail'), '2026-03-14 12:00:00'::TIMESTAMP")


def stored(campaign_id: str) -> list[tuple[Any, ...]]:
    return query(f"SELECT CUSTOMER_ID, STATUS, ATTEMPTS, LANGUAGE, PRODUCT_IDS FROM {DATABASE}.MARKETING.EMAILS "
                 f"WHERE CAMPAIGN_ID = '{campaign_id}'")


def test_batch_mode_end_to_end_then_a_rerun_without_a_new_job(batch_warehouse: Stand) -> None:
    stand = batch_warehouse
    # a few bad batch answers: their validation fails and the retry (with feedback) goes through Converse
    stand.knobs(bad_output_rate=0.05)
    before = stand.stats()
    run, _ = run_dag(DAG_ID, RUN_DATE, run_conf={"campaign_id": "it-batch", "mode": "batch", "batch_size": 200})
    after = stand.stats()
    stand.knobs(bad_output_rate=0)
    assert xcom(DAG_ID, run.run_id, "select_audience") == [{"batch_no": 1, "customers": AUDIENCE, "mode": "batch"}]

    rows = stored("it-batch")
    assert sorted(r[0] for r in rows) == sorted(c[0] for c in CUSTOMERS)  # every customer, once
    statuses = {r[1] for r in rows}
    assert statuses <= {"generated", "needs_review"} and "generated" in statuses
    language = {c[0]: c[3] for c in CUSTOMERS}
    assert all(r[3] == language[r[0]] for r in rows)
    recommended = {c[0]: set(c[4]) for c in CUSTOMERS}
    assert all(set(json.loads(r[4])) <= recommended[r[0]] for r in rows if r[1] == "generated")

    def delta(key: str) -> int:
        return int(after["calls"].get(key, 0)) - int(before["calls"].get(key, 0))

    assert delta("CreateModelInvocationJob") == 1
    assert after["batch_records"] - before["batch_records"] == AUDIENCE
    # Converse only for the retries after a failed validation (attempt 2), none for first drafts
    retried = sum(1 for r in rows if int(r[2]) == 2)
    assert delta("Converse") == retried
    assert retried < AUDIENCE // 4

    usage = query(f"SELECT MODE, SUM(ITEMS) FROM {DATABASE}.OPS.LLM_USAGE WHERE CAMPAIGN_ID = 'it-batch' "
                  "AND PURPOSE = 'email' GROUP BY MODE")
    assert [(m, int(n)) for m, n in usage] == [("batch", AUDIENCE)]

    # the whole campaign again: nothing left to write, no new job, no model call
    before = stand.stats()
    again, _ = run_dag(DAG_ID, RUN_DATE + timedelta(hours=1),
                       run_conf={"campaign_id": "it-batch", "mode": "batch", "batch_size": 200})
    after = stand.stats()
    assert xcom(DAG_ID, again.run_id, "select_audience") == []
    assert delta("CreateModelInvocationJob") == 0 and delta("Converse") == 0
    assert after["batch_records"] == before["batch_records"]
    assert len(stored("it-batch")) == AUDIENCE


def test_auto_mode_takes_batch_inference_from_the_threshold(batch_warehouse: Stand, monkeypatch: pytest.MonkeyPatch) -> None:
    stand = batch_warehouse
    monkeypatch.setenv("GENAI_CAMPAIGN_BATCH_MODE_THRESHOLD", "100")
    before = stand.stats()
    run, _ = run_dag(DAG_ID, RUN_DATE + timedelta(days=1),
                     run_conf={"campaign_id": "it-batch-auto", "mode": "auto", "batch_size": 200})
    after = stand.stats()
    assert xcom(DAG_ID, run.run_id, "select_audience") == [{"batch_no": 1, "customers": AUDIENCE, "mode": "batch"}]
    assert int(after["calls"].get("CreateModelInvocationJob", 0)) - int(before["calls"].get("CreateModelInvocationJob", 0)) == 1
    assert after["batch_records"] - before["batch_records"] == AUDIENCE
    assert int(after["calls"].get("Converse", 0)) == int(before["calls"].get("Converse", 0))  # no bad outputs here
    rows = stored("it-batch-auto")
    assert len(rows) == AUDIENCE and {r[1] for r in rows} == {"generated"}
