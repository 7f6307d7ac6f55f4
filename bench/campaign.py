"""Personalized email campaign: quota-bound throughput of the mapped batches vs one task per customer.

A private local stack (free ports). The Bedrock stand-in answers Converse after LATENCY_MS, throttles
THROTTLE_RATE of the calls at random, and enforces a tokens-per-minute quota TPM (it reserves input
tokens + maxTokens when a call starts and settles to input + output tokens when it ends:
local/bedrock/tokens.py). Company knowledge: the seed documents, loaded by DocumentIngestOperator and
EmbeddingRefreshOperator. Inputs: AUDIENCE consenting customers in 7 languages, 3 recommended products
each out of PRODUCTS products of the real Amazon Sales Dataset, a purchase history row each.

Operators run in one child process the way Airflow would run the DAG's tasks: create_objects,
select_audience, retrieve_context once, then one GenerateEmailsOperator execute per mapped batch, a
fresh operator (own Snowflake session and Bedrock client) per task, at most POOL_SLOTS tasks at a time
(the ``bedrock`` pool's default size in airflow_settings.yaml) on a thread pool.

(a) AUDIENCE customers, default batch size (GENAI_CAMPAIGN_BATCH_SIZE): wall time of the generate tasks,
    emails/s, tokens/min reserved and used vs the quota, the quota-bound ideal (quota / tokens reserved
    per email, attempts included) and the ratio, throttles and retries, MARKETING.EMAILS by status and
    distinct (campaign, customer) vs rows (0 lost, 0 duplicated);
(b) one task per customer (batch_size=1) on a sample of SAMPLE customers (the first by CUSTOMER_ID),
    rate extrapolated to AUDIENCE;
(c) input tokens per email: tiktoken estimate (ESTIMATED_INPUT_TOKENS) and model-counted INPUT_TOKENS,
    first-attempt-only emails, median and max, vs GENAI_CAMPAIGN_INPUT_TOKEN_BUDGET.

Why TPM: the latency bound is POOL_SLOTS tasks x GENAI_CAMPAIGN_CONCURRENCY calls in flight / 0.3 s
= 4 x 8 / 0.3 = ~107 calls/s, i.e. ~6,400 calls/min x ~1,500-2,000 reserved tokens = ~10-13 M tokens/min.
TPM = 1,000,000 is about a tenth of that, so the quota, not latency x concurrency, bounds throughput
(and 2,000 emails take about 4 minutes, which keeps the bench short).
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

from local.datasets import amazon_sales_csv

AMAZON_CSV = amazon_sales_csv()
BUCKET = "bench-campaign"
DATABASE = "BENCH_CAMPAIGN"
AUDIENCE = 2000
SAMPLE = 120
PRODUCTS = 40
POOL_SLOTS = 4
LATENCY_MS = 300
TPM = 1_000_000
THROTTLE_RATE = 0.2
TASK_RETRIES = 2  # the DAG's default_args retries
LOGICAL_DATE = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
LANGUAGES = [("en", "GB"), ("de", "DE"), ("fr", "FR"), ("es", "ES"), ("it", "IT"), ("nl", "NL"), ("pt-BR", "BR")]
FIRST = ["Anna", "Camille", "Oliver", "Lucía", "Giulia", "Daan", "Beatriz", "Lukas", "Emma", "Hugo", "Sofia", "Noah"]
LAST = ["Schneider", "Lefèvre", "Smith", "García", "Rossi", "de Vries", "Oliveira", "Bauer", "Martin", "Jansen"]


def sql_text(value: Any) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def _price(text: str) -> str:
    return re.sub(r"[^0-9.]", "", text) or "0"


def amazon_products(count: int) -> list[tuple[str, str, str, str, str, str, str]]:
    """id, name, category, sub category, discounted price, actual price, about: distinct products of the dataset."""
    found: dict[str, tuple[str, str, str, str, str, str, str]] = {}
    with AMAZON_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["product_id"] in found:
                continue
            parts = row["category"].split("|")
            found[row["product_id"]] = (row["product_id"], row["product_name"][:200], parts[0], parts[-1],
                                        _price(row["discounted_price"]), _price(row["actual_price"]),
                                        row["about_product"][:600])
            if len(found) == count:
                break
    return list(found.values())


def seed_tables(run: Any) -> None:
    db = DATABASE
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
        run(statement)
    products = amazon_products(PRODUCTS)
    run(f"INSERT INTO {db}.RAW.PRODUCTS VALUES " + ", ".join(
        f"({sql_text(p[0])}, {sql_text(p[1])}, {sql_text(p[2])}, {sql_text(p[3])}, {p[4]}, {p[5]}, 'INR', 4.2, {sql_text(p[6])})"
        for p in products))
    rng = random.Random(7)
    customers, recommendations, history = [], [], []
    for n in range(AUDIENCE):
        cid = f"C{n:05d}"
        language, country = LANGUAGES[n % len(LANGUAGES)]
        customers.append(f"({sql_text(cid)}, {sql_text(rng.choice(FIRST))}, {sql_text(rng.choice(LAST))}, "
                         f"{sql_text(cid.lower() + '@example.net')}, {sql_text(language)}, {sql_text(country)}, TRUE)")
        for rank, product in enumerate(rng.sample(products, 3), start=1):
            recommendations.append(f"('2026-02-28', {sql_text(cid)}, {rank}, {sql_text(product[0])}, {1 / rank}, 'CATEGORY_AFFINITY')")
        history.append(f"SELECT {sql_text(cid)}, {rng.randint(1, 12)}, ARRAY_CONSTRUCT('Electronics', 'Home&Kitchen'), "
                       "'2026-02-14 12:00:00'::TIMESTAMP")
    for start in range(0, len(customers), 500):
        run(f"INSERT INTO {db}.RAW.CUSTOMERS VALUES " + ", ".join(customers[start:start + 500]))
    for start in range(0, len(recommendations), 500):
        run(f"INSERT INTO {db}.ANALYTICS.RECOMMENDATIONS VALUES " + ", ".join(recommendations[start:start + 500]))
    for start in range(0, len(history), 250):
        run(f"INSERT INTO {db}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY " + " UNION ALL ".join(history[start:start + 250]))


def _median(values: list[float]) -> float | None:
    values = sorted(values)
    return values[len(values) // 2] if values else None


def _child(bedrock_url: str) -> dict[str, Any]:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from genai_personalization.operators.campaign import (
        DAG_SQL,
        GenerateEmailsOperator,
        RetrieveCampaignContextOperator,
        SelectAudienceOperator,
    )
    from genai_personalization.operators.documents import DocumentIngestOperator
    from genai_personalization.operators.embeddings import EmbeddingRefreshOperator
    from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator
    from include.campaign.config import CampaignConfig
    from local.seed.documents import generate_documents

    def stand(what: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(f"{bedrock_url}/_local/{what}", method="POST" if body else "GET",
                                         data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:  # noqa: S310 (local URL)
            return json.load(response)

    hook = SnowflakeHook(snowflake_conn_id="snowflake_default")

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in hook.get_records(sql.format(db=DATABASE)) or []]

    config = CampaignConfig.from_env()
    s3 = S3Hook(aws_conn_id="aws_default")
    s3.create_bucket(BUCKET)
    for key, data in generate_documents().items():
        s3.load_bytes(data, key, bucket_name=BUCKET, replace=True)
    hook.run(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    DocumentIngestOperator(task_id="ingest").execute({"run_id": "bench-docs"})
    EmbeddingRefreshOperator(task_id="embed").execute({"run_id": "bench-docs"})
    seed_tables(hook.run)
    SnowflakeSqlStepOperator(task_id="create_objects", dag_sql=DAG_SQL, step="create_objects").execute({"run_id": "bench-setup"})

    def context(run_id: str, map_index: int = -1) -> dict[str, Any]:
        return {"run_id": run_id, "logical_date": LOGICAL_DATE, "ti": SimpleNamespace(map_index=map_index, try_number=1)}

    def one_task(campaign: str, run_id: str, n: int, batch: dict[str, Any]) -> dict[str, Any]:
        """A mapped task with the DAG's retries (TASK_RETRIES, retried at once, not after retry_delay):
        every try a fresh operator, Snowflake session and Bedrock client."""
        errors: list[str] = []
        for try_number in range(1, TASK_RETRIES + 2):
            operator = GenerateEmailsOperator(task_id="generate_batch", campaign_id=campaign, batch=batch)
            ctx = {**context(run_id, n), "ti": SimpleNamespace(map_index=n, try_number=try_number)}
            try:
                return {**operator.execute(ctx), "tries": try_number, "errors": errors}
            except Exception as e:  # a failed try: Airflow retries the mapped task, which redoes what is missing
                errors.append(f"{type(e).__name__}: {str(e)[:200]}")
        return {"error": errors[-1], "tries": TASK_RETRIES + 1, "errors": errors}

    def campaign(campaign: str, max_customers: int, batch_size: int | None) -> dict[str, Any]:
        run_id = f"bench__{campaign}"
        start = time.perf_counter()
        batches = SelectAudienceOperator(task_id="select_audience", campaign_id=campaign, mode="on_demand",
                                         max_customers=max_customers, batch_size=batch_size).execute(context(run_id))
        RetrieveCampaignContextOperator(task_id="retrieve_context", campaign_id=campaign).execute(context(run_id))
        prepare_s = time.perf_counter() - start
        stand("config", {"tpm": 0})
        stand("config", {"tpm": TPM})  # a fresh quota window for each phase
        before = stand("stats")
        start = time.perf_counter()
        with ThreadPoolExecutor(POOL_SLOTS) as pool:
            results = list(pool.map(lambda item: one_task(campaign, run_id, item[0], item[1]), enumerate(batches)))
        wall = time.perf_counter() - start
        after = stand("stats")
        converse = after["calls"].get("Converse", 0) - before["calls"].get("Converse", 0)
        throttles = after["throttles"] - before["throttles"]
        quota_throttles = after["quota_throttles"] - before["quota_throttles"]
        errors = after["injected_errors"] - before["injected_errors"]
        input_tokens = after["input_tokens"] - before["input_tokens"]
        output_tokens = after["output_tokens"] - before["output_tokens"]
        answered = converse - throttles - errors
        reserved = input_tokens + answered * config.max_tokens
        statuses = dict(rows(f"SELECT STATUS, COUNT(*) FROM {{db}}.MARKETING.EMAILS WHERE CAMPAIGN_ID = '{campaign}' GROUP BY STATUS"))
        total, distinct = rows(f"SELECT COUNT(*), COUNT(DISTINCT CUSTOMER_ID) FROM {{db}}.MARKETING.EMAILS "
                               f"WHERE CAMPAIGN_ID = '{campaign}'")[0]
        usage = rows(f"SELECT SUM(CALLS), SUM(THROTTLES), SUM(RETRIES), SUM(VALIDATION_RETRIES) FROM {{db}}.OPS.LLM_USAGE "
                     f"WHERE RUN_ID = '{run_id}' AND PURPOSE = 'email'")[0]
        written = sum(int(v) for k, v in statuses.items() if k in ("generated", "needs_review"))
        per_email = reserved / written if written else None
        ideal = TPM / per_email / 60 if per_email else None
        return {
            "customers": max_customers, "tasks": len(batches), "batch_size": batches[0]["customers"] if batches else None,
            "failed_tasks": sum(1 for r in results if "error" in r),
            "retried_tasks": sum(1 for r in results if r["tries"] > 1),
            "task_errors": sorted({e for r in results for e in r["errors"]})[:3],
            "prepare_s": round(prepare_s, 1), "generate_wall_s": round(wall, 1),
            "emails_per_s": round(written / wall, 2),
            "statuses": {str(k): int(v) for k, v in statuses.items()}, "rows": int(total), "distinct_customers": int(distinct),
            "lost": max_customers - int(distinct), "duplicated": int(total) - int(distinct),
            "converse_calls": converse, "throttles": throttles, "quota_throttles": quota_throttles,
            "injected_errors": errors, "usage_calls": int(usage[0] or 0), "usage_throttles": int(usage[1] or 0),
            "usage_retries": int(usage[2] or 0), "validation_retries": int(usage[3] or 0),
            "reserved_tokens_per_email": round(per_email, 1) if per_email else None,
            "used_tokens_per_email": round((input_tokens + output_tokens) / written, 1) if written else None,
            "reserved_tokens_per_min": round(reserved / wall * 60),
            "used_tokens_per_min": round((input_tokens + output_tokens) / wall * 60),
            "quota_bound_ideal_emails_per_s": round(ideal, 2) if ideal else None,
            "ratio_to_ideal": round(written / wall / ideal, 3) if ideal else None,
            # the stand-in settles a reservation to input + output tokens when the call ends, so the
            # binding figure is the tokens really used per email: the ideal by that measure
            "used_token_bound_emails_per_s": round(TPM / 60 * written / (input_tokens + output_tokens), 2) if written else None,
            "ratio_to_used_token_bound": round((input_tokens + output_tokens) / wall * 60 / TPM, 3) if written else None,
        }

    stand("config", {"latency_ms": LATENCY_MS, "throttle_rate": THROTTLE_RATE, "error_rate": 0, "bad_output_rate": 0})
    batched = campaign("bench-batched", AUDIENCE, None)
    per_customer = campaign("bench-per-customer", SAMPLE, 1)
    tokens = rows("SELECT ESTIMATED_INPUT_TOKENS, INPUT_TOKENS FROM {db}.MARKETING.EMAILS "
                  "WHERE CAMPAIGN_ID = 'bench-batched' AND ATTEMPTS = 1 AND INPUT_TOKENS IS NOT NULL")
    estimated = [float(r[0]) for r in tokens if r[0] is not None]
    counted = [float(r[1]) for r in tokens]
    rate_b = per_customer["emails_per_s"]
    return {
        "settings": {"latency_ms": LATENCY_MS, "tpm": TPM, "throttle_rate": THROTTLE_RATE, "pool_slots": POOL_SLOTS,
                     "concurrency_per_task": config.concurrency, "max_tokens": config.max_tokens,
                     "latency_bound_calls_per_s": round(POOL_SLOTS * config.concurrency / (LATENCY_MS / 1000), 1)},
        "batched": batched,
        "per_customer_sample": per_customer,
        "per_customer_extrapolated_s": round(AUDIENCE / rate_b, 1) if rate_b else None,
        "batched_vs_per_customer_speedup": round(batched["emails_per_s"] / rate_b, 2) if rate_b else None,
        "input_tokens_per_email": {
            "emails": len(tokens), "budget": config.input_token_budget,
            "estimated_median": _median(estimated), "estimated_max": max(estimated, default=None),
            "model_counted_median": _median(counted), "model_counted_max": max(counted, default=None),
        },
    }


def run() -> dict[str, object]:
    from bench.private_stack import run_child

    if not AMAZON_CSV.is_file():
        return {"skipped": f"{AMAZON_CSV} not found"}
    return run_child("bench.campaign", {"GENAI_LANDING_BUCKET": BUCKET, "GENAI_SNOWFLAKE_DATABASE": DATABASE})

if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(_child(sys.argv[1]), default=str))
