"""Retries, backoff and bounded concurrency of model calls (include/retry.py, genai_personalization.bedrock)."""

from __future__ import annotations

import random
import threading
import time

import pytest
from botocore.exceptions import ClientError

from genai_personalization.bedrock import CallStats, ModelCallError, ModelCaller
from include.retry import Backoff, is_retryable, is_throttle


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "InvokeModel")


def test_retryable_codes() -> None:
    assert is_throttle("ThrottlingException") and is_retryable("ThrottlingException", 429)
    assert is_retryable("ServiceUnavailableException", 503) and is_retryable("Whatever", 500)
    assert not is_retryable("ValidationException", 400) and not is_retryable("AccessDeniedException", 403)


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    backoff = Backoff(max_attempts=6, base_seconds=0.5, cap_seconds=4.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0)]:
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spreads over the whole range
    with pytest.raises(ValueError):
        Backoff(max_attempts=0)


def test_throttles_and_5xx_are_retried_then_succeed() -> None:
    outcomes = [client_error("ThrottlingException", 429), client_error("InternalServerException", 500), "ok"]
    slept: list[float] = []
    caller = ModelCaller(Backoff(max_attempts=5), sleep=slept.append, rng=random.Random(0))

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert caller.call(attempt) == "ok"
    assert caller.stats.as_dict() == {"calls": 3, "throttles": 1, "server_errors": 1, "retries": 2, "failures": 0,
                                   "input_tokens": 0, "output_tokens": 0}
    assert len(slept) == 2


def test_validation_errors_fail_at_once_and_attempts_are_bounded() -> None:
    caller = ModelCaller(Backoff(max_attempts=3), sleep=lambda s: None)
    with pytest.raises(ModelCallError, match="^ValidationException after 1 attempt"):
        caller.call(lambda: (_ for _ in ()).throw(client_error("ValidationException", 400)))
    with pytest.raises(ModelCallError, match="^ThrottlingException after 3 attempt"):
        caller.call(lambda: (_ for _ in ()).throw(client_error("ThrottlingException", 429)))
    assert caller.stats.failures == 2 and caller.stats.calls == 4


def test_map_bounds_concurrency_and_yields_failures_without_losing_the_rest() -> None:
    running, peak, lock = 0, 0, threading.Lock()
    caller = ModelCaller(Backoff(max_attempts=1), stats=CallStats(), sleep=lambda s: None)

    def work(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        if item % 10 == 3:
            return caller.call(lambda: (_ for _ in ()).throw(client_error("ValidationException", 400)))
        return caller.call(lambda: item * 2)

    results = dict(caller.map(work, iter(range(40)), concurrency=3))
    assert peak <= 3
    assert sorted(results) == list(range(40))
    assert {k for k, v in results.items() if isinstance(v, ModelCallError)} == {3, 13, 23, 33}
    assert all(results[k] == k * 2 for k in results if k % 10 != 3)
