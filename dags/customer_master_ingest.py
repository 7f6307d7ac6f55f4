"""
### Customer master ingest

Loads customer master data (`customers/*.csv` in the landing bucket) into Snowflake
`RAW.CUSTOMERS`, the source of each customer's name, language, country and marketing consent for
every later pipeline (recommendations, personalized emails).

**Why it works this way**

- **Every run reads every customer file.** The files are a small snapshot of the customer base,
  not an event stream, so re-reading them is cheap and makes any run, re-run or backfill converge
  on the same table. A customer in several files takes the newest file's version.
- **Hourly.** CRM exports land a few times a day; an hour keeps consent changes (an opt-out must
  stop emails) fresh without a sensor, and an unchanged run is a no-op (rows are compared by hash).
- **Bad rows never block good ones.** Each bad row goes to `OPS.QUARANTINE` with a one-line reason
  (wrong column count, missing customer_id, invalid email, unknown language tag, unknown country
  code, consent not true/false, a customer_id repeated in a file with different content).
  Quarantine rows are keyed on (source file, line, reason), so re-runs add nothing. A file with the
  wrong header fails the task: fix the file and clear the task.
- **Bulk only, no customer data in logs.** Rows travel through a Snowflake internal stage
  (PUT, COPY INTO, MERGE); the task logs counts only.

SQL: `include/sql/customer_master_ingest/`. Validation: `include/customer_master/`.
Reads the asset `<bucket>/customers/`; produces `RAW.CUSTOMERS` and `OPS.QUARANTINE`.

On failure: see docs/runbook.md#customer_master_ingest
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from genai_personalization.assets import OPS_QUARANTINE, RAW_CUSTOMERS, S3_CUSTOMERS
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.customer_master import CustomerMasterLoadOperator


@dag(
    schedule="@hourly",
    start_date=datetime(2025, 1, 1),
    catchup=False,  # every run reads every file, so missed intervals need no catching up
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ingest", "customers", "snowflake"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
)
def customer_master_ingest() -> None:
    CustomerMasterLoadOperator(
        task_id="load_customers",
        inlets=[S3_CUSTOMERS],
        outlets=[RAW_CUSTOMERS, OPS_QUARANTINE],
    )


customer_master_ingest()
