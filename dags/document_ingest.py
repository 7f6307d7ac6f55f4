"""
### Document ingest

Keeps the company's own documents (history, brand, policies, care guides, store pages) searchable:
mirrors `documents/**` in the landing bucket into `RAG.DOCUMENTS` and cuts each document into
token-bounded chunks in `RAG.CHUNKS`, which `embedding_refresh` embeds and the email campaign
retrieves from.

**What a run does.** `create_objects` creates the schema, tables and stage idempotently;
`sync_documents` lists the prefix, compares it with `RAG.DOCUMENTS` and:

- skips, unread, every object whose ETag, size and chunker configuration are the ones recorded;
- downloads the rest and decides by **content hash**, not ETag: a new or changed document is
  extracted (txt, md, html without scripts, styles or navigation, pdf), chunked with tiktoken and
  its chunks replaced; the same bytes re-uploaded under a new ETag only update the recorded ETag
  (nothing is re-chunked or re-embedded);
- marks documents that disappeared from S3 as deleted and removes their chunks;
- skips a document that is of an unsupported type, empty, undecodable, binary, an unreadable or
  scanned PDF, or over the size limit (`GENAI_DOCUMENT_MAX_BYTES`, default 10 MiB, rejected without
  downloading it), with a one-line reason in `OPS.QUARANTINE`; the other documents still load. A
  document that was good and is replaced by a bad version loses its chunks: the knowledge mirrors
  S3 as it is now. Its quarantine row goes away when a good version is uploaded.

All changes of a run are applied in one transaction, so retrieval never sees a document half
re-chunked, and a failed run leaves the previous state whole: a retry or the next run reads the
same documents again. The run returns and logs counts (listed, unchanged, new, changed, touched,
rejected by reason, deleted, chunks written); never document text.

**Chunking** (`include/knowledge/chunking.py`): each document is tokenized once with tiktoken;
chunks hold at most `GENAI_CHUNK_MAX_TOKENS` tokens (default 512) with `GENAI_CHUNK_OVERLAP_TOKENS`
of overlap (default 64), cut preferably at paragraph, then sentence, then word boundaries and
never inside a character (`GENAI_CHUNK_ENCODING`, default cl100k_base). Chunk ids are
deterministic. Changing the chunker configuration re-chunks every document at the next run.

**Schedule.** Hourly (`GENAI_DOCUMENT_INGEST_SCHEDULE`, a cron expression): documents change
rarely and an unchanged run costs one listing and one query. No catchup: each run mirrors S3 as it
is now, so there is nothing to backfill; trigger a run by hand after a bulk upload. One run at a
time (`max_active_runs=1`).

Reads the asset `<bucket>/documents/`; produces the assets `RAG.DOCUMENTS`, `RAG.CHUNKS` (which
schedules `embedding_refresh`) and `OPS.QUARANTINE`.

On failure: see docs/runbook.md#document_ingest
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag

from genai_personalization.assets import OPS_QUARANTINE, RAG_CHUNKS, RAG_DOCUMENTS, S3_DOCUMENTS
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.documents import DAG_SQL, DocumentIngestOperator
from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator

# Read at parse time on purpose: a schedule is part of the DAG's definition. Environment only, no I/O.
SCHEDULE = os.environ.get("GENAI_DOCUMENT_INGEST_SCHEDULE") or "@hourly"


@dag(
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ingest", "knowledge", "snowflake"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
)
def document_ingest() -> None:
    create_objects = SnowflakeSqlStepOperator(task_id="create_objects", dag_sql=DAG_SQL, step="create_objects")
    sync_documents = DocumentIngestOperator(
        task_id="sync_documents",
        max_active_tis_per_dag=1,
        inlets=[S3_DOCUMENTS],
        outlets=[RAG_DOCUMENTS, RAG_CHUNKS, OPS_QUARANTINE],
    )
    create_objects >> sync_documents


document_ingest()
