"""Retrieval over the company knowledge: the top-k chunks for a query, scored in Snowflake.

The query is embedded with the model and dimensions of the *active* embedding set (read from
RAG.EMBEDDING_SETS at each call, so a model change takes effect when embedding_refresh activates
the new set, never half way), and chunks are ranked by VECTOR_COSINE_SIMILARITY in the warehouse:
no embedding leaves Snowflake. Queries are not logged (they may be derived from customer data).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from genai_personalization.operators.snowflake_steps import SnowflakeOperatorBase
from genai_personalization.sql import render_sql
from include.settings import is_identifier

if TYPE_CHECKING:
    from airflow.sdk import Context

    from genai_personalization.bedrock import TitanEmbedder

MAX_K = 50


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    doc_id: str
    source_uri: str
    title: str | None
    ordinal: int
    text: str
    score: float


@dataclass(frozen=True)
class ActiveSet:
    set_name: str
    model_id: str
    dimensions: int
    table_name: str


class NoActiveEmbeddingSet(AirflowException):
    """Nothing to search yet: embedding_refresh has not completed a set."""


def active_set(conn: Any, database: str) -> ActiveSet:
    with closing(conn.cursor()) as cursor:
        cursor.execute(render_sql("retrieval", "active_set", database=database))
        rows = cursor.fetchall()
    if not rows:
        raise NoActiveEmbeddingSet(
            f"{database}.RAG.EMBEDDING_SETS has no active set: run document_ingest, then embedding_refresh"
        )
    name, model_id, dimensions, table_name = rows[0]
    if not is_identifier(str(table_name)):
        raise AirflowException(f"RAG.EMBEDDING_SETS names a table that is not an identifier: {table_name!r}")
    return ActiveSet(str(name), str(model_id), int(dimensions), str(table_name))


def search(conn: Any, database: str, embedder_for: Any, query: str, k: int = 3) -> list[RetrievedChunk]:
    """Top-``k`` chunks for ``query``. ``embedder_for(model_id, dimensions)`` returns a TitanEmbedder."""
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
    if not query.strip():
        raise ValueError("the query is empty")
    chosen = active_set(conn, database)
    embedder: TitanEmbedder = embedder_for(chosen.model_id, chosen.dimensions)
    vector, _tokens = embedder.embed(query)
    from include.knowledge.embedding import vector_json

    sql = render_sql("retrieval", "search", database=database, table_name=chosen.table_name,
                     dimensions=chosen.dimensions, k=int(k))
    with closing(conn.cursor()) as cursor:
        cursor.execute(sql, {"query_vector": vector_json(vector)})
        return [
            RetrievedChunk(str(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), str(r[5]), float(r[6]))
            for r in cursor.fetchall()
        ]


SEARCH_MANY_QUERIES = 100  # query vectors per statement (one bind parameter of ~2 MB at 1024 dimensions)


def search_many(conn: Any, database: str, embedder_for: Any, queries: Sequence[str], k: int = 3,
                concurrency: int = 4) -> list[list[RetrievedChunk]]:
    """Top-``k`` chunks for each query, in the order given; for a batch of customers.

    Distinct queries are embedded once each (``concurrency`` calls in flight) and scored in one
    statement per SEARCH_MANY_QUERIES queries. A query whose embedding failed for good raises.
    """
    from genai_personalization.bedrock import ModelCallError
    from include.knowledge.embedding import vector_json

    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
    if any(not q.strip() for q in queries):
        raise ValueError("a query is empty")
    if not queries:
        return []
    chosen = active_set(conn, database)
    embedder: TitanEmbedder = embedder_for(chosen.model_id, chosen.dimensions)
    distinct = list(dict.fromkeys(queries))
    vectors: dict[str, list[float]] = {}
    for query, result in embedder.caller.map(embedder.embed, distinct, concurrency):
        if isinstance(result, ModelCallError):
            raise AirflowException(f"could not embed a retrieval query: {result}")
        vectors[query] = result[0]
    sql = render_sql("retrieval", "search_many", database=database, table_name=chosen.table_name,
                     dimensions=chosen.dimensions, k=int(k))
    found: dict[str, list[RetrievedChunk]] = {query: [] for query in distinct}
    for start in range(0, len(distinct), SEARCH_MANY_QUERIES):
        page = distinct[start:start + SEARCH_MANY_QUERIES]
        payload = "[" + ",".join(vector_json(vectors[q]) for q in page) + "]"
        with closing(conn.cursor()) as cursor:
            cursor.execute(sql, {"query_vectors": payload})
            for r in cursor.fetchall():
                found[page[int(r[0])]].append(
                    RetrievedChunk(str(r[1]), str(r[2]), str(r[3]), r[4], int(r[5]), str(r[6]), float(r[7])))
    return [found[query] for query in queries]


class KnowledgeRetriever:
    """Search the company knowledge from task code: Snowflake and Bedrock from the Airflow connections.

    Reuse one instance for many queries (one Snowflake session, one client)::

        with KnowledgeRetriever() as retriever:
            chunks = retriever.search("return policy for tents", k=3)
    """

    def __init__(self, *, database: str | None = None, snowflake_conn_id: str | None = None,
                 aws_conn_id: str | None = None, max_attempts: int = 8) -> None:
        from include.settings import Settings

        settings = Settings.from_env()
        self.database = (database or settings.snowflake_database).upper()
        if not is_identifier(self.database):
            raise ValueError(f"database must be a plain Snowflake identifier, got {self.database!r}")
        self.snowflake_conn_id = snowflake_conn_id or settings.snowflake_conn_id
        self.aws_conn_id = aws_conn_id or settings.aws_conn_id
        self.max_attempts = max_attempts
        self._conn: Any = None
        self._client: Any = None
        self._embedders: dict[tuple[str, int], TitanEmbedder] = {}

    def __enter__(self) -> KnowledgeRetriever:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def search(self, query: str, k: int = 3) -> list[RetrievedChunk]:
        return search(self._connection(), self.database, self._embedder, query, k)

    def search_many(self, queries: Sequence[str], k: int = 3, concurrency: int = 4) -> list[list[RetrievedChunk]]:
        """Top-``k`` chunks for each query, in order: distinct queries embedded once, scored in one statement."""
        return search_many(self._connection(), self.database, self._embedder, queries, k, concurrency)

    def _connection(self) -> Any:
        if self._conn is None:
            from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

            self._conn = SnowflakeHook(snowflake_conn_id=self.snowflake_conn_id).get_conn()
        return self._conn

    def _embedder(self, model_id: str, dimensions: int) -> TitanEmbedder:
        key = (model_id, dimensions)
        if key not in self._embedders:
            from genai_personalization.bedrock import ModelCaller, TitanEmbedder, bedrock_runtime_client
            from include.knowledge.embedding import EmbeddingConfig
            from include.retry import Backoff

            if self._client is None:
                self._client = bedrock_runtime_client(self.aws_conn_id)
            config = EmbeddingConfig(model_id=model_id, dimensions=dimensions)
            self._embedders[key] = TitanEmbedder(self._client, config, ModelCaller(Backoff(max_attempts=self.max_attempts)))
        return self._embedders[key]


class RetrieveChunksOperator(SnowflakeOperatorBase):
    """Return the top-``k`` company chunks for ``query`` (templated) as a list of dicts (XCom).

    For ad-hoc checks from the UI and for DAGs that pass context downstream; task code that needs
    many queries uses KnowledgeRetriever directly.
    """

    template_fields: Sequence[str] = (*SnowflakeOperatorBase.template_fields, "query", "aws_conn_id")

    def __init__(self, *, query: str, k: int = 3, aws_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query = query
        self.k = k
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        with KnowledgeRetriever(database=self.resolve_database(), snowflake_conn_id=self.snowflake_conn_id,
                                aws_conn_id=self.aws_conn_id) as retriever:
            chunks = retriever.search(self.query, self.k)
        self.log.info("retrieved %d chunk(s): %s", len(chunks),
                      json.dumps([{"source": c.source_uri, "ordinal": c.ordinal, "score": round(c.score, 4)} for c in chunks]))
        return [asdict(chunk) for chunk in chunks]
