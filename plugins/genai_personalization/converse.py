"""Claude on Bedrock through the Converse API, with structured output by tool use.

The client is the amazon provider's BedrockRuntimeHook's (``bedrock_runtime_client``: credentials,
region and endpoint from the Airflow connection, botocore retries off); every attempt goes through
genai_personalization.bedrock.ModelCaller: full-jitter backoff on ThrottlingException and 5xx,
counters of calls, throttles, retries and tokens. The request always sets ``maxTokens`` (Bedrock
reserves input + maxTokens against the tokens-per-minute quota) and forces the one tool
(``toolChoice``), so the answer is the tool's JSON input, never free text to parse. Nothing here
logs request or response text: prompts carry customer data.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from genai_personalization.bedrock import ModelCallError, ModelCaller, _first_line, error_code
from include.retry import Backoff, is_retryable, is_throttle
from include.campaign.generation import ModelAnswer
from include.campaign.prompt import WRITE_EMAIL_TOOL


T = TypeVar("T")


class QuotaPatientCaller(ModelCaller):
    """A ModelCaller that waits out a tokens-per-minute quota instead of giving up on it.

    ``ModelCaller.call`` allows ``backoff.max_attempts`` attempts whatever the error. That is right for
    5xx, but under a TPM quota a throttle says "not now", not "broken": Bedrock's window is a sliding
    minute, so after a burst every caller may be throttled for up to a minute, longer than any
    reasonable attempt count covers, and customers would fail for a limit that frees itself. Here
    throttles are retried (full-jitter backoff, capped at ``backoff.cap_seconds``) until
    ``throttle_patience_seconds`` have passed since the first attempt; other retryable errors still
    get ``max_attempts``. Counters are the same as ModelCaller's.
    """

    def __init__(self, backoff: Backoff, throttle_patience_seconds: float = 600.0, *,
                 clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        super().__init__(backoff, **kwargs)
        self.throttle_patience_seconds = throttle_patience_seconds
        self._clock = clock

    def call(self, attempt: Callable[[], T]) -> T:
        started = self._clock()
        sent = errors = 0
        while True:
            sent += 1
            self.stats.add(calls=1)
            try:
                return attempt()
            except Exception as error:  # noqa: BLE001 (classified below; unknown errors are re-raised as ModelCallError)
                code, status = error_code(error)
                throttled = is_throttle(code)
                self.stats.add(throttles=int(throttled), server_errors=int(not throttled and (status or 0) >= 500))
                if not is_retryable(code, status):
                    self.stats.add(failures=1)
                    raise ModelCallError(code, sent, _first_line(error)) from error
                errors += int(not throttled)
                if errors >= self.backoff.max_attempts or (
                        throttled and self._clock() - started >= self.throttle_patience_seconds):
                    self.stats.add(failures=1)
                    raise ModelCallError(code, sent) from error
                self.stats.add(retries=1)
                # the n-th retry of this call, whatever the errors were: full jitter up to the cap
                self._sleep(self.backoff.delay(min(sent, 30), self._rng))


class ConverseToolModel:
    """``model(system, user) -> ModelAnswer``: one Converse request forcing ``tool``, retried by ``caller``."""

    def __init__(self, client: Any, caller: ModelCaller, model_id: str, max_tokens: int,
                 temperature: float | None = None, tool: Mapping[str, Any] = WRITE_EMAIL_TOOL) -> None:
        if max_tokens < 1:
            raise ValueError("maxTokens must be set: Bedrock reserves it against the tokens-per-minute quota")
        self.client = client
        self.caller = caller
        self.model_id = model_id
        self.tool = dict(tool)
        self.tool_name = str(self.tool["toolSpec"]["name"])
        self.inference_config: dict[str, Any] = {"maxTokens": int(max_tokens)}
        if temperature is not None:
            self.inference_config["temperature"] = float(temperature)

    def request(self, system: str, user: str) -> dict[str, Any]:
        return {
            "modelId": self.model_id,
            "system": [{"text": system}],
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "inferenceConfig": self.inference_config,
            "toolConfig": {"tools": [self.tool], "toolChoice": {"tool": {"name": self.tool_name}}},
        }

    def __call__(self, system: str, user: str) -> ModelAnswer:
        request = self.request(system, user)

        def attempt() -> dict[str, Any]:
            response = self.client.converse(**request)
            usage = response.get("usage") or {}
            self.caller.stats.add(input_tokens=int(usage.get("inputTokens") or 0),
                                  output_tokens=int(usage.get("outputTokens") or 0))
            return response

        return self.answer(self.caller.call(attempt))

    def answer(self, response: Mapping[str, Any]) -> ModelAnswer:
        """The tool input of a Converse response (None when the model did not call the tool)."""
        usage = response.get("usage") or {}
        content = ((response.get("output") or {}).get("message") or {}).get("content") or []
        tool_input = None
        for block in content:
            use = block.get("toolUse") if isinstance(block, Mapping) else None
            if use and use.get("name") == self.tool_name:
                tool_input = use.get("input")  # parse_draft decides whether it is usable (a dict, or JSON text)
                break
        return ModelAnswer(tool_input=tool_input, stop_reason=str(response.get("stopReason") or "unknown"),
                           input_tokens=int(usage.get("inputTokens") or 0),
                           output_tokens=int(usage.get("outputTokens") or 0))
