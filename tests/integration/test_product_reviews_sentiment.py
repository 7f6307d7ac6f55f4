"""product_reviews_sentiment end to end: S3 (moto server) -> Airflow (dag.test) -> Snowflake (fakesnow server)
and Comprehend (the project's stand-in, VADER lexicon).

One landing bucket holds the real Amazon Sales Dataset file (uploaded from where it lies, never copied into
the repository), the generator's catalog and a small hand-made messy file. The test checks the row counts in
and out, the quarantine reasons, the sentiment of every review, then that a re-run sends nothing to Comprehend
(the stand-in's call counter) and that a changed review text is analysed again, alone.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import dag_runs
from dag_runs import query, xcom
from local.datasets import amazon_sales_csv

pytestmark = pytest.mark.integration

DAG_ID = "product_reviews_sentiment"
REAL_FILE = amazon_sales_csv()
COLUMNS = ("product_id", "product_name", "category", "discounted_price", "actual_price", "discount_percentage",
           "rating", "rating_count", "about_product", "user_id", "user_name", "review_id", "review_title",
           "review_content", "img_link", "product_link")
LONG_REVIEW = "Sturdy and warm. " * 300 + "Würde ich wieder kaufen 👍"  # > 5,000 bytes: cut before it is sent


class Landing:
    """One test's database and bucket, selected through the project settings' environment variables."""

    def __init__(self, name: str, monkeypatch: pytest.MonkeyPatch, bedrock_url: str) -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        self.database = f"CAT_{name.upper()}"
        self.bucket = f"cat-{name.lower()}"
        self.bedrock_url = bedrock_url
        monkeypatch.setenv("GENAI_SNOWFLAKE_DATABASE", self.database)
        monkeypatch.setenv("GENAI_LANDING_BUCKET", self.bucket)
        self.s3 = S3Hook(aws_conn_id="aws_default")
        self.s3.create_bucket(self.bucket)
        query(f"CREATE DATABASE IF NOT EXISTS {self.database}")

    def put(self, key: str, data: bytes) -> str:
        self.s3.load_bytes(data, key, bucket_name=self.bucket, replace=True)
        return f"s3://{self.bucket}/{key}"

    def comprehend_calls(self) -> int:
        with urllib.request.urlopen(f"{self.bedrock_url}/_local/stats", timeout=5) as response:  # noqa: S310
            return int(json.load(response)["calls"].get("BatchDetectSentiment", 0))


def run_dag(logical_date: datetime) -> dict[str, dict[str, Any]]:
    """Run the DAG once; returns the summaries (XCom) of load_catalog and analyse_sentiment."""
    run, _ = dag_runs.run_dag(DAG_ID, logical_date)
    return {task_id: xcom(DAG_ID, run.run_id, task_id) for task_id in ("load_catalog", "analyse_sentiment")}


@pytest.fixture
def landing(request: pytest.FixtureRequest, local_stack: Any, airflow_db: None,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Landing]:
    name = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-40:]
    yield Landing(name, monkeypatch, local_stack.cfg.url("bedrock"))


def catalog_csv(rows: list[dict[str, str] | list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for changes in rows:
        if isinstance(changes, list):  # a raw row, as is
            writer.writerow(changes)
            continue
        cells = {
            "product_id": "B0MESSY001", "product_name": "Wool Blanket, Grey", "category": "Home|Textiles|Blankets",
            "discounted_price": "£79.50", "actual_price": "£99", "discount_percentage": "20%", "rating": "4.1",
            "rating_count": "1,024", "about_product": "Merino|Warm", "user_id": "U1,U2", "user_name": "Oisin,Heidi",
            "review_id": "RM1,RM2", "review_title": "Cosy, soft,Itchy",
            "review_content": f"{LONG_REVIEW},Too itchy for me, sadly. Returned it.",
            "img_link": "https://img/b.jpg", "product_link": "https://shop/dp/B0MESSY001",
        }
        cells.update(changes)
        writer.writerow([cells[c] for c in COLUMNS])
    return buffer.getvalue().encode("utf-8")


MESSY_ROWS: list[dict[str, str] | list[str]] = [
    {},                                                                                   # 2 good, 2 reviews
    {"product_id": "B0MESSY002", "actual_price": "99"},                                   # 3
    {"product_id": "B0MESSY003", "discounted_price": "€79"},                              # 4
    ["B0MESSY004", "only", "three fields"],                                               # 5
    {"product_id": "B0MESSY005", "review_title": "Great, really,Bad, sadly,ok"},          # 6 product kept
    {"product_id": "", "category": ""},                                                   # 7
    {"product_id": "B0MESSY007", "rating_count": "lots"},                                 # 8
    {"rating_count": "1,000", "product_link": "https://shop/dp/B0MESSY001?older"},        # 9 duplicate of 2
]
MESSY_QUARANTINE = [
    ("line 3: B0MESSY002", "actual_price without a known currency symbol"),
    ("line 4: B0MESSY003", "discounted_price and actual_price in different currencies"),
    ("line 5", "wrong number of fields"),
    ("line 6: B0MESSY005 reviews", "review lists cannot be aligned"),
    ("line 7", "missing product_id; missing category"),
    ("line 8: B0MESSY007", "rating_count not a count"),
]


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.mark.skipif(not REAL_FILE.exists(), reason=f"the real dataset is not at {REAL_FILE} (set AMAZON_SALES_CSV)")
def test_real_generated_and_messy_catalogs_load_and_every_review_gets_sentiment_once(landing: Landing) -> None:
    from local.seed.generate import SeedConfig, generate

    real = REAL_FILE.read_bytes()
    seed = generate(SeedConfig())
    generated = seed.files["catalog/products.csv"]
    messy = catalog_csv(MESSY_ROWS)
    sources = {name: landing.put(f"catalog/{name}.csv", data)
               for name, data in (("amazon", real), ("products", generated), ("messy", messy))}
    real_rows, generated_rows = _csv_rows(real), _csv_rows(generated)
    product_ids = {r["product_id"] for r in real_rows + generated_rows} | {"B0MESSY001", "B0MESSY005"}
    real_reviews = {(r["product_id"], r["review_id"]) for r in real_rows}  # one review per row in this copy
    reviews_expected = len(real_reviews) + seed.manifest["counts"]["reviews"] + 2
    calls_before = landing.comprehend_calls()

    first = run_dag(datetime(2025, 3, 1, 3, tzinfo=timezone.utc))

    load, sentiment = first["load_catalog"], first["analyse_sentiment"]
    assert (len(real_rows), len({r["product_id"] for r in real_rows}), len(real_reviews)) == (1465, 1351, 1354)
    assert load == {
        "files_listed": 3, "files_skipped": 0, "files_loaded": 3,
        "rows_read": 1465 + seed.manifest["counts"]["catalog_rows"] + 8,
        "rows_loaded": 1465 + seed.manifest["counts"]["catalog_rows"] + 3,
        "rows_quarantined": 5, "review_lists_quarantined": 1,
        "products": len(product_ids), "products_inserted": len(product_ids), "products_updated": 0,
        "reviews": reviews_expected, "reviews_inserted": reviews_expected, "reviews_updated": 0,
        "quarantined_by_reason": {
            "actual_price without a known currency symbol": 1, "discounted_price and actual_price in different currencies": 1,
            "missing category": 1, "missing product_id": 1, "rating_count not a count": 1,
            "review lists cannot be aligned": 1, "wrong number of fields": 1},
    }
    db = landing.database
    assert query(f"SELECT COUNT(*), COUNT(DISTINCT PRODUCT_ID) FROM {db}.RAW.PRODUCTS") == [(len(product_ids),) * 2]
    per_source = dict(query(f"SELECT SOURCE, COUNT(*) FROM {db}.RAW.PRODUCT_REVIEWS GROUP BY SOURCE"))
    assert per_source == {sources["amazon"]: 1354, sources["products"]: seed.manifest["counts"]["reviews"],
                          sources["messy"]: 2}
    assert query(f"SELECT SOURCE, RECORD_KEY, REASON FROM {db}.OPS.QUARANTINE ORDER BY RECORD_KEY") == [
        (sources["messy"], key, reason) for key, reason in MESSY_QUARANTINE]  # nothing from the real or generated file
    # the real file's odd values: the "|" rating and the two empty counts are NULL, prices in rupees
    assert query(f"SELECT COUNT_IF(RATING IS NULL), COUNT_IF(RATING_COUNT IS NULL), COUNT_IF(CURRENCY = 'INR') "
                 f"FROM {db}.RAW.PRODUCTS WHERE SOURCE = '{sources['amazon']}'") == [(1, 2, 1351)]
    # duplicates merged: the copy with the higher rating count won
    assert query(f"SELECT RATING_COUNT, DISCOUNTED_PRICE, CURRENCY, CATEGORY, SUB_CATEGORY FROM {db}.RAW.PRODUCTS "
                 f"WHERE PRODUCT_ID = 'B0MESSY001'") == [(1024, 79.5, "GBP", "Home", "Blankets")]

    # sentiment: every review, once, in calls of at most 25 (the long review was cut, or the stand-in would
    # have failed the whole call with TextSizeLimitExceededException)
    assert (sentiment["pending"], sentiment["analysed"], sentiment["failed"]) == (reviews_expected, reviews_expected, 0)
    assert sentiment["calls"] == landing.comprehend_calls() - calls_before
    assert sentiment["calls"] >= math.ceil(reviews_expected / 25)
    assert sum(sentiment["labels"].values()) == reviews_expected
    assert query(f"SELECT COUNT(*) FROM {db}.CURATED.REVIEW_SENTIMENT s JOIN {db}.RAW.PRODUCT_REVIEWS r "
                 "ON r.PRODUCT_ID = s.PRODUCT_ID AND r.REVIEW_ID = s.REVIEW_ID AND r.CONTENT_HASH = s.CONTENT_HASH "
                 "WHERE s.LANGUAGE_CODE = 'en' AND ABS(s.POSITIVE + s.NEGATIVE + s.NEUTRAL + s.MIXED - 1) < 0.001"
                 ) == [(reviews_expected,)]
    # the signal recommendations need: the generator's poorly rated products are reviewed worse
    poor = "', '".join(seed.manifest["poorly_rated_products"])
    shares = dict(query(
        f"SELECT PRODUCT_ID IN ('{poor}') AS POOR, AVG(IFF(SENTIMENT = 'POSITIVE', 1, 0)) "
        f"FROM {db}.CURATED.REVIEW_SENTIMENT WHERE PRODUCT_ID IN (SELECT PRODUCT_ID FROM {db}.RAW.PRODUCT_REVIEWS "
        f"WHERE SOURCE = '{sources['products']}') GROUP BY 1"))
    assert shares[True] < shares[False] - 0.3, shares

    # a re-run: every file is in the ledger, every review has a verdict: nothing is sent to Comprehend
    before = query(f"SELECT PRODUCT_ID, REVIEW_ID, CONTENT_HASH, SENTIMENT, ANALYZED_AT FROM {db}.CURATED.REVIEW_SENTIMENT "
                   "ORDER BY 1, 2")
    calls_before = landing.comprehend_calls()
    second = run_dag(datetime(2025, 3, 2, 3, tzinfo=timezone.utc))
    assert (second["load_catalog"]["files_skipped"], second["load_catalog"]["files_loaded"]) == (3, 0)
    assert (second["analyse_sentiment"]["pending"], second["analyse_sentiment"]["calls"]) == (0, 0)
    assert landing.comprehend_calls() == calls_before
    assert query(f"SELECT PRODUCT_ID, REVIEW_ID, CONTENT_HASH, SENTIMENT, ANALYZED_AT FROM {db}.CURATED.REVIEW_SENTIMENT "
                 "ORDER BY 1, 2") == before

    # a corrected messy file (new ETag): one review text changed, so exactly that review is analysed again
    corrected = {"review_content": f"{LONG_REVIEW},Lovely and warm after all."}
    landing.put("catalog/messy.csv", catalog_csv([corrected] + MESSY_ROWS[1:-1] + [{**MESSY_ROWS[-1], **corrected}]))
    third = run_dag(datetime(2025, 3, 3, 3, tzinfo=timezone.utc))
    assert (third["load_catalog"]["files_loaded"], third["load_catalog"]["reviews_updated"]) == (1, 1)
    assert (third["analyse_sentiment"]["pending"], third["analyse_sentiment"]["analysed"]) == (1, 1)
    assert landing.comprehend_calls() == calls_before + 1
    changed = query(f"SELECT s.SENTIMENT, s.CONTENT_HASH = r.CONTENT_HASH FROM {db}.CURATED.REVIEW_SENTIMENT s "
                    f"JOIN {db}.RAW.PRODUCT_REVIEWS r ON r.PRODUCT_ID = s.PRODUCT_ID AND r.REVIEW_ID = s.REVIEW_ID "
                    "WHERE s.PRODUCT_ID = 'B0MESSY001' ORDER BY s.REVIEW_ID")
    old = [row[3] for row in before if row[0] == "B0MESSY001"]
    assert old == ["POSITIVE", "NEGATIVE"] and changed == [("POSITIVE", True), ("POSITIVE", True)]
    assert len(query(f"SELECT * FROM {db}.OPS.QUARANTINE")) == len(MESSY_QUARANTINE)  # keyed on the row: nothing added


def test_throttled_comprehend_is_retried_with_backoff_until_every_review_is_analysed(landing: Landing) -> None:
    # 1,000 reviews: 40 calls, so a 20% throttle rate throttles some (all 40 pass unthrottled with p ~ 1e-4)
    # and none 8 times in a row, which would exhaust the attempts (p ~ 1e-4)
    rows = [{"product_id": f"B0THROT{i:03d}", "review_id": ",".join(f"R{i}-{j}" for j in range(10)),
             "user_id": ",".join(f"U{j}" for j in range(10)), "user_name": ",".join(f"N{j}" for j in range(10)),
             "review_title": ",".join(f"Title {j}" for j in range(10)),
             "review_content": ",".join(f"Good and warm {j}" for j in range(10))} for i in range(100)]
    landing.put("catalog/throttle.csv", catalog_csv(rows))  # type: ignore[arg-type]
    config = f"{landing.bedrock_url}/_local/config"

    def set_knobs(knobs: dict[str, float]) -> None:
        request = urllib.request.Request(config, data=json.dumps(knobs).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310

    set_knobs({"throttle_rate": 0.2})
    try:
        summary = run_dag(datetime(2025, 4, 1, 3, tzinfo=timezone.utc))["analyse_sentiment"]
    finally:
        set_knobs({"throttle_rate": 0.0})
    assert (summary["pending"], summary["analysed"], summary["failed"]) == (1000, 1000, 0)
    assert summary["throttles"] > 0 and summary["retries"] == summary["throttles"] + summary["server_errors"]
    assert summary["calls"] == 40 + summary["retries"]  # 40 calls of 25, plus one call per retry
    assert query(f"SELECT COUNT(*) FROM {landing.database}.CURATED.REVIEW_SENTIMENT") == [(1000,)]
