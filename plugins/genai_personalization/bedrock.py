"""Calling Bedrock models from tasks: the amazon provider's BedrockRuntimeHook, plus what it lacks.

The hook gives credentials, region and endpoint from the Airflow connection. This module adds the
reliability a batch job needs: bounded concurrency inside a task, exponential backoff with full
jitter on ThrottlingException and 5xx (include/retry.py), and counters of calls, throttles, retries
and tokens. botocore's own retries are switched off so that every attempt is counted here. Nothing
here logs request or response text: prompts carry customer data.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from include.retry import Backoff, is_retryable, is_throttle

T = TypeVar("T")
K = TypeVar("K")


class ModelCallError(Exception):
    """A call that failed for good: not retryable, or out of attempts. ``str()`` is one line."""

    def __init__(self, code: str, attempts: int, detail: str = "") -> None:
        self.code = code
        self.attempts = attempts
        super().__init__(f"{code} after {attempts} attempt(s)" + (f": {detail}" if detail else ""))


@dataclass
class CallStats:
    calls: int = 0  # attempts sent
    throttles: int = 0
    server_errors: int = 0
    retries: int = 0
    failures: int = 0  # texts or prompts given up on
    input_tokens: int = 0
    output_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {name: getattr(self, name) for name in
                    ("calls", "throttles", "server_errors", "retries", "failures", "input_tokens", "output_tokens")}


def error_code(error: BaseException) -> tuple[str, int | None]:
    """(code, HTTP status) of a botocore error; connection problems count as transient 5xx."""
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, ReadTimeoutError

    if isinstance(error, ClientError):
        response = error.response or {}
        return (str(response.get("Error", {}).get("Code") or "ClientError"),
                response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    if isinstance(error, (BotoConnectionError, ReadTimeoutError)):
        return type(error).__name__, 503
    return type(error).__name__, None


class ModelCaller:
    """Retry one model call with backoff, and run many with bounded concurrency."""

    def __init__(self, backoff: Backoff, stats: CallStats | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self.backoff = backoff
        self.stats = stats or CallStats()
        self._sleep = sleep
        self._rng = rng or random.Random()

    def call(self, attempt: Callable[[], T]) -> T:
        for number in range(1, self.backoff.max_attempts + 1):
            self.stats.add(calls=1)
            try:
                return attempt()
            except Exception as error:  # noqa: BLE001 (classified below; unknown errors are re-raised)
                code, status = error_code(error)
                throttled = is_throttle(code)
                self.stats.add(throttles=int(throttled), server_errors=int(not throttled and (status or 0) >= 500))
                if not is_retryable(code, status):
                    self.stats.add(failures=1)
                    raise ModelCallError(code, number, _first_line(error)) from error
                if number == self.backoff.max_attempts:
                    self.stats.add(failures=1)
                    raise ModelCallError(code, number) from error
                self.stats.add(retries=1)
                self._sleep(self.backoff.delay(number, self._rng))
        raise AssertionError("unreachable")

    def map(self, work: Callable[[K], T], items: Iterable[K], concurrency: int) -> Iterator[tuple[K, T | ModelCallError]]:
        """Run ``work(item)`` for every item with at most ``concurrency`` in flight; yields as they finish.

        ``work`` retries through :meth:`call` itself (it may make more than one call per item). Items are pulled lazily, so a long iterator (a database cursor) is never held in memory whole.
        A failure is yielded as its ModelCallError, not raised: the caller keeps what succeeded.
        """
        iterator = iter(items)
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="model-call") as pool:
            running: dict[Future[T], K] = {}

            def refill() -> None:
                while len(running) < concurrency:
                    item = next(iterator, _DONE)
                    if item is _DONE:
                        return
                    running[pool.submit(work, item)] = item  # type: ignore[arg-type]

            refill()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    item = running.pop(future)
                    error = future.exception()
                    if error is not None and not isinstance(error, ModelCallError):
                        raise error
                    yield item, (error if error is not None else future.result())  # type: ignore[misc]
                refill()


_DONE = object()


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:300]


def bedrock_runtime_client(aws_conn_id: str, max_connections: int = 10) -> Any:
    """A bedrock-runtime client from the Airflow connection, with botocore's retries off (ModelCaller retries)."""
    from airflow.providers.amazon.aws.hooks.bedrock import BedrockRuntimeHook
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=max(10, max_connections),
                    read_timeout=120)
    return BedrockRuntimeHook(aws_conn_id=aws_conn_id, config=config).conn


class TitanEmbedder:
    """Titan Text Embeddings v2 through InvokeModel, with ModelCaller's retries and counters."""

    def __init__(self, client: Any, config: Any, caller: ModelCaller) -> None:
        self.client = client
        self.config = config  # include.knowledge.embedding.EmbeddingConfig
        self.caller = caller

    def embed(self, text: str) -> tuple[list[float], int]:
        """(vector, input tokens the model counted)."""
        body = self.config.request_body(text)

        def attempt() -> tuple[list[float], int]:
            response = self.client.invoke_model(modelId=self.config.model_id, body=body,
                                                contentType="application/json", accept="application/json")
            vector, tokens = self.config.parse_response(json.loads(response["body"].read()))
            self.caller.stats.add(input_tokens=tokens)
            return vector, tokens

        return self.caller.call(attempt)
