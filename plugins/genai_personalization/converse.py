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

from collections.abc import Mapping
from typing import Any

from genai_personalization.bedrock import ModelCaller
from include.campaign.generation import ModelAnswer
from include.campaign.prompt import WRITE_EMAIL_TOOL


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
