"""
### POS transactions ingest

Loads purchase events from the tills and the web shop (`pos/YYYY/MM/DD/HH/*.jsonl[.gz]` in the
landing bucket, Firehose-style JSON lines) into the Snowflake bronze table `RAW.POS_TRANSACTIONS`,
and creates the dynamic tables that refine it: `CURATED.PURCHASE_LINES` (silver) and
`ANALYTICS.CUSTOMER_PURCHASE_HISTORY` (gold), which recommendations and emails read.

**What a run does.** `create_objects` creates schemas and tables idempotently;
`create_dynamic_tables` runs `create_dynamic_tables.sql` (target lag from
`GENAI_DYNAMIC_TABLE_TARGET_LAG`); `load_events` loads every file under the UTC hour folder of the
run's logical date T and of the hour before T, skipping file versions the load ledger
(`OPS.LOAD_LEDGER`, keyed on file, ETag and size) already holds. It returns and logs a summary:
files listed / skipped / loaded, lines read, events loaded, duplicates, quarantined by reason.

**Why it works this way**

- **Every 15 minutes** (`GENAI_POS_INGEST_SCHEDULE`, a cron expression read when the DAG is
  parsed), so purchases reach bronze within about 15 minutes of landing, in step with the
  dynamic tables' default target lag.
- **Two hours per run.** Firehose delivers a file into the hour it buffered it in, and delivery
  retries can make a file land after its hour ended; re-listing the previous hour catches it. The
  ledger makes re-listing cheap (one query for all listed files), and a file read twice (a retry
  after a crash, a re-uploaded file with a new ETag) is harmless: events MERGE on `EVENT_ID`.
- **Bad records never block good ones.** Each goes to `OPS.QUARANTINE` with a one-line reason
  (invalid JSON, missing or mistyped field, quantity <= 0, negative price, unknown currency,
  event_ts not ISO-8601 with offset or more than a day after the run's interval end, empty items,
  channel not pos/web, store_id missing for pos or set for web, event_id seen with different
  content). Rows are keyed on (file, line and event_id, reason): re-runs add nothing. An event
  re-sent with identical content is a duplicate, not an error; one re-sent with different content
  is quarantined and bronze keeps the version loaded first.
- **Bulk and streaming.** Files are read line by line (gzip on the fly) and validated records
  written to local CSV parts as they stream, then PUT to an internal stage, COPY INTO a temporary
  table and one MERGE: memory stays flat however big a file is, and nothing is inserted row by row.
  No record value is logged.
- **No catchup; backfill instead.** On first deploy catchup would queue a run for every 15
  minutes since `start_date`. After an outage longer than an hour, run a backfill over the gap
  from the UI (Trigger, Backfill) or `airflow backfill create --dag-id pos_transactions_ingest
  --from-date ... --to-date ...`: Airflow 3 backfills do not need catchup, every run reads its own
  two hours, and the ledger skips what is already loaded, so overlapping runs cost one query each.
- **One load at a time** (`max_active_runs=1`, and `max_active_tis_per_dag=1` on `load_events`,
  which also holds for backfill runs): two loads merging the same event at once could both insert
  it, and "first version wins" needs an order.
- **Retries with backoff**: S3 and Snowflake hiccups are transient, and a retry re-reads harmlessly.

SQL: `include/sql/pos_transactions_ingest/`. Validation and staging: `include/pos/`. Reads the asset
`<bucket>/pos/`; produces the assets `RAW.POS_TRANSACTIONS`, `OPS.QUARANTINE` and `OPS.LOAD_LEDGER`.

On failure: see docs/runbook.md#pos_transactions_ingest
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag

from genai_personalization.assets import OPS_LOAD_LEDGER, OPS_QUARANTINE, RAW_POS_TRANSACTIONS, RAW_PRODUCTS, S3_POS
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.pos import DAG_SQL, PosEventsLoadOperator
from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator

# Read at parse time on purpose: a schedule is part of the DAG's definition. Environment only, no I/O.
SCHEDULE = os.environ.get("GENAI_POS_INGEST_SCHEDULE") or "*/15 * * * *"


@dag(
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1),
    catchup=False,  # see "No catchup; backfill instead" above
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ingest", "purchases", "snowflake"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
)
def pos_transactions_ingest() -> None:
    create_objects = SnowflakeSqlStepOperator(task_id="create_objects", dag_sql=DAG_SQL, step="create_objects")
    create_dynamic_tables = SnowflakeSqlStepOperator(
        task_id="create_dynamic_tables",
        dag_sql=DAG_SQL,
        step="create_dynamic_tables",
        # after the load, so a first run initialises them with its events. Only after a successful load
        # (the default trigger rule): as the last task it decides the run's state, and a failed load must
        # leave the run failed; creating them is idempotent, so the next good run creates them
        # what the dynamic tables are defined over. No outlets: DDL changes no rows, and Snowflake (not this
        # task) refreshes the tables; dynamic_table_freshness emits them once they are within their target lag,
        # which is what customer_recommendations waits for
        inlets=[RAW_POS_TRANSACTIONS, RAW_PRODUCTS],
    )
    load_events = PosEventsLoadOperator(
        task_id="load_events",
        max_active_tis_per_dag=1,
        inlets=[S3_POS],
        outlets=[RAW_POS_TRANSACTIONS, OPS_QUARANTINE, OPS_LOAD_LEDGER],
    )
    # the dynamic tables read bronze, so bronze first
    create_objects >> load_events >> create_dynamic_tables


pos_transactions_ingest()
