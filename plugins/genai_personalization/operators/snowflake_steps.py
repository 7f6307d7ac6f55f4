"""What every Snowflake-loading operator of the project shares: settings, hooks, running SQL steps.

A "step" is one file include/sql/<dag>/<step>.sql, rendered with Jinja and run as a script on one
session (so the temporary tables a step creates are there for the next). Module level imports stay
cheap, because DAG files import operators at every parse: the hooks are imported and built inside
cached properties, only when a task runs.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from genai_personalization.sql import render_sql
from include.settings import Settings, is_identifier

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
    from airflow.sdk import Context


def snowflake_error_line(error: BaseException) -> str:
    """A Snowflake error's message in one line: its first line, with the next when the first only
    introduces it ("SQL compilation error:" is followed by the cause on a line of its own)."""
    lines = [line.strip() for line in str(getattr(error, "msg", None) or error).splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    return f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


class SnowflakeOperatorBase(BaseOperator):
    """Base for the project's Snowflake operators: settings, the stock SnowflakeHook, the database.

    :param database: Snowflake database (templated); default from GENAI_SNOWFLAKE_DATABASE
    :param snowflake_conn_id: default from GENAI_SNOWFLAKE_CONN_ID
    """

    template_fields: Sequence[str] = ("database", "snowflake_conn_id")
    ui_color = "#e8f4fd"

    def __init__(self, *, database: str | None = None, snowflake_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database = database
        self.snowflake_conn_id = snowflake_conn_id

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_env()

    @cached_property
    def snowflake_hook(self) -> SnowflakeHook:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        return SnowflakeHook(snowflake_conn_id=self.snowflake_conn_id or self.settings.snowflake_conn_id)

    def resolve_database(self) -> str:
        database = (self.database or self.settings.snowflake_database).upper()
        if not is_identifier(database):
            raise AirflowFailException(f"database must be a plain Snowflake identifier, got {database!r}")
        return database


class SnowflakeStepsOperator(SnowflakeOperatorBase):
    """Base for operators that run the SQL steps under include/sql/``dag_sql``/ on Snowflake."""

    dag_sql: str  # the folder under include/sql/ this operator's steps live in

    def run_step(self, conn: Any, step: str, params: dict[str, Any]) -> list[Any]:
        """Run one step's statements on ``conn``; returns one cursor per statement.

        The SQL text holds only identifiers and local file paths, never record values, because the
        hook logs it. A Snowflake error becomes one line naming the step (the task retries).
        """
        from snowflake.connector.errors import Error as SnowflakeError

        try:
            cursors = list(conn.execute_string(render_sql(self.dag_sql, step, **params), remove_comments=True))
        except SnowflakeError as e:
            raise AirflowException(f"{self.dag_sql}/{step}.sql failed: {snowflake_error_line(e)}") from e
        self.log.info("ran %s/%s.sql (%d statement(s))", self.dag_sql, step, len(cursors))
        return cursors

    @contextmanager
    def staging_folder(self, prefix: str) -> Iterator[Path]:
        """A private temporary folder for the files to PUT, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            if "'" in tmp:  # the path is spliced into a quoted PUT 'file://...' statement
                raise AirflowFailException(f"temporary folder {tmp!r} cannot be used in a PUT statement")
            yield Path(tmp)


class SnowflakeSqlStepOperator(SnowflakeStepsOperator):
    """Run include/sql/``dag_sql``/``step``.sql with ``database``, ``warehouse`` and ``target_lag`` from settings.

    For idempotent DDL (``CREATE ... IF NOT EXISTS``) that a DAG runs before loading.
    """

    template_fields: Sequence[str] = (*SnowflakeStepsOperator.template_fields, "step")

    def __init__(self, *, dag_sql: str, step: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dag_sql = dag_sql
        self.step = step

    def execute(self, context: Context) -> None:
        params = {
            "database": self.resolve_database(),
            "warehouse": self.settings.snowflake_warehouse,
            "target_lag": self.settings.dynamic_table_target_lag,
        }
        with closing(self.snowflake_hook.get_conn()) as conn:
            self.run_step(conn, self.step, params)


class S3ToSnowflakeOperator(SnowflakeStepsOperator):
    """Base for operators that read landing files from S3 and bulk-load them through an internal stage.

    Every value travels in staged files (PUT, COPY INTO a temporary table, MERGE), never in SQL text
    or bind parameters. That path needs no storage integration or external stage, so it is the same
    on Snowflake and on the local stand-in (which cannot COPY from s3:// anyway).

    :param bucket: landing bucket (templated); default from GENAI_LANDING_BUCKET
    :param aws_conn_id: default from GENAI_AWS_CONN_ID
    """

    template_fields: Sequence[str] = (*SnowflakeStepsOperator.template_fields, "bucket", "aws_conn_id")

    def __init__(self, *, bucket: str | None = None, aws_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bucket = bucket
        self.aws_conn_id = aws_conn_id

    @cached_property
    def s3_hook(self) -> S3Hook:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id or self.settings.aws_conn_id)

    def resolve_bucket(self) -> str:
        return self.bucket or self.settings.landing_bucket


_MERGE_COLUMN = re.compile(r"number of rows (inserted|updated)", re.IGNORECASE)


def merge_counts(cursor: Any) -> tuple[int, int]:
    """(inserted, updated) from a MERGE result row; columns are named, so match by name."""
    row = cursor.fetchone() or ()
    counts = {"inserted": 0, "updated": 0}
    for column, value in zip(cursor.description or (), row):
        match = _MERGE_COLUMN.fullmatch(column[0])
        if match:
            counts[match.group(1).lower()] = int(value)
    return counts["inserted"], counts["updated"]
