"""
### Product reviews sentiment

Loads the product catalog with its customer reviews (`catalog/*.csv` in the landing bucket, in the
columns of the public Amazon Sales Dataset) into `RAW.PRODUCTS` (one row per product) and
`RAW.PRODUCT_REVIEWS` (one row per product and review), then measures each review's sentiment
with Amazon Comprehend into `CURATED.REVIEW_SENTIMENT` (label POSITIVE / NEGATIVE / NEUTRAL /
MIXED and the four scores). `customer_recommendations` schedules on these tables: it ranks poorly
reviewed products down.

**What a run does.** `create_objects` creates schemas, tables and stages idempotently (it adds the
catalog columns to a minimal `RAW.PRODUCTS` that `pos_transactions_ingest` may have created);
`load_catalog` loads every catalog file whose version (file, ETag, size) is not in
`OPS.LOAD_LEDGER` yet; `analyse_sentiment` sends the reviews that have no verdict for their
current text to Comprehend. Both return and log a summary of counts.

**Why it works this way**

- **Messy input is parsed, not rejected**: prices like "₹1,099" (amount and ISO currency apart:
  ₹ INR, € EUR, $ USD, £ GBP), counts like "24,269", "64%", "A|B|C" categories (top level, leaf
  and full path), ratings that are not numbers (NULL), the same product on several rows (merged in
  Snowflake: the copy with the highest rating count, then the last), comma-joined review lists
  (aligned by the review_id list; see include/catalog/parsing.py).
- **Bad rows never block good ones.** A row without product id, name or category, or with a
  price that is missing, malformed, in an unknown currency or in two currencies, or a malformed
  count or percentage goes to `OPS.QUARANTINE` with a one-line reason; a row whose review lists
  cannot be aligned keeps its product and only its reviews are quarantined. Rows are keyed on
  (file, line and product id, reason): re-runs add nothing.
- **Bulk and streaming.** Files are streamed as CSV, validated rows are written to local CSV parts,
  then PUT, COPY INTO temporary tables and MERGE; memory stays flat and nothing is inserted row by
  row. No record value is logged.
- **Incremental sentiment, decided in Snowflake.** One query finds the reviews whose (product,
  review, content hash) has no verdict: new reviews and changed texts. A re-run sends nothing to
  Comprehend. Calls carry 25 documents (the API's maximum), each cut to 5,000 bytes of UTF-8 on a
  character boundary; at most 4 calls are in flight; throttling and 5xx are retried with
  exponential backoff and full jitter (botocore's own retries are off, so every throttle is
  counted); documents in a response's ErrorList are retried once, then left for the next run and
  counted in the log. Verdicts are saved page by page, so a failed run loses at most one page.
- **Daily** (`GENAI_CATALOG_SCHEDULE`, a cron expression read when the DAG is parsed): catalogs
  change slowly, and the run is cheap when nothing changed (one listing, one ledger query, one
  pending query). No catchup: every run loads whatever is new, so a missed day needs no backfill.
- **Retries with backoff**: S3, Snowflake and Comprehend hiccups are transient, and every step is
  safe to repeat.

SQL: `include/sql/product_reviews_sentiment/`. Parsing and staging: `include/catalog/`. Reads the
asset `<bucket>/catalog/`; produces `RAW.PRODUCTS`, `RAW.PRODUCT_REVIEWS`, `OPS.QUARANTINE`,
`OPS.LOAD_LEDGER` and `CURATED.REVIEW_SENTIMENT`.

On failure: see docs/runbook.md#product_reviews_sentiment
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag

from genai_personalization.assets import (
    CURATED_REVIEW_SENTIMENT,
    OPS_LOAD_LEDGER,
    OPS_QUARANTINE,
    RAW_PRODUCT_REVIEWS,
    RAW_PRODUCTS,
    S3_CATALOG,
)
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.catalog import DAG_SQL, CatalogLoadOperator
from genai_personalization.operators.sentiment import ReviewSentimentOperator
from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator

# Read at parse time on purpose: a schedule is part of the DAG's definition. Environment only, no I/O.
SCHEDULE = os.environ.get("GENAI_CATALOG_SCHEDULE") or "0 3 * * *"


@dag(
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1),
    catchup=False,  # every run loads whatever is new: see "Daily" above
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ingest", "catalog", "reviews", "sentiment", "snowflake", "comprehend"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
)
def product_reviews_sentiment() -> None:
    create_objects = SnowflakeSqlStepOperator(task_id="create_objects", dag_sql=DAG_SQL, step="create_objects")
    load_catalog = CatalogLoadOperator(
        task_id="load_catalog",
        max_active_tis_per_dag=1,  # two loads merging the same products at once could both insert them
        inlets=[S3_CATALOG],
        outlets=[RAW_PRODUCTS, RAW_PRODUCT_REVIEWS, OPS_QUARANTINE, OPS_LOAD_LEDGER],
    )
    analyse_sentiment = ReviewSentimentOperator(
        task_id="analyse_sentiment",
        max_active_tis_per_dag=1,
        inlets=[RAW_PRODUCT_REVIEWS],
        outlets=[CURATED_REVIEW_SENTIMENT],
    )
    create_objects >> load_catalog >> analyse_sentiment


product_reviews_sentiment()
