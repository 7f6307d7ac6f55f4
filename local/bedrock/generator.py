"""Deterministic, grounded text generation: the "model" behind Converse and Claude InvokeModel.

This is a test double, not a language model. It reads facts the prompt carries in
XML-tagged sections (see README.md, "Grounding contract"), fills hand-written sentence
templates in the requested language with exactly those facts, and nothing else. The same
request always gives the same answer, unless a bad-output fault is injected on purpose.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from local.bedrock.phrases import LANGUAGE_NAMES, PHRASES, SUPPORTED_LANGUAGES
from local.bedrock.tokens import count_tokens

BAD_OUTPUT_KINDS = ("wrong_language", "invented_product", "placeholder", "missing_tool_use")
INVENTED_PRODUCT = {"product_id": "P-INVENTED-0000", "name": "Mystery Gadget", "price": "99.99"}

_SECTION_RE = re.compile(r"<(?P<tag>[A-Za-z_][\w-]*)>(?P<body>.*?)</(?P=tag)>", re.S)
_LANGUAGE_LINE_RE = re.compile(
    r"\b(?:target[ _-]?|output[ _-]?|response[ _-]?)?language\s*[:=]\s*(?P<value>[^\s,;.]+)",
    re.I,
)
_IN_LANGUAGE_RE = re.compile(r"\bin\s+(?P<value>[A-Za-zÀ-ÿ]+)\b", re.I)
_SENTENCE_RE = re.compile(r"[^.!?。！？\n]+[.!?。！？]?")
_WORD_RE = re.compile(r"\w+", re.U)


@dataclass
class Product:
    product_id: Any
    name: str
    price: str  # exactly as written in the prompt, e.g. "49.90"
    currency: str


@dataclass
class Facts:
    first_name: str | None = None
    customer_id: Any = None
    language: str = "en"
    language_tag: str = "en"
    """What the prompt asked for (e.g. "pt-BR"); ``language`` is the template used ("pt")."""
    products: list[Product] = field(default_factory=list)
    context_sentence: str | None = None
    output_schema: dict[str, Any] | None = None

    @property
    def has_facts(self) -> bool:
        return bool(self.first_name or self.products)


@dataclass
class Tool:
    name: str
    schema: dict[str, Any]


@dataclass
class ChatRequest:
    """The provider-neutral request both Converse and Claude InvokeModel are mapped to."""

    system: list[str]
    messages: list[tuple[str, str]]  # (role, text) with role "user" or "assistant"
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str | None = None  # None/"auto"/"any", or a tool name; "none" disables tools
    max_tokens: int = 4096
    last_turn_is_tool_result: bool = False


@dataclass
class Generation:
    text: str | None
    tool_name: str | None = None
    tool_input: dict[str, Any] | None = None
    stop_reason: str = "end_turn"  # end_turn | tool_use | max_tokens
    output_tokens: int = 0
    bad_output: str | None = None


# ---------------------------------------------------------------------------- facts


def _loads(raw: str) -> Any:
    # Decimal keeps prices exactly as written ("49.90" stays "49.90").
    return json.loads(raw.strip(), parse_float=decimal.Decimal)


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def resolve_language(value: str | None) -> str | None:
    """Map a BCP-47 code ("pt-BR", "de_DE") or a language name ("German") to a template."""
    if not value:
        return None
    value = value.strip().strip("\"'")
    base = re.split(r"[-_]", value.lower())[0]
    if base in SUPPORTED_LANGUAGES:
        return base
    return LANGUAGE_NAMES.get(value.lower())


def _requested_language(sections: dict[str, str], instructions: str) -> str | None:
    if "language" in sections:
        return sections["language"].strip()
    match = _LANGUAGE_LINE_RE.search(instructions)
    if match:
        return match.group("value")
    for match in _IN_LANGUAGE_RE.finditer(instructions):
        if resolve_language(match.group("value")) and match.group("value").lower() in LANGUAGE_NAMES:
            return match.group("value")
    return None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_RE.findall(text) if len(s.strip()) > 3]


def _pick_context_sentence(context: str, question: str) -> str | None:
    """The context sentence sharing most words with the instructions; first one on ties."""
    sentences = _sentences(context)
    if not sentences:
        return None
    asked = _stems(question)
    return max(sentences, key=lambda s: len(asked & _stems(s)))


def _stems(text: str) -> set[str]:
    # A five-letter prefix is a crude, language-agnostic stem: "returns" ~ "return".
    return {w.lower()[:5] for w in _WORD_RE.findall(text) if len(w) > 3}


def extract_facts(request: ChatRequest) -> Facts:
    texts = request.system + [text for _, text in request.messages]
    full = "\n".join(texts)
    sections: dict[str, str] = {}
    for match in _SECTION_RE.finditer(full):
        sections.setdefault(match.group("tag").lower(), match.group("body"))
    instructions = _SECTION_RE.sub(" ", full)
    facts = Facts()

    customer: dict[str, Any] = {}
    if "customer" in sections:
        try:
            parsed = _loads(sections["customer"])
            customer = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            customer = {}
    facts.first_name = _first(customer, "first_name", "firstName", "given_name")
    facts.customer_id = _first(customer, "customer_id", "customerId", "id")

    for tag in ("recommended_products", "products"):
        if tag not in sections:
            continue
        try:
            items = _loads(sections[tag])
        except ValueError:
            continue
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            name = _first(item, "name", "product_name", "title")
            if name is None:
                continue
            price = _first(item, "price", "unit_price")
            facts.products.append(
                Product(
                    product_id=_first(item, "product_id", "productId", "id", "sku"),
                    name=str(name),
                    price="" if price is None else str(price),
                    currency=str(_first(item, "currency") or ""),
                )
            )
        break

    requested = _requested_language(sections, instructions) or _first(
        customer, "preferred_language", "language", "locale"
    )
    language = resolve_language(str(requested) if requested else None)
    facts.language = language or "en"
    facts.language_tag = str(requested) if language else facts.language

    context = sections.get("company_context") or sections.get("context")
    if context:
        facts.context_sentence = _pick_context_sentence(context, instructions)

    if "output_schema" in sections:
        try:
            schema = json.loads(sections["output_schema"])
            facts.output_schema = schema if isinstance(schema, dict) else None
        except ValueError:
            facts.output_schema = None
    return facts


# ---------------------------------------------------------------------------- rendering


def _price(product: Product, phrases: dict[str, str]) -> str:
    return phrases["product"].format(
        name=product.name, price=product.price, currency=product.currency
    ).replace("  ", " ").replace(" .", ".").replace(" で", "で")


def render(facts: Facts, language: str | None = None, name: str | None = None) -> dict[str, str]:
    """Subject, preheader and body for the facts, in ``language`` (default: the asked one)."""
    phrases = PHRASES[language or facts.language]
    first_name = name if name is not None else facts.first_name
    if not facts.has_facts:
        body = phrases["neutral"]
        if facts.context_sentence:
            body = f"{phrases['answer']} {facts.context_sentence}"
        return {"subject": phrases["subject_anon"], "preheader": phrases["look"], "body": body,
                "intro": phrases["intro"], "look": phrases["look"]}
    greeting = (
        phrases["greeting"].format(name=first_name) if first_name else phrases["greeting_anon"]
    )
    paragraphs = [greeting, f"{phrases['intro']} {phrases['look']}"]
    if facts.products:
        paragraphs.append("\n".join(f"- {_price(p, phrases)}" for p in facts.products))
    if facts.context_sentence:
        paragraphs.append(phrases["context"].format(sentence=facts.context_sentence))
    paragraphs += [phrases["closing"], phrases["signoff"]]
    subject = (
        phrases["subject"].format(name=first_name) if first_name else phrases["subject_anon"]
    )
    preheader = (
        phrases["preheader"].format(product=facts.products[0].name)
        if facts.products
        else phrases["look"]
    )
    return {"subject": subject, "preheader": preheader, "body": "\n\n".join(paragraphs),
            "intro": phrases["intro"], "look": phrases["look"]}


def _typed_id(value: Any, item_type: str | None) -> Any:
    if item_type == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if item_type == "string":
        return str(value)
    return value


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, decimal.Decimal) else value


class SchemaFiller:
    """Fill any JSON schema from the rendered email and the facts, keyed on property names."""

    STRING_SLOTS = (
        (("subject", "title", "headline"), "subject"),
        (("preheader", "preview", "teaser"), "preheader"),
        (("body", "text", "content", "message", "email", "answer", "summary"), "body"),
        (("reason", "rationale", "explanation"), "intro"),
        (("cta", "call_to_action"), "look"),
    )

    def __init__(self, facts: Facts, rendered: dict[str, str], products: list[Product]):
        self.facts = facts
        self.rendered = rendered
        self.products = products

    def fill(self, schema: dict[str, Any], key: str = "", product: Product | None = None) -> Any:
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        key_l = key.lower()
        if kind == "object":
            props = schema.get("properties", {})
            return {name: self.fill(sub, name, product) for name, sub in props.items()}
        if kind == "array":
            return self._array(schema, key_l)
        if kind in ("number", "integer"):
            return self._number(schema, key_l, product, kind)
        if kind == "boolean":
            return bool(schema.get("default", False))
        return self._string(schema, key_l, product)

    @staticmethod
    def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
        for combiner in ("anyOf", "oneOf", "allOf"):
            options = [o for o in schema.get(combiner, []) if o.get("type") != "null"]
            if options:
                return {**options[0], **{k: v for k, v in schema.items() if k != combiner}}
        return schema

    def _array(self, schema: dict[str, Any], key: str) -> list[Any]:
        items = self._resolve(schema.get("items", {}))
        limit = schema.get("maxItems", len(self.products))
        if items.get("type") == "object" or "properties" in items:
            return [self.fill(items, "", p) for p in self.products[:limit]]
        if any(word in key for word in ("product", "id", "sku", "item")):
            return [_typed_id(p.product_id, items.get("type")) for p in self.products[:limit]]
        return []

    def _number(self, schema: dict[str, Any], key: str, product: Product | None, kind: str) -> Any:
        if product is not None and "price" in key and product.price:
            return _number(decimal.Decimal(product.price))
        if product is not None and "id" in key:
            return _typed_id(product.product_id, kind)
        if "default" in schema:
            return schema["default"]
        if any(word in key for word in ("confidence", "score", "probability")):
            return min(1, schema.get("maximum", 1))
        return schema.get("minimum", 0)

    def _string(self, schema: dict[str, Any], key: str, product: Product | None) -> str:
        facts = self.facts
        if "enum" in schema:
            options = [str(o) for o in schema["enum"]]
            return facts.language_tag if facts.language_tag in options else options[0]
        if product is not None:
            if "id" in key or "sku" in key:
                return str(product.product_id)
            if "name" in key or "title" in key:
                return product.name
            if "price" in key:
                return product.price
            if "currency" in key:
                return product.currency
        if "lang" in key or "locale" in key:
            return facts.language_tag
        if "customer" in key and "id" in key:
            return "" if facts.customer_id is None else str(facts.customer_id)
        if "name" in key:
            return facts.first_name or ""
        if "product_id" in key and self.products:
            return str(self.products[0].product_id)
        if "currency" in key and self.products:
            return self.products[0].currency
        for words, slot in self.STRING_SLOTS:
            if any(word in key for word in words):
                text = self.rendered[slot]
                if "html" in key:
                    return "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
                return text
        return self.rendered["intro"]


DEFAULT_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "subject": {"type": "string"},
        "preheader": {"type": "string"},
        "body": {"type": "string"},
        "product_ids": {"type": "array", "items": {}},
        "language": {"type": "string"},
    },
}


def generate(request: ChatRequest, bad_output: str | None = None) -> Generation:
    """Answer ``request`` from its own facts; ``bad_output`` injects one documented defect."""
    facts = extract_facts(request)
    products = list(facts.products)
    language, name = facts.language, facts.first_name
    if bad_output == "wrong_language":
        language = next(code for code in SUPPORTED_LANGUAGES if code != facts.language)
    elif bad_output == "invented_product":
        products.append(Product(currency=products[0].currency if products else "", **INVENTED_PRODUCT))
    elif bad_output == "placeholder":
        name = "{{first_name}}"
    rendered = render(Facts(**{**facts.__dict__, "products": products}), language, name)
    filler = SchemaFiller(facts, rendered, products)

    tool = _chosen_tool(request)
    prefill = request.messages[-1][1] if request.messages and request.messages[-1][0] == "assistant" else ""
    if tool is not None and bad_output != "missing_tool_use":
        tool_input = filler.fill(tool.schema)
        if not isinstance(tool_input, dict):
            tool_input = {"value": tool_input}
        result = Generation(text=None, tool_name=tool.name, tool_input=tool_input,
                            stop_reason="tool_use", output_tokens=count_tokens(json.dumps(tool_input)))
    elif facts.output_schema is not None or prefill.strip().startswith("{"):
        text = json.dumps(filler.fill(facts.output_schema or DEFAULT_JSON_SCHEMA), ensure_ascii=False)
        # Claude continues an assistant prefill, so the prefill is not repeated.
        text = text[len(prefill.strip()):] if prefill.strip() and text.startswith(prefill.strip()) else text
        result = Generation(text=text, output_tokens=count_tokens(text))
    else:
        result = Generation(text=rendered["body"], output_tokens=count_tokens(rendered["body"]))
    result.bad_output = bad_output
    if result.output_tokens > request.max_tokens:
        # Like a real model: cut off at the budget, no tool call, stop_reason max_tokens.
        full = result.text if result.text is not None else json.dumps(result.tool_input)
        result = Generation(text=full[: request.max_tokens * 4], stop_reason="max_tokens",
                            output_tokens=request.max_tokens, bad_output=bad_output)
    return result


def _chosen_tool(request: ChatRequest) -> Tool | None:
    if not request.tools or request.tool_choice == "none" or request.last_turn_is_tool_result:
        return None
    for tool in request.tools:
        if tool.name == request.tool_choice:
            return tool
    return request.tools[0]


def stable_id(prefix: str, payload: Any, length: int = 24) -> str:
    """Deterministic ids (message id, toolUseId) so identical requests give identical answers."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f"{prefix}{digest[:length]}"
