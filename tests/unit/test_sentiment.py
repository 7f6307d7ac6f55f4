"""Review sentiment building blocks: the 5,000-byte UTF-8 cut, batches of 25, reading responses
(include/catalog/sentiment.py), and SentimentAnalyser's calls: batching, bounded concurrency, backoff on
throttling, ErrorList items retried once, a fatal error keeping what was scored (operators/sentiment.py)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from genai_personalization.bedrock import CallStats, ModelCaller
from genai_personalization.operators.sentiment import SentimentAnalyser
from include.catalog.sentiment import (
    MAX_BYTES, MISSING_RESULT, Document, Sentiment, batches, cut_utf8, document, read_batch_response, review_text,
)
from include.retry import Backoff


def throttling() -> ClientError:
    # Comprehend is a JSON-protocol service: throttling comes back as HTTP 400
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, "BatchDetectSentiment")


def server_error() -> ClientError:
    return ClientError({"Error": {"Code": "InternalServerException", "Message": "oops"},
                        "ResponseMetadata": {"HTTPStatusCode": 500}}, "BatchDetectSentiment")


def invalid_request() -> ClientError:
    return ClientError({"Error": {"Code": "InvalidRequestException", "Message": "bad"},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, "BatchDetectSentiment")


def scores(label: str = "POSITIVE") -> dict[str, Any]:
    return {"Sentiment": label, "SentimentScore": {"Positive": 0.7, "Negative": 0.1, "Neutral": 0.1, "Mixed": 0.1}}


class FakeComprehend:
    """batch_detect_sentiment that records every call; ``script(call_number, texts)`` may raise or return a
    response, else every text is scored POSITIVE."""

    def __init__(self, script: Callable[[int, list[str]], dict[str, Any] | None] | None = None, delay: float = 0.0):
        self.script = script
        self.delay = delay
        self.calls: list[list[str]] = []
        self.languages: set[str] = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def batch_detect_sentiment(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            self.calls.append(list(TextList))
            self.languages.add(LanguageCode)
            number = len(self.calls)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            response = self.script(number, TextList) if self.script else None
            if response is None:
                response = {"ResultList": [{"Index": i, **scores()} for i in range(len(TextList))], "ErrorList": []}
            return response
        finally:
            with self._lock:
                self.in_flight -= 1


def analyser(client: FakeComprehend, concurrency: int = 2, max_attempts: int = 4,
             slept: list[float] | None = None) -> tuple[SentimentAnalyser, CallStats]:
    stats = CallStats()
    caller = ModelCaller(Backoff(max_attempts=max_attempts, base_seconds=0.5, cap_seconds=4.0), stats,
                         sleep=(slept.append if slept is not None else lambda s: None), rng=random.Random(7))
    return SentimentAnalyser(client, caller, "en", concurrency), stats


def docs(n: int) -> list[Document[str]]:
    return [Document(f"k{i:03d}", f"text {i:03d}") for i in range(n)]


# ------------------------------------------------------------------ the 5,000-byte cut


def test_short_texts_are_not_cut() -> None:
    assert cut_utf8("Looks durable") == "Looks durable"
    exactly = "a" * MAX_BYTES
    assert cut_utf8(exactly) == exactly


@pytest.mark.parametrize(("char", "width"), [("é", 2), ("₹", 3), ("क", 3), ("👍", 4)])
def test_a_multibyte_character_across_the_limit_is_dropped_whole(char: str, width: int) -> None:
    for filler in range(MAX_BYTES - width + 1, MAX_BYTES + 1):  # the character ends at or beyond the limit
        text = "a" * filler + char + "tail"
        cut = cut_utf8(text)
        fits = filler + width <= MAX_BYTES
        assert cut == ("a" * filler + char if fits else "a" * filler)
        assert len(cut.encode("utf-8")) <= MAX_BYTES


def test_the_cut_is_always_a_valid_prefix_within_the_limit() -> None:
    rng = random.Random(3)
    alphabet = "aé₹क👍 \n"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1600, 2600)))
        cut = cut_utf8(text)
        size = len(cut.encode("utf-8"))
        assert text.startswith(cut) and size <= MAX_BYTES
        if len(text.encode("utf-8")) > MAX_BYTES:
            assert size > MAX_BYTES - 4  # nothing but the one split character is lost
    assert cut_utf8("abc", max_bytes=2) == "ab"
    with pytest.raises(ValueError):
        cut_utf8("abc", max_bytes=-1)


def test_the_review_document_is_title_and_content_cut_to_the_limit() -> None:
    assert review_text("Satisfied", "Looks durable") == "Satisfied\nLooks durable"
    assert review_text(None, "  only text ") == "only text"
    assert document("k", None, None) is None and document("k", " ", "\n") is None
    long = document("k", "Titles", "ü" * 4000)  # "Titles\n" is 7 bytes, each ü 2
    assert long is not None and long.text == "Titles\n" + "ü" * 2496  # 4,999 bytes: the next ü would not fit


# ------------------------------------------------------------------ batches and responses


def test_batches_hold_at_most_25_in_order() -> None:
    assert list(batches([])) == []
    assert [len(b) for b in batches(range(25))] == [25]
    assert [len(b) for b in batches(range(26))] == [25, 1]
    assert [len(b) for b in batches(range(60))] == [25, 25, 10]
    assert [x for b in batches(range(60)) for x in b] == list(range(60))
    with pytest.raises(ValueError):
        list(batches([1], size=0))


def test_a_response_maps_back_to_the_batch_and_nothing_is_lost() -> None:
    batch = docs(5)
    response = {
        "ResultList": [{"Index": 0, **scores("NEGATIVE")}, {"Index": 2, "Sentiment": "HAPPY", "SentimentScore": {}},
                       {"Index": 9, **scores()}],  # out of range: ignored
        "ErrorList": [{"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "x"}],
    }
    scored, errors = read_batch_response(batch, response)
    assert scored == {"k000": Sentiment("NEGATIVE", 0.7, 0.1, 0.1, 0.1)}
    assert errors == {"k001": "INTERNAL_SERVER_ERROR", "k002": "MalformedResult", "k003": MISSING_RESULT,
                      "k004": MISSING_RESULT}


# ------------------------------------------------------------------ the analyser


def test_documents_go_in_calls_of_25_with_bounded_concurrency() -> None:
    client = FakeComprehend(delay=0.02)
    runner, stats = analyser(client, concurrency=2)
    outcome = runner.analyse(docs(110))
    assert sorted(len(call) for call in client.calls) == [10, 25, 25, 25, 25]
    assert sorted(t for call in client.calls for t in call) == [d.text for d in docs(110)]
    assert client.max_in_flight == 2 and client.languages == {"en"}
    assert len(outcome.scored) == 110 and outcome.failed == {} and outcome.error is None
    assert stats.as_dict()["calls"] == 5


def test_throttling_and_5xx_are_retried_with_jittered_backoff_and_counted() -> None:
    failures = {1: throttling(), 2: throttling(), 3: server_error()}

    def script(number: int, texts: list[str]) -> None:
        if number in failures:
            raise failures[number]

    slept: list[float] = []
    runner, stats = analyser(FakeComprehend(script), concurrency=1, slept=slept)
    outcome = runner.analyse(docs(30))
    assert len(outcome.scored) == 30 and outcome.error is None
    counts = stats.as_dict()
    assert (counts["calls"], counts["throttles"], counts["server_errors"], counts["retries"]) == (5, 2, 1, 3)
    assert len(slept) == 3 and all(0 <= s <= c for s, c in zip(slept, (0.5, 1.0, 2.0)))


def test_error_list_items_are_retried_once_then_left_unanalysed_and_reported() -> None:
    def script(number: int, texts: list[str]) -> dict[str, Any]:
        results, errors = [], []
        for index, text in enumerate(texts):
            flaky = text == "text 003" and number == 1  # fails once
            broken = text == "text 027"  # fails every time
            if flaky or broken:
                errors.append({"Index": index, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "m"})
            else:
                results.append({"Index": index, **scores()})
        return {"ResultList": results, "ErrorList": errors}

    client = FakeComprehend(script)
    runner, _ = analyser(client, concurrency=1)
    outcome = runner.analyse(docs(30))
    assert [len(call) for call in client.calls] == [25, 5, 2]  # the retry carries only the two failed documents
    assert sorted(client.calls[2]) == ["text 003", "text 027"]
    assert len(outcome.scored) == 29 and "k003" in outcome.scored
    assert outcome.failed == {"k027": "INTERNAL_SERVER_ERROR"} and outcome.error is None


def test_a_call_that_fails_for_good_stops_the_analysis_and_keeps_what_was_scored() -> None:
    def script(number: int, texts: list[str]) -> None:
        if number == 3:
            raise invalid_request()

    client = FakeComprehend(script)
    runner, stats = analyser(client, concurrency=1)
    outcome = runner.analyse(docs(100))
    assert outcome.error is not None and outcome.error.code == "InvalidRequestException"
    assert len(outcome.scored) == 50 and len(client.calls) == 3  # no call after the failure
    assert stats.as_dict()["failures"] == 1


def test_throttling_beyond_the_attempts_is_a_failure_not_a_hang() -> None:
    def script(number: int, texts: list[str]) -> None:
        raise throttling()

    runner, stats = analyser(FakeComprehend(script), concurrency=1, max_attempts=3)
    outcome = runner.analyse(docs(3))
    assert outcome.error is not None and outcome.error.code == "ThrottlingException" and outcome.scored == {}
    assert stats.as_dict()["throttles"] == 3


def test_the_client_comes_from_the_aws_connection_with_botocore_retries_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from genai_personalization.operators.sentiment import comprehend_client

    monkeypatch.setenv("AIRFLOW_CONN_AWS_SENTIMENT_TEST", json.dumps({
        "conn_type": "aws", "login": "k", "password": "s",
        "extra": {"region_name": "eu-west-1", "service_config": {"comprehend": {"endpoint_url": "http://127.0.0.1:9"}}},
    }))
    client = comprehend_client("aws_sentiment_test", max_connections=4)
    assert client.meta.service_model.service_name == "comprehend"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"  # the connection routes comprehend (to the stand-in)
    assert client.meta.config.retries["total_max_attempts"] == 1
