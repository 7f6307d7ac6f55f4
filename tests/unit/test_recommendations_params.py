"""Recommendation run parameters and SQL rendering (include/recommendations/, include/sql/customer_recommendations/)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from genai_personalization.sql import render_sql
from include.recommendations import (
    HitRates,
    RecommendationConfig,
    as_of_from_run,
    compute_params,
    cutoff_for,
    parse_as_of,
    publish_params,
)


def test_the_as_of_date_comes_from_the_param_else_the_first_instant_in_utc() -> None:
    late_evening_in_vienna = datetime(2025, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=1)))  # 22:30 UTC
    assert as_of_from_run(None, None, None, late_evening_in_vienna) == date(2025, 3, 1)
    assert as_of_from_run("None", datetime(2025, 3, 2, 0, 30, tzinfo=timezone.utc), None) == date(2025, 3, 2)
    assert as_of_from_run("2024-12-31", datetime(2025, 3, 2, tzinfo=timezone.utc)) == date(2024, 12, 31)
    assert as_of_from_run(" 2024-12-31 ") == date(2024, 12, 31)
    with pytest.raises(ValueError, match="as_of_date must be a date"):
        as_of_from_run("yesterday", datetime(2025, 3, 2, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="no as_of_date param"):
        as_of_from_run("", None, None)
    assert parse_as_of(datetime(2025, 3, 1, 23, tzinfo=timezone(timedelta(hours=-5)))) == date(2025, 3, 2)


def test_purchases_count_up_to_the_end_of_the_as_of_day() -> None:
    assert cutoff_for(date(2025, 2, 28)) == datetime(2025, 3, 1, tzinfo=timezone.utc)


def test_config_validates_what_is_spliced_into_sql() -> None:
    assert RecommendationConfig.from_env({}).recent_days == 30
    assert RecommendationConfig.from_env({"GENAI_RECOMMENDATIONS_RECENT_DAYS": "7"}).recent_days == 7
    assert RecommendationConfig.from_env({"GENAI_RECOMMENDATIONS_RECENT_DAYS": "7"}, recent_days=3).recent_days == 3
    with pytest.raises(ValueError, match="GENAI_RECOMMENDATIONS_RECENT_DAYS"):
        RecommendationConfig.from_env({"GENAI_RECOMMENDATIONS_RECENT_DAYS": "7; DROP TABLE x"})
    for bad in ({"recent_days": -1}, {"recent_days": "30"}, {"neighbours": 0}, {"w_quality": float("nan")},
                {"w_category": -0.5}, {"fill_candidates": 4}, {"min_together": True}):
        with pytest.raises(ValueError):
            RecommendationConfig(**bad)  # type: ignore[arg-type]


def test_sources_must_be_plain_identifiers() -> None:
    config = RecommendationConfig()
    params = compute_params("genai", date(2025, 3, 1), config)
    assert (params["database"], params["lines"], params["customers"]) == (
        "GENAI", "GENAI.CURATED.PURCHASE_LINES", "GENAI.RAW.CUSTOMERS")
    assert params["cutoff"] == "2025-03-02T00:00:00.000000+00:00" and params["as_of_date"] == "2025-03-01"
    evaluation = compute_params("GENAI", date(2025, 3, 1), config, lines="EVAL_TRAINING", customers=None)
    assert (evaluation["lines"], evaluation["customers"]) == ("EVAL_TRAINING", None)
    for lines in ("GENAI.CURATED", "GENAI.CURATED.LINES; DROP TABLE X", "A.B.C.D", "x'y"):
        with pytest.raises(ValueError, match="plain identifiers"):
            compute_params("GENAI", date(2025, 3, 1), config, lines=lines)
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_params("GENAI", date(2025, 3, 1), config, cutoff=datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="run_id"):
        publish_params("GENAI", date(2025, 3, 1), "manual__x'; DROP TABLE y")
    assert publish_params("GENAI", date(2025, 3, 1), "asset_triggered__2025-03-01T10:00:00.123+00:00")["run_id"]


def test_compute_renders_the_sources_cutoff_and_windows() -> None:
    sql = render_sql("customer_recommendations", "compute",
                     **compute_params("GENAI", date(2025, 3, 1), RecommendationConfig(recent_days=14)))
    assert "FROM GENAI.CURATED.PURCHASE_LINES AS l" in sql
    assert "SELECT CUSTOMER_ID FROM GENAI.RAW.CUSTOMERS" in sql
    assert "l.EVENT_TS < '2025-03-02T00:00:00.000000+00:00'::TIMESTAMP_TZ" in sql
    assert "DATEADD(day, -14, '2025-03-02T00:00:00.000000+00:00'::TIMESTAMP_TZ) AS EXCLUDED" in sql
    assert "FROM GENAI.RAW.PRODUCTS" in sql and "FROM GENAI.CURATED.REVIEW_SENTIMENT" in sql
    assert "{{" not in sql and "{%" not in sql

    evaluation = render_sql("customer_recommendations", "compute", **compute_params(
        "GENAI", date(2025, 3, 1), RecommendationConfig(), lines="EVAL_TRAINING", customers=None))
    assert "FROM EVAL_TRAINING AS l" in evaluation and "FROM GENAI.RAW.CUSTOMERS" not in evaluation


def test_publish_replaces_one_date_inside_a_transaction() -> None:
    sql = render_sql("customer_recommendations", "publish", **publish_params("GENAI", date(2025, 3, 1), "manual__1"))
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    statements = [s.split()[0] for s in code.split(";") if s.strip()]
    assert statements == ["USE", "BEGIN", "DELETE", "INSERT", "COMMIT"]
    assert "WHERE AS_OF_DATE = '2025-03-01'::DATE" in sql


def test_hit_rates() -> None:
    rates = HitRates(evaluated=200, hits=50, popular_hits=20, held_out_products=300)
    assert (rates.hit_rate, rates.popular_hit_rate) == (0.25, 0.1)
    assert rates.as_dict()["lift_over_popularity"] == 2.5
    assert HitRates(0, 0, 0).as_dict()["hit_rate_at_5"] == 0.0
