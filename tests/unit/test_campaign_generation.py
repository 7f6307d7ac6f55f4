"""One customer's email with a fake model: the request (tool forced, maxTokens set), throttling then success,
malformed output -> retry -> needs_review, a fixed retry, skipped and language fallback, failures raised."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from genai_personalization.bedrock import ModelCallError, ModelCaller
from genai_personalization.converse import ConverseToolModel
from include.campaign.generation import ModelAnswer, generate_email, written_language
from include.campaign.prompt import ContextChunk, CustomerFacts, Product, PromptBuilder, TokenCounter, prompt_limits
from include.campaign.validation import ValidationLimits
from include.retry import Backoff
from tests.unit.campaign_fakes import StandInConverse, _tiktoken_offline  # noqa: F401

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
PAN = Product("B0PAN00001", "Cast Iron Skillet 26 cm", "Kitchen", Decimal("49.90"), "EUR")
SOCKS = Product("B0SOX00002", "Merino Wool Hiking Socks", "Clothing", Decimal("19.00"), "EUR")


def facts(language: str | None = "de", products: tuple[Product, ...] = (PAN, SOCKS)) -> CustomerFacts:
    context = (ContextChunk("K1", "Care", "s3://b/documents/care.md", "Season cast iron after every wash.", 0.8),)
    return CustomerFacts("C001", "Anna", "Schneider", language, "DE", products, 2, ("Kitchen",), None, context)


def builder() -> PromptBuilder:
    return PromptBuilder("Tarnwick Outdoor & Home", prompt_limits(ValidationLimits()), 2000, TokenCounter())


def model(client: Any, max_attempts: int = 4) -> ConverseToolModel:
    sleeps: list[float] = []
    caller = ModelCaller(Backoff(max_attempts=max_attempts, base_seconds=1, cap_seconds=4), sleep=sleeps.append)
    converse = ConverseToolModel(client, caller, MODEL, max_tokens=900, temperature=0.3)
    converse.sleeps = sleeps  # type: ignore[attr-defined]
    return converse


def test_the_request_forces_the_tool_and_sets_max_tokens() -> None:
    client = StandInConverse()
    result = generate_email(facts(), builder(), model(client))
    [request] = client.requests
    assert request["modelId"] == MODEL
    assert request["inferenceConfig"] == {"maxTokens": 900, "temperature": 0.3}
    assert request["toolConfig"]["toolChoice"] == {"tool": {"name": "write_email"}}
    spec = request["toolConfig"]["tools"][0]["toolSpec"]
    assert spec["name"] == "write_email" and spec["inputSchema"]["json"]["required"] == [
        "subject", "preheader", "body", "product_ids"]
    assert request["system"][0]["text"].startswith("You are the copywriter")
    assert (result.status, result.attempts, result.language, result.product_ids) == (
        "generated", 1, "de", ("B0PAN00001", "B0SOX00002"))
    assert result.detected_language == "de" and result.context_chunk_ids == ("K1",)
    assert result.input_tokens > 0 and result.output_tokens > 0 and result.estimated_input_tokens > 0
    with pytest.raises(ValueError, match="maxTokens must be set"):
        ConverseToolModel(client, ModelCaller(Backoff()), MODEL, max_tokens=0)


def test_throttling_then_success() -> None:
    client = StandInConverse(lambda number, request: "throttle" if number <= 2 else None)
    converse = model(client)
    result = generate_email(facts(), builder(), converse)
    assert result.status == "generated" and len(client.requests) == 3
    stats = converse.caller.stats.as_dict()
    assert (stats["calls"], stats["throttles"], stats["retries"], stats["failures"]) == (3, 2, 2, 0)
    assert len(converse.sleeps) == 2 and 0 <= converse.sleeps[0] <= 1 and 0 <= converse.sleeps[1] <= 2  # full jitter
    assert stats["input_tokens"] == result.input_tokens  # only the answered call counts tokens


def test_a_call_that_fails_for_good_raises_with_its_code() -> None:
    client = StandInConverse(lambda number, request: "error")
    with pytest.raises(ModelCallError, match="ServiceUnavailableException after 4 attempt"):
        generate_email(facts(), builder(), model(client))
    client = StandInConverse(lambda number, request: "denied")
    with pytest.raises(ModelCallError, match="AccessDeniedException after 1 attempt"):
        generate_email(facts(), builder(), model(client))


def test_malformed_output_gets_one_retry_then_needs_review() -> None:
    client = StandInConverse(lambda number, request: "missing_tool_use")
    result = generate_email(facts(), builder(), model(client))
    assert (result.status, result.attempts, result.validation_retries) == ("needs_review", 2, 1)
    assert result.reasons == ("malformed output: no write_email tool call in the answer (stop reason end_turn)",)
    assert result.body is None and result.product_ids == ()
    retry_text = client.user_texts()[1]
    assert "Your previous email was rejected" in retry_text and "Fix: malformed output" in retry_text


def test_a_bad_first_answer_fixed_by_the_retry_is_generated() -> None:
    client = StandInConverse(lambda number, request: "placeholder" if number == 1 else None)
    result = generate_email(facts(), builder(), model(client))
    assert (result.status, result.attempts, result.reasons) == ("generated", 2, ())
    assert "Replace every placeholder" in client.user_texts()[1]
    assert result.input_tokens > 0 and result.estimated_input_tokens > builder().build(facts(), "de").estimated_input_tokens


class ScriptedModel:
    """call_model returning given tool inputs in order."""

    def __init__(self, *inputs: object) -> None:
        self.inputs = list(inputs)
        self.calls = 0

    def __call__(self, system: str, user: str) -> ModelAnswer:
        self.calls += 1
        return ModelAnswer(self.inputs.pop(0), "tool_use", 100, 50)


def test_bad_json_and_missing_fields_count_as_failed_checks() -> None:
    scripted = ScriptedModel("{not json", {"subject": "Hallo", "body": "x"})
    result = generate_email(facts(), builder(), scripted)
    assert scripted.calls == 2 and result.status == "needs_review"
    assert result.reasons == ("malformed output: missing field: preheader",)
    assert (result.input_tokens, result.output_tokens) == (200, 100)


def test_no_products_is_skipped_without_a_call_and_unknown_languages_fall_back_to_english() -> None:
    scripted = ScriptedModel()
    skipped = generate_email(facts(products=()), builder(), scripted)
    assert (skipped.status, skipped.reasons, scripted.calls) == ("skipped", ("no recommended product found in the catalog",), 0)

    client = StandInConverse()
    result = generate_email(facts(language="sw-KE"), builder(), model(client))
    assert (result.status, result.language, result.language_fallback, result.detected_language) == (
        "generated", "en", True, "en")
    assert result.notes == ["language sw-KE is not supported: written in English"]
    assert "<language>en</language>" in client.user_texts()[0]


@pytest.mark.parametrize(("tag", "expected"), [
    ("de", ("de", "de", False)), ("pt-BR", ("pt-BR", "pt", False)), ("pt_br", ("pt-BR", "pt", False)),
    ("EN-gb", ("en-GB", "en", False)), ("ja", ("ja", "ja", False)), ("sw", ("en", "en", True)),
    (None, ("en", "en", True)), ("", ("en", "en", True)), ("zz-ZZ", ("en", "en", True)),
])
def test_written_language(tag: str | None, expected: tuple[str, str, bool]) -> None:
    assert written_language(tag) == expected


def test_the_answer_is_read_from_the_tool_use_block_only() -> None:
    converse = model(StandInConverse())
    answer = converse.answer({"output": {"message": {"content": [
        {"text": "Here you go"}, {"toolUse": {"toolUseId": "t1", "name": "other_tool", "input": {"a": 1}}},
        {"toolUse": {"toolUseId": "t2", "name": "write_email", "input": {"subject": "S"}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 7, "outputTokens": 3}})
    assert answer == ModelAnswer({"subject": "S"}, "tool_use", 7, 3)
    assert converse.answer({"output": {"message": {"content": [{"text": "no tool"}]}}, "stopReason": "max_tokens"}) == \
        ModelAnswer(None, "max_tokens", 0, 0)


def test_a_quota_throttle_is_waited_out_beyond_max_attempts_but_not_beyond_the_patience() -> None:
    from genai_personalization.converse import QuotaPatientCaller

    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds + 0.3  # the wait, then the throttled call's latency

    def caller() -> QuotaPatientCaller:
        return QuotaPatientCaller(Backoff(max_attempts=3, base_seconds=0.5, cap_seconds=4), 60.0,
                                  clock=lambda: now[0], sleep=sleep)

    # throttled 12 times (more than max_attempts), then answered: not a failure
    patient = caller()
    client = StandInConverse(lambda number, request: "throttle" if number <= 12 else None)
    result = generate_email(facts(), builder(), ConverseToolModel(client, patient, MODEL, 900))
    assert result.status == "generated" and len(client.requests) == 13
    stats = patient.stats.as_dict()
    assert (stats["throttles"], stats["retries"], stats["failures"]) == (12, 12, 0)
    assert max(sleeps) <= 4 and len(sleeps) == 12

    # throttled for longer than the patience: given up, with the code
    now[0] = 0.0
    client = StandInConverse(lambda number, request: "throttle")
    with pytest.raises(ModelCallError, match="ThrottlingException"):
        generate_email(facts(), builder(), ConverseToolModel(client, caller(), MODEL, 900))
    assert now[0] >= 60 and len(client.requests) > 3

    # server errors still count against max_attempts, throttles in between or not
    client = StandInConverse(lambda number, request: "throttle" if number % 2 else "error")
    with pytest.raises(ModelCallError, match="ServiceUnavailableException after 6 attempt"):
        generate_email(facts(), builder(), ConverseToolModel(client, caller(), MODEL, 900))
