"""Bedrock batch inference records for the campaign: JSONL in, answers mapped back by recordId.

Plain Python (no Airflow, no boto3). The operator (genai_personalization.operators.campaign_batch)
writes one record per customer, ``{"recordId": <customer id>, "modelInput": <Claude messages body>}``,
built from the very prompt the on-demand path would send (same PromptBuilder, same tool, same
maxTokens). The job's output lines come back in any order, some as error lines; they are joined
to the input records by ``recordId`` only, and each answer is keyed by the prompt it answers
(:func:`prompt_key`), so the on-demand generation loop can be served the batch answer for its
first call and go to Converse for anything else (a record that failed or is missing, or the
retry after a failed validation, whose prompt carries the feedback).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from include.campaign.config import BEDROCK_BATCH_MIN_RECORDS
from include.campaign.prompt import WRITE_EMAIL_TOOL

ANTHROPIC_VERSION = "bedrock-2023-05-31"
LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/genai-bedrock-batch-inference"
INPUT_FILE = "input.jsonl"


@dataclass(frozen=True)
class BatchSettings:
    """GENAI_BEDROCK_BATCH_ROLE_ARN (the service role Bedrock assumes to read and write S3; the default is
    a placeholder the local stand-in accepts), GENAI_CAMPAIGN_BATCH_POLL_SECONDS (job status poll, default
    60), GENAI_CAMPAIGN_BATCH_MAX_POLLS (default 24 h worth), GENAI_CAMPAIGN_BATCH_MIN_RECORDS (a batch with
    fewer customers goes on demand; at least Bedrock's minimum, 100)."""

    role_arn: str = LOCAL_ROLE_ARN
    poll_seconds: int = 60
    max_polls: int = 1440
    min_records: int = BEDROCK_BATCH_MIN_RECORDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BatchSettings:
        env = os.environ if env is None else env

        def whole(name: str, default: int, low: int) -> int:
            raw = (env.get(name) or "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError:
                raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")
            return value

        role = (env.get("GENAI_BEDROCK_BATCH_ROLE_ARN") or "").strip() or LOCAL_ROLE_ARN
        if not role.startswith("arn:") or ":role/" not in role:
            raise ValueError("GENAI_BEDROCK_BATCH_ROLE_ARN must be an IAM role ARN")
        return cls(role_arn=role, poll_seconds=whole("GENAI_CAMPAIGN_BATCH_POLL_SECONDS", 60, 1),
                   max_polls=whole("GENAI_CAMPAIGN_BATCH_MAX_POLLS", 1440, 1),
                   min_records=whole("GENAI_CAMPAIGN_BATCH_MIN_RECORDS", BEDROCK_BATCH_MIN_RECORDS,
                                     BEDROCK_BATCH_MIN_RECORDS))


def prompt_key(system: str, user: str) -> str:
    """The identity of one prompt (no text kept: a digest)."""
    return hashlib.sha256(f"{system}\x00{user}".encode()).hexdigest()


def model_input(system: str, user: str, max_tokens: int, temperature: float | None = None,
                tool: Mapping[str, Any] = WRITE_EMAIL_TOOL) -> dict[str, Any]:
    """The InvokeModel body for Claude (messages API) forcing the write_email tool, as Converse sends it."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be set")
    spec = tool["toolSpec"]
    body: dict[str, Any] = {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": int(max_tokens),
        "system": system,
        "messages": [{"role": "user", "content": [{"type": "text", "text": user}]}],
        "tools": [{"name": spec["name"], "description": spec.get("description", ""),
                   "input_schema": spec["inputSchema"]["json"]}],
        "tool_choice": {"type": "tool", "name": spec["name"]},
    }
    if temperature is not None:
        body["temperature"] = float(temperature)
    return body


def record_line(record_id: str, body: Mapping[str, Any]) -> bytes:
    return (json.dumps({"recordId": str(record_id), "modelInput": body}, ensure_ascii=False) + "\n").encode()


def input_prompt_keys(lines: Iterable[str | bytes]) -> dict[str, str]:
    """recordId -> prompt key of the input JSONL (system and the first user text of each modelInput)."""
    keys: dict[str, str] = {}
    for line in lines:
        text = line.decode() if isinstance(line, bytes) else line
        if not text.strip():
            continue
        record = json.loads(text)
        body = record["modelInput"]
        user = "".join(block.get("text", "") for block in body["messages"][0]["content"]
                       if isinstance(block, Mapping) and block.get("type") == "text")
        keys[str(record["recordId"])] = prompt_key(str(body.get("system") or ""), user)
    return keys


@dataclass(frozen=True)
class BatchOutput:
    answers: dict[str, dict[str, Any]]  # recordId -> Claude response body (modelOutput)
    errors: dict[str, str]  # recordId -> error code (no message: it may quote the record)
    unreadable: int  # lines that are not JSON or have no recordId


def parse_output(lines: Iterable[str | bytes]) -> BatchOutput:
    """Output lines (any order) by recordId: answers, error records, unreadable lines."""
    answers: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    unreadable = 0
    for line in lines:
        text = line.decode() if isinstance(line, bytes) else line
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            unreadable += 1
            continue
        record_id = record.get("recordId") if isinstance(record, dict) else None
        if record_id is None:
            unreadable += 1
            continue
        output = record.get("modelOutput")
        if isinstance(output, dict) and not record.get("error"):
            answers[str(record_id)] = output
            errors.pop(str(record_id), None)
        elif str(record_id) not in answers:
            error = record.get("error") or {}
            errors[str(record_id)] = str(error.get("errorCode", "no modelOutput")) if isinstance(error, dict) else "error"
    return BatchOutput(answers, errors, unreadable)


def converse_response(output: Mapping[str, Any]) -> dict[str, Any]:
    """A Claude messages response (InvokeModel / batch modelOutput) in the Converse response shape."""
    content = []
    for block in output.get("content") or []:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "tool_use":
            content.append({"toolUse": {"toolUseId": block.get("id", ""), "name": block.get("name"),
                                        "input": block.get("input")}})
        elif block.get("type") == "text":
            content.append({"text": block.get("text", "")})
    usage = output.get("usage") or {}
    return {"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": str(output.get("stop_reason") or "unknown"),
            "usage": {"inputTokens": int(usage.get("input_tokens") or 0),
                      "outputTokens": int(usage.get("output_tokens") or 0)}}


def answers_by_prompt(input_keys: Mapping[str, str], output: BatchOutput) -> dict[str, dict[str, Any]]:
    """prompt key -> Converse-shaped answer, for every record that has an answer (joined by recordId)."""
    return {input_keys[rid]: converse_response(answer) for rid, answer in output.answers.items() if rid in input_keys}


def safe_part(value: str, limit: int = 40) -> str:
    """A value as a job-name / S3-key part: letters, digits and '-' only."""
    cleaned = "".join(c if c.isalnum() and c.isascii() else "-" for c in value).strip("-")
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "-")
    return cleaned[:limit].strip("-") or "x"
