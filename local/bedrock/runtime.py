"""Wire formats of bedrock-runtime: Converse, Claude messages and Titan embeddings v2 bodies.

Only mapping and validation live here; the answers come from ``generator`` and
``embeddings``. Validation messages imitate Bedrock's so client error handling is exercised.
"""

from __future__ import annotations

import json
import re
from typing import Any

from local.bedrock.errors import ServiceError, validation
from local.bedrock.generator import ChatRequest, Generation, Tool, stable_id
from local.bedrock.tokens import count_tokens

TITAN_EMBED_V2 = "amazon.titan-embed-text-v2:0"
TITAN_DIMENSIONS = (256, 512, 1024)
TITAN_MAX_CHARS = 50_000

_ARN_PREFIX = re.compile(r"^arn:aws[\w-]*:bedrock:[\w-]*:\d*:(?:foundation-model|inference-profile)/")
_GEO_PREFIX = r"(?:(?:us|eu|apac|global|jp|au|ca|us-gov)\.)?"
_CLAUDE = re.compile(rf"^{_GEO_PREFIX}anthropic\.claude[\w.:-]*$")
_TEXT_MODEL = re.compile(
    rf"^{_GEO_PREFIX}(?:anthropic\.claude|amazon\.nova-|meta\.llama|mistral\.|cohere\.command)[\w.:-]*$"
)
INVALID_MODEL = "The provided model identifier is invalid."


def normalize_model_id(model_id: str) -> str:
    return _ARN_PREFIX.sub("", model_id)


def is_claude(model_id: str) -> bool:
    return bool(_CLAUDE.match(normalize_model_id(model_id)))


def is_text_model(model_id: str) -> bool:
    return bool(_TEXT_MODEL.match(normalize_model_id(model_id)))


def is_titan_embed_v2(model_id: str) -> bool:
    return normalize_model_id(model_id) == TITAN_EMBED_V2


def parse_json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise validation("Malformed input request, please reformat your input and try again.")
    if not isinstance(body, dict):
        raise validation("Malformed input request: #: expected type: JSONObject")
    return body


# ---------------------------------------------------------------------------- Converse


def converse_request(body: dict[str, Any], default_max_tokens: int) -> tuple[ChatRequest, int]:
    """Map a Converse body; returns the request and its input token count."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise validation("The model returned the following errors: messages: field required")
    if messages[0].get("role") != "user":
        raise validation("A conversation must start with a user message. Try again with a "
                         "conversation that starts with a user message.")
    turns: list[tuple[str, str]] = []
    last_is_tool_result = False
    for message in messages:
        role = message.get("role")
        if role not in ("user", "assistant") or not isinstance(message.get("content"), list):
            raise validation("messages: each message needs role user|assistant and content")
        texts, last_is_tool_result = [], False
        for block in message["content"]:
            if "text" in block:
                texts.append(str(block["text"]))
            elif "toolResult" in block:
                last_is_tool_result = True
                for item in block["toolResult"].get("content", []):
                    texts.append(str(item.get("text", json.dumps(item.get("json", "")))))
            elif "toolUse" in block:
                texts.append(json.dumps(block["toolUse"].get("input", {})))
        turns.append((role, "\n".join(texts)))
    system = [str(block["text"]) for block in body.get("system", []) if "text" in block]
    max_tokens = body.get("inferenceConfig", {}).get("maxTokens", default_max_tokens)
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise validation("inferenceConfig.maxTokens must be a positive integer")

    tools: list[Tool] = []
    tool_choice = None
    tool_config = body.get("toolConfig")
    if tool_config:
        for tool in tool_config.get("tools", []):
            spec = tool.get("toolSpec")
            if spec:
                schema = spec.get("inputSchema", {}).get("json")
                if not isinstance(schema, dict) or not spec.get("name"):
                    raise validation("toolConfig: each toolSpec needs a name and inputSchema.json")
                tools.append(Tool(spec["name"], schema))
        choice = tool_config.get("toolChoice", {})
        tool_choice = choice["tool"]["name"] if "tool" in choice else ("any" if "any" in choice else "auto")
        if tool_choice not in ("any", "auto") and tool_choice not in {t.name for t in tools}:
            raise validation("toolChoice names a tool that is not in toolConfig.tools")
    request = ChatRequest(system=system, messages=turns, tools=tools, tool_choice=tool_choice,
                          max_tokens=max_tokens, last_turn_is_tool_result=last_is_tool_result)
    return request, _input_tokens(request)


def converse_response(request: ChatRequest, result: Generation, input_tokens: int,
                      latency_ms: int) -> dict[str, Any]:
    if result.tool_input is not None:
        content = [{"toolUse": {"toolUseId": stable_id("tooluse_", result.tool_input),
                                "name": result.tool_name, "input": result.tool_input}}]
    else:
        content = [{"text": result.text or ""}]
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": result.stop_reason,
        "usage": {"inputTokens": input_tokens, "outputTokens": result.output_tokens,
                  "totalTokens": input_tokens + result.output_tokens},
        "metrics": {"latencyMs": latency_ms},
    }


def _input_tokens(request: ChatRequest) -> int:
    text = "\n".join(request.system + [t for _, t in request.messages])
    tools = json.dumps([t.schema for t in request.tools]) if request.tools else ""
    return count_tokens(text) + count_tokens(tools)


# ---------------------------------------------------------------------------- Claude


def claude_request(body: dict[str, Any]) -> tuple[ChatRequest, int]:
    for key in ("anthropic_version", "max_tokens", "messages"):
        if key not in body:
            raise validation(f"Malformed input request: #: required key [{key}] not found, "
                             "please reformat your input and try again.")
    max_tokens, messages = body["max_tokens"], body["messages"]
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise validation("Malformed input request: #/max_tokens: must be a positive integer")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict) \
            or messages[0].get("role") != "user":
        raise validation("Malformed input request: #/messages: first message must use the user role")
    turns: list[tuple[str, str]] = []
    last_is_tool_result = False
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise validation("Malformed input request: #/messages: role must be user or assistant")
        text, last_is_tool_result = _claude_text(message.get("content"))
        turns.append((message["role"], text))
    system_raw = body.get("system", [])
    system = [system_raw] if isinstance(system_raw, str) else [_claude_text(system_raw)[0]]
    tools = []
    for tool in body.get("tools", []) or []:
        if not isinstance(tool, dict) or not tool.get("name") or not isinstance(tool.get("input_schema"), dict):
            raise validation("Malformed input request: #/tools: each tool needs name and input_schema")
        tools.append(Tool(tool["name"], tool["input_schema"]))
    choice = body.get("tool_choice") or {}
    tool_choice = choice.get("name") if choice.get("type") == "tool" else choice.get("type")
    request = ChatRequest(system=system, messages=turns, tools=tools, tool_choice=tool_choice,
                          max_tokens=max_tokens, last_turn_is_tool_result=last_is_tool_result)
    return request, _input_tokens(request)


def _claude_text(content: Any) -> tuple[str, bool]:
    if isinstance(content, str):
        return content, False
    if not isinstance(content, list):
        raise validation("Malformed input request: #/messages/content: expected string or array")
    texts, tool_result = [], False
    for block in content:
        if not isinstance(block, dict):
            raise validation("Malformed input request: #/messages/content: expected objects")
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_result":
            tool_result = True
            inner = block.get("content", "")
            texts.append(inner if isinstance(inner, str) else _claude_text(inner)[0])
        elif block.get("type") == "tool_use":
            texts.append(json.dumps(block.get("input", {})))
    return "\n".join(texts), tool_result


def claude_response(model_id: str, result: Generation, input_tokens: int) -> dict[str, Any]:
    if result.tool_input is not None:
        content = [{"type": "tool_use", "id": stable_id("toolu_bdrk_", result.tool_input),
                    "name": result.tool_name, "input": result.tool_input}]
    else:
        content = [{"type": "text", "text": result.text or ""}]
    model = normalize_model_id(model_id).split("anthropic.", 1)[-1]
    return {
        "id": stable_id("msg_bdrk_", [content, input_tokens]),
        "type": "message",
        "role": "assistant",
        "model": model.rsplit("-v", 1)[0] if re.search(r"-v\d+:\d+$", model) else model,
        "content": content,
        "stop_reason": result.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": result.output_tokens},
    }


# ---------------------------------------------------------------------------- Titan v2


def titan_request(body: dict[str, Any]) -> tuple[str, int, bool]:
    text = body.get("inputText")
    if not isinstance(text, str) or not text:
        raise validation("Malformed input request: #: required key [inputText] not found, "
                         "please reformat your input and try again.")
    if len(text) > TITAN_MAX_CHARS:
        raise validation(f"Malformed input request: #/inputText: expected maxLength: {TITAN_MAX_CHARS}")
    dims = body.get("dimensions", 1024)
    if dims not in TITAN_DIMENSIONS:
        raise validation(f"Malformed input request: #/dimensions: {dims} is not a valid enum "
                         "value, please reformat your input and try again.")
    normalize = body.get("normalize", True)
    if not isinstance(normalize, bool):
        raise validation("Malformed input request: #/normalize: expected type: Boolean")
    types = body.get("embeddingTypes", ["float"])
    if types != ["float"]:
        raise ServiceError("ValidationException",
                           "The local stand-in only supports embeddingTypes [\"float\"].")
    return text, dims, normalize
