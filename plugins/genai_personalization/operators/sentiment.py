"""Review sentiment with Amazon Comprehend, incrementally: RAW.PRODUCT_REVIEWS -> CURATED.REVIEW_SENTIMENT.

Which reviews need a verdict is decided in Snowflake with one query (a review whose (PRODUCT_ID,
REVIEW_ID, CONTENT_HASH) has no sentiment row); the texts travel to Comprehend in BatchDetectSentiment
calls of 25 through the amazon provider's ComprehendHook, and the verdicts come back as a staged CSV
that one MERGE applies. Retries, backoff with full jitter and bounded concurrency are
genai_personalization.bedrock's ModelCaller; the request and response shapes are include/catalog/sentiment.py.
Review text is never logged.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from genai_personalization.bedrock import CallStats, ModelCallError, ModelCaller
from genai_personalization.operators.snowflake_steps import SnowflakeStepsOperator, merge_counts
from genai_personalization.sql import render_sql
from include.catalog.sentiment import Document, Sentiment, batches, document, read_batch_response
from include.retry import Backoff
from include.staging import PartedCsv

if TYPE_CHECKING:
    from airflow.sdk import Context

DAG_SQL = "product_reviews_sentiment"
ReviewKey = tuple[str, str, str]  # (PRODUCT_ID, REVIEW_ID, CONTENT_HASH)


@dataclass
class AnalysisOutcome:
    """What one :meth:`SentimentAnalyser.analyse` produced."""

    scored: dict[Any, Sentiment] = field(default_factory=dict)
    failed: dict[Any, str] = field(default_factory=dict)  # documents still in the ErrorList after one retry: code
    error: ModelCallError | None = None  # a call that failed for good; the analysis stopped there


class SentimentAnalyser:
    """BatchDetectSentiment over documents: batches of 25, ``concurrency`` calls in flight, retries and counters.

    A call that is throttled (ThrottlingException) or fails with 5xx is retried by ``caller`` with
    backoff and jitter. Documents the service lists in a response's ErrorList (or leaves out) are
    sent once more, in new batches; those that fail again stay unanalysed and are returned in
    ``failed`` with their error code. A call that fails for good (not retryable, or out of attempts)
    stops the analysis: what was scored until then is returned with the error, so it can be saved.
    """

    def __init__(self, client: Any, caller: ModelCaller, language_code: str = "en", concurrency: int = 4) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.client = client
        self.caller = caller
        self.language_code = language_code
        self.concurrency = concurrency

    def analyse(self, documents: Sequence[Document[Any]]) -> AnalysisOutcome:
        outcome = AnalysisOutcome()
        errors = self._pass(documents, outcome)
        if errors and outcome.error is None:
            retry = [doc for doc in documents if doc.key in errors]
            outcome.failed = self._pass(retry, outcome)
        elif errors:
            outcome.failed = errors
        return outcome

    def _pass(self, documents: Sequence[Document[Any]], outcome: AnalysisOutcome) -> dict[Any, str]:
        errors: dict[Any, str] = {}
        results = self.caller.map(self._detect, batches(documents), self.concurrency)
        try:
            for _batch, result in results:
                if isinstance(result, ModelCallError):
                    outcome.error = result
                    break
                scored, failed = result
                outcome.scored.update(scored)
                errors.update(failed)
        finally:
            results.close()  # waits for the calls in flight; their results are dropped if the pass stopped early
        return errors

    def _detect(self, batch: list[Document[Any]]) -> tuple[dict[Any, Sentiment], dict[Any, str]]:
        texts = [doc.text for doc in batch]
        response = self.caller.call(
            lambda: self.client.batch_detect_sentiment(TextList=texts, LanguageCode=self.language_code)
        )
        return read_batch_response(batch, response)


def comprehend_client(aws_conn_id: str, max_connections: int) -> Any:
    """A Comprehend client from the Airflow connection (its service_config may route comprehend elsewhere),
    with botocore's retries off: ModelCaller retries and counts every attempt itself."""
    from airflow.providers.amazon.aws.hooks.comprehend import ComprehendHook
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    max_pool_connections=max(10, max_connections), read_timeout=60)
    return ComprehendHook(aws_conn_id=aws_conn_id, config=config).conn


class ReviewSentimentOperator(SnowflakeStepsOperator):
    """Measure the sentiment of every review that has no verdict for its current text, and MERGE the verdicts.

    1. ``select_pending.sql``: one query puts the reviews without a CURATED.REVIEW_SENTIMENT row for
       their (PRODUCT_ID, REVIEW_ID, CONTENT_HASH) into a session table, numbered. A new review and a
       review whose text changed are pending; an analysed one is not, so a re-run sends nothing.
    2. Page by page (``page_size`` reviews, fetched by number: no record value in SQL or binds), the
       texts are cut to 5,000 bytes and sent to Comprehend (see SentimentAnalyser), and the verdicts
       are staged and MERGEd (``save_sentiment.sql``) before the next page, so a failure loses at most
       one page of work and the task's retry resumes where it stopped.

    Returns (and logs) counts: pending, analysed, failed by error code, labels, calls, throttles,
    retries. Reviews that fail twice stay pending for the next run; the count is logged.

    :param aws_conn_id: default from GENAI_AWS_CONN_ID
    :param language_code: the language the reviews are analysed as (templated), default ``en``
    """

    template_fields: Sequence[str] = (*SnowflakeStepsOperator.template_fields, "aws_conn_id", "language_code")
    dag_sql = DAG_SQL

    def __init__(
        self,
        *,
        aws_conn_id: str | None = None,
        language_code: str = "en",
        page_size: int = 1000,
        concurrency: int = 4,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if page_size < 1 or concurrency < 1:
            raise ValueError("page_size and concurrency must be >= 1")
        self.aws_conn_id = aws_conn_id
        self.language_code = language_code
        self.page_size = page_size
        self.concurrency = concurrency
        self.backoff = backoff or Backoff(max_attempts=8, base_seconds=0.5, cap_seconds=20.0)
        self.sleep = sleep

    @cached_property
    def comprehend(self) -> Any:
        return comprehend_client(self.aws_conn_id or self.settings.aws_conn_id, self.concurrency)

    def execute(self, context: Context) -> dict[str, object]:
        database = self.resolve_database()
        stats = CallStats()
        labels: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        analysed = 0
        with closing(self.snowflake_hook.get_conn()) as conn:
            (pending,) = self.run_step(conn, "select_pending", {"database": database})[-1].fetchone()
            pending = int(pending)
            self.log.info("%d review(s) without sentiment for their current text", pending)
            caller = ModelCaller(self.backoff, stats, self.sleep, random.Random())
            for first in range(1, pending + 1, self.page_size):
                # the client is built only when there is work: a run with nothing pending makes no AWS call at all
                analyser = SentimentAnalyser(self.comprehend, caller, self.language_code, self.concurrency)
                documents = self._page(conn, first, first + self.page_size - 1)
                outcome = analyser.analyse(documents)
                analysed += self._save(conn, database, outcome.scored)
                labels.update(sentiment.label for sentiment in outcome.scored.values())
                failed.update(outcome.failed.values())
                if outcome.error is not None:
                    raise AirflowException(
                        f"Comprehend BatchDetectSentiment failed: {outcome.error}; {analysed} verdict(s) saved "
                        f"before it, the retry resumes with the rest"
                    )
        summary: dict[str, object] = {
            "pending": pending, "analysed": analysed, "failed": sum(failed.values()),
            "failed_by_error": dict(sorted(failed.items())), "labels": dict(sorted(labels.items())),
            **{name: value for name, value in stats.as_dict().items() if name not in ("input_tokens", "output_tokens")},
        }
        if failed:
            self.log.warning(
                "%d review(s) left without sentiment after Comprehend returned errors for them twice (%s); "
                "the next run tries them again", sum(failed.values()), json.dumps(dict(sorted(failed.items()))),
            )
        self.log.info("review sentiment summary: %s", json.dumps(summary, sort_keys=True))
        return summary

    def _page(self, conn: Any, first: int, last: int) -> list[Document[ReviewKey]]:
        with closing(conn.cursor()) as cursor:
            # the page bounds are row numbers, the only bind values: no record value is logged with the query
            cursor.execute(render_sql(DAG_SQL, "pending_page"), {"first": first, "last": last})
            rows = cursor.fetchall()
        documents = [document((product_id, review_id, content_hash), title, content)
                     for product_id, review_id, content_hash, title, content in rows]
        return [doc for doc in documents if doc is not None]

    def _save(self, conn: Any, database: str, scored: dict[ReviewKey, Sentiment]) -> int:
        """Stage the verdicts as CSV, PUT, COPY and MERGE them; returns how many rows the MERGE wrote."""
        if not scored:
            return 0
        with self.staging_folder(prefix="review-sentiment-") as folder:
            parted = PartedCsv(folder / "sentiment")
            try:
                for (product_id, review_id, content_hash), s in sorted(scored.items()):
                    parted.write((product_id, review_id, content_hash, s.label, repr(s.positive), repr(s.negative),
                                  repr(s.neutral), repr(s.mixed), self.language_code))
            finally:
                parted.close()
            cursors = self.run_step(conn, "save_sentiment", {
                "database": database, "stage_path": uuid.uuid4().hex, "parts": [str(p) for p in parted.parts],
            })
        inserted, updated = merge_counts(cursors[-1])
        return inserted + updated
