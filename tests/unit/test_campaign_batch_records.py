"""Batch inference records: the JSONL record (Claude messages body forcing write_email, same prompt as on
demand), output lines mapped back by recordId whatever their order, error lines and missing records going
on demand, a failed validation retried on demand, settings."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest

from genai_personalization.bedrock import ModelCaller
from genai_personalization.converse import ConverseToolModel
from genai_personalization.operators.campaign_batch import BatchAnswerClient, job_name
from include.campaign.batch_records import (
    LOCAL_ROLE_ARN,
    BatchSettings,
    answers_by_prompt,
    converse_response,
    input_prompt_keys,
    model_input,
    parse_output,
    record_line,
    safe_part,
)
from include.campaign.generation import generate_email, written_language
from include.campaign.prompt import WRITE_EMAIL_TOOL, CustomerFacts, Product, PromptBuilder, TokenCounter, prompt_limits
from include.campaign.validation import ValidationLimits
from include.retry import Backoff
from tests.unit.campaign_fakes import StandInConverse, _tiktoken_offline  # noqa: F401

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
PAN = Product("B0PAN00001", "Cast Iron Skillet 26 cm", "Kitchen", Decimal("49.90"), "EUR")
SOCKS = Product("B0SOX00002", "Merino Wool Hiking Socks", "Clothing", Decimal("19.00"), "EUR")
PEOPLE = [("C001", "Anna", "Schneider", "de"), ("C002", "Camille", "Durand", "fr"), ("C003", "Oliver", "Smith", "en"),
          ("C004", "Lucía", "García", "es"), ("C005", "Giulia", "Rossi", "it")]


def builder() -> PromptBuilder:
    return PromptBuilder("Tarnwick Outdoor & Home", prompt_limits(ValidationLimits()), 2000, TokenCounter())


def customers() -> list[CustomerFacts]:
    return [CustomerFacts(cid, first, last, lang, "DE", (PAN, SOCKS), 2, ("Kitchen",)) for cid, first, last, lang in PEOPLE]


def records(facts: list[CustomerFacts]) -> list[bytes]:
    lines = []
    for f in facts:
        prompt = builder().build(f, written_language(f.preferred_language)[0])
        lines.append(record_line(f.customer_id, model_input(prompt.system, prompt.user, 900, 0.3)))
    return lines


def stand_in_output(line: bytes, bad_output: str | None = None) -> dict[str, Any]:
    """What the stand-in's batch job writes for a record (Claude InvokeModel answer)."""
    from local.bedrock.generator import generate
    from local.bedrock.runtime import claude_request, claude_response

    record = json.loads(line)
    chat, tokens = claude_request(record["modelInput"])
    return {**record, "modelOutput": claude_response(MODEL, generate(chat, bad_output=bad_output), tokens)}


def test_a_record_is_the_on_demand_prompt_as_a_claude_body_forcing_write_email() -> None:
    f = customers()[0]
    prompt = builder().build(f, "de")
    record = json.loads(records([f])[0])
    assert record["recordId"] == "C001"
    body = record["modelInput"]
    assert body["anthropic_version"] == "bedrock-2023-05-31"
    assert body["max_tokens"] == 900 and body["temperature"] == 0.3
    assert body["system"] == prompt.system
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": prompt.user}]}]
    assert body["tools"] == [{"name": "write_email", "description": WRITE_EMAIL_TOOL["toolSpec"]["description"],
                              "input_schema": WRITE_EMAIL_TOOL["toolSpec"]["inputSchema"]["json"]}]
    assert body["tool_choice"] == {"type": "tool", "name": "write_email"}
    # the stand-in (and Bedrock) accept it as an InvokeModel body
    assert stand_in_output(records([f])[0])["modelOutput"]["content"][0]["type"] == "tool_use"
    with pytest.raises(ValueError):
        model_input("s", "u", 0)


def test_output_lines_are_mapped_by_record_id_in_any_order_with_error_and_unreadable_lines() -> None:
    lines = records(customers())
    out = [json.dumps(stand_in_output(line)) for line in lines[:3]]
    out.append(json.dumps({"recordId": "C004", "modelInput": {}, "error": {"errorCode": 500, "errorMessage": "x"}}))
    out += ["not json", json.dumps({"modelOutput": {}}), ""]  # C005 missing altogether
    random.Random(7).shuffle(out)
    parsed = parse_output(out)
    assert set(parsed.answers) == {"C001", "C002", "C003"}
    assert parsed.errors == {"C004": "500"}
    assert parsed.unreadable == 2
    keys = input_prompt_keys(lines)
    assert set(keys) == {f"C00{n}" for n in range(1, 6)} and len(set(keys.values())) == 5
    answers = answers_by_prompt(keys, parsed)
    assert len(answers) == 3
    # each answer sits under its own customer's prompt, whatever the line order
    for rid in ("C001", "C002", "C003"):
        use = answers[keys[rid]]["output"]["message"]["content"][0]["toolUse"]
        assert use["name"] == "write_email" and use["input"] == parsed.answers[rid]["content"][0]["input"]


def test_converse_response_shape_and_text_answers() -> None:
    response = converse_response({"content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
                                  "usage": {"input_tokens": 5, "output_tokens": 2}})
    assert response == {"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
                        "stopReason": "end_turn", "usage": {"inputTokens": 5, "outputTokens": 2}}


def test_batch_answers_then_on_demand_for_error_missing_and_failed_validation() -> None:
    """C001-C002 answered well, C003 answered with an invented product (fails validation: retried on demand),
    C004 an error line, C005 missing: Converse gets exactly 3 requests and every customer is generated."""
    facts = customers()
    lines = records(facts)
    out = [json.dumps(stand_in_output(lines[0])), json.dumps(stand_in_output(lines[1])),
           json.dumps(stand_in_output(lines[2], bad_output="invented_product")),
           json.dumps({"recordId": "C004", "error": {"errorCode": 400, "errorMessage": "bad"}})]
    random.Random(3).shuffle(out)
    live = StandInConverse()
    client = BatchAnswerClient(live, answers_by_prompt(input_prompt_keys(lines), parse_output(out)))
    caller = ModelCaller(Backoff(max_attempts=2, base_seconds=0.01, cap_seconds=0.01), sleep=lambda s: None)
    model = ConverseToolModel(client, caller, MODEL, max_tokens=900, temperature=0.3)
    results = {f.customer_id: generate_email(f, builder(), model, limits=ValidationLimits()) for f in facts}
    assert {cid: r.status for cid, r in results.items()} == dict.fromkeys(results, "generated")
    assert client.served == 3 and client.fallbacks == 3 and len(live.requests) == 3
    assert results["C003"].attempts == 2 and results["C003"].validation_retries == 1
    assert all(results[c].attempts == 1 for c in ("C001", "C002", "C004", "C005"))
    assert results["C003"].product_ids and "P-INVENTED-0000" not in results["C003"].product_ids
    # an answer is used once: a second identical request goes to Converse
    assert client.answers == {}


def test_settings_and_names() -> None:
    assert BatchSettings.from_env({}).role_arn == LOCAL_ROLE_ARN
    assert BatchSettings.from_env({}).min_records == 100
    with pytest.raises(ValueError, match="GENAI_CAMPAIGN_BATCH_MIN_RECORDS"):
        BatchSettings.from_env({"GENAI_CAMPAIGN_BATCH_MIN_RECORDS": "10"})
    with pytest.raises(ValueError, match="ROLE_ARN"):
        BatchSettings.from_env({"GENAI_BEDROCK_BATCH_ROLE_ARN": "not-an-arn"})
    assert BatchSettings.from_env({"GENAI_CAMPAIGN_BATCH_POLL_SECONDS": "2"}).poll_seconds == 2
    assert safe_part("manual__2026-03-01T08:00:00+00:00") == "manual-2026-03-01T08-00-00-00-00"
    import re

    name = job_name({"campaign_id": "email-2026-03-01" * 5, "batch_no": 12}, 3)
    assert len(name) <= 63 and re.fullmatch(r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}", name) and "-b12-t3-" in name


def test_the_trigger_polls_until_the_job_ends_and_carries_what_the_task_resumes_with() -> None:
    import asyncio

    from genai_personalization.operators.campaign_batch import BatchJobTrigger

    def events(statuses: list[str], max_polls: int = 10) -> list[dict[str, Any]]:
        trigger = BatchJobTrigger(job_arn="arn:aws:bedrock:us-east-1:1:model-invocation-job/abc", aws_conn_id=None,
                                  poll_seconds=0, max_polls=max_polls, resume={"prefix": "p"})
        seen = iter(statuses)
        trigger.job_status = lambda: next(seen)  # type: ignore[method-assign]

        async def collect() -> list[dict[str, Any]]:
            return [event.payload async for event in trigger.run()]

        return asyncio.run(collect())

    done = events(["Submitted", "InProgress", "Completed"])
    assert done == [{"status": "success", "job_arn": "arn:aws:bedrock:us-east-1:1:model-invocation-job/abc",
                     "job_status": "Completed", "resume": {"prefix": "p"}}]
    assert events(["InProgress", "Failed"])[0]["status"] == "error"
    assert events(["PartiallyCompleted"])[0]["status"] == "success"
    assert events(["InProgress"] * 3, max_polls=3)[0] | {"resume": None} == {
        "status": "error", "job_arn": "arn:aws:bedrock:us-east-1:1:model-invocation-job/abc",
        "job_status": "InProgress", "resume": None}
    path, kwargs = BatchJobTrigger(job_arn="a", aws_conn_id="aws_default", resume={"x": 1}).serialize()
    assert path == "genai_personalization.operators.campaign_batch.BatchJobTrigger"
    assert BatchJobTrigger(**kwargs).serialize() == (path, kwargs)


def test_a_poll_that_fails_for_good_ends_the_wait_with_one_line_and_a_throttled_poll_polls_again() -> None:
    import asyncio

    from botocore.exceptions import ClientError

    from genai_personalization.operators.campaign_batch import BatchJobTrigger

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": f"{code} happened\nsecond line"},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "GetModelInvocationJob")

    def events(answers: list[object]) -> list[dict[str, Any]]:
        trigger = BatchJobTrigger(job_arn="arn:job/abc", aws_conn_id=None, poll_seconds=0, max_polls=10, resume={})
        seen = iter(answers)

        def job_status() -> str:
            answer = next(seen)
            if isinstance(answer, Exception):
                raise answer
            return str(answer)

        trigger.job_status = job_status  # type: ignore[method-assign]

        async def collect() -> list[dict[str, Any]]:
            return [event.payload async for event in trigger.run()]

        return asyncio.run(collect())

    assert events([client_error("ThrottlingException", 400), client_error("InternalServerException", 500),
                   "Completed"])[0]["status"] == "success"
    denied, = events(["InProgress", client_error("AccessDeniedException", 403)])
    assert denied["status"] == "poll_failed" and denied["job_status"] == "InProgress"
    assert denied["reason"].startswith("AccessDeniedException: An error occurred (AccessDeniedException)")
    assert "\n" not in denied["reason"]


class FakeOperator:
    """What complete_batch_job uses of GenerateEmailsOperator."""

    def __init__(self) -> None:
        import logging

        self.log = logging.getLogger("fake")
        self.aws_conn_id = "aws_default"
        self.bedrock_client = StandInConverse()
        self.ran_on_demand_with: list[Any] = []

        class Hook:
            def get_conn(self) -> Any:
                class Conn:
                    def close(self) -> None:
                        pass
                return Conn()

        self.snowflake_hook = Hook()

    def generate_on_demand(self, context: Any, conn: Any, params: dict[str, Any], config: Any) -> dict[str, Any]:
        self.ran_on_demand_with.append((params, self.__dict__["bedrock_client"]))
        return {"batch_no": params["batch_no"]}


def test_a_job_that_fails_as_a_whole_sends_the_batch_on_demand_without_reading_s3() -> None:
    from genai_personalization.operators.campaign_batch import BatchAnswerClient, complete_batch_job

    op = FakeOperator()
    real = op.bedrock_client
    params = {"batch_no": 2, "mode": "batch", "final_statuses": ["generated", "needs_review"]}
    event = {"status": "error", "job_arn": "arn:x/job1", "job_status": "Failed",
             "resume": {"params": params, "bucket": "b", "prefix": "p", "records": 120}}
    assert complete_batch_job(op, {}, None, event) == {"batch_no": 2}  # type: ignore[arg-type]
    (used_params, client), = op.ran_on_demand_with
    assert used_params["final_statuses"] == ("generated", "needs_review") and used_params["mode"] == "batch"
    assert isinstance(client, BatchAnswerClient) and client.answers == {} and client.client is real
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="lacks the job"):
        complete_batch_job(FakeOperator(), {}, None, {"status": "success"})  # type: ignore[arg-type]


def test_a_job_that_cannot_be_polled_fails_the_task_with_one_line_instead_of_paying_twice() -> None:
    from airflow.sdk.exceptions import AirflowException

    from genai_personalization.operators.campaign_batch import complete_batch_job

    op = FakeOperator()
    params = {"batch_no": 3, "mode": "batch", "final_statuses": ["generated"]}
    event = {"status": "poll_failed", "job_arn": "arn:x/job2", "job_status": "InProgress",
             "reason": "AccessDeniedException: not allowed", "resume": {"params": params, "bucket": "b", "prefix": "p",
                                                                       "records": 120}}
    with pytest.raises(AirflowException, match=r"^batch 3: polling Bedrock batch inference job arn:x/job2 failed: "
                                               r"AccessDeniedException: not allowed$"):
        complete_batch_job(op, {}, None, event)  # type: ignore[arg-type]
    assert op.ran_on_demand_with == []
