"""Is a Snowflake dynamic table fresh? Pure logic, no Airflow and no Snowflake client.

The inputs are what Snowflake itself reports: a row of ``SHOW DYNAMIC TABLES`` (target lag,
scheduling state, data timestamp), rows of the ``DYNAMIC_TABLE_REFRESH_HISTORY`` table function,
and "now" (taken from Snowflake's clock by the caller, so a skewed worker clock cannot make a table
look stale). The output is a verdict per table and a one-line message an on-call engineer can act
on, e.g.::

    GENAI.ANALYTICS.CUSTOMER_PURCHASE_HISTORY is stale: lag 42m > target 15m + tolerance 5m;
    last refresh FAILED at 2025-03-01 10:04:00 UTC: SQL compilation error: invalid identifier 'ITEMS'

Verdicts, first match wins:

- UNKNOWN: SHOW DYNAMIC TABLES does not list the table (never created, dropped, or no privilege),
  or its target lag cannot be read.
- SUSPENDED: scheduling state SUSPENDED; Snowflake will not refresh it, whatever its lag.
- FAILED: the latest finished refresh FAILED (or UPSTREAM_FAILED); the data may still be within
  its lag, but the next refresh will most likely fail the same way.
- STALE: lag = now - data_timestamp exceeds target lag + tolerance (or it never refreshed).
- FRESH: otherwise.

``TARGET_LAG = DOWNSTREAM`` has no lag of its own: such a table refreshes when a dynamic table
reading it does, so its data is as old as its consumers allow. Callers pass the target to judge
it by (``downstream_target``); see ``downstream_target`` below for the default the operator uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

DOWNSTREAM = "DOWNSTREAM"
# refresh states that end a refresh; SCHEDULED / EXECUTING / SKIPPED say nothing about the data yet
_FINISHED_STATES = {"SUCCEEDED", "FAILED", "UPSTREAM_FAILED", "CANCELLED"}
_FAILED_STATES = {"FAILED", "UPSTREAM_FAILED"}
# an error message is quoted in one line of an alert, not in full
MAX_ERROR_CHARS = 300

_LAG = re.compile(
    r"^\s*(\d+)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)\s*$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Verdict(StrEnum):
    FRESH = "FRESH"
    STALE = "STALE"
    SUSPENDED = "SUSPENDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


def parse_target_lag(text: str) -> timedelta | None:
    """Snowflake's target lag as shown by SHOW DYNAMIC TABLES: '15 minutes' -> 15 min; DOWNSTREAM -> None.

    Raises ValueError for anything else, so a format Snowflake may introduce is noticed rather than
    judged with a made-up target.
    """
    value = text.strip().strip("'").strip()
    if value.upper() == DOWNSTREAM:
        return None
    match = _LAG.match(value)
    if not match:
        raise ValueError(f"target lag {text!r} is not '<n> seconds|minutes|hours|days' or DOWNSTREAM")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2][0].lower()])


def format_duration(duration: timedelta) -> str:
    """Compact and readable: 42m, 1h30m, 2d3h, 45s (two most significant units, rounded down)."""
    seconds = max(0, int(duration.total_seconds()))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    first = next((i for i, (value, _) in enumerate(parts) if value), len(parts) - 1)
    return "".join(f"{value}{unit}" for value, unit in parts[first : first + 2] if value or not seconds)


def _utc(value: datetime | None) -> datetime | None:
    # Snowflake returns TIMESTAMP_LTZ (aware); a naive value is taken to be UTC
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _lower_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key.lower(): value for key, value in row.items()}


@dataclass(frozen=True)
class DynamicTableState:
    """The columns of one SHOW DYNAMIC TABLES row that freshness depends on."""

    qualified_name: str
    target_lag: str
    scheduling_state: str
    data_timestamp: datetime | None

    @classmethod
    def from_show_row(cls, row: Mapping[str, Any]) -> DynamicTableState:
        values = _lower_keys(row)
        return cls(
            qualified_name=f"{values['database_name']}.{values['schema_name']}.{values['name']}",
            target_lag=str(values["target_lag"]),
            scheduling_state=str(values["scheduling_state"]).upper(),
            data_timestamp=_utc(values.get("data_timestamp")),
        )


@dataclass(frozen=True)
class RefreshRecord:
    """One row of INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY."""

    state: str
    started_at: datetime | None
    ended_at: datetime | None = None
    message: str | None = None

    @classmethod
    def from_history_row(cls, row: Mapping[str, Any]) -> RefreshRecord:
        values = _lower_keys(row)
        return cls(
            state=str(values["state"]).upper(),
            started_at=_utc(values.get("refresh_start_time")),
            ended_at=_utc(values.get("refresh_end_time")),
            message=values.get("state_message"),
        )

    @property
    def finished(self) -> bool:
        return self.state in _FINISHED_STATES

    @property
    def failed(self) -> bool:
        return self.state in _FAILED_STATES

    def describe(self) -> str:
        """'last refresh FAILED at 2025-03-01 10:04:00 UTC: <error on one line>'."""
        at = self.ended_at or self.started_at
        text = f"last refresh {self.state}" + (f" at {_format_time(at)}" if at else "")
        if self.failed and self.message:
            error = " ".join(self.message.split())
            if len(error) > MAX_ERROR_CHARS:
                error = error[: MAX_ERROR_CHARS - 3] + "..."
            text += f": {error}"
        return text


def last_finished_refresh(history: Iterable[RefreshRecord]) -> RefreshRecord | None:
    """The refresh that ended last (history may come in any order; running ones are skipped)."""
    finished = [r for r in history if r.finished]
    epoch = datetime.min.replace(tzinfo=UTC)
    return max(finished, key=lambda r: r.ended_at or r.started_at or epoch, default=None)


@dataclass(frozen=True)
class Freshness:
    """The verdict on one dynamic table."""

    table: str
    verdict: Verdict
    message: str
    lag: timedelta | None = None
    target: timedelta | None = None
    last_refresh: RefreshRecord | None = None
    data_timestamp: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.FRESH

    def as_dict(self) -> dict[str, object]:
        """Small and JSON-safe, for the task's return value (XCom)."""
        return {
            "verdict": self.verdict.value,
            "lag_seconds": None if self.lag is None else round(self.lag.total_seconds(), 3),
        }


def downstream_target(states: Iterable[DynamicTableState]) -> timedelta | None:
    """What to judge TARGET_LAG = DOWNSTREAM tables by, when no target is configured: the smallest
    concrete target lag among ``states`` (the tables checked together).

    The operator checks one pipeline's chain (silver -> gold), so those are the DOWNSTREAM table's
    consumers, and a consumer refreshing on time refreshes it too. None when no table has one.
    """
    lags = []
    for state in states:
        try:
            lag = parse_target_lag(state.target_lag)
        except ValueError:
            continue
        if lag is not None:
            lags.append(lag)
    return min(lags, default=None)


def assess(
    table: str,
    state: DynamicTableState | None,
    history: Iterable[RefreshRecord],
    now: datetime,
    tolerance: timedelta,
    downstream_target: timedelta | None = None,
) -> Freshness:
    """The verdict on ``table`` (its fully qualified name), see the module docstring."""
    if state is None:
        return Freshness(table, Verdict.UNKNOWN, f"{table} is unknown: SHOW DYNAMIC TABLES does not list it")
    last = last_finished_refresh(history)
    last_text = last.describe() if last else "no refresh in history"
    try:
        own_target = parse_target_lag(state.target_lag)
    except ValueError as e:
        return Freshness(table, Verdict.UNKNOWN, f"{table} is unknown: {e}; {last_text}", last_refresh=last)

    target = own_target if own_target is not None else downstream_target
    if own_target is not None:
        target_text = format_duration(own_target)
    elif target is not None:
        target_text = f"DOWNSTREAM ({format_duration(target)})"
    else:
        target_text = "DOWNSTREAM (not judged)"
    now = _utc(now) or now
    lag = None if state.data_timestamp is None else max(timedelta(0), now - state.data_timestamp)
    late = target is not None and (lag is None or lag > target + tolerance)

    if lag is None:
        lag_text = f"never refreshed, target {target_text}"
    elif target is None:
        lag_text = f"lag {format_duration(lag)}, target {target_text}"
    else:
        comparison = ">" if late else "<="
        lag_text = f"lag {format_duration(lag)} {comparison} target {target_text} + tolerance {format_duration(tolerance)}"

    if state.scheduling_state == "SUSPENDED":
        verdict, adjective = Verdict.SUSPENDED, "suspended"
    elif last is not None and last.failed:
        verdict, adjective = Verdict.FAILED, "failing"
    elif late:
        verdict, adjective = Verdict.STALE, "stale"
    else:
        verdict, adjective = Verdict.FRESH, "fresh"
    message = f"{table} is {adjective}: {lag_text}"
    if verdict is not Verdict.FRESH:
        message += f"; {last_text}"
    return Freshness(
        table, verdict, message, lag=lag, target=target, last_refresh=last, data_timestamp=state.data_timestamp
    )


def failure_line(results: Iterable[Freshness]) -> str:
    """Every problem in one line, in the order checked: an alert must name all of them, not the first."""
    return "; ".join(r.message for r in results if not r.ok)
