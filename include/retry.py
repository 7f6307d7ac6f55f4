"""Retry policy for AWS model calls: which errors are worth retrying, and how long to wait.

Bedrock and Comprehend answer overload with ThrottlingException (HTTP 429, or 400 on JSON-protocol
services) and transient faults with 5xx. Both are retried with exponential backoff and *full
jitter* (a random wait in [0, min(cap, base * 2**attempt)]), so that many workers throttled at
once do not retry in lockstep. Everything else (validation, access denied, unknown model) is a
bug or a configuration error: retrying would only hide it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

THROTTLING_CODES = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "LimitExceededException",
})
TRANSIENT_CODES = frozenset({
    "ServiceUnavailableException", "InternalServerException", "InternalServerError", "ModelNotReadyException",
    "ModelTimeoutException", "ServiceUnavailable", "InternalFailure", "RequestTimeout",
})


def is_throttle(code: str | None) -> bool:
    return code in THROTTLING_CODES


def is_retryable(code: str | None, http_status: int | None) -> bool:
    return is_throttle(code) or code in TRANSIENT_CODES or (http_status is not None and http_status >= 500)


@dataclass(frozen=True)
class Backoff:
    max_attempts: int = 8
    base_seconds: float = 0.5
    cap_seconds: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_seconds < 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("backoff needs 0 <= base_seconds <= cap_seconds")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): full jitter."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** (attempt - 1)))
        return (rng or random).uniform(0.0, ceiling)
