"""CatalogLoadOperator against in-process stand-ins (moto S3, fakesnow.patch()); ``stand_ins`` is in conftest.py.

The DAG runs against the stand-in servers in tests/integration/; here: exact tables from a messy file,
deterministic merging of duplicate products, the ledger skip, a re-uploaded file, a RAW.PRODUCTS that the
purchase pipeline created with three columns, and logs free of record values.
"""

from __future__ import annotations

import csv
import io
import logging
from decimal import Decimal
from typing import Any

import pytest

from include.catalog.parsing import CATALOG_COLUMNS

BUCKET = "genai-landing"
SECRET_REVIEWER = "Reviewer-Secret-4711"
SECRET_TEXT = "my-secret-review-text"


def catalog_csv(*rows: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CATALOG_COLUMNS)
    for changes in rows:
        cells = {
            "product_id": "B0AAAAAAAA", "product_name": "Cast Iron Pan 26 cm", "category": "Home&Kitchen|Cookware|Pans",
            "discounted_price": "€49", "actual_price": "€59", "discount_percentage": "17%", "rating": "4.5",
            "rating_count": "100", "about_product": "Pre-seasoned", "user_id": "U1,U2",
            "user_name": f"{SECRET_REVIEWER},Kenji", "review_id": "R1,R2", "review_title": "Great,Heavy",
            "review_content": f"{SECRET_TEXT},Heavy but good", "img_link": "https://img/a.jpg",
            "product_link": "https://shop/dp/a",
        }
        cells.update(changes)
        writer.writerow([cells[name] for name in CATALOG_COLUMNS])
    return buffer.getvalue()


def _run(run_id: str = "manual__1") -> dict[str, Any]:
    from genai_personalization.operators.catalog import CatalogLoadOperator

    return CatalogLoadOperator(task_id="load_catalog").execute({"run_id": run_id})


def test_loads_a_file_merges_duplicates_skips_it_next_time_and_logs_no_values(
    stand_ins: Any, rows: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    s3, conn = stand_ins
    s3.load_string(catalog_csv(
        {},                                                                             # line 2
        {"product_id": "B0BBBBBBBB", "rating_count": "5", "review_id": "R3,R4"},       # line 3
        {"product_id": "B0BBBBBBBB", "rating_count": "7", "product_link": "https://shop/dp/b-later",
         "review_id": "R3,R4", "review_content": "Changed text,Heavy but good"},        # line 4: more ratings: wins
        {"product_id": "B0BBBBBBBB", "rating_count": "6", "product_link": "https://shop/dp/b-old",
         "review_id": "R3,R4"},                                                         # line 5
        {"product_id": "B0CCCCCCCC", "actual_price": "59"},                              # line 6: quarantined
        {"product_id": "B0DDDDDDDD", "review_title": "Great, really,Heavy, sadly,ok"},  # line 7: reviews quarantined
        {"product_id": "B0EEEEEEEE", "rating": "|", "rating_count": "", "review_id": "", "user_id": "",
         "user_name": "", "review_title": "", "review_content": ""},                    # line 8: no reviews
    ), "catalog/products.csv", bucket_name=BUCKET, replace=True)
    s3.load_string("not a catalog", "catalog/archive/old.csv", bucket_name=BUCKET)  # a sub-folder: not read
    caplog.set_level(logging.DEBUG)

    first = _run()
    second = _run("manual__2")

    assert first == {
        "files_listed": 1, "files_skipped": 0, "files_loaded": 1, "rows_read": 7, "rows_loaded": 6,
        "rows_quarantined": 1, "review_lists_quarantined": 1, "products": 4, "products_inserted": 4,
        "products_updated": 0, "reviews": 4, "reviews_inserted": 4, "reviews_updated": 0,
        "quarantined_by_reason": {"actual_price without a known currency symbol": 1,
                                  "review lists cannot be aligned": 1},
    }
    assert (second["files_skipped"], second["files_loaded"], second["products"]) == (1, 0, 0)
    products = rows(conn, "SELECT PRODUCT_ID, CATEGORY, CATEGORY_PATH, SUB_CATEGORY, DISCOUNTED_PRICE, ACTUAL_PRICE, "
                          "CURRENCY, DISCOUNT_PERCENTAGE, RATING, RATING_COUNT, PRODUCT_LINK, SOURCE "
                          "FROM GENAI.RAW.PRODUCTS ORDER BY PRODUCT_ID")
    source = f"s3://{BUCKET}/catalog/products.csv"
    assert products == [
        ("B0AAAAAAAA", "Home&Kitchen", "Home&Kitchen|Cookware|Pans", "Pans", Decimal("49.00"), Decimal("59.00"), "EUR",
         Decimal("17.00"), 4.5, 100, "https://shop/dp/a", source),
        ("B0BBBBBBBB", "Home&Kitchen", "Home&Kitchen|Cookware|Pans", "Pans", Decimal("49.00"), Decimal("59.00"), "EUR",
         Decimal("17.00"), 4.5, 7, "https://shop/dp/b-later", source),
        ("B0DDDDDDDD", "Home&Kitchen", "Home&Kitchen|Cookware|Pans", "Pans", Decimal("49.00"), Decimal("59.00"), "EUR",
         Decimal("17.00"), 4.5, 100, "https://shop/dp/a", source),
        ("B0EEEEEEEE", "Home&Kitchen", "Home&Kitchen|Cookware|Pans", "Pans", Decimal("49.00"), Decimal("59.00"), "EUR",
         Decimal("17.00"), None, None, "https://shop/dp/a", source),
    ]
    reviews = rows(conn, "SELECT PRODUCT_ID, REVIEW_ID, USER_NAME, REVIEW_CONTENT FROM GENAI.RAW.PRODUCT_REVIEWS "
                         "ORDER BY PRODUCT_ID, REVIEW_ID")
    assert reviews == [
        ("B0AAAAAAAA", "R1", SECRET_REVIEWER, SECRET_TEXT), ("B0AAAAAAAA", "R2", "Kenji", "Heavy but good"),
        ("B0BBBBBBBB", "R3", SECRET_REVIEWER, SECRET_TEXT),  # line 5, the last copy, wins for reviews
        ("B0BBBBBBBB", "R4", "Kenji", "Heavy but good"),
    ]
    assert rows(conn, "SELECT SOURCE, RECORD_KEY, REASON, RUN_ID FROM GENAI.OPS.QUARANTINE ORDER BY RECORD_KEY") == [
        (source, "line 6: B0CCCCCCCC", "actual_price without a known currency symbol", "manual__1"),
        (source, "line 7: B0DDDDDDDD reviews", "review lists cannot be aligned", "manual__1"),
    ]
    assert rows(conn, "SELECT SOURCE, RUN_ID FROM GENAI.OPS.LOAD_LEDGER") == [(source, "manual__1")]
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "catalog load summary" in logged  # proves the operator's log is captured here
    for secret in (SECRET_REVIEWER, SECRET_TEXT, "Cast Iron Pan"):
        assert secret not in logged


def test_a_reuploaded_file_updates_changed_rows_only(stand_ins: Any, rows: Any) -> None:
    s3, conn = stand_ins
    s3.load_string(catalog_csv({}, {"product_id": "B0BBBBBBBB"}, {"product_id": "B0CCCCCCCC", "actual_price": "59"}),
                   "catalog/products.csv", bucket_name=BUCKET, replace=True)
    _run()
    loaded_at = dict(rows(conn, "SELECT PRODUCT_ID, LOADED_AT FROM GENAI.RAW.PRODUCTS"))
    hashes = dict(rows(conn, "SELECT REVIEW_ID, CONTENT_HASH FROM GENAI.RAW.PRODUCT_REVIEWS WHERE PRODUCT_ID = 'B0AAAAAAAA'"))

    # corrected by hand: A's second review edited, B unchanged, C's price fixed
    s3.load_string(catalog_csv({"review_content": f"{SECRET_TEXT},Edited"}, {"product_id": "B0BBBBBBBB"},
                               {"product_id": "B0CCCCCCCC"}), "catalog/products.csv", bucket_name=BUCKET, replace=True)
    summary = _run("manual__2")

    assert (summary["files_loaded"], summary["products_inserted"], summary["products_updated"]) == (1, 1, 0)
    assert (summary["reviews_inserted"], summary["reviews_updated"]) == (2, 1)
    after = dict(rows(conn, "SELECT PRODUCT_ID, LOADED_AT FROM GENAI.RAW.PRODUCTS"))
    assert after["B0AAAAAAAA"] == loaded_at["B0AAAAAAAA"] and after["B0BBBBBBBB"] == loaded_at["B0BBBBBBBB"]
    new_hashes = dict(rows(conn, "SELECT REVIEW_ID, CONTENT_HASH FROM GENAI.RAW.PRODUCT_REVIEWS "
                                 "WHERE PRODUCT_ID = 'B0AAAAAAAA'"))
    assert new_hashes["R1"] == hashes["R1"] and new_hashes["R2"] != hashes["R2"]
    assert rows(conn, "SELECT COUNT(*) FROM GENAI.OPS.QUARANTINE") == [(0,)]  # the corrected row left quarantine
    assert len(rows(conn, "SELECT * FROM GENAI.OPS.LOAD_LEDGER")) == 2  # both versions


def test_the_minimal_products_table_of_the_purchase_pipeline_gains_the_catalog_columns(stand_ins: Any, rows: Any) -> None:
    s3, conn = stand_ins
    for statement in (
        "CREATE SCHEMA IF NOT EXISTS GENAI.RAW",
        "CREATE TABLE GENAI.RAW.PRODUCTS (PRODUCT_ID VARCHAR NOT NULL, PRODUCT_NAME VARCHAR, CATEGORY VARCHAR)",
        "INSERT INTO GENAI.RAW.PRODUCTS VALUES ('B0AAAAAAAA', 'old name', 'Old'), ('B0ZZZZZZZZ', 'kept', 'Kept')",
    ):
        rows(conn, statement)
    s3.load_string(catalog_csv({}), "catalog/products.csv", bucket_name=BUCKET, replace=True)

    summary = _run()

    assert (summary["products_inserted"], summary["products_updated"]) == (0, 1)
    assert rows(conn, "SELECT PRODUCT_ID, PRODUCT_NAME, CATEGORY, CURRENCY FROM GENAI.RAW.PRODUCTS ORDER BY 1") == [
        ("B0AAAAAAAA", "Cast Iron Pan 26 cm", "Home&Kitchen", "EUR"), ("B0ZZZZZZZZ", "kept", "Kept", None)]


def test_a_snowflake_error_fails_with_one_line_naming_the_step(stand_ins: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowException

    s3, conn = stand_ins
    s3.load_string(catalog_csv({}), "catalog/products.csv", bucket_name=BUCKET, replace=True)
    rows(conn, "CREATE SCHEMA IF NOT EXISTS GENAI.RAW")
    rows(conn, "CREATE TABLE GENAI.RAW.PRODUCT_REVIEWS (PRODUCT_ID VARCHAR)")  # an old, incompatible table

    with pytest.raises(AirflowException) as info:
        _run()
    assert str(info.value).startswith("product_reviews_sentiment/merge_reviews.sql failed: ")
    assert "\n" not in str(info.value)
    assert rows(conn, "SELECT COUNT(*) FROM GENAI.OPS.LOAD_LEDGER") == [(0,)]  # not recorded: the next run retries
