"""
### Customer recommendations

Five products per customer in `ANALYTICS.RECOMMENDATIONS` (`AS_OF_DATE`, `CUSTOMER_ID`, `RANK` 1..5,
`PRODUCT_ID`, `SCORE`, `REASON_CODE`, `RUN_ID`, `COMPUTED_AT`), which the email campaign writes
about: it reads each customer's latest `AS_OF_DATE`. Computed entirely in Snowflake from the
purchase lines (`CURATED.PURCHASE_LINES`), the catalog (`RAW.PRODUCTS`), review sentiment
(`CURATED.REVIEW_SENTIMENT`) and the customer master (`RAW.CUSTOMERS`).

**What a run does.** `create_objects` creates the table idempotently. `compute_recommendations`
fixes the as-of date, runs `compute.sql` into session tables, reads one row of counts, and only
then replaces that date's rows in one transaction (`publish.sql`). It returns and logs the counts:
customers (cold start among them), products, purchase lines, rows, and rows per reason code.

**How a product is chosen** (details in `include/sql/customer_recommendations/compute.sql`): each
candidate's score adds *bought together* (basket co-occurrence with what the customer bought
recently), *category affinity* (the customer's share of purchases in the product's category),
*popularity* (distinct buyers in 90 days) and *quality* (catalog rating and review sentiment, from
-1 to 1, so poorly rated, badly reviewed products rank down); `REASON_CODE` names the largest part
(`BOUGHT_TOGETHER`, `CATEGORY_AFFINITY`, `TOP_RATED`, `POPULAR`). Products the customer bought in the
last 30 days (`GENAI_RECOMMENDATIONS_RECENT_DAYS`) are excluded. Every customer in `RAW.CUSTOMERS`
gets five, including those with no purchases yet (cold start: the best products overall), as long
as the catalog has five products they have not bought recently. Ties go to the smaller
`PRODUCT_ID`, so the same inputs give the same rows.

**Why it works this way**

- **Scheduled on both Assets, `ANALYTICS.CUSTOMER_PURCHASE_HISTORY & CURATED.REVIEW_SENTIMENT`**, not
  on either (`|`). The purchase history gets an Asset event from `dynamic_table_freshness` every
  10 minutes; with `|`, each would recompute every customer for the same as-of date, several times
  an hour, for a daily email. With `&` a run waits until both have news since the last run: fresh
  purchases (the event means the dynamic tables are within their target lag) *and* a new sentiment
  pass, i.e. it follows the catalog's cadence. It also means the first run cannot happen before
  the catalog and its sentiment exist, which would recommend products blind to reviews. The price:
  if `product_reviews_sentiment` stops succeeding, recommendations stop too (the email campaign
  then uses the latest date there is); trigger this DAG by hand to refresh on purchases alone.
- **As-of date.** Runs on Assets have no logical date in Airflow 3, so the as-of date is the UTC
  date of the run's `run_after` (of the data interval end when there is one). Purchases up to the
  end of that day count, later ones are ignored. To recompute a past day, trigger the DAG with the
  param `as_of_date` (`YYYY-MM-DD`): Asset-scheduled DAGs have no backfill, and a trigger per day
  does the same.
- **Idempotent per as-of date.** A re-run for the same date replaces exactly that date's rows,
  atomically (`DELETE` + `INSERT` between `BEGIN` and `COMMIT`, rolled back on error), so a reader
  never sees a customer with none or ten; other dates are untouched. A run that would publish
  nothing (no products, no customers) fails before touching the table.
- **Nothing leaves the warehouse.** The operator runs SQL and reads one row of counts: no purchase,
  customer or product id is pulled into the worker, so 100,000 customers cost the worker nothing
  (`make bench` measures the warehouse time and checks what is fetched).
- **One run at a time** (two runs for the same date would race their transactions); **retries with
  backoff**, since a re-run is harmless.
- **Offline evaluation**: `make bench` holds each customer's last purchase out, runs the same
  `compute.sql` on the rest and reports hit-rate@5 against a popularity-only baseline.

Operator: `CustomerRecommendationsOperator` (plugins/genai_personalization/operators/recommendations.py);
parameters and evaluation: `include/recommendations/`; SQL: `include/sql/customer_recommendations/`.
Needs `customer_master_ingest` (RAW.CUSTOMERS), `pos_transactions_ingest` and
`product_reviews_sentiment` to have run once. Produces the asset `ANALYTICS.RECOMMENDATIONS`.

On failure: see docs/runbook.md#customer_recommendations
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from genai_personalization.assets import (
    ANALYTICS_CUSTOMER_PURCHASE_HISTORY,
    ANALYTICS_RECOMMENDATIONS,
    CURATED_PURCHASE_LINES,
    CURATED_REVIEW_SENTIMENT,
    RAW_CUSTOMERS,
    RAW_PRODUCTS,
)
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.recommendations import DAG_SQL, CustomerRecommendationsOperator
from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator


@dag(
    # both, not either: see "Scheduled on both Assets" above
    schedule=(ANALYTICS_CUSTOMER_PURCHASE_HISTORY & CURATED_REVIEW_SENTIMENT),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        "as_of_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="YYYY-MM-DD to recompute a past day; empty: the UTC date of the run",
        ),
    },
    doc_md=__doc__,
    tags=["recommendations", "products", "snowflake"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=1),
    },
)
def customer_recommendations() -> None:
    create_objects = SnowflakeSqlStepOperator(task_id="create_objects", dag_sql=DAG_SQL, step="create_objects")
    compute_recommendations = CustomerRecommendationsOperator(
        task_id="compute_recommendations",
        as_of_date="{{ params.as_of_date }}",
        # what compute.sql reads: the purchase lines (silver), not the gold table the DAG is scheduled on
        inlets=[CURATED_PURCHASE_LINES, RAW_CUSTOMERS, RAW_PRODUCTS, CURATED_REVIEW_SENTIMENT],
        outlets=[ANALYTICS_RECOMMENDATIONS],
    )
    create_objects >> compute_recommendations


customer_recommendations()
