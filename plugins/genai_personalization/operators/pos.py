"""Load POS purchase events from S3 (``pos/YYYY/MM/DD/HH/*.jsonl[.gz]``) into Snowflake RAW.POS_TRANSACTIONS.

Hooks, settings and SQL steps come from S3ToSnowflakeOperator (operators/snowflake_steps.py);
validation, file selection and staging from include/pos/.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from genai_personalization.operators.snowflake_steps import S3ToSnowflakeOperator, merge_counts
from genai_personalization.sql import render_sql
from include.pos import (
    CONFLICTING_EVENT,
    FileVersion,
    LoadPlan,
    PosBatchWriter,
    PosLoadSummary,
    StagedBatch,
    hour_prefixes,
    is_event_file,
    iter_file_lines,
    plan_loads,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

DAG_SQL = "pos_transactions_ingest"


class PosEventsLoadOperator(S3ToSnowflakeOperator):
    """Load the event files of the run's hour and the hour before into RAW.POS_TRANSACTIONS.

    For the run at instant T (logical date, else data interval end, else run_after): list
    ``<prefix>YYYY/MM/DD/HH/`` of T's UTC hour and of the hour before, skip the file versions the
    load ledger holds (one query), stream the rest line by line (gunzipping on the fly), validate
    each record, and stage good records and quarantine rows in local CSV parts as they go; then PUT,
    COPY INTO session tables, classify against bronze (new / duplicate / conflict), MERGE the new
    events, merge the quarantine rows, and record the files in the ledger. Nothing is inserted row
    by row and no record value reaches SQL text, bind parameters or the log.

    Returns a summary of counts (see include/pos/summary.py), also logged.

    :param prefix: root of the hour folders (templated), default ``pos/``
    """

    template_fields: Sequence[str] = (*S3ToSnowflakeOperator.template_fields, "prefix")
    dag_sql = DAG_SQL

    def __init__(self, *, prefix: str = "pos/", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix

    def execute(self, context: Context) -> dict[str, object]:
        bucket = self.resolve_bucket()
        database = self.resolve_database()
        instant = _run_instant(context)
        # the future-timestamp rule is relative to the interval, not the clock: a backfill judges like the original run
        not_after = context.get("data_interval_end") or instant
        prefixes = hour_prefixes(instant, root=self.prefix)
        candidates = [version for prefix in prefixes for version in self._list_event_files(bucket, prefix)]

        with closing(self.snowflake_hook.get_conn()) as conn:
            plan = plan_loads(candidates, self._ledger(conn, database, bucket, prefixes))
            self.log.info(
                "%d file(s) under s3://%s/%s and %s: %d to load, %d already loaded",
                len(candidates), bucket, prefixes[0], prefixes[1], len(plan.to_load), len(plan.already_loaded),
            )
            summary = self.load_files(conn, database, bucket, plan, str(context["run_id"]), not_after)

        result = summary.as_dict()
        self.log.info("pos events load summary: %s", json.dumps(result, sort_keys=True))
        return result

    def load_files(
        self, conn: Any, database: str, bucket: str, plan: LoadPlan, run_id: str, not_after: datetime
    ) -> PosLoadSummary:
        """Stream, validate, stage and merge ``plan.to_load`` on one Snowflake session (the bulk path)."""
        if not plan.to_load:
            return PosLoadSummary.of(plan, None, inserted=0, duplicate=0, conflicts=0)
        with self.staging_folder(prefix="pos-events-") as folder:
            with PosBatchWriter(folder, run_id, not_after) as writer:
                for version in plan.to_load:
                    self._stream_into(writer, bucket, version)
                batch = writer.close()
            inserted, outcomes = self._merge_batch(conn, database, batch)
        return PosLoadSummary.of(
            plan, batch, inserted=inserted, duplicate=outcomes.get("duplicate", 0), conflicts=outcomes.get("conflict", 0)
        )

    def _list_event_files(self, bucket: str, prefix: str) -> list[FileVersion]:
        return [
            FileVersion.of(bucket, obj["Key"], obj["ETag"], obj["Size"])
            for obj in self.s3_hook.iter_file_metadata(prefix=prefix, bucket_name=bucket)
            if is_event_file(obj["Key"], prefix)
        ]

    def _ledger(self, conn: Any, database: str, bucket: str, prefixes: tuple[str, str]) -> list[tuple[str, str, int]]:
        # The ledger must exist before it is read. The DAG's create_objects task made it already; running the
        # idempotent DDL again keeps this operator (and the benchmark) usable on its own.
        self.run_step(conn, "create_objects", {"database": database})
        previous_hour, current_hour = (f"s3://{bucket}/{prefix}%" for prefix in prefixes)
        with closing(conn.cursor()) as cursor:
            cursor.execute(
                render_sql(DAG_SQL, "loaded_files", database=database),
                {"previous_hour": previous_hour, "current_hour": current_hour},
            )
            return [(row[0], row[1], int(row[2])) for row in cursor.fetchall()]

    def _stream_into(self, writer: PosBatchWriter, bucket: str, listed: FileVersion) -> None:
        response = self.s3_hook.get_conn().get_object(Bucket=bucket, Key=listed.key)
        # the ledger records the version actually read, which may be newer than the listing
        version = FileVersion.of(bucket, listed.key, response["ETag"], response["ContentLength"])
        body = response["Body"]
        try:
            counts = writer.add_file(version, iter_file_lines(body, listed.key))
        finally:
            body.close()
        self.log.info("%s: %d line(s), %d valid, %d quarantined", listed.key, counts.lines, counts.valid, counts.rejected)

    def _merge_batch(self, conn: Any, database: str, batch: StagedBatch) -> tuple[int, dict[str, int]]:
        params: dict[str, Any] = {
            "database": database,
            # a folder per attempt: concurrent or retried attempts never read each other's files
            "stage_path": uuid.uuid4().hex,
            "event_parts": [str(part) for part in batch.event_parts],
            "files": {"quarantine": str(batch.quarantine), "sources": str(batch.sources)},
            "row_counts": batch.row_counts,
            "conflict_reason": CONFLICTING_EVENT,
        }
        self.run_step(conn, "stage_batch", params)
        inserted, _updated = merge_counts(self.run_step(conn, "merge_events", params)[-1])
        counts = self.run_step(conn, "quarantine_conflicts", params)[-1].fetchall()
        outcomes = {str(outcome): int(count) for outcome, count in counts}
        self.run_step(conn, "merge_quarantine", params)
        self.run_step(conn, "record_ledger", params)
        return inserted, outcomes


def _run_instant(context: Context) -> datetime:
    """The instant whose hour the run loads: Airflow 3 runs may have no logical date (manual triggers)."""
    for name in ("logical_date", "data_interval_end"):
        value = context.get(name)
        if value is not None:
            return value
    run_after = getattr(context.get("dag_run"), "run_after", None)
    if run_after is None:
        raise AirflowFailException("the run has no logical date, data interval or run_after to pick hours from")
    return run_after
