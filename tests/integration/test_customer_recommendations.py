"""customer_recommendations end to end on the local stack, fed by the real upstream pipelines.

The seed generator's customers, catalog (with reviews) and purchase events land in S3 (moto server);
customer_master_ingest, product_reviews_sentiment (Comprehend stand-in) and pos_transactions_ingest
load them into Snowflake (fakesnow server), the purchase dynamic tables are refreshed, then
customer_recommendations runs with ``dag.test()``: once for an as-of date given as the param, again
for the same date (idempotent), and once like a run on Assets (no logical date: the date of run_after).
The offline evaluation then runs on the same warehouse data.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DAG_ID = "customer_recommendations"
AS_OF = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)  # the generator's events fill 04:00-10:00 that day


def query(sql: str) -> list[tuple[Any, ...]]:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return [tuple(row) for row in SnowflakeHook(snowflake_conn_id="snowflake_default").get_records(sql) or []]


def run_dag(dag_id: str, *, logical_date: datetime | None = None, run_after: datetime | None = None,
            run_conf: dict[str, Any] | None = None) -> Any:
    """Run dags/<dag_id>.py once with dag.test(); returns the DAG run (asserted successful)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState

    from local.stack import REPO_ROOT

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{dag_id}.py"))
    assert bag.import_errors == {}
    run = bag.get_dag(dag_id).test(logical_date=logical_date, run_after=run_after, run_conf=run_conf)
    with create_session() as session:
        instances = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id)
        states = {ti.task_id: ti.state for ti in instances}
    assert run.state == DagRunState.SUCCESS, states
    return run


def xcom(dag_id: str, run_id: str, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        value = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id,
                                                   key="return_value").one().value
    return json.loads(value) if isinstance(value, str) else value


class Warehouse:
    """One test's database and bucket, loaded through the upstream pipelines."""

    def __init__(self, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from local.seed.generate import SeedConfig, generate

        self.database = f"RECS_{name.upper()}"
        bucket = f"recs-{name.lower()}"
        monkeypatch.setenv("GENAI_SNOWFLAKE_DATABASE", self.database)
        monkeypatch.setenv("GENAI_LANDING_BUCKET", bucket)
        s3 = S3Hook(aws_conn_id="aws_default")
        s3.create_bucket(bucket)
        query(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        self.seed = generate(SeedConfig(customers=300, products=150, hours=6, events_per_hour=120, bad_rate=0,
                                        as_of=AS_OF))
        for key, data in self.seed.files.items():
            if key.startswith(("customers/", "catalog/", "pos/")):
                s3.load_bytes(data, key, bucket_name=bucket, replace=True)

        run_dag("customer_master_ingest", logical_date=AS_OF)
        run_dag("product_reviews_sentiment", logical_date=AS_OF)
        for hours in (-5, -3, -1):  # each run loads its hour and the one before: all six
            run_dag("pos_transactions_ingest", logical_date=AS_OF + timedelta(hours=hours, minutes=15))
        for table in ("CURATED.PURCHASE_LINES", "ANALYTICS.CUSTOMER_PURCHASE_HISTORY"):
            query(f"ALTER DYNAMIC TABLE {self.database}.{table} REFRESH")

    def recommendations(self, as_of: str) -> list[tuple[Any, ...]]:
        return query(f"SELECT CUSTOMER_ID, RANK, PRODUCT_ID, SCORE, REASON_CODE, RUN_ID FROM {self.database}."
                     f"ANALYTICS.RECOMMENDATIONS WHERE AS_OF_DATE = '{as_of}'::DATE ORDER BY CUSTOMER_ID, RANK")


@pytest.fixture
def warehouse(request: pytest.FixtureRequest, local_stack: Any, airflow_db: None,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    # Asset names are read from the environment once, at first import: import them before this test
    # points GENAI_SNOWFLAKE_DATABASE at its own database, so later tests see the default names.
    import genai_personalization.assets  # noqa: F401

    name = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-30:]
    yield Warehouse(name, monkeypatch)


def test_every_customer_gets_five_products_computed_from_the_pipelines_tables(warehouse: Warehouse) -> None:
    db = warehouse.database
    customers = {row[0] for row in query(f"SELECT CUSTOMER_ID FROM {db}.RAW.CUSTOMERS")}
    products = {row[0] for row in query(f"SELECT PRODUCT_ID FROM {db}.RAW.PRODUCTS")}
    bought: dict[str, set[str]] = defaultdict(set)
    for customer, product in query(f"SELECT CUSTOMER_ID, PRODUCT_ID FROM {db}.CURATED.PURCHASE_LINES"):
        bought[customer].add(product)
    bought = dict(bought)
    assert len(customers) == 300 and len(products) == 150 and len(bought) > 150

    run = run_dag(DAG_ID, run_after=AS_OF + timedelta(hours=1), run_conf={"as_of_date": "2026-03-01"})
    summary = xcom(DAG_ID, run.run_id, "compute_recommendations")
    rows = warehouse.recommendations("2026-03-01")

    everyone = customers | set(bought)
    by_customer: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_customer[row[0]].append(row)
    assert set(by_customer) == everyone
    for customer, picks in by_customer.items():
        assert [p[1] for p in picks] == [1, 2, 3, 4, 5]
        assert [p[3] for p in picks] == sorted((p[3] for p in picks), reverse=True)
        assert len({p[2] for p in picks}) == 5 and {p[2] for p in picks} <= products
        assert not {p[2] for p in picks} & bought.get(customer, set())  # all bought within 30 days
    reasons = Counter(row[4] for row in rows)
    assert set(reasons) <= {"BOUGHT_TOGETHER", "CATEGORY_AFFINITY", "TOP_RATED", "POPULAR"}
    assert reasons["BOUGHT_TOGETHER"] and reasons["CATEGORY_AFFINITY"]
    cold = customers - set(bought)
    assert cold and len({tuple(p[2] for p in by_customer[c]) for c in cold}) == 1  # the same best products
    assert {p[4] for c in cold for p in by_customer[c]} <= {"POPULAR", "TOP_RATED"}
    assert {row[5] for row in rows} == {run.run_id}
    assert summary == {
        "as_of_date": "2026-03-01", "recent_days": 30, "CUSTOMERS": len(everyone), "COLD_START": len(cold),
        "CUSTOMERS_SHORT": 0, "PRODUCTS": 150, "PURCHASE_LINES": summary["PURCHASE_LINES"],
        "ROWS_COMPUTED": 5 * len(everyone), **{reason: reasons[reason] for reason in
                                               ("BOUGHT_TOGETHER", "CATEGORY_AFFINITY", "TOP_RATED", "POPULAR")},
    }
    assert summary["PURCHASE_LINES"] == sum(1 for _ in query(f"SELECT 1 FROM {db}.CURATED.PURCHASE_LINES"))

    # the generator's poorly rated products are ranked down: recommended far less than their share
    poor = set(warehouse.seed.manifest["poorly_rated_products"])
    assert poor and sum(row[2] in poor for row in rows) / len(rows) < 0.5 * len(poor) / len(products)

    # the same date again: the same rows, from the new run only
    again = run_dag(DAG_ID, run_after=AS_OF + timedelta(hours=2), run_conf={"as_of_date": "2026-03-01"})
    rerun = warehouse.recommendations("2026-03-01")
    assert [row[:5] for row in rerun] == [row[:5] for row in rows]
    assert {row[5] for row in rerun} == {again.run_id}

    # a run on Assets has no logical date: the as-of date is run_after's; 2026-03-01 stays as it was
    asset_like = run_dag(DAG_ID, run_after=datetime(2026, 3, 3, 6, 30, tzinfo=timezone.utc))
    assert xcom(DAG_ID, asset_like.run_id, "compute_recommendations")["as_of_date"] == "2026-03-03"
    assert len(warehouse.recommendations("2026-03-03")) == len(rows)
    assert warehouse.recommendations("2026-03-01") == rerun


def test_offline_evaluation_beats_popularity_on_the_pipelines_data(warehouse: Warehouse) -> None:
    from genai_personalization.operators.recommendations import CustomerRecommendationsOperator

    operator = CustomerRecommendationsOperator(task_id="evaluate")
    conn = operator.snowflake_hook.get_conn()
    try:
        rates = operator.evaluate(conn, warehouse.database, date(2026, 3, 1))
    finally:
        conn.close()
    print(f"hit-rate@5 on the generator's data through the pipelines: {json.dumps(rates.as_dict())}")
    assert rates.evaluated > 100
    assert rates.hit_rate > rates.popular_hit_rate
