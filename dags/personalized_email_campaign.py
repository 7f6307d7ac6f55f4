"""
### Personalized email campaign

One marketing email per consenting customer and campaign, in the customer's language, about their
recommended products, grounded in their purchase history and in the company's own documents;
written by Claude on Bedrock, validated, and stored exactly once in `MARKETING.EMAILS`.

**Tasks**

1. `create_objects`: `MARKETING.EMAILS` (unique on `CAMPAIGN_ID`, `CUSTOMER_ID`), the campaign's
   working tables and `OPS.LLM_USAGE`, idempotently.
2. `select_audience`: **in Snowflake**, consenting customers (`MARKETING_CONSENT`) matching the
   params, minus those whose email for this campaign is already final (`generated`; `needs_review`
   too unless `redo_needs_review`). Customers without recommendations are stored as `skipped` with
   the reason. The rest are numbered into batches in `MARKETING.CAMPAIGN_AUDIENCE`; only the batch
   numbers and sizes go to XCom. Batches hold `batch_size` customers (`GENAI_CAMPAIGN_BATCH_SIZE`,
   100), more when needed to keep the map within Airflow's 1,024 items.
3. `retrieve_context`: the top-k company chunks for each *product* recommended to the audience
   (a query of its name and categories, embedded with the active embedding set, scored in
   Snowflake), once per campaign; each customer later gets the best k over their products.
4. `generate_batch` (mapped, one task per batch, pool `bedrock`): one query for the batch's facts,
   then per customer a prompt from `include/prompts/campaign_email_*.md.j2`, Claude through the
   Converse API forcing the `write_email` tool (subject, preheader, body, product ids; `maxTokens`
   always set), `GENAI_CAMPAIGN_CONCURRENCY` calls in flight, full-jitter backoff on throttling and
   5xx; validation (language by lingua, only recommended products, catalog prices, no foreign
   e-mail address, phone number or name, length, no placeholders) with one retry carrying the
   reasons, else `needs_review`. A call failing for good stores `failed` and fails the task after
   writing the rest. Results are MERGEd every 25 emails, so a killed task keeps its progress.
5. `summarize` (runs even after a failure): counts by status, this run's model usage and cost
   estimate; fails if an email is `failed` or one of the run's audience was not written.

**Exactly once.** Every write is a MERGE on (campaign, customer) that never overwrites a
`generated` email, and both `select_audience` and each `generate_batch` leave out customers already
final. So a retried or cleared mapped task redoes only its failed and missing customers, and a
re-run of the whole campaign makes no model call for what is done.

**Params.** `campaign_id` (default `email-<UTC date of the logical date, or of run_after>`, so
every run of a day writes the same campaign: retries, re-runs and backfills included);
`languages` (BCP-47 tags; `pt` matches pt-BR and pt-PT) and `countries` (ISO alpha-2): empty
means all; `max_customers` (the first N by customer id, for a trial); `mode`: `on_demand`,
`batch` (Bedrock batch inference: one job per mapped batch, waited on by a deferred task; records
that fail or fail validation go on demand) or `auto` (batch from `GENAI_CAMPAIGN_BATCH_MODE_THRESHOLD`
customers); `batch_size`;
`redo_needs_review`.

**Languages.** Emails are written in the customer's `PREFERRED_LANGUAGE` when it is one of en,
de, fr, es, it, pt (pt-BR and pt-PT), nl, ja; any other is written in English with
`LANGUAGE_FALLBACK` set and a note.

**Schedule.** None by default (a campaign is started on purpose); set `GENAI_CAMPAIGN_SCHEDULE`
to a cron expression for a recurring campaign, which also makes `airflow backfill create` work
per day. Settings: `GENAI_CAMPAIGN_*` (model id, max tokens, concurrency, attempts and backoff,
batch size, context k, input token budget), `GENAI_LLM_PRICES` (the cost table), see
`include/campaign/config.py` and `include/campaign/pricing.py`.

Reads `RAW.CUSTOMERS`, `ANALYTICS.RECOMMENDATIONS` (latest as-of date per customer),
`RAW.PRODUCTS`, `ANALYTICS.CUSTOMER_PURCHASE_HISTORY`, `RAG.*`. Produces `MARKETING.EMAILS` (and its
working tables `MARKETING.CAMPAIGN_*`, `OPS.LLM_USAGE`, and in batch mode `<bucket>/batch-inference/`).

On failure: see docs/runbook.md#personalized_email_campaign
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from genai_personalization.assets import (
    ANALYTICS_CUSTOMER_PURCHASE_HISTORY,
    ANALYTICS_RECOMMENDATIONS,
    MARKETING_CAMPAIGN_AUDIENCE,
    MARKETING_CAMPAIGN_CONTEXT,
    MARKETING_CAMPAIGN_RUNS,
    MARKETING_EMAILS,
    OPS_LLM_USAGE,
    RAG_CHUNK_EMBEDDINGS,
    RAG_CHUNKS,
    RAG_DOCUMENTS,
    RAG_EMBEDDING_SETS,
    RAW_CUSTOMERS,
    RAW_PRODUCTS,
    S3_BATCH_INFERENCE,
)
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.campaign import (
    DAG_SQL,
    CampaignSummaryOperator,
    GenerateEmailsOperator,
    RetrieveCampaignContextOperator,
    SelectAudienceOperator,
)
from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator

# Read at parse time on purpose: a schedule is part of the DAG's definition. Environment only, no I/O.
SCHEDULE = os.environ.get("GENAI_CAMPAIGN_SCHEDULE") or None
CAMPAIGN = "{{ params.campaign_id }}"
REDO = "{{ params.redo_needs_review }}"


@dag(
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,  # list params stay lists
    params={
        "campaign_id": Param(None, type=["null", "string"], pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
                             description="empty: email-<UTC date of the run>"),
        "languages": Param([], type="array", items={"type": "string", "pattern": r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"},
                           description="BCP-47 tags to include (pt matches pt-BR); empty: all"),
        "countries": Param([], type="array", items={"type": "string", "pattern": r"^[A-Za-z]{2}$"},
                           description="ISO 3166-1 alpha-2 codes to include; empty: all"),
        "max_customers": Param(None, type=["null", "integer"], minimum=1,
                               description="at most this many customers (the first by customer id)"),
        "mode": Param("auto", enum=["auto", "on_demand", "batch"],
                      description="on_demand (Converse), batch (Bedrock batch inference) or auto"),
        "batch_size": Param(None, type=["null", "integer"], minimum=1,
                            description="customers per mapped task; empty: GENAI_CAMPAIGN_BATCH_SIZE"),
        "redo_needs_review": Param(False, type="boolean", description="also regenerate needs_review emails"),
    },
    doc_md=__doc__,
    tags=["campaign", "bedrock", "snowflake", "llm"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
)
def personalized_email_campaign() -> None:
    create_objects = SnowflakeSqlStepOperator(task_id="create_objects", dag_sql=DAG_SQL, step="create_objects")
    select_audience = SelectAudienceOperator(
        task_id="select_audience",
        campaign_id=CAMPAIGN,
        redo_needs_review=REDO,
        languages="{{ params.languages }}",
        countries="{{ params.countries }}",
        max_customers="{{ params.max_customers }}",
        mode="{{ params.mode }}",
        batch_size="{{ params.batch_size }}",
        inlets=[RAW_CUSTOMERS, ANALYTICS_RECOMMENDATIONS],
        # MARKETING.EMAILS: customers without recommendations are stored as skipped here
        outlets=[MARKETING_EMAILS, MARKETING_CAMPAIGN_AUDIENCE, MARKETING_CAMPAIGN_RUNS],
    )
    retrieve_context = RetrieveCampaignContextOperator(
        task_id="retrieve_context", campaign_id=CAMPAIGN, redo_needs_review=REDO, pool="bedrock",
        inlets=[MARKETING_CAMPAIGN_AUDIENCE, ANALYTICS_RECOMMENDATIONS, RAW_PRODUCTS, RAG_EMBEDDING_SETS,
                RAG_CHUNK_EMBEDDINGS, RAG_CHUNKS, RAG_DOCUMENTS],
        outlets=[MARKETING_CAMPAIGN_CONTEXT, OPS_LLM_USAGE],
    )
    generate_batch = GenerateEmailsOperator.partial(
        task_id="generate_batch",
        campaign_id=CAMPAIGN,
        redo_needs_review=REDO,
        pool="bedrock",
        execution_timeout=timedelta(hours=2),
        inlets=[MARKETING_CAMPAIGN_AUDIENCE, MARKETING_CAMPAIGN_CONTEXT, RAW_CUSTOMERS,
                ANALYTICS_CUSTOMER_PURCHASE_HISTORY, ANALYTICS_RECOMMENDATIONS, RAW_PRODUCTS,
                RAG_CHUNKS, RAG_DOCUMENTS],
        # S3_BATCH_INFERENCE: mode batch writes the job's input there and reads its output back
        outlets=[MARKETING_EMAILS, OPS_LLM_USAGE, S3_BATCH_INFERENCE],
    ).expand(batch=select_audience.output)
    summarize = CampaignSummaryOperator(
        task_id="summarize", campaign_id=CAMPAIGN, redo_needs_review=REDO, trigger_rule="all_done",
        inlets=[MARKETING_EMAILS, MARKETING_CAMPAIGN_AUDIENCE, MARKETING_CAMPAIGN_RUNS, OPS_LLM_USAGE])
    create_objects >> select_audience >> retrieve_context >> generate_batch >> summarize


personalized_email_campaign()
