"""What a recommendation run computes, and the parameters its SQL is rendered with.

The SQL (include/sql/customer_recommendations/) holds only identifiers and these validated
run parameters (a date, a timestamp, integers, floats), never record values. Everything here is
plain Python, so the evaluation, the benchmark and the operator build the same parameters.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from include.settings import is_identifier

TOP_N = 5  # recommendations per customer (RANK 1..5): what the email campaign writes about
REASON_CODES = ("BOUGHT_TOGETHER", "CATEGORY_AFFINITY", "TOP_RATED", "POPULAR")
ENV_RECENT_DAYS = "GENAI_RECOMMENDATIONS_RECENT_DAYS"
# Airflow run ids are spliced into the INSERT as a string literal, so only their usual characters
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:+~-]{1,250}$")


@dataclass(frozen=True)
class RecommendationConfig:
    """Knobs of the recommendation query (defaults are what production runs).

    Windows are counted back from the cut-off (the end of the as-of date):
    ``recent_days``      products a customer bought within it are not recommended to them
    ``history_days``     purchases older than this count for nothing (affinity, co-purchase, popularity)
    ``popularity_days``  popularity = distinct buyers within it
    Candidate limits keep the work linear in customers:
    ``neighbours``           co-purchase partners kept per product (best first)
    ``min_together``         baskets a pair must share to count as bought together
    ``history_products``     a customer's most recently bought products that seed co-purchase candidates
    ``top_categories``       a customer's categories that seed category candidates
    ``category_candidates``  best products per category offered to those customers
    ``fill_candidates``      best products overall offered to everyone (cold start, and to fill up)
    Score = w_bought_together * co-purchase similarity + w_category * category share
          + w_popularity * popularity (0..1) + w_quality * quality (-1..1, rating and review sentiment).
    """

    recent_days: int = 30
    history_days: int = 365
    popularity_days: int = 90
    neighbours: int = 20
    min_together: int = 2
    history_products: int = 20
    top_categories: int = 3
    category_candidates: int = 20
    fill_candidates: int = 20
    w_bought_together: float = 1.0
    w_category: float = 0.5
    w_popularity: float = 0.2
    w_quality: float = 0.3

    def __post_init__(self) -> None:
        for name in ("recent_days", "history_days", "popularity_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 36_600:
                raise ValueError(f"{name} must be a whole number of days in 0..36600, got {value!r}")
        for name in ("neighbours", "min_together", "history_products", "top_categories", "category_candidates",
                     "fill_candidates"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10_000:
                raise ValueError(f"{name} must be a whole number in 1..10000, got {value!r}")
        for name in ("w_bought_together", "w_category", "w_popularity", "w_quality"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.fill_candidates < TOP_N:
            raise ValueError(f"fill_candidates must be at least {TOP_N}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> RecommendationConfig:
        """Defaults, the recent-purchase window from GENAI_RECOMMENDATIONS_RECENT_DAYS, then ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if raw := (env.get(ENV_RECENT_DAYS) or "").strip():
            if not raw.isdigit():
                raise ValueError(f"{ENV_RECENT_DAYS} must be a whole number of days, got {raw!r}")
            values["recent_days"] = int(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]

    def sql_params(self) -> dict[str, object]:
        return {**asdict(self), "top_n": TOP_N}


def cutoff_for(as_of: date) -> datetime:
    """Purchases before this instant count for the as-of date: everything up to the end of that UTC day."""
    return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=timezone.utc)


def parse_as_of(value: object) -> date | None:
    """An as-of date from a run parameter: a date, a datetime (its UTC date) or 'YYYY-MM-DD'; empty -> None."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"as_of_date must be a date like 2025-03-01, got {value!r}")


def as_of_from_run(param: object, *instants: datetime | None) -> date:
    """The as-of date of a run: the ``as_of_date`` param if set, else the UTC date of the first instant given
    (data interval end, logical date, run_after: runs on Assets have only the last)."""
    if (chosen := parse_as_of(param)) is not None:
        return chosen
    for instant in instants:
        if instant is not None:
            return instant.astimezone(timezone.utc).date()
    raise ValueError("the run has no as_of_date param, data interval, logical date or run_after")


def qualified_name(name: str) -> str:
    """``DB.SCHEMA.TABLE`` (or ``TABLE`` for a session table) of plain identifiers, upper-cased; else ValueError."""
    parts = name.upper().split(".")
    if len(parts) not in (1, 3) or not all(is_identifier(p) for p in parts):
        raise ValueError(f"{name!r} is not TABLE or DATABASE.SCHEMA.TABLE of plain identifiers")
    return ".".join(parts)


def compute_params(
    database: str,
    as_of: date,
    config: RecommendationConfig,
    *,
    lines: str | None = None,
    customers: str | None = "",
    cutoff: datetime | None = None,
) -> dict[str, object]:
    """Parameters of compute.sql: the production sources unless ``lines`` / ``customers`` name others.

    ``customers=None`` recommends only to customers with purchases in ``lines`` (the evaluation);
    the default is ``DATABASE.RAW.CUSTOMERS`` (every known customer gets five, cold start included).
    """
    database = qualified_name(database)
    cutoff = cutoff or cutoff_for(as_of)
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    return {
        **config.sql_params(),
        "database": database,
        "lines": qualified_name(lines or f"{database}.CURATED.PURCHASE_LINES"),
        "customers": None if customers is None else qualified_name(customers or f"{database}.RAW.CUSTOMERS"),
        "cutoff": cutoff.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "as_of_date": as_of.isoformat(),
    }


def publish_params(database: str, as_of: date, run_id: str) -> dict[str, object]:
    if not _RUN_ID.match(run_id):
        raise ValueError("run_id has characters that cannot go into a SQL string literal")
    return {"database": qualified_name(database), "as_of_date": as_of.isoformat(), "run_id": run_id}
