"""Comprehend-shaped sentiment from VADER, a real (English) lexicon-and-rules model.

Mapping rule (documented in README.md):

* label: MIXED when VADER finds both a positive and a negative share of at least 0.15
  and the smaller share is at least half the larger one (neither side dominates); otherwise VADER's own thresholds on ``compound``: >= 0.05 POSITIVE, <= -0.05 NEGATIVE,
  else NEUTRAL.
* scores: start from VADER's shares (Positive=pos, Negative=neg, Neutral=neu,
  Mixed=2*min(pos, neg)), add 1.0 to the label's score so the label is always the
  highest, then divide by the total so the four scores sum to 1.
"""

from __future__ import annotations

import threading

MIXED_SHARE = 0.15
MIXED_BALANCE = 0.5
_analyzer = None
_lock = threading.Lock()


def _vader():
    global _analyzer
    with _lock:
        if _analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            _analyzer = SentimentIntensityAnalyzer()
        return _analyzer


def label_and_scores(pos: float, neg: float, neu: float, compound: float) -> tuple[str, dict[str, float]]:
    if min(pos, neg) >= MIXED_SHARE and min(pos, neg) >= MIXED_BALANCE * max(pos, neg):
        label = "MIXED"
    elif compound >= 0.05:
        label = "POSITIVE"
    elif compound <= -0.05:
        label = "NEGATIVE"
    else:
        label = "NEUTRAL"
    raw = {"Positive": pos, "Negative": neg, "Neutral": neu, "Mixed": 2 * min(pos, neg)}
    raw[label.capitalize()] += 1.0
    total = sum(raw.values())
    return label, {key: round(value / total, 6) for key, value in raw.items()}


def detect_sentiment(text: str) -> tuple[str, dict[str, float]]:
    scores = _vader().polarity_scores(text)
    return label_and_scores(scores["pos"], scores["neg"], scores["neu"], scores["compound"])
