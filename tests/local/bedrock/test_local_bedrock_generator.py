"""Unit tests of the grounded generator: language, grounding, determinism, schema filling."""

from __future__ import annotations

import json
import re

import pytest

from local.bedrock.generator import (
    INVENTED_PRODUCT,
    ChatRequest,
    Tool,
    extract_facts,
    generate,
    resolve_language,
)

# Written as JSON text on purpose: the price 89.90 must come back as "89.90", not 89.9.
PRODUCTS_JSON = (
    '[{"product_id": "P-100", "name": "Trail Runner Shoes", "price": 89.90, "currency": "EUR"},'
    ' {"product_id": "P-200", "name": "Steel Water Bottle", "price": "12", "currency": "EUR"}]'
)
CONTEXT = "We ship within two days. Returns are free for 30 days. Our stores are in Berlin."
EMAIL_TOOL = Tool("write_email", {
    "type": "object",
    "properties": {
        "subject": {"type": "string"},
        "preheader": {"type": "string"},
        "body": {"type": "string"},
        "product_ids": {"type": "array", "items": {"type": "string"}},
        "language": {"type": "string"},
    },
    "required": ["subject", "body", "product_ids"],
})

# A handful of frequent function words per language: enough to tell the templates apart.
STOPWORDS = {
    "en": {"the", "and", "you", "for", "with", "we", "is", "are", "to", "of"},
    "de": {"und", "sie", "wir", "für", "ihr", "ihren", "ist", "bei", "uns", "die"},
    "fr": {"nous", "vous", "et", "de", "pour", "est", "votre", "au", "les", "des"},
    "es": {"y", "te", "tu", "por", "para", "con", "que", "de", "los", "está"},
    "it": {"ti", "il", "per", "di", "che", "da", "e", "è", "tuo", "a"},
    "pt": {"você", "e", "por", "de", "que", "o", "para", "em", "na", "conosco"},
    "nl": {"je", "we", "een", "voor", "en", "is", "dat", "bij", "ons", "van"},
}


def guess_language(text: str) -> str:
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    words = re.findall(r"\w+", text.lower())
    return max(STOPWORDS, key=lambda lang: sum(w in STOPWORDS[lang] for w in words))


def email_prompt(language: str | None = "de", products: list | None = None, extra: str = "") -> ChatRequest:
    customer = {"customer_id": 7, "first_name": "Ana", "preferred_language": language}
    user = (
        "Write a personalised email for this customer. Mention our return policy.\n"
        f"<customer>{json.dumps(customer)}</customer>\n"
        f"<recommended_products>{PRODUCTS_JSON if products is None else json.dumps(products)}"
        "</recommended_products>\n"
        f"<company_context>{CONTEXT}</company_context>\n{extra}"
    )
    return ChatRequest(system=["You are a copywriter."], messages=[("user", user)], max_tokens=2000)


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "it", "pt", "nl", "ja"])
def test_writes_in_the_language_asked_for(language: str) -> None:
    text = generate(email_prompt(language)).text
    assert text is not None
    assert guess_language(text.replace("Trail Runner Shoes", "").replace("Steel Water Bottle", "")) == language
    assert len(re.findall(r"[.!?。]", text)) >= 5  # several sentences, not a fragment


@pytest.mark.parametrize(("tag", "expected"), [("pt-BR", "pt"), ("de_DE", "de"), ("German", "de"),
                                               ("Français", "fr"), ("日本語", "ja"), ("xx", None)])
def test_resolve_language(tag: str, expected: str | None) -> None:
    assert resolve_language(tag) == expected


def test_explicit_language_line_wins_over_customer_preference() -> None:
    facts = extract_facts(email_prompt("de", extra="language: pt-BR"))
    assert (facts.language, facts.language_tag) == ("pt", "pt-BR")
    assert extract_facts(email_prompt("de", extra="Please answer in Italian.")).language == "it"
    assert extract_facts(email_prompt("de", extra="<language>nl</language>")).language == "nl"


def test_mentions_only_given_products_with_exact_prices_and_name() -> None:
    text = generate(email_prompt("en")).text or ""
    assert "Ana" in text
    assert "Trail Runner Shoes is available for 89.90 EUR." in text  # price exactly as written
    assert "Steel Water Bottle is available for 12 EUR." in text
    assert text.count("is available for") == 2
    assert INVENTED_PRODUCT["name"] not in text


def test_context_sentence_is_the_one_the_instructions_ask_about() -> None:
    text = generate(email_prompt("en")).text or ""
    assert "Returns are free for 30 days." in text
    assert "Berlin" not in text


def test_is_deterministic() -> None:
    first = generate(email_prompt("fr"))
    assert all(generate(email_prompt("fr")) == first for _ in range(3))


def test_tool_input_follows_the_schema_and_uses_given_ids() -> None:
    request = email_prompt("es")
    request.tools, request.tool_choice = [EMAIL_TOOL], "write_email"
    result = generate(request)
    assert result.stop_reason == "tool_use" and result.tool_name == "write_email"
    assert result.tool_input is not None
    assert set(result.tool_input) == set(EMAIL_TOOL.schema["properties"])
    assert result.tool_input["product_ids"] == ["P-100", "P-200"]
    assert result.tool_input["language"] == "es"
    assert "Ana" in result.tool_input["subject"]
    assert guess_language(result.tool_input["body"]) == "es"


def test_generic_schema_filling_for_nested_and_typed_properties() -> None:
    request = email_prompt("en", products=[{"product_id": 17, "name": "Lamp", "price": 5.5, "currency": "USD"}])
    request.tools = [Tool("t", {"type": "object", "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "product_id": {"type": "integer"}, "name": {"type": "string"}, "price": {"type": "number"}}}},
        "tone": {"type": "string", "enum": ["friendly", "formal"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "needs_review": {"type": "boolean"},
    }})]
    tool_input = generate(request).tool_input
    assert tool_input == {"ids": [17], "items": [{"product_id": 17, "name": "Lamp", "price": 5.5}],
                          "tone": "friendly", "confidence": 1, "needs_review": False}


def test_json_prefill_and_output_schema() -> None:
    request = email_prompt("en")
    request.messages.append(("assistant", "{"))
    text = generate(request).text or ""
    parsed = json.loads("{" + text)
    assert parsed["product_ids"] == ["P-100", "P-200"] and parsed["language"] == "en"
    schema = {"type": "object", "properties": {"headline": {"type": "string"}}}
    request = email_prompt("en", extra=f"<output_schema>{json.dumps(schema)}</output_schema>")
    assert json.loads(generate(request).text or "") == {"headline": "Ana, we picked these for you"}


def test_without_facts_gives_short_neutral_reply() -> None:
    result = generate(ChatRequest(system=[], messages=[("user", "How are you today?")]))
    assert result.text is not None and result.text.startswith("Thank you for your message.")
    assert result == generate(ChatRequest(system=[], messages=[("user", "How are you today?")]))


def test_max_tokens_cuts_the_answer() -> None:
    request = email_prompt("en")
    request.max_tokens = 10
    result = generate(request)
    assert result.stop_reason == "max_tokens" and result.output_tokens == 10
    assert result.text is not None and len(result.text) == 40


@pytest.mark.parametrize("kind", ["wrong_language", "invented_product", "placeholder", "missing_tool_use"])
def test_bad_outputs_are_bad_in_the_documented_way(kind: str) -> None:
    request = email_prompt("de")
    request.tools = [EMAIL_TOOL]
    result = generate(request, bad_output=kind)
    if kind == "missing_tool_use":
        assert result.tool_input is None and result.stop_reason == "end_turn"
        return
    assert result.tool_input is not None
    body = result.tool_input["body"]
    if kind == "wrong_language":
        assert guess_language(body) != "de"
    elif kind == "invented_product":
        assert INVENTED_PRODUCT["product_id"] in result.tool_input["product_ids"]
        assert INVENTED_PRODUCT["name"] in body
    else:
        assert "{{first_name}}" in body and "Ana" not in body
