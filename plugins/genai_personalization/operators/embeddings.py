"""Keep the embeddings of RAG.CHUNKS complete and current for the configured model and dimensions.

Settings and SQL steps come from SnowflakeStepsOperator; the model call with its retries from
genai_personalization.bedrock; the set naming and wire format from include/knowledge/embedding.py.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from genai_personalization.operators.snowflake_steps import SnowflakeStepsOperator, snowflake_error_line
from genai_personalization.sql import render_sql
from include.settings import is_identifier

if TYPE_CHECKING:
    from airflow.sdk import Context

    from include.knowledge.embedding import EmbeddingConfig

DAG_SQL = "embedding_refresh"
FETCH_ROWS = 500


class EmbeddingRefreshOperator(SnowflakeStepsOperator):
    """Embed exactly the chunk texts that have no embedding yet for (model id, dimensions), with Titan v2.

    The difference is computed in Snowflake (include/sql/embedding_refresh/missing.sql); only those
    texts are read, embedded through BedrockRuntimeHook with bounded concurrency and backoff on
    throttling and 5xx, and MERGEd on CONTENT_HASH every ``flush_rows`` embeddings, so a failed or
    killed run keeps what it embedded and a retry embeds only the rest. Embeddings of texts no chunk
    has any more are deleted. A (model, dimensions) never seen before gets its own table and is
    activated (made the one retrieval reads) only when it is complete; until then retrieval keeps
    answering from the previous set, whose table is dropped one run later.

    Raises a one-line AirflowException if some texts could not be embedded (after keeping the rest).
    Returns (and logs) counts; never chunk text.

    :param embedding_config: default from GENAI_EMBEDDING_MODEL_ID / _DIMENSIONS / _CONCURRENCY / _MAX_ATTEMPTS
    :param aws_conn_id: default from GENAI_AWS_CONN_ID
    """

    template_fields: Sequence[str] = (*SnowflakeStepsOperator.template_fields, "aws_conn_id")
    dag_sql = DAG_SQL

    def __init__(self, *, embedding_config: EmbeddingConfig | None = None, aws_conn_id: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.embedding_config = embedding_config
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from include.knowledge.embedding import EmbeddingConfig

        try:
            config = self.embedding_config or EmbeddingConfig.from_env()
        except ValueError as e:
            raise AirflowFailException(str(e)) from e
        database = self.resolve_database()
        params = {"database": database, "table_name": config.table_name, "dimensions": config.dimensions,
                  "set_name": config.set_name, "model_id": config.model_id}
        with closing(self.snowflake_hook.get_conn()) as conn:
            self.run_step(conn, "create_objects", params)
            self._execute(conn, render_sql(DAG_SQL, "register_set", **params), params)
            dropped = self._drop_retired(conn, database, keep=config.set_name)
            pruned = int(self.run_step(conn, "prune", params)[-1].rowcount or 0)
            missing = self._count_missing(conn, params)
            self.log.info("set %s: %d chunk text(s) without an embedding, %d pruned", config.set_name, missing, pruned)
            embedded, failed, stats = (0, Counter(), {}) if not missing else self._embed_missing(conn, config, params)
            remaining = self._count_missing(conn, params) if missing else 0
            status = self._status(conn, database, config.set_name)
            activated = remaining == 0 and status != "active"
            if activated:
                self.run_step(conn, "activate", params)
                self.log.info("set %s is complete and now active", config.set_name)
        summary = {
            "set": config.set_name, "model_id": config.model_id, "dimensions": config.dimensions,
            "missing_before": missing, "embedded": embedded, "failed": sum(failed.values()), "remaining": remaining,
            "pruned": pruned, "activated": activated, "dropped_sets": dropped, **{f"model_{k}": v for k, v in stats.items()},
        }
        self.log.info("embedding refresh summary: %s", json.dumps(summary, sort_keys=True))
        if failed:
            reasons = ", ".join(f"{code} x{count}" for code, count in sorted(failed.items()))
            raise AirflowException(
                f"{sum(failed.values())} chunk text(s) could not be embedded ({reasons}); the {embedded} embedded "
                f"are kept and a retry embeds only the rest"
            )
        return summary

    def _embed_missing(self, conn: Any, config: EmbeddingConfig, params: dict[str, Any]) -> tuple[int, Counter[str], dict[str, int]]:
        from genai_personalization.bedrock import ModelCallError, ModelCaller, TitanEmbedder, bedrock_runtime_client
        from include.knowledge.embedding import vector_json
        from include.retry import Backoff

        caller = ModelCaller(Backoff(max_attempts=config.max_attempts))
        client = bedrock_runtime_client(self.aws_conn_id or self.settings.aws_conn_id, config.concurrency)
        embedder = TitanEmbedder(client, config, caller)
        embedded, failed, buffer = 0, Counter[str](), []
        rows = self._missing_rows(conn, params)
        for (content_hash, _text), result in caller.map(lambda row: embedder.embed(row[1]), rows, config.concurrency):
            if isinstance(result, ModelCallError):
                failed[result.code] += 1
                continue
            vector, tokens = result
            buffer.append((content_hash, vector_json(vector), tokens))
            if len(buffer) >= config.flush_rows:
                embedded += self._flush(conn, params, buffer)
        if buffer:
            embedded += self._flush(conn, params, buffer)
        return embedded, failed, caller.stats.as_dict()

    def _missing_rows(self, conn: Any, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
        with closing(conn.cursor()) as cursor:
            cursor.execute(render_sql(DAG_SQL, "missing", **params))
            while batch := cursor.fetchmany(FETCH_ROWS):
                yield from ((str(h), str(t)) for h, t in batch)

    def _flush(self, conn: Any, params: dict[str, Any], buffer: list[tuple[str, str, int]]) -> int:
        from include.staging import csv_row

        with self.staging_folder(prefix="embeddings-") as folder:
            path = folder / "embeddings.csv"
            path.write_bytes(b"".join(csv_row(row) for row in buffer))
            self.run_step(conn, "merge_embeddings", {**params, "file": str(path), "stage_path": uuid.uuid4().hex})
        count = len(buffer)
        buffer.clear()
        return count

    def _count_missing(self, conn: Any, params: dict[str, Any]) -> int:
        with closing(conn.cursor()) as cursor:
            cursor.execute(render_sql(DAG_SQL, "missing", count_only=True, **params))
            return int(cursor.fetchone()[0])

    def _status(self, conn: Any, database: str, set_name: str) -> str | None:
        with closing(conn.cursor()) as cursor:
            cursor.execute(render_sql(DAG_SQL, "sets", database=database))
            return next((row[4] for row in cursor.fetchall() if row[0] == set_name), None)

    def _drop_retired(self, conn: Any, database: str, keep: str) -> list[str]:
        with closing(conn.cursor()) as cursor:
            cursor.execute(render_sql(DAG_SQL, "sets", database=database))
            retired = [(row[0], row[3]) for row in cursor.fetchall() if row[4] == "retired" and row[0] != keep]
        for set_name, table_name in retired:
            if not (is_identifier(set_name) and is_identifier(table_name)):
                raise AirflowFailException(f"RAG.EMBEDDING_SETS holds a set name that is not an identifier: {set_name!r}")
            self.run_step(conn, "drop_retired", {"database": database, "set_name": set_name, "table_name": table_name})
        return [name for name, _ in retired]

    def _execute(self, conn: Any, sql: str, params: dict[str, Any]) -> None:
        from snowflake.connector.errors import Error as SnowflakeError

        try:
            with closing(conn.cursor()) as cursor:
                cursor.execute(sql, params)
        except SnowflakeError as e:
            raise AirflowException(f"{DAG_SQL}: {snowflake_error_line(e)}") from e
