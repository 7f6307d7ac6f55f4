"""One customer's email: prompt, model call, validation, one retry with the reasons, outcome.

Plain Python: the model is any ``call_model(system, user) -> ModelAnswer``. The operator passes a
Bedrock Converse call with retries (genai_personalization.converse); the tests pass fakes. A
model call that fails for good raises out of :func:`generate_email` (the caller records the
customer as ``failed``); everything else ends in an :class:`EmailResult`:

``generated``     the draft passed every check (first answer, or the retry)
``needs_review``  it failed a check twice (malformed output counts as a failed check); the last
                  draft is kept, if it parsed, with the reasons of the last check
``skipped``       nothing to write about (no recommended product in the catalog); no model call
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from include.campaign.languages import email_language
from include.campaign.prompt import CustomerFacts, Product, Prompt, PromptBuilder
from include.campaign.validation import (
    EmailContext,
    EmailDraft,
    MalformedOutput,
    ProductFact,
    ValidationLimits,
    ValidationResult,
    feedback,
    parse_draft,
    validate_email,
)

GENERATED = "generated"
NEEDS_REVIEW = "needs_review"
FAILED = "failed"
SKIPPED = "skipped"
STATUSES = (GENERATED, NEEDS_REVIEW, FAILED, SKIPPED)


@dataclass(frozen=True)
class ModelAnswer:
    """What the model returned: the write_email tool input (None if it did not call the tool)."""

    tool_input: object | None  # normally a dict; whatever the model sent, parse_draft judges it
    stop_reason: str
    input_tokens: int
    output_tokens: int


@dataclass
class EmailResult:
    customer_id: str
    status: str
    language: str | None = None  # the tag written in: the customer's, or "en" (fallback)
    preferred_language: str | None = None
    language_fallback: bool = False
    detected_language: str | None = None
    subject: str | None = None
    preheader: str | None = None
    body: str | None = None
    product_ids: tuple[str, ...] = ()
    recommended_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    attempts: int = 0  # model answers used (1, or 2 after a retry)
    validation_retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_input_tokens: int = 0
    context_chunk_ids: tuple[str, ...] = ()
    dropped_chunks: int = 0
    notes: list[str] = field(default_factory=list)


def written_language(tag: str | None) -> tuple[str, str, bool]:
    """(tag to write in, language the validator checks, fallback?) for a customer's preferred tag.

    A supported language keeps the customer's own tag (``pt-BR`` asks for Brazilian Portuguese,
    checked as ``pt``); anything else is written in English and flagged.
    """
    language, known = email_language(tag)
    if not known or not tag:
        return language, language, True
    parts = tag.strip().replace("_", "-").split("-")
    canonical = "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
    return canonical, language, False


def product_fact(product: Product) -> ProductFact:
    return ProductFact(product.product_id, product.name, product.price, product.currency)


def failed_result(facts: CustomerFacts, reason: str) -> EmailResult:
    tag, _, fallback = written_language(facts.preferred_language)
    return EmailResult(customer_id=facts.customer_id, status=FAILED, language=tag,
                       preferred_language=facts.preferred_language, language_fallback=fallback,
                       recommended_ids=tuple(p.product_id for p in facts.products), reasons=(reason,))


def generate_email(
    facts: CustomerFacts,
    builder: PromptBuilder,
    call_model: Callable[[str, str], ModelAnswer],
    *,
    other_products: Sequence[ProductFact] = (),
    other_people: Sequence[str] = (),
    company_names: Sequence[str] | None = None,
    limits: ValidationLimits | None = None,
    on_answer: Callable[[ModelAnswer], None] | None = None,
) -> EmailResult:
    tag, language, fallback = written_language(facts.preferred_language)
    result = EmailResult(customer_id=facts.customer_id, status=SKIPPED, language=tag,
                         preferred_language=facts.preferred_language, language_fallback=fallback,
                         recommended_ids=tuple(p.product_id for p in facts.products))
    if fallback:
        result.notes.append(f"language {facts.preferred_language or '(none)'} is not supported: written in English")
    if not facts.products:
        result.reasons = ("no recommended product found in the catalog",)
        return result

    context = EmailContext(
        customer_id=facts.customer_id,
        first_name=facts.first_name or "",
        last_name=facts.last_name or "",
        language=language,
        recommended=tuple(product_fact(p) for p in facts.products),
        other_products=tuple(other_products),
        other_people=tuple(other_people),
        **({} if company_names is None else {"company_names": tuple(company_names)}),
    )
    limits = limits or ValidationLimits()
    prompt = builder.build(facts, tag)
    result.context_chunk_ids, result.dropped_chunks = prompt.context_chunk_ids, prompt.dropped_chunks
    if prompt.over_budget:
        result.notes.append("the facts alone exceed the input token budget")
    draft, check = _attempt(prompt, call_model, context, limits, result, on_answer)
    if not check.ok:
        result.validation_retries = 1
        retry = builder.build(facts, tag, feedback=feedback(check))
        draft, check = _attempt(retry, call_model, context, limits, result, on_answer)
    result.status = GENERATED if check.ok else NEEDS_REVIEW
    result.reasons = () if check.ok else tuple(check.reasons)
    result.detected_language = check.detected_language
    if draft is not None:
        result.subject, result.preheader, result.body = draft.subject, draft.preheader, draft.body
        result.product_ids = tuple(draft.product_ids)
    else:
        result.subject = result.preheader = result.body = None
        result.product_ids = ()
    return result


def _attempt(prompt: Prompt, call_model: Callable[[str, str], ModelAnswer], context: EmailContext,
             limits: ValidationLimits, result: EmailResult, on_answer: Callable[[ModelAnswer], None] | None
             ) -> tuple[EmailDraft | None, ValidationResult]:
    answer = call_model(prompt.system, prompt.user)
    if on_answer is not None:
        on_answer(answer)
    result.attempts += 1
    result.input_tokens += answer.input_tokens
    result.output_tokens += answer.output_tokens
    result.estimated_input_tokens += prompt.estimated_input_tokens
    try:
        if answer.tool_input is None:
            raise MalformedOutput(f"no write_email tool call in the answer (stop reason {answer.stop_reason})")
        draft = parse_draft(answer.tool_input)
    except MalformedOutput as e:
        return None, ValidationResult(ok=False, reasons=(f"malformed output: {e.reason}",), detected_language=None)
    return draft, validate_email(draft, context, limits)
