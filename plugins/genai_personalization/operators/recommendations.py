"""Top-5 product recommendations per customer, computed in Snowflake into ANALYTICS.RECOMMENDATIONS.

The operator only runs the SQL steps of include/sql/customer_recommendations/ and reads one row of
counts: purchases, products and scores never leave the warehouse. Parameters and the evaluation's
arithmetic are plain Python in include/recommendations/.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import closing, suppress
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from genai_personalization.operators.snowflake_steps import SnowflakeStepsOperator
from include.recommendations import (
    REASON_CODES,
    TOP_N,
    HitRates,
    RecommendationConfig,
    as_of_from_run,
    compute_params,
    publish_params,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

DAG_SQL = "customer_recommendations"


class CustomerRecommendationsOperator(SnowflakeStepsOperator):
    """Compute every customer's five recommendations for one as-of date and replace that date's rows.

    As-of date: the ``as_of_date`` param (a backfill or a re-run for a given day), else the UTC date of
    the run's data interval end, logical date or, for runs on Assets (which have neither), run_after.
    Purchases up to the end of that day count. On one Snowflake session it runs compute.sql (session
    tables only), reads counts.sql's single row, fails without touching the table if there is nothing
    to recommend, then publish.sql (DELETE the date's rows + INSERT, inside BEGIN/COMMIT; rolled back
    if a statement fails). Returns the counts, also logged; they hold no customer or product ids.

    :param as_of_date: 'YYYY-MM-DD' or empty (templated), e.g. ``"{{ params.as_of_date }}"``
    :param recent_days: products bought within this many days are not recommended (templated);
        default GENAI_RECOMMENDATIONS_RECENT_DAYS, else 30
    :param lines: purchase lines to read, ``DATABASE.SCHEMA.TABLE``; default CURATED.PURCHASE_LINES
    """

    template_fields: Sequence[str] = (*SnowflakeStepsOperator.template_fields, "as_of_date", "recent_days")
    ui_color = "#fdf1e0"
    dag_sql = DAG_SQL

    def __init__(
        self,
        *,
        as_of_date: str | date | None = None,
        recent_days: int | str | None = None,
        lines: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.as_of_date = as_of_date
        self.recent_days = recent_days
        self.lines = lines

    def execute(self, context: Context) -> dict[str, object]:
        database = self.resolve_database()
        as_of = self.resolve_as_of(context)
        config = self.resolve_config()
        try:
            publish = publish_params(database, as_of, str(context["run_id"]))
        except ValueError as e:
            raise AirflowFailException(str(e)) from e
        with closing(self.snowflake_hook.get_conn()) as conn:
            counts = self.compute(conn, database, as_of, config)
            self.check(counts)
            self.publish(conn, publish)
        summary: dict[str, object] = {"as_of_date": as_of.isoformat(), "recent_days": config.recent_days, **counts}
        self.log.info("recommendations summary: %s", json.dumps(summary, sort_keys=True))
        return summary

    def resolve_as_of(self, context: Context) -> date:
        dag_run = context.get("dag_run")
        try:
            return as_of_from_run(
                self.as_of_date,
                context.get("data_interval_end"),
                context.get("logical_date"),
                getattr(dag_run, "run_after", None),
            )
        except ValueError as e:
            raise AirflowFailException(str(e)) from e

    def resolve_config(self, **overrides: object) -> RecommendationConfig:
        recent = self.recent_days
        if isinstance(recent, str):
            recent = int(recent) if recent.strip().isdigit() else recent
        try:
            return RecommendationConfig.from_env(**{"recent_days": recent or None, **overrides})
        except (TypeError, ValueError) as e:
            raise AirflowFailException(f"recommendation settings: {e}") from e

    def compute(
        self,
        conn: Any,
        database: str,
        as_of: date,
        config: RecommendationConfig,
        *,
        lines: str | None = None,
        customers: str | None = "",
        cutoff: datetime | None = None,
    ) -> dict[str, int]:
        """Run compute.sql (session tables REC_*) and return counts.sql's row: the only fetch of a run."""
        try:
            params = compute_params(database, as_of, config, lines=lines or self.lines, customers=customers,
                                    cutoff=cutoff)
        except ValueError as e:
            raise AirflowFailException(str(e)) from e
        self.run_step(conn, "compute", params)
        cursor = self.run_step(conn, "counts", {"database": params["database"], "top_n": TOP_N,
                                               "reason_codes": REASON_CODES})[-1]
        return _one_row_of_counts(cursor)

    def check(self, counts: dict[str, int]) -> None:
        """Refuse to replace a date's rows with nothing; warn about customers with fewer than five."""
        if counts["PRODUCTS"] == 0:
            raise AirflowFailException(
                "RAW.PRODUCTS has no products to recommend: run product_reviews_sentiment first"
            )
        if counts["CUSTOMERS"] == 0:
            raise AirflowFailException(
                "no customers: RAW.CUSTOMERS is empty and there are no purchases up to the as-of date"
            )
        if counts["CUSTOMERS_SHORT"]:
            self.log.warning(
                "%d customer(s) get fewer than %d recommendations: the catalog has too few products they "
                "have not bought recently", counts["CUSTOMERS_SHORT"], TOP_N,
            )

    def publish(self, conn: Any, params: dict[str, object]) -> None:
        """publish.sql: the date's rows replaced in one transaction; rolled back if any statement fails."""
        try:
            self.run_step(conn, "publish", params)
        except BaseException:
            with suppress(Exception):
                conn.rollback()
            raise

    def evaluate(
        self,
        conn: Any,
        database: str,
        as_of: date,
        config: RecommendationConfig | None = None,
        *,
        lines: str | None = None,
    ) -> HitRates:
        """Offline hit-rate@5: leave each customer's last purchase out, recommend with compute.sql as of
        the end of ``as_of`` from the rest, compare with the popularity baseline. Writes no table."""
        config = config or self.resolve_config()
        params = compute_params(database, as_of, config, lines=lines or self.lines, customers=None)
        self.run_step(conn, "holdout", params)
        self.compute(conn, database, as_of, config, lines="EVAL_TRAINING", customers=None)
        row = _one_row_of_counts(self.run_step(conn, "evaluate", {"database": params["database"], "top_n": TOP_N})[-1])
        return HitRates(evaluated=row["EVALUATED"], hits=row["HITS"], popular_hits=row["POPULAR_HITS"],
                        held_out_products=row["HELD_OUT"])


def _one_row_of_counts(cursor: Any) -> dict[str, int]:
    names = [column[0].upper() for column in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise AirflowFailException("the counts query returned no row")
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}
