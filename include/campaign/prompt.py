"""The campaign email prompt: facts of one customer, rendered from include/prompts, within a token budget.

The request follows the grounding contract of local/bedrock/README.md, which is also what Claude
reads best: facts in XML-tagged sections holding JSON (``customer``, ``purchase_history``,
``recommended_products``), the retrieved company text in ``company_context``, the target language
in ``language``. Two guards against prompt injection: the system prompt says that the sections
are data and that company_context is reference material, never instructions; and no value can
open or close a section (``<``, ``>`` and ``&`` are escaped as \\u003c... inside JSON, and the
angle brackets of retrieved text as &lt; / &gt;), so a document cannot forge a customer, a product
or a language section.

Input tokens are estimated with tiktoken (``cl100k_base`` by default: Claude's tokenizer is not
public, so this is an approximation, usually within ~10-20%). The whole request (system prompt,
user message and the tool schema) is kept under ``input_token_budget`` by dropping retrieved
chunks, lowest score first; the facts themselves are never cut.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
SYSTEM_TEMPLATE = "campaign_email_system.md.j2"
USER_TEMPLATE = "campaign_email_user.md.j2"
TOOL_NAME = "write_email"

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "ja": "Japanese",
}

# The structured output: Claude must call this tool (toolChoice names it), so the answer is JSON
# with exactly these fields, never free text to parse.
WRITE_EMAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "subject": {"type": "string", "description": "Subject line, in the target language."},
        "preheader": {"type": "string", "description": "Preview text shown after the subject, in the target language."},
        "body": {"type": "string", "description": "Plain-text body, paragraphs separated by a blank line."},
        "product_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "product_id of every recommended product the email mentions.",
        },
    },
    "required": ["subject", "preheader", "body", "product_ids"],
}
WRITE_EMAIL_TOOL: dict[str, Any] = {
    "toolSpec": {
        "name": TOOL_NAME,
        "description": "Deliver the finished marketing email for the customer.",
        "inputSchema": {"json": WRITE_EMAIL_SCHEMA},
    }
}


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    category: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    rating: float | None = None
    about: str | None = None


@dataclass(frozen=True)
class ContextChunk:
    chunk_id: str
    title: str | None
    source_uri: str
    text: str
    score: float


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str
    first_name: str | None
    last_name: str | None
    preferred_language: str | None
    country: str | None
    products: tuple[Product, ...]
    orders: int = 0
    favourite_categories: tuple[str, ...] = ()
    last_purchase: str | None = None  # YYYY-MM
    context: tuple[ContextChunk, ...] = ()  # best first


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    estimated_input_tokens: int
    context_chunk_ids: tuple[str, ...]
    dropped_chunks: int
    over_budget: bool  # even without any retrieved chunk, the facts exceed the budget


def json_section(value: Any) -> str:
    """JSON for a tagged section: Decimals as exact strings, and no character that could form a tag."""
    text = json.dumps(value, ensure_ascii=False, default=_json_default, separators=(", ", ": "))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def escape_context(text: str) -> str:
    """Retrieved text with angle brackets escaped: it cannot open or close a section."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def prompt_limits(limits: Any) -> dict[str, int]:
    """The length bounds the system prompt states, from include.campaign.validation.ValidationLimits."""
    return {"subject_min": limits.subject_chars[0], "subject_max": limits.subject_chars[1],
            "preheader_max": limits.preheader_chars[1],
            "body_min": limits.body_chars[0], "body_max": limits.body_chars[1]}


def language_name(tag: str) -> str:
    base = tag.split("-")[0].lower()
    name = LANGUAGE_NAMES.get(base, tag)
    return name


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 (a prompt, not HTML; values are escaped by json_section / escape_context)
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


class TokenCounter:
    """tiktoken token counts (``encoding``, e.g. cl100k_base); the encoding is loaded on first use."""

    def __init__(self, encoding: str = "cl100k_base") -> None:
        self.encoding_name = encoding
        self._encoding: Any = None
        self._lock = threading.Lock()

    def __call__(self, text: str) -> int:
        if self._encoding is None:
            with self._lock:
                if self._encoding is None:
                    import tiktoken

                    self._encoding = tiktoken.get_encoding(self.encoding_name)
        return len(self._encoding.encode(text, disallowed_special=()))


@dataclass
class PromptBuilder:
    """Renders prompts for one task: the system prompt once, each user message per customer.

    ``count_tokens`` is a TokenCounter (or any str -> int). Token counts of retrieved chunks are
    cached by chunk id, since customers of a batch share their products' chunks.
    """

    company_name: str
    limits: Mapping[str, int]
    input_token_budget: int
    count_tokens: Callable[[str], int]
    about_chars: int = 300
    tool: Mapping[str, Any] = field(default_factory=lambda: WRITE_EMAIL_TOOL)
    _chunk_tokens: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.system = _templates().get_template(SYSTEM_TEMPLATE).render(
            company_name=self.company_name, limits=dict(self.limits))
        self._fixed_tokens = self.count_tokens(self.system) + self.count_tokens(json.dumps(self.tool))

    def build(self, facts: CustomerFacts, language: str, feedback: str | None = None,
              other_context: Sequence[ContextChunk] | None = None) -> Prompt:
        """The prompt for ``facts`` written in ``language`` (a BCP-47 tag), with ``feedback`` for a retry.

        Chunks are kept best first while the estimate stays within the budget: the lowest-scored go first.
        """
        chunks = list(facts.context if other_context is None else other_context)
        values = self._values(facts, language, feedback)
        template = _templates().get_template(USER_TEMPLATE)
        bare = template.render(**values, context=[])
        base = self._fixed_tokens + self.count_tokens(bare)
        budget_left = self.input_token_budget - base
        kept: list[ContextChunk] = []
        for chunk in chunks:  # best first: what does not fit is dropped with everything scored lower
            cost = self._chunk_cost(chunk)
            if cost > budget_left:
                break
            kept.append(chunk)
            budget_left -= cost
        while True:
            user = template.render(**values, context=[_rendered(c) for c in kept]) if kept else bare
            estimate = self._fixed_tokens + self.count_tokens(user)
            if estimate <= self.input_token_budget or not kept:
                break
            kept.pop()  # the piecewise estimate was a few tokens short: drop the lowest-scored kept chunk
        return Prompt(system=self.system, user=user, estimated_input_tokens=estimate,
                      context_chunk_ids=tuple(c.chunk_id for c in kept), dropped_chunks=len(chunks) - len(kept),
                      over_budget=base > self.input_token_budget)

    def _values(self, facts: CustomerFacts, language: str, feedback: str | None) -> dict[str, Any]:
        customer = {"first_name": facts.first_name, "last_name": facts.last_name, "country": facts.country,
                    "preferred_language": facts.preferred_language}
        history: dict[str, Any] = {"orders": facts.orders, "favourite_categories": list(facts.favourite_categories)}
        if facts.last_purchase:
            history["last_purchase"] = facts.last_purchase
        products = []
        for p in facts.products:
            item: dict[str, Any] = {"product_id": p.product_id, "name": p.name}
            if p.category:
                item["category"] = p.category
            if p.price is not None:
                item["price"] = p.price
                item["currency"] = p.currency
            if p.rating is not None:
                item["rating"] = round(float(p.rating), 1)
            about = shorten(p.about, self.about_chars)
            if about:
                item["about"] = about
            products.append(item)
        return {
            "customer_json": json_section({k: v for k, v in customer.items() if v not in (None, "")}),
            "history_json": json_section(history),
            "products_json": json_section(products),
            "language": language,
            "language_name": language_name(language),
            "feedback": feedback,
        }

    def _chunk_cost(self, chunk: ContextChunk) -> int:
        cost = self._chunk_tokens.get(chunk.chunk_id)
        if cost is None:
            rendered = _rendered(chunk)
            cost = self.count_tokens(f"[10] {rendered['title']}\n{rendered['text']}\n\n")
            self._chunk_tokens[chunk.chunk_id] = cost
        return cost


def _rendered(chunk: ContextChunk) -> dict[str, str]:
    return {"title": escape_context(chunk.title or chunk.source_uri.rsplit("/", 1)[-1]),
            "text": escape_context(chunk.text.strip())}


def shorten(text: str | None, max_chars: int) -> str | None:
    """``text`` cut to ``max_chars`` at the last sentence end or word boundary, with an ellipsis."""
    if not text or max_chars <= 0:
        return None
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    for mark in (". ", "! ", "? ", "; "):
        at = cut.rfind(mark)
        if at >= max_chars // 2:
            return cut[: at + 1]
    at = cut.rfind(" ")
    return (cut[:at] if at > 0 else cut).rstrip(",;:") + "…"


def merge_context(per_product: Sequence[Sequence[ContextChunk]], k: int) -> tuple[ContextChunk, ...]:
    """A customer's top-``k`` chunks from their products' retrieved chunks: best score first, each chunk once."""
    best: dict[str, ContextChunk] = {}
    for chunks in per_product:
        for chunk in chunks:
            seen = best.get(chunk.chunk_id)
            if seen is None or chunk.score > seen.score:
                best[chunk.chunk_id] = chunk
    return tuple(sorted(best.values(), key=lambda c: (-c.score, c.chunk_id))[:k])
