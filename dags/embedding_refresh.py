"""
### Embedding refresh

Keeps `RAG.CHUNK_EMBEDDINGS` complete: every chunk of `RAG.CHUNKS` has a Titan Text Embeddings v2
vector for the configured model and dimensions, which retrieval (and so the email campaign) ranks
by `VECTOR_COSINE_SIMILARITY` in Snowflake.

**What a run does** (`refresh_embeddings`):

- computes, **in Snowflake**, the distinct chunk texts (by content hash) that have no embedding
  for (`GENAI_EMBEDDING_MODEL_ID`, `GENAI_EMBEDDING_DIMENSIONS`), and embeds exactly those through
  the amazon provider's BedrockRuntimeHook: `GENAI_EMBEDDING_CONCURRENCY` calls in flight
  (default 4), exponential backoff with jitter on ThrottlingException and 5xx (up to
  `GENAI_EMBEDDING_MAX_ATTEMPTS`, default 8). Nothing changed means 0 model calls and 0 rows
  written; an edit re-embeds only the chunks whose text changed;
- writes the vectors every 256 to the set's table (`RAG.EMB_<MODEL>_<DIMS>`, a `VECTOR(FLOAT, n)`
  column) with a MERGE on the content hash: a failed or killed run keeps what it embedded, and a
  retry embeds only the rest; it never writes a vector twice;
- deletes embeddings of texts no chunk has any more (edited or deleted documents);
- if some texts could not be embedded after all attempts, fails with one line naming the error
  codes and counts, after keeping the rest: clear the task to retry.

**Changing the model or the dimensions** starts a new *embedding set* (`RAG.EMBEDDING_SETS`) in its
own table and re-embeds everything into it; retrieval keeps answering from the current active set
until the new one is complete, then the run that completes it activates it (one UPDATE) and
repoints the `RAG.CHUNK_EMBEDDINGS` view. The old set's table is dropped by the next run.

**Schedule.** On the `RAG.CHUNKS` asset: runs after every successful `document_ingest`, and by
hand. One run at a time.

Reads the asset `RAG.CHUNKS`; produces `RAG.CHUNK_EMBEDDINGS` (which stands for the set tables too)
and `RAG.EMBEDDING_SETS`.

On failure: see docs/runbook.md#embedding_refresh
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from genai_personalization.assets import RAG_CHUNK_EMBEDDINGS, RAG_CHUNKS, RAG_EMBEDDING_SETS
from genai_personalization.oncall import OnCallNotifier
from genai_personalization.operators.embeddings import EmbeddingRefreshOperator


@dag(
    schedule=RAG_CHUNKS,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["knowledge", "bedrock", "snowflake"],
    default_args={
        "owner": "data-platform",
        "on_failure_callback": OnCallNotifier(),  # one line to on-call, final failures only
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
)
def embedding_refresh() -> None:
    EmbeddingRefreshOperator(
        task_id="refresh_embeddings",
        max_active_tis_per_dag=1,
        pool="bedrock",
        inlets=[RAG_CHUNKS],
        outlets=[RAG_CHUNK_EMBEDDINGS, RAG_EMBEDDING_SETS],
    )


embedding_refresh()
