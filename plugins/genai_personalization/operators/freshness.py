"""Check that Snowflake dynamic tables are within their target lag; refresh the stale ones once.

Module level imports stay cheap (DAG files import this at every parse): the Snowflake hook is
imported and built inside a cached property, i.e. only when the task runs. The verdicts themselves
are pure logic in include/freshness.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from include.freshness import (
    DynamicTableState,
    Freshness,
    RefreshRecord,
    Verdict,
    assess,
    downstream_target,
    failure_line,
    parse_target_lag,
)
from genai_personalization.operators.snowflake_steps import SnowflakeOperatorBase
from include.settings import is_identifier

if TYPE_CHECKING:
    from airflow.sdk import Context

# enough finished refreshes to find the last one even behind a few SCHEDULED / EXECUTING rows
HISTORY_ROWS = 20


class DynamicTableFreshnessError(AirflowException):
    """One or more dynamic tables are stale, suspended, failing or missing; the message is one line."""


class DynamicTableFreshnessOperator(SnowflakeOperatorBase):
    """Check each dynamic table's lag against its target lag; refresh stale ones and check again.

    For each table it reads SHOW DYNAMIC TABLES (LIKE + IN SCHEMA) and the table's
    DYNAMIC_TABLE_REFRESH_HISTORY, and judges it with Snowflake's own clock (include/freshness.py).
    When a table is stale beyond ``tolerance`` and ``refresh_when_stale`` is set, it runs
    ``ALTER DYNAMIC TABLE .. REFRESH`` (synchronous in Snowflake) on the stale tables in the order
    given, so list upstream tables first, then checks every table again.

    Passes, returning ``{table: {"verdict", "lag_seconds", "refreshed"}}``, when every table is
    fresh. Otherwise raises DynamicTableFreshnessError whose one-line message names every problem
    table with its lag, target and last refresh (and its error), joined by '; '. Suspended and
    failing tables are never refreshed by this operator: a suspension is someone's decision, and a
    failing refresh needs its cause fixed, not another attempt.

    Outlets that are Assets named after a checked table get the table's data timestamp and lag as
    their event's extra; since Airflow emits outlet events only for a successful task, an event
    means "fresh".

    :param tables: ``SCHEMA.TABLE`` (in ``database``) or ``DATABASE.SCHEMA.TABLE``, upstream first (templated)
    :param tolerance: lag allowed beyond the target lag before a table is stale, e.g. '5 minutes' (templated)
    :param refresh_when_stale: refresh stale tables once and re-check before failing
    :param downstream_target_lag: the target for TARGET_LAG = DOWNSTREAM tables (templated); default:
        the smallest target lag among the checked tables, i.e. its consumers in a pipeline's chain
    :param database: Snowflake database (templated); default from GENAI_SNOWFLAKE_DATABASE
    :param snowflake_conn_id: default from GENAI_SNOWFLAKE_CONN_ID
    """

    template_fields: Sequence[str] = ("tables", "tolerance", "downstream_target_lag", "database", "snowflake_conn_id")
    ui_color = "#e8f7e4"

    def __init__(
        self,
        *,
        tables: Sequence[str],
        tolerance: str | timedelta = "5 minutes",
        refresh_when_stale: bool = True,
        downstream_target_lag: str | None = None,
        database: str | None = None,
        snowflake_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(database=database, snowflake_conn_id=snowflake_conn_id, **kwargs)
        self.tables = tables
        self.tolerance = tolerance
        self.refresh_when_stale = refresh_when_stale
        self.downstream_target_lag = downstream_target_lag

    def execute(self, context: Context) -> dict[str, dict[str, object]]:
        tables = self._qualified_tables()
        tolerance = self._duration("tolerance", self.tolerance)
        configured_downstream = (
            self._duration("downstream_target_lag", self.downstream_target_lag) if self.downstream_target_lag else None
        )
        refreshed: list[str] = []
        with closing(self.snowflake_hook.get_conn()) as conn:
            results = self._check(conn, tables, tolerance, configured_downstream)
            stale = [r.table for r in results if r.verdict is Verdict.STALE]
            if stale and self.refresh_when_stale:
                for table in stale:  # in the configured order: upstream first
                    refreshed.append(table)
                    self._refresh(conn, table)
                results = self._check(conn, tables, tolerance, configured_downstream)

        for result in results:
            self.log.info("%s", result.message)
        if problems := failure_line(results):
            raise DynamicTableFreshnessError(problems)
        self._annotate_outlets(context, results)
        summary = {r.table: {**r.as_dict(), "refreshed": r.table in refreshed} for r in results}
        self.log.info("dynamic table freshness: %s", json.dumps(summary, sort_keys=True))
        return summary

    def _qualified_tables(self) -> list[str]:
        database = self.resolve_database()
        if not self.tables:
            raise AirflowFailException("tables must name at least one dynamic table")
        qualified = []
        for table in self.tables:
            parts = table.upper().split(".")
            if len(parts) == 2:
                parts.insert(0, database)
            # spliced into SHOW / ALTER as identifiers, so only plain ones
            if len(parts) != 3 or not all(is_identifier(p) for p in parts):
                raise AirflowFailException(f"{table!r} is not SCHEMA.TABLE or DATABASE.SCHEMA.TABLE of plain identifiers")
            qualified.append(".".join(parts))
        return qualified

    @staticmethod
    def _duration(name: str, value: str | timedelta) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            duration = parse_target_lag(value)
        except ValueError as e:
            raise AirflowFailException(f"{name}: {e}") from e
        if duration is None:
            raise AirflowFailException(f"{name} must be a duration like '5 minutes', got {value!r}")
        return duration

    def _check(
        self, conn: Any, tables: list[str], tolerance: timedelta, configured_downstream: timedelta | None
    ) -> list[Freshness]:
        now = _rows(conn, "SELECT CURRENT_TIMESTAMP() AS NOW")[0]["NOW"]
        states = {table: self._state(conn, table) for table in tables}
        downstream = configured_downstream or downstream_target(s for s in states.values() if s)
        return [
            assess(table, states[table], self._history(conn, table), now, tolerance, downstream) for table in tables
        ]

    @staticmethod
    def _state(conn: Any, table: str) -> DynamicTableState | None:
        database, schema, name = table.split(".")
        rows = _rows(conn, f"SHOW DYNAMIC TABLES LIKE '{name}' IN SCHEMA {database}.{schema}")
        # LIKE is a pattern ('_' matches any character): keep the exact name only
        states = [DynamicTableState.from_show_row(row) for row in rows]
        return next((s for s in states if s.qualified_name == table), None)

    @staticmethod
    def _history(conn: Any, table: str) -> list[RefreshRecord]:
        database = table.split(".")[0]
        rows = _rows(
            conn,
            "SELECT STATE, STATE_MESSAGE, REFRESH_START_TIME, REFRESH_END_TIME "
            f"FROM TABLE({database}.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(NAME => '{table}')) "
            f"ORDER BY REFRESH_START_TIME DESC LIMIT {HISTORY_ROWS}",
        )
        return [RefreshRecord.from_history_row(row) for row in rows]

    def _refresh(self, conn: Any, table: str) -> None:
        from snowflake.connector.errors import ProgrammingError

        self.log.info("%s is stale: ALTER DYNAMIC TABLE .. REFRESH", table)
        try:
            with closing(conn.cursor()) as cursor:
                cursor.execute(f"ALTER DYNAMIC TABLE {table} REFRESH")
        except ProgrammingError as e:
            # recorded by Snowflake as a FAILED refresh, which the re-check reports with its error
            self.log.warning("refresh of %s failed: %s", table, " ".join(str(e.raw_msg or e).split()))

    def _annotate_outlets(self, context: Context, results: list[Freshness]) -> None:
        by_table = {r.table: r for r in results}
        for outlet in self.outlets:
            if isinstance(outlet, Asset) and (result := by_table.get(outlet.name)):
                context["outlet_events"][outlet].extra.update(
                    {
                        "data_timestamp": _iso(result.data_timestamp),
                        "lag_seconds": result.as_dict()["lag_seconds"],
                    }
                )


def _rows(conn: Any, sql: str) -> list[dict[str, Any]]:
    with closing(conn.cursor()) as cursor:
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
