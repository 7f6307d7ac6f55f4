"""customer_recommendations' SQL and operator on tiny hand-made data in in-process fakesnow (``stand_ins``).

Each test builds the inputs it needs with the columns of input_contract.sql, runs the operator the way
the DAG does (create_objects, then compute + counts + publish on one session) and reads
ANALYTICS.RECOMMENDATIONS. The DAG runs against the stand-in server in tests/integration/.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

DB = "GENAI"
AS_OF = "2025-03-01"  # purchases before 2025-03-02T00:00Z count
END = datetime(2025, 3, 2, tzinfo=timezone.utc)


def days_before_end(days: float) -> str:
    return (END - timedelta(days=days)).isoformat()


class Shop:
    """Inputs written with plain SQL (test data only: the pipelines load theirs through staged files)."""

    def __init__(self, conn: Any) -> None:
        from genai_personalization.sql import render_sql

        self.conn = conn
        for cursor in conn.execute_string(render_sql("customer_recommendations", "input_contract", database=DB)):
            cursor.close()
        self._events = 0

    def sql(self, text: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(text)

    def products(self, category: str, *ids: str, rating: float | None = None, rating_count: int | None = None) -> None:
        top = category.split("|")[0]
        values = ", ".join(
            f"('{pid}', 'name', '{top}', '{category}', {rating if rating is not None else 'NULL'}, "
            f"{rating_count if rating_count is not None else 'NULL'})" for pid in ids
        )
        self.sql(f"INSERT INTO {DB}.RAW.PRODUCTS (PRODUCT_ID, PRODUCT_NAME, CATEGORY, CATEGORY_PATH, RATING, "
                 f"RATING_COUNT) VALUES {values}")

    def customers(self, *ids: str) -> None:
        values = ", ".join(f"('{cid}', 'en', 'GB', TRUE)" for cid in ids)
        self.sql(f"INSERT INTO {DB}.RAW.CUSTOMERS (CUSTOMER_ID, PREFERRED_LANGUAGE, COUNTRY, MARKETING_CONSENT) "
                 f"VALUES {values}")

    def basket(self, customer: str, days_ago: float, *products: str, at: str | None = None) -> None:
        self._events += 1
        ts = at or days_before_end(days_ago)
        values = ", ".join(
            f"('ev-{self._events}', {n}, '{ts}'::TIMESTAMP_TZ, '{customer}', 'web', NULL, 'EUR', '{pid}', 1, 10, 10)"
            for n, pid in enumerate(products, start=1)
        )
        self.sql(f"INSERT INTO {DB}.CURATED.PURCHASE_LINES VALUES {values}")

    def reviews(self, product: str, label: str, count: int) -> None:
        scores = {"NEGATIVE": (0.02, 0.95), "POSITIVE": (0.95, 0.02)}[label]
        values = ", ".join(
            f"('{product}', '{product}-r{i}', 'h{i}', '{label}', {scores[0]}, {scores[1]}, 0.02, 0.01, "
            "'2025-02-01T00:00:00Z')" for i in range(count)
        )
        self.sql(f"INSERT INTO {DB}.CURATED.REVIEW_SENTIMENT VALUES {values}")


@pytest.fixture
def shop(stand_ins: Any) -> Shop:
    return Shop(stand_ins[1])


def run(as_of: str | None = AS_OF, run_id: str = "manual__1", run_after: datetime | None = None,
        **kwargs: Any) -> dict[str, Any]:
    from genai_personalization.operators.recommendations import DAG_SQL, CustomerRecommendationsOperator
    from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator

    SnowflakeSqlStepOperator(task_id="create_objects", dag_sql=DAG_SQL, step="create_objects").execute({})
    operator = CustomerRecommendationsOperator(task_id="compute_recommendations", as_of_date=as_of, **kwargs)
    context = {"run_id": run_id, "logical_date": None, "data_interval_end": None,
               "dag_run": SimpleNamespace(run_after=run_after or END - timedelta(hours=1))}
    return operator.execute(context)  # type: ignore[arg-type]


def recommendations(conn: Any, as_of: str = AS_OF) -> dict[str, list[tuple[str, str]]]:
    """customer -> [(product, reason)] in rank order."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT CUSTOMER_ID, RANK, PRODUCT_ID, REASON_CODE FROM {DB}.ANALYTICS.RECOMMENDATIONS "
                    f"WHERE AS_OF_DATE = '{as_of}'::DATE ORDER BY CUSTOMER_ID, RANK")
        out: dict[str, list[tuple[str, str]]] = {}
        for customer, rank, product, reason in cur.fetchall():
            out.setdefault(customer, []).append((product, reason))
            assert rank == len(out[customer])  # ranks are 1..n without gaps
    return out


def products_of(recs: dict[str, list[tuple[str, str]]], customer: str) -> list[str]:
    return [product for product, _ in recs[customer]]


def cookware_and_oil(shop: Shop) -> None:
    """Pans bought with a seasoning oil by three customers; CUST-X bought only a pan."""
    shop.products("Home|Cookware", "PAN-1", "PAN-2", "PAN-3", "PAN-4")
    shop.products("Care|Oils", "OIL-1", "OIL-2")
    shop.products("Outdoor|Jackets", "JKT-1", "JKT-2")
    for customer, days in (("CUST-O1", 40), ("CUST-O2", 41), ("CUST-O3", 42)):
        shop.basket(customer, days, "PAN-1", "OIL-1")
    shop.basket("CUST-X", 10, "PAN-1")


def test_a_bundle_partner_ranks_first_then_the_category_then_the_rest_with_ties_by_product_id(
    shop: Shop, stand_ins: Any
) -> None:
    cookware_and_oil(shop)
    summary = run()

    recs = recommendations(stand_ins[1])
    assert recs["CUST-X"] == [
        ("OIL-1", "BOUGHT_TOGETHER"),     # in 3 of PAN-1's 4 baskets
        ("PAN-2", "CATEGORY_AFFINITY"),   # X's only category; PAN-2..4 tie: by PRODUCT_ID
        ("PAN-3", "CATEGORY_AFFINITY"),
        ("PAN-4", "CATEGORY_AFFINITY"),
        ("JKT-1", "POPULAR"),             # nothing else to go on: ties by PRODUCT_ID
    ]
    assert set(recs) == {"CUST-O1", "CUST-O2", "CUST-O3", "CUST-X"} and all(len(v) == 5 for v in recs.values())
    assert summary["CUSTOMERS"] == 4 and summary["ROWS_COMPUTED"] == 20 and summary["CUSTOMERS_SHORT"] == 0
    assert summary["as_of_date"] == AS_OF


def test_products_bought_within_the_window_are_excluded(shop: Shop, stand_ins: Any) -> None:
    shop.products("Outdoor|Jackets", "JKT-1", "JKT-2", "JKT-3")
    shop.products("Home|Mugs", "MUG-1", "MUG-2", "MUG-3")
    shop.basket("Y", 5, "JKT-1")     # recent
    shop.basket("Y", 60, "JKT-2")    # outside a 30-day window

    run()
    thirty = products_of(recommendations(stand_ins[1]), "Y")
    run(recent_days=90, as_of="2025-02-28")
    ninety = products_of(recommendations(stand_ins[1], "2025-02-28"), "Y")

    assert "JKT-1" not in thirty and "JKT-2" in thirty
    assert "JKT-1" not in ninety and "JKT-2" not in ninety
    assert ninety[0] == "JKT-3"


def test_customers_without_purchases_get_the_most_popular_products(shop: Shop, stand_ins: Any) -> None:
    cookware_and_oil(shop)
    shop.basket("CUST-O4", 3, "JKT-2")
    shop.customers("NEW-1", "NEW-2", "CUST-X")  # CUST-X is known and has purchases: no duplicate
    summary = run()

    recs = recommendations(stand_ins[1])
    # buyers: PAN-1 4, OIL-1 3, JKT-2 1, the rest 0 (ties by PRODUCT_ID)
    expected = [("PAN-1", "POPULAR"), ("OIL-1", "POPULAR"), ("JKT-2", "POPULAR"), ("JKT-1", "POPULAR"),
                ("OIL-2", "POPULAR")]
    assert recs["NEW-1"] == recs["NEW-2"] == expected
    assert summary["COLD_START"] == 2 and summary["CUSTOMERS"] == 7


def test_poorly_rated_and_badly_reviewed_products_rank_down(shop: Shop, stand_ins: Any) -> None:
    shop.products("Outdoor|Jackets", "JKT-0")
    shop.products("Outdoor|Jackets", "JKT-1", "JKT-2", "JKT-3")  # unrated
    shop.products("Outdoor|Jackets", "JKT-4", rating=4.6, rating_count=200)
    shop.products("Outdoor|Jackets", "JKT-5", rating=1.8, rating_count=200)
    shop.reviews("JKT-2", "NEGATIVE", 4)
    shop.reviews("JKT-3", "POSITIVE", 4)
    shop.basket("W", 5, "JKT-0")

    run()

    # well rated, well reviewed, unknown, then poorly rated (1.8 of 5) and badly reviewed (4 negative reviews)
    assert products_of(recommendations(stand_ins[1]), "W") == ["JKT-4", "JKT-3", "JKT-1", "JKT-5", "JKT-2"]


def test_purchases_after_the_as_of_date_are_ignored(shop: Shop, stand_ins: Any) -> None:
    cookware_and_oil(shop)
    shop.customers("NEW-1")
    run()
    before = recommendations(stand_ins[1])

    # at the cut-off and later: X buys the oil, and JKT-2 becomes the best seller
    shop.basket("CUST-X", 0, "OIL-1", at=END.isoformat())
    for n in range(6):
        shop.basket(f"LATE-{n}", 0, "JKT-2", at=(END + timedelta(days=3)).isoformat())
    run(run_id="manual__2")

    after = recommendations(stand_ins[1])
    assert after == before
    run(as_of="2025-03-05", run_id="manual__3")  # the same purchases do count for a later date
    later = recommendations(stand_ins[1], "2025-03-05")
    assert "OIL-1" not in products_of(later, "CUST-X") and products_of(later, "NEW-1")[0] == "JKT-2"


def test_a_rerun_for_the_same_date_replaces_exactly_that_dates_rows(shop: Shop, stand_ins: Any, rows: Any) -> None:
    cookware_and_oil(shop)
    run(as_of="2025-02-28", run_id="manual__old")
    run(run_id="manual__1")
    first = rows(stand_ins[1], f"SELECT AS_OF_DATE, CUSTOMER_ID, RANK, PRODUCT_ID, SCORE, REASON_CODE, RUN_ID "
                               f"FROM {DB}.ANALYTICS.RECOMMENDATIONS ORDER BY 1, 2, 3")
    run(run_id="manual__2")
    second = rows(stand_ins[1], f"SELECT AS_OF_DATE, CUSTOMER_ID, RANK, PRODUCT_ID, SCORE, REASON_CODE, RUN_ID "
                                f"FROM {DB}.ANALYTICS.RECOMMENDATIONS ORDER BY 1, 2, 3")

    old_date = [r for r in first if r[0] == date(2025, 2, 28)]
    assert old_date and [r for r in second if r[0] == date(2025, 2, 28)] == old_date  # untouched
    this_date = [r for r in second if r[0] == date(2025, 3, 1)]
    assert len(this_date) == 20 and {r[6] for r in this_date} == {"manual__2"}
    assert [r[:6] for r in this_date] == [r[:6] for r in first if r[0] == date(2025, 3, 1)]  # same result
    keys = [(r[0], r[1], r[2]) for r in second]
    assert len(keys) == len(set(keys))


def test_runs_on_assets_take_the_date_of_run_after(shop: Shop, stand_ins: Any) -> None:
    cookware_and_oil(shop)  # CUST-X's purchase is at 2025-02-20T00:00Z
    late_on_the_20th, late_on_the_19th = (datetime(2025, 2, d, 23, 59, tzinfo=timezone.utc) for d in (20, 19))
    assert run(as_of="None", run_after=late_on_the_20th)["as_of_date"] == "2025-02-20"
    assert run(as_of="", run_after=late_on_the_19th)["as_of_date"] == "2025-02-19"

    assert set(recommendations(stand_ins[1], "2025-02-20")) == {"CUST-O1", "CUST-O2", "CUST-O3", "CUST-X"}
    # CUST-X bought after that day
    assert set(recommendations(stand_ins[1], "2025-02-19")) == {"CUST-O1", "CUST-O2", "CUST-O3"}


def test_the_operator_fetches_one_row_of_counts_and_logs_no_ids(
    shop: Shop, stand_ins: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from genai_personalization.operators.recommendations import CustomerRecommendationsOperator

    cookware_and_oil(shop)
    fetched: list[tuple[Any, ...]] = []
    real_get_conn = CustomerRecommendationsOperator.snowflake_hook.func  # the cached property's function

    def recording_hook(self: Any) -> Any:
        hook = real_get_conn(self)
        get_conn = hook.get_conn
        hook.get_conn = lambda: _Recording(get_conn(), fetched)
        return hook

    monkeypatch.setattr(CustomerRecommendationsOperator, "snowflake_hook", property(recording_hook))
    caplog.set_level(logging.DEBUG)
    summary = run()

    assert len(fetched) == 1 and all(isinstance(value, int) for value in fetched[0])
    assert sorted(fetched[0]) == sorted(v for k, v in summary.items() if k.isupper())
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "recommendations summary" in logged
    for secret in ("PAN-1", "OIL-1", "CUST-X", "CUST-O1"):
        assert secret not in logged


class _Recording:
    """A connection that records every row fetched through it or its cursors."""

    def __init__(self, conn: Any, fetched: list[tuple[Any, ...]]) -> None:
        self._conn, self._fetched = conn, fetched

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def cursor(self, *args: Any) -> Any:
        return _RecordingCursor(self._conn.cursor(*args), self._fetched)

    def execute_string(self, *args: Any, **kwargs: Any) -> list[Any]:
        return [_RecordingCursor(c, self._fetched) for c in self._conn.execute_string(*args, **kwargs)]


class _RecordingCursor:
    def __init__(self, cursor: Any, fetched: list[tuple[Any, ...]]) -> None:
        self._cursor, self._fetched = cursor, fetched

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        if row is not None:
            self._fetched.append(tuple(row))
        return row

    def fetchall(self) -> Any:
        result = self._cursor.fetchall()
        self._fetched.extend(tuple(r) for r in result)
        return result

    def fetchmany(self, *args: Any) -> Any:
        result = self._cursor.fetchmany(*args)
        self._fetched.extend(tuple(r) for r in result)
        return result

    def __iter__(self) -> Any:
        for row in self._cursor:
            self._fetched.append(tuple(row))
            yield row


def test_an_empty_catalog_fails_before_touching_the_table(shop: Shop, stand_ins: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    cookware_and_oil(shop)
    run()
    shop.sql(f"DELETE FROM {DB}.RAW.PRODUCTS")
    with pytest.raises(AirflowFailException, match="RAW.PRODUCTS has no products"):
        run(run_id="manual__2")
    assert rows(stand_ins[1], f"SELECT DISTINCT RUN_ID FROM {DB}.ANALYTICS.RECOMMENDATIONS") == [("manual__1",)]


def test_a_failed_publish_rolls_back_and_keeps_the_previous_rows(
    shop: Shop, stand_ins: Any, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.exceptions import AirflowException

    import genai_personalization.operators.snowflake_steps as steps

    cookware_and_oil(shop)
    run()
    before = rows(stand_ins[1], f"SELECT * FROM {DB}.ANALYTICS.RECOMMENDATIONS ORDER BY CUSTOMER_ID, RANK")
    real_render = steps.render_sql

    def broken_insert(dag_id: str, step: str, **params: Any) -> str:
        sql = real_render(dag_id, step, **params)
        return sql.replace("FROM REC_TOP5;", "FROM REC_NO_SUCH_TABLE;") if step == "publish" else sql

    monkeypatch.setattr(steps, "render_sql", broken_insert)
    with pytest.raises(AirflowException, match=r"^customer_recommendations/publish.sql failed: "):
        run(run_id="manual__2")
    assert rows(stand_ins[1], f"SELECT * FROM {DB}.ANALYTICS.RECOMMENDATIONS ORDER BY CUSTOMER_ID, RANK") == before


def test_a_bad_as_of_date_fails_without_retry(shop: Shop) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="as_of_date must be a date"):
        run(as_of="01/03/2025")


def test_offline_evaluation_holds_out_each_last_purchase(shop: Shop, stand_ins: Any) -> None:
    """Leave-last-out on data where the answer is known: hit-rate of the production query vs popularity."""
    from genai_personalization.operators.recommendations import CustomerRecommendationsOperator
    from include.recommendations import RecommendationConfig

    shop.products("Home|Cookware", "PAN-1", "PAN-2", "PAN-3")
    shop.products("Outdoor|Jackets", "JKT-1", "JKT-2", "JKT-3")
    shop.products("Misc|Gifts", *(f"TOP-{n}" for n in range(1, 8)))
    for n in range(4):  # cooks buy pans, hikers jackets; the second purchase is held out
        shop.basket(f"COOK-{n}", 20, "PAN-1")
        shop.basket(f"COOK-{n}", 10, "PAN-2" if n % 2 else "PAN-3")
        shop.basket(f"HIKE-{n}", 20, "JKT-1")
        shop.basket(f"HIKE-{n}", 10, "JKT-2" if n % 2 else "JKT-3")
    for n in range(3):  # fans make TOP-1..6 the best sellers, then buy TOP-7
        shop.basket(f"FAN-{n}", 40, *(f"TOP-{k}" for k in range(1, 7)))
        shop.basket(f"FAN-{n}", 10, "TOP-7")
    shop.basket("ONCE", 10, "PAN-2")  # a single purchase: nothing to learn from, not evaluated

    operator = CustomerRecommendationsOperator(task_id="evaluate")
    rates = operator.evaluate(stand_ins[1], DB, date(2025, 3, 1), RecommendationConfig(recent_days=90))

    assert (rates.evaluated, rates.held_out_products) == (11, 11)
    assert rates.hits == 11  # the rest of their category
    assert rates.popular_hits == 0  # best sellers they have not bought: never what they buy next
    with stand_ins[1].cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {DB}.INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'RECOMMENDATIONS'")
        assert cur.fetchone()[0] == 0  # the evaluation writes no table


def test_a_customer_who_bought_every_candidate_is_topped_up_from_the_whole_catalog(
    shop: Shop, stand_ins: Any, rows: Any
) -> None:
    from genai_personalization.operators.recommendations import CustomerRecommendationsOperator
    from include.recommendations import RecommendationConfig

    for n in range(1, 11):  # one product per category, so a category offers nothing else
        shop.products(f"Cat|C{n:02d}", f"P{n:02d}")
    best_sellers = [f"P{n:02d}" for n in range(1, 6)]
    for n in range(3):
        shop.basket(f"FAN-{n}", 40, *best_sellers)
    shop.basket("ALL-OF-IT", 2, *best_sellers)  # every co-purchase, category and fill candidate, recently

    operator = CustomerRecommendationsOperator(task_id="compute")
    config = RecommendationConfig(category_candidates=1, fill_candidates=5)
    counts = operator.compute(stand_ins[1], DB, date(2025, 3, 1), config)

    picks = rows(stand_ins[1], "SELECT PRODUCT_ID FROM REC_TOP5 WHERE CUSTOMER_ID = 'ALL-OF-IT' ORDER BY RANK")
    assert [p for (p,) in picks] == ["P06", "P07", "P08", "P09", "P10"]
    assert counts["CUSTOMERS_SHORT"] == 0
