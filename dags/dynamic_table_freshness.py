"""
### Dynamic table freshness

Watches the purchase dynamic tables that `pos_transactions_ingest` creates: silver
`CURATED.PURCHASE_LINES` and gold `ANALYTICS.CUSTOMER_PURCHASE_HISTORY`, which the recommendation
and email pipelines read. Snowflake refreshes them on its own to keep their lag (now minus the
time of the data they show) under their target lag (`GENAI_DYNAMIC_TABLE_TARGET_LAG`, default
15 minutes). This DAG tells on-call when that is not happening, and why.

**What a run does.** For each table: SHOW DYNAMIC TABLES and its refresh history, lag measured
with Snowflake's clock. A table more than 5 minutes (the tolerance) behind its target is refreshed
once (`ALTER DYNAMIC TABLE .. REFRESH`, silver before gold) and checked again. When both tables
are fresh the task succeeds and emits Asset events for both tables (with their data timestamp and
lag in the event's extra): DAGs scheduled on the gold table run on fresh data only.

**When it fails**, the task's error is one line naming every problem table, its lag, target and
last refresh (with the error if it failed):

| the line says | what it means | what to do |
| --- | --- | --- |
| `... is stale: lag 42m > target 15m + tolerance 5m; last refresh SUCCEEDED at ...` | even a manual refresh did not bring it back within target: refreshes take longer than the target lag, or the warehouse is overloaded or suspended | check the warehouse (`SHOW WAREHOUSES`), the refresh durations in `DYNAMIC_TABLE_REFRESH_HISTORY`; raise the target lag or the warehouse size |
| `... is suspended: ...` | someone (or Snowflake, after repeated failures) suspended it; it will not refresh | find out why (refresh history); if it should run: `ALTER DYNAMIC TABLE <table> RESUME` |
| `... is failing: ...; last refresh FAILED at ...: <error>` | its query no longer runs, e.g. a source column was renamed or dropped, or a privilege was revoked; for gold, `UPSTREAM_FAILED` means silver failed | fix the cause named in the error (usually upstream: bronze `RAW.POS_TRANSACTIONS` or `RAW.PRODUCTS`), then `ALTER DYNAMIC TABLE <table> REFRESH`; a changed query needs `create_dynamic_tables.sql` run with `replace=true` |
| `... is unknown: SHOW DYNAMIC TABLES does not list it` | it was never created (no `pos_transactions_ingest` run yet), was dropped, or the role cannot see it | run `pos_transactions_ingest`, which creates it; check grants |

**Why it works this way**

- **Every 10 minutes** (`GENAI_FRESHNESS_SCHEDULE`, a cron expression read when the DAG is parsed),
  more often than the 15-minute target, so a stale table is noticed within one target lag.
- **No catchup.** A freshness check looks at the tables as they are now; checking "the past" later
  would only check the present several times.
- **Retries: 2, one minute apart, no backoff.** A retry re-checks (and refreshes again): a refresh
  that was running, or a warehouse that was resuming, has usually finished a minute later. Longer
  or growing delays would only postpone the alert, and the next run comes 10 minutes later anyway.
- **One run at a time**: a slow refresh must not pile up checks behind it.

Operator: `DynamicTableFreshnessOperator` (plugins/genai_personalization/operators/freshness.py);
verdicts: `include/freshness.py`. DDL: `include/sql/pos_transactions_ingest/create_dynamic_tables.sql`.

On failure: see docs/runbook.md#dynamic_table_freshness
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag

from genai_personalization.assets import (
    ANALYTICS_CUSTOMER_PURCHASE_HISTORY,
    CURATED_PURCHASE_LINES,
    RAW_POS_TRANSACTIONS,
    RAW_PRODUCTS,
)
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.freshness import DynamicTableFreshnessOperator

# Read at parse time on purpose: a schedule is part of the DAG's definition. Environment only, no I/O.
SCHEDULE = os.environ.get("GENAI_FRESHNESS_SCHEDULE") or "*/10 * * * *"


@dag(
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1),
    catchup=False,  # a check of the tables' state now; past intervals cannot be checked after the fact
    max_active_runs=1,
    doc_md=__doc__,
    tags=["purchases", "snowflake", "dynamic-tables", "freshness"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 2,
        # short and flat: a retry is a re-check, and a long delay would only delay the alert
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": False,
        # a manual refresh runs as long as the refresh takes; do not let one hang for hours
        "execution_timeout": timedelta(minutes=20),
    },
)
def dynamic_table_freshness() -> None:
    DynamicTableFreshnessOperator(
        task_id="check_purchase_dynamic_tables",
        tables=["CURATED.PURCHASE_LINES", "ANALYTICS.CUSTOMER_PURCHASE_HISTORY"],  # upstream first
        tolerance="5 minutes",
        refresh_when_stale=True,
        # what the two tables are defined over (create_dynamic_tables.sql), which a refresh reads
        inlets=[RAW_POS_TRANSACTIONS, RAW_PRODUCTS],
        outlets=[CURATED_PURCHASE_LINES, ANALYTICS_CUSTOMER_PURCHASE_HISTORY],
    )


dynamic_table_freshness()
