"""ReviewSentimentOperator against fakesnow (``stand_ins``) and a fake Comprehend client: incremental by
(PRODUCT_ID, REVIEW_ID, CONTENT_HASH), a changed text analysed again, nothing sent on a re-run, ErrorList
failures left for the next run, verdicts saved page by page before a failure, no review text in the logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from include.catalog.parsing import content_hash
from tests.unit.test_sentiment import FakeComprehend, invalid_request

SECRET_TEXT = "a-secret-review-text"


def add_reviews(conn: Any, rows: Any, reviews: list[tuple[str, str, str | None, str | None]]) -> None:
    """Create the DAG's objects and upsert (product, review, title, content) rows into RAW.PRODUCT_REVIEWS."""
    from genai_personalization.operators.sentiment import ReviewSentimentOperator

    operator = ReviewSentimentOperator(task_id="setup")
    operator.run_step(conn, "create_objects", {"database": "GENAI"})
    for product_id, review_id, title, content in reviews:
        rows(conn, f"DELETE FROM GENAI.RAW.PRODUCT_REVIEWS WHERE PRODUCT_ID = '{product_id}' AND REVIEW_ID = '{review_id}'")
        values = ", ".join("NULL" if v is None else f"'{v}'" for v in (title, content))
        rows(conn, "INSERT INTO GENAI.RAW.PRODUCT_REVIEWS (PRODUCT_ID, REVIEW_ID, REVIEW_TITLE, REVIEW_CONTENT, "
                   f"CONTENT_HASH, SOURCE, LOADED_AT) VALUES ('{product_id}', '{review_id}', {values}, "
                   f"'{content_hash(title, content)}', 's3://b/catalog/x.csv', CURRENT_TIMESTAMP())")


def run(client: FakeComprehend, **kwargs: Any) -> dict[str, Any]:
    from genai_personalization.operators.sentiment import ReviewSentimentOperator

    operator = ReviewSentimentOperator(task_id="analyse_sentiment", sleep=lambda s: None, **kwargs)
    operator.__dict__["comprehend"] = client  # the cached client property, replaced by the fake
    return operator.execute({"run_id": "manual__1"})


def reviews(n: int, product: str = "B0AAAAAAAA") -> list[tuple[str, str, str | None, str | None]]:
    return [(product, f"R{i:03d}", f"Title {i}", f"{SECRET_TEXT} {i}") for i in range(n)]


def test_analyses_every_review_once_and_a_rerun_sends_nothing(
    stand_ins: Any, rows: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    _, conn = stand_ins
    add_reviews(conn, rows, reviews(60) + [("B0BBBBBBBB", "R1", None, None), ("B0BBBBBBBB", "R2", " ", None)])
    caplog.set_level(logging.DEBUG)

    client = FakeComprehend()
    first = run(client, page_size=50)

    assert (first["pending"], first["analysed"], first["failed"], first["labels"]) == (60, 60, 0, {"POSITIVE": 60})
    assert sorted(len(call) for call in client.calls) == [10, 25, 25]  # pages of 50: 25 + 25, then 10
    assert rows(conn, "SELECT COUNT(*) FROM GENAI.CURATED.REVIEW_SENTIMENT s JOIN GENAI.RAW.PRODUCT_REVIEWS r "
                      "ON r.PRODUCT_ID = s.PRODUCT_ID AND r.REVIEW_ID = s.REVIEW_ID AND r.CONTENT_HASH = s.CONTENT_HASH "
                      "WHERE s.SENTIMENT = 'POSITIVE' AND s.POSITIVE = 0.7 AND s.LANGUAGE_CODE = 'en'") == [(60,)]
    assert client.calls[0][0].startswith("Title ") and "\n" in client.calls[0][0]  # title and text

    again = FakeComprehend()
    second = run(again)
    assert (second["pending"], second["analysed"], second["calls"], len(again.calls)) == (0, 0, 0, 0)

    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "review sentiment summary" in logged  # proves the operator's log is captured here
    assert SECRET_TEXT not in logged


def test_a_changed_text_and_a_new_review_are_analysed_and_replace_nothing_else(stand_ins: Any, rows: Any) -> None:
    _, conn = stand_ins
    add_reviews(conn, rows, reviews(3))
    run(FakeComprehend())
    before = dict(((r[0], r[1]), r[2:]) for r in rows(conn, "SELECT PRODUCT_ID, REVIEW_ID, CONTENT_HASH, ANALYZED_AT "
                                                             "FROM GENAI.CURATED.REVIEW_SENTIMENT"))

    add_reviews(conn, rows, [("B0AAAAAAAA", "R001", "Title 1", "now I hate it"), ("B0AAAAAAAA", "R777", "New", "review")])

    def negative(number: int, texts: list[str]) -> dict[str, Any]:
        return {"ResultList": [{"Index": i, "Sentiment": "NEGATIVE",
                                "SentimentScore": {"Positive": 0.0, "Negative": 0.9, "Neutral": 0.05, "Mixed": 0.05}}
                               for i in range(len(texts))], "ErrorList": []}

    client = FakeComprehend(negative)
    summary = run(client)

    assert (summary["pending"], summary["analysed"]) == (2, 2)
    assert sorted(client.calls[0]) == ["New\nreview", "Title 1\nnow I hate it"]
    after = {(r[0], r[1]): r[2:] for r in rows(conn, "SELECT PRODUCT_ID, REVIEW_ID, CONTENT_HASH, ANALYZED_AT, "
                                                      "SENTIMENT FROM GENAI.CURATED.REVIEW_SENTIMENT")}
    assert len(after) == 4
    assert after[("B0AAAAAAAA", "R001")][0] == content_hash("Title 1", "now I hate it")
    assert after[("B0AAAAAAAA", "R001")][2] == "NEGATIVE"
    for key in (("B0AAAAAAAA", "R000"), ("B0AAAAAAAA", "R002")):
        assert after[key][:2] == before[key]  # untouched


def test_reviews_failing_twice_are_left_for_the_next_run(stand_ins: Any, rows: Any) -> None:
    _, conn = stand_ins
    add_reviews(conn, rows, reviews(5))

    def fail_r003(number: int, texts: list[str]) -> dict[str, Any]:
        ok = [{"Index": i, "Sentiment": "NEUTRAL",
               "SentimentScore": {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.7, "Mixed": 0.1}}
              for i, t in enumerate(texts) if not t.endswith(" 3")]
        bad = [{"Index": i, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "m"}
               for i, t in enumerate(texts) if t.endswith(" 3")]
        return {"ResultList": ok, "ErrorList": bad}

    first = run(FakeComprehend(fail_r003))
    assert (first["pending"], first["analysed"], first["failed"], first["failed_by_error"]) == (
        5, 4, 1, {"INTERNAL_SERVER_ERROR": 1})

    client = FakeComprehend()
    second = run(client)
    assert (second["pending"], second["analysed"], second["failed"]) == (1, 1, 0)
    assert client.calls == [[f"Title 3\n{SECRET_TEXT} 3"]]


def test_a_failure_saves_the_pages_before_it_and_the_retry_resumes(stand_ins: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowException

    _, conn = stand_ins
    add_reviews(conn, rows, reviews(80))

    def fail_third_call(number: int, texts: list[str]) -> None:
        if number == 3:
            raise invalid_request()

    with pytest.raises(AirflowException) as info:
        run(FakeComprehend(fail_third_call), page_size=25, concurrency=1)
    assert str(info.value).startswith("Comprehend BatchDetectSentiment failed: InvalidRequestException after 1 attempt")
    assert "50 verdict(s) saved" in str(info.value) and "\n" not in str(info.value)
    assert rows(conn, "SELECT COUNT(*) FROM GENAI.CURATED.REVIEW_SENTIMENT") == [(50,)]

    client = FakeComprehend()
    summary = run(client, page_size=25)
    assert (summary["pending"], summary["analysed"], sum(len(c) for c in client.calls)) == (30, 30, 30)


def test_a_sentiment_table_created_by_the_recommendations_contract_gains_the_language_column(
    stand_ins: Any, rows: Any
) -> None:
    _, conn = stand_ins
    for statement in (
        "CREATE SCHEMA IF NOT EXISTS GENAI.CURATED",
        # the shape customer_recommendations/input_contract.sql creates when it runs first
        "CREATE TABLE GENAI.CURATED.REVIEW_SENTIMENT (PRODUCT_ID VARCHAR NOT NULL, REVIEW_ID VARCHAR NOT NULL, "
        "CONTENT_HASH VARCHAR, SENTIMENT VARCHAR, POSITIVE FLOAT, NEGATIVE FLOAT, NEUTRAL FLOAT, MIXED FLOAT, "
        "ANALYZED_AT TIMESTAMP_LTZ)",
    ):
        rows(conn, statement)
    add_reviews(conn, rows, reviews(2))

    assert run(FakeComprehend())["analysed"] == 2
    assert rows(conn, "SELECT DISTINCT LANGUAGE_CODE FROM GENAI.CURATED.REVIEW_SENTIMENT") == [("en",)]
