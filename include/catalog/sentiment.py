"""The pure parts of review sentiment with Amazon Comprehend BatchDetectSentiment (no Airflow, no boto3).

* The text analysed for a review is its title and content joined by a newline (the string whose
  sha256 is the review's CONTENT_HASH), stripped, then cut to the service's limit of 5,000 bytes of
  UTF-8 on a character boundary (a cut inside a multi-byte character would make the text invalid).
* A call takes at most 25 documents.
* A response has a ResultList (Index, Sentiment, SentimentScore) and an ErrorList (Index,
  ErrorCode, ErrorMessage); :func:`read_batch_response` maps both back to the batch's documents, and
  a document the response does not mention at all counts as an error, so nothing is lost silently.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

MAX_DOCUMENTS = 25  # BatchDetectSentiment: documents per call
MAX_BYTES = 5000  # BatchDetectSentiment: UTF-8 bytes per document
SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
MISSING_RESULT = "MissingResult"  # our code for a document the response neither scored nor listed as an error
BAD_RESULT = "MalformedResult"  # our code for a result without a known label or four scores

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def review_text(title: str | None, content: str | None) -> str:
    """The text sentiment is measured on (before the byte cut); empty when the review has no words."""
    return f"{title or ''}\n{content or ''}".strip()


def cut_utf8(text: str, max_bytes: int = MAX_BYTES) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8, never inside a character."""
    if max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    # the head of a valid encoding is valid except for at most one incomplete character at its end
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def batches(items: Iterable[T], size: int = MAX_DOCUMENTS) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items, in order, none empty."""
    if size < 1:
        raise ValueError("size must be >= 1")
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class Document(Generic[K]):
    key: K  # e.g. (product_id, review_id, content_hash)
    text: str  # already cut to MAX_BYTES


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: str  # POSITIVE | NEGATIVE | NEUTRAL | MIXED
    positive: float
    negative: float
    neutral: float
    mixed: float


def document(key: K, title: str | None, content: str | None) -> Document[K] | None:
    """The document Comprehend is sent for one review, or None when the review has no text to analyse."""
    text = review_text(title, content)
    return Document(key, cut_utf8(text)) if text else None


def read_batch_response(
    batch: Sequence[Document[K]], response: dict[str, Any]
) -> tuple[dict[K, Sentiment], dict[K, str]]:
    """(scored documents, error code per document that was not scored) for one BatchDetectSentiment response."""
    scored: dict[K, Sentiment] = {}
    errors: dict[K, str] = {}
    for item in response.get("ResultList") or ():
        index = item.get("Index")
        if not isinstance(index, int) or not 0 <= index < len(batch):
            continue
        sentiment = _sentiment(item)
        if sentiment is None:
            errors[batch[index].key] = BAD_RESULT
        else:
            scored[batch[index].key] = sentiment
    for item in response.get("ErrorList") or ():
        index = item.get("Index")
        if isinstance(index, int) and 0 <= index < len(batch) and batch[index].key not in scored:
            errors[batch[index].key] = str(item.get("ErrorCode") or "UnknownError")
    for doc in batch:
        if doc.key not in scored and doc.key not in errors:
            errors[doc.key] = MISSING_RESULT
    return scored, errors


def _sentiment(item: dict[str, Any]) -> Sentiment | None:
    label = item.get("Sentiment")
    scores = item.get("SentimentScore") or {}
    values = [scores.get(name) for name in ("Positive", "Negative", "Neutral", "Mixed")]
    if label not in SENTIMENTS or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    return Sentiment(label, *(float(v) for v in values))  # type: ignore[arg-type]
