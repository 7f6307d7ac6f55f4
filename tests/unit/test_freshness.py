"""Dynamic-table freshness verdicts (include/freshness.py): every verdict, message and parsing edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from include.freshness import (
    DynamicTableState,
    Freshness,
    RefreshRecord,
    Verdict,
    assess,
    downstream_target,
    failure_line,
    format_duration,
    last_finished_refresh,
    parse_target_lag,
)

GOLD = "GENAI.ANALYTICS.CUSTOMER_PURCHASE_HISTORY"
NOW = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
TOLERANCE = timedelta(minutes=5)


def state(lag_minutes: float | None = 3, target: str = "15 minutes", scheduling: str = "RUNNING") -> DynamicTableState:
    data_timestamp = None if lag_minutes is None else NOW - timedelta(minutes=lag_minutes)
    return DynamicTableState(GOLD, target, scheduling, data_timestamp)


def refresh(state_: str, minute: int, message: str | None = None) -> RefreshRecord:
    at = datetime(2025, 3, 1, 10, minute, tzinfo=UTC)
    return RefreshRecord(state_, started_at=at - timedelta(seconds=30), ended_at=at, message=message)


# ---- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 minutes", timedelta(minutes=15)),
        ("1 minute", timedelta(minutes=1)),
        ("90 seconds", timedelta(seconds=90)),
        ("2 hours", timedelta(hours=2)),
        ("1 day", timedelta(days=1)),
        ("'15 minutes'", timedelta(minutes=15)),  # as written in DDL
        ("  3 Hours ", timedelta(hours=3)),
        ("10 mins", timedelta(minutes=10)),
        ("5m", timedelta(minutes=5)),
        ("DOWNSTREAM", None),
        ("downstream", None),
    ],
)
def test_parse_target_lag(text: str, expected: timedelta | None) -> None:
    assert parse_target_lag(text) == expected


@pytest.mark.parametrize("text", ["", "15", "minutes", "15 fortnights", "-5 minutes", "1.5 hours", "15 minutes ago"])
def test_parse_target_lag_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="is not '<n> seconds|minutes|hours|days' or DOWNSTREAM"):
        parse_target_lag(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (60, "1m"), (90, "1m30s"), (2520, "42m"), (2530, "42m10s"), (3602, "1h"),
     (5400, "1h30m"), (86400 + 3 * 3600 + 59, "1d3h"), (-5, "0s")],
)  # fmt: skip
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text


def test_show_row_is_read_by_column_name_in_any_case() -> None:
    row = {
        "created_on": NOW, "NAME": "CUSTOMER_PURCHASE_HISTORY", "database_name": "GENAI", "schema_name": "ANALYTICS",
        "target_lag": "15 minutes", "scheduling_state": "running",
        "data_timestamp": datetime(2025, 3, 1, 11, 27, tzinfo=timezone(timedelta(hours=1))),
    }  # fmt: skip
    assert DynamicTableState.from_show_row(row) == DynamicTableState(
        GOLD, "15 minutes", "RUNNING", datetime(2025, 3, 1, 10, 27, tzinfo=UTC)
    )


def test_naive_timestamps_are_taken_as_utc() -> None:
    row = {"STATE": "succeeded", "STATE_MESSAGE": None, "REFRESH_START_TIME": datetime(2025, 3, 1, 10, 0),
           "REFRESH_END_TIME": None}  # fmt: skip
    assert RefreshRecord.from_history_row(row) == RefreshRecord("SUCCEEDED", datetime(2025, 3, 1, 10, 0, tzinfo=UTC))


def test_last_finished_refresh_ignores_order_and_unfinished_refreshes() -> None:
    history = [
        refresh("SUCCEEDED", 4),
        RefreshRecord("SCHEDULED", started_at=None),
        refresh("FAILED", 10, "boom"),
        RefreshRecord("EXECUTING", started_at=NOW),
        refresh("SUCCEEDED", 2),
    ]
    assert last_finished_refresh(history) == refresh("FAILED", 10, "boom")
    assert last_finished_refresh([RefreshRecord("EXECUTING", started_at=NOW)]) is None
    assert last_finished_refresh([]) is None


# ---- verdicts


def test_fresh() -> None:
    result = assess(GOLD, state(3), [refresh("SUCCEEDED", 27)], NOW, TOLERANCE)
    assert result == Freshness(
        GOLD, Verdict.FRESH, f"{GOLD} is fresh: lag 3m <= target 15m + tolerance 5m",
        lag=timedelta(minutes=3), target=timedelta(minutes=15), last_refresh=refresh("SUCCEEDED", 27),
        data_timestamp=NOW - timedelta(minutes=3),
    )  # fmt: skip
    assert result.ok
    assert result.as_dict() == {"verdict": "FRESH", "lag_seconds": 180.0}


def test_lag_within_the_tolerance_is_fresh_and_just_beyond_it_is_stale() -> None:
    assert assess(GOLD, state(20), [], NOW, TOLERANCE).verdict is Verdict.FRESH
    assert assess(GOLD, state(20 + 1 / 60), [], NOW, TOLERANCE).verdict is Verdict.STALE


def test_stale_names_lag_target_tolerance_and_last_refresh() -> None:
    result = assess(GOLD, state(42), [refresh("SUCCEEDED", 4)], NOW, TOLERANCE)
    assert result.verdict is Verdict.STALE and not result.ok
    assert result.message == (
        f"{GOLD} is stale: lag 42m > target 15m + tolerance 5m; last refresh SUCCEEDED at 2025-03-01 10:04:00 UTC"
    )


def test_stale_without_history() -> None:
    result = assess(GOLD, state(42), [], NOW, TOLERANCE)
    assert result.message == f"{GOLD} is stale: lag 42m > target 15m + tolerance 5m; no refresh in history"


def test_never_refreshed_is_stale() -> None:
    result = assess(GOLD, state(None), [], NOW, TOLERANCE)
    assert (result.verdict, result.lag) == (Verdict.STALE, None)
    assert result.message == f"{GOLD} is stale: never refreshed, target 15m; no refresh in history"
    assert result.as_dict() == {"verdict": "STALE", "lag_seconds": None}


def test_suspended_even_when_within_target() -> None:
    result = assess(GOLD, state(3, scheduling="SUSPENDED"), [refresh("SUCCEEDED", 27)], NOW, TOLERANCE)
    assert result.verdict is Verdict.SUSPENDED
    assert result.message == (
        f"{GOLD} is suspended: lag 3m <= target 15m + tolerance 5m; last refresh SUCCEEDED at 2025-03-01 10:27:00 UTC"
    )


def test_suspended_wins_over_a_failed_refresh() -> None:
    # Snowflake suspends a table after repeated failures: the suspension is what stops it refreshing
    result = assess(GOLD, state(90, scheduling="SUSPENDED"), [refresh("FAILED", 0, "boom")], NOW, TOLERANCE)
    assert result.verdict is Verdict.SUSPENDED
    assert result.message.endswith("lag 1h30m > target 15m + tolerance 5m; last refresh FAILED at 2025-03-01 10:00:00 UTC: boom")


def test_failed_names_the_error_on_one_line() -> None:
    error = "SQL compilation error:\nerror line 3 at position 8\ninvalid identifier 'T.ITEMS'"
    result = assess(GOLD, state(42), [refresh("SUCCEEDED", 1), refresh("FAILED", 4, error)], NOW, TOLERANCE)
    assert result.verdict is Verdict.FAILED
    assert result.message == (
        f"{GOLD} is failing: lag 42m > target 15m + tolerance 5m; last refresh FAILED at 2025-03-01 10:04:00 UTC: "
        "SQL compilation error: error line 3 at position 8 invalid identifier 'T.ITEMS'"
    )


def test_failed_even_when_within_target_and_upstream_failed_counts() -> None:
    result = assess(GOLD, state(2), [refresh("UPSTREAM_FAILED", 28, "upstream PURCHASE_LINES failed")], NOW, TOLERANCE)
    assert result.verdict is Verdict.FAILED
    assert result.message == (
        f"{GOLD} is failing: lag 2m <= target 15m + tolerance 5m; "
        "last refresh UPSTREAM_FAILED at 2025-03-01 10:28:00 UTC: upstream PURCHASE_LINES failed"
    )


def test_a_success_after_a_failure_clears_it() -> None:
    result = assess(GOLD, state(1), [refresh("FAILED", 4, "boom"), refresh("SUCCEEDED", 29)], NOW, TOLERANCE)
    assert result.verdict is Verdict.FRESH


def test_long_errors_are_shortened() -> None:
    result = assess(GOLD, state(1), [refresh("FAILED", 4, "x" * 1000)], NOW, TOLERANCE)
    assert result.message.endswith(": " + "x" * 297 + "...")


def test_unknown_when_not_listed() -> None:
    result = assess(GOLD, None, [], NOW, TOLERANCE)
    assert (result.verdict, result.message) == (Verdict.UNKNOWN, f"{GOLD} is unknown: SHOW DYNAMIC TABLES does not list it")
    assert result.as_dict() == {"verdict": "UNKNOWN", "lag_seconds": None}


def test_unknown_when_the_target_lag_is_unreadable() -> None:
    result = assess(GOLD, state(3, target="soon"), [refresh("SUCCEEDED", 27)], NOW, TOLERANCE)
    assert result.verdict is Verdict.UNKNOWN
    assert result.message == (
        f"{GOLD} is unknown: target lag 'soon' is not '<n> seconds|minutes|hours|days' or DOWNSTREAM; "
        "last refresh SUCCEEDED at 2025-03-01 10:27:00 UTC"
    )


def test_a_clock_behind_the_data_is_zero_lag() -> None:
    assert assess(GOLD, state(-1), [], NOW, TOLERANCE).lag == timedelta(0)


# ---- DOWNSTREAM


def test_downstream_is_judged_by_the_given_target() -> None:
    result = assess(GOLD, state(42, target="DOWNSTREAM"), [], NOW, TOLERANCE, downstream_target=timedelta(minutes=15))
    assert result.verdict is Verdict.STALE
    assert result.message == (
        f"{GOLD} is stale: lag 42m > target DOWNSTREAM (15m) + tolerance 5m; no refresh in history"
    )


def test_downstream_without_a_target_is_not_judged_on_lag() -> None:
    result = assess(GOLD, state(600, target="DOWNSTREAM"), [refresh("SUCCEEDED", 0)], NOW, TOLERANCE)
    assert (result.verdict, result.target) == (Verdict.FRESH, None)
    assert result.message == f"{GOLD} is fresh: lag 10h, target DOWNSTREAM (not judged)"
    # but its state and refresh history still count
    failed = assess(GOLD, state(600, target="DOWNSTREAM"), [refresh("FAILED", 0, "boom")], NOW, TOLERANCE)
    assert failed.message == (
        f"{GOLD} is failing: lag 10h, target DOWNSTREAM (not judged); last refresh FAILED at 2025-03-01 10:00:00 UTC: boom"
    )


def test_downstream_target_is_the_smallest_concrete_target_lag() -> None:
    states = [state(target="DOWNSTREAM"), state(target="1 hour"), state(target="15 minutes"), state(target="soon")]
    assert downstream_target(states) == timedelta(minutes=15)
    assert downstream_target([state(target="DOWNSTREAM")]) is None
    assert downstream_target([]) is None


# ---- the alert line


def test_failure_line_names_every_problem_in_order_and_skips_fresh_tables() -> None:
    silver = "GENAI.CURATED.PURCHASE_LINES"
    results = [
        assess(silver, DynamicTableState(silver, "15 minutes", "SUSPENDED", NOW), [], NOW, TOLERANCE),
        assess("GENAI.X.FRESH", DynamicTableState("GENAI.X.FRESH", "15 minutes", "RUNNING", NOW), [], NOW, TOLERANCE),
        assess(GOLD, state(42), [], NOW, TOLERANCE),
    ]
    assert failure_line(results) == (
        f"{silver} is suspended: lag 0s <= target 15m + tolerance 5m; no refresh in history; "
        f"{GOLD} is stale: lag 42m > target 15m + tolerance 5m; no refresh in history"
    )
    assert failure_line(results[1:2]) == ""
