"""Validation of generated campaign emails (include/campaign): every check both ways.

Realistic emails come from the local Bedrock stand-in's generator (local/bedrock/generator.py),
called directly with requests built like its grounding contract, for customers and products of
the seed generator (local/seed) and of the real Amazon dataset (read by path, never copied): its
good outputs in all eight languages must pass; its bad outputs (wrong_language,
invented_product, placeholder) must fail with exactly the expected reasons.
"""

from __future__ import annotations

import csv
import json
import random
import re
import subprocess
import sys
import threading
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest

from include.campaign import (
    SUPPORTED_LANGUAGES, EmailContext, EmailDraft, MalformedOutput, ProductFact, ValidationLimits,
    ValidationResult, email_language, feedback, parse_draft, validate_email,
)
from include.campaign import languages
from include.catalog.parsing import Price, parse_price
from local.bedrock.generator import ChatRequest, Tool, generate
from local.datasets import amazon_sales_csv
from local.seed.catalog import generate_products
from local.seed.customers import generate_customers
from local.seed.retailer import LOCALES

REPO_ROOT = Path(__file__).resolve().parents[2]
AMAZON_CSV = amazon_sales_csv()
needs_amazon = pytest.mark.skipif(not AMAZON_CSV.exists(), reason=f"the real dataset is not at {AMAZON_CSV}")

EMAIL_TOOL = Tool("write_marketing_email", {
    "type": "object",
    "properties": {
        "subject": {"type": "string"}, "preheader": {"type": "string"}, "body": {"type": "string"},
        "product_ids": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["subject", "preheader", "body", "product_ids"],
})
# Company facts without amounts or phone numbers (see test_context_with_a_phone_number_fails).
COMPANY_CONTEXT = (
    "Tarnwick Outdoor & Home was founded in Innsbruck and sells mountain gear and goods for the hearth. "
    "Every Tarnwick boot can be resoled in our workshop, and cast iron comes pre-seasoned with flaxseed oil."
)
INSTRUCTIONS = "Write the marketing email for this customer about the recommended products and our boots."


# ---------------------------------------------------------------------------- builders


@lru_cache(maxsize=1)
def seed_catalog() -> tuple[ProductFact, ...]:
    return tuple(
        ProductFact(p.product_id, p.name, Decimal(p.discounted_eur), "EUR")
        for p in generate_products(150, random.Random("42/products"))
    )


@lru_cache(maxsize=1)
def seed_customers() -> tuple:
    return tuple(generate_customers(240, random.Random("42/customers")))


@lru_cache(maxsize=1)
def amazon_catalog() -> tuple[ProductFact, ...]:
    products: dict[str, ProductFact] = {}
    with AMAZON_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            price = parse_price(row["discounted_price"], "discounted_price")
            assert isinstance(price, Price)
            products.setdefault(row["product_id"], ProductFact(
                row["product_id"], row["product_name"], price.amount, price.currency))
    return tuple(products.values())


def stand_in_email(
    tag: str | None, first_name: str, products: list[ProductFact], bad: str | None = None,
    context: str = COMPANY_CONTEXT, price_text=lambda p: str(p.price),
) -> dict:
    """The stand-in's tool input for a request built like its grounding contract."""
    customer = {"customer_id": "C000001", "first_name": first_name}
    if tag is not None:
        customer["preferred_language"] = tag
    items = [{"product_id": p.product_id, "name": p.name, "price": price_text(p), "currency": p.currency}
             for p in products]
    system = (
        "You write marketing emails for Tarnwick Outdoor & Home. Use only the facts below.\n"
        f"<customer>{json.dumps(customer, ensure_ascii=False)}</customer>\n"
        f"<recommended_products>{json.dumps(items, ensure_ascii=False)}</recommended_products>\n"
        f"<company_context>{context}</company_context>"
    )
    result = generate(ChatRequest(system=[system], messages=[("user", INSTRUCTIONS)], tools=[EMAIL_TOOL]), bad)
    assert result.tool_input is not None
    return result.tool_input


def context_for(first: str, last: str, language: str, recommended, others=(), people=()) -> EmailContext:
    return EmailContext("C000001", first, last, language, tuple(recommended), tuple(others), tuple(people))


def locale_names(tag: str) -> tuple[str, str]:
    locale = next(loc for loc in LOCALES if loc.language == tag)
    return locale.first_names[1], locale.last_names[1]


P1 = ProductFact("B0MOKA0001", "Tarnwick Kessel Moka Pot, Six Cups, Cast Aluminium (Silver)", Decimal("34.50"), "EUR")
P2 = ProductFact("B0MUG00002", "Hollin & Vane Enamel Camp Mug, Each Glaze Unique (Ember)", Decimal("9.00"), "EUR")
P3 = ProductFact("B0KNIFE003", "Omura Tekki Santoku Knife 18 cm, Damascus Steel (Olive Wood)",
                 Decimal("1299.00"), "EUR")
OTHER = ProductFact("B0TENT0004", "Tarnwick Fjellsund 2-Person Backpacking Tent, Freestanding (Sand)",
                    Decimal("240"), "EUR")

EN_BODY = (
    "Hello Emily,\n\nWe have picked a few things we think you will love for your next trip.\n\n"
    "- Tarnwick Kessel Moka Pot, Six Cups, Cast Aluminium (Silver) is yours for 34.50 EUR.\n"
    "- Hollin & Vane Enamel Camp Mug, Each Glaze Unique (Ember) costs 9.00 EUR.\n\n"
    "Thank you for shopping with us. We look forward to seeing you again soon.\n\nKind regards,\nYour customer team"
)


def en_draft(body: str = EN_BODY, subject: str = "Emily, we picked these for you",
             preheader: str = "Coffee on the trail", ids: tuple[str, ...] = ("B0MOKA0001", "B0MUG00002")) -> EmailDraft:
    return EmailDraft(subject, preheader, body, ids)


def en_context(**changes) -> EmailContext:
    values = dict(customer_id="C000042", first_name="Emily", last_name="Walsh", language="en",
                  recommended=(P1, P2), other_products=(P3, OTHER),
                  other_people=("Oliver Smith", "Siobhan Kelly", "Hannah Jones"))
    values.update(changes)
    return EmailContext(**values)


def check(body: str, **draft_changes) -> ValidationResult:
    return validate_email(en_draft(body=body, **draft_changes), en_context())


# ---------------------------------------------------------------------------- languages


@pytest.mark.parametrize(("tag", "expected"), [
    ("en", ("en", True)), ("EN", ("en", True)), ("en-GB", ("en", True)), ("de-AT", ("de", True)),
    ("de_CH", ("de", True)), ("fr-BE", ("fr", True)), ("es-ES", ("es", True)), ("it", ("it", True)),
    ("pt-BR", ("pt", True)), ("pt-PT", ("pt", True)), ("PT_br", ("pt", True)), ("nl-BE", ("nl", True)),
    ("ja-JP", ("ja", True)), ("ja", ("ja", True)), (" de ", ("de", True)), ("zh-Hant-TW", ("en", False)),
    ("por", ("pt", True)), ("ger", ("de", True)), ("sv-SE", ("en", False)), ("xx", ("en", False)),
    ("", ("en", False)), (None, ("en", False)), ("de--AT", ("en", False)), ("english", ("en", False)),
    ("und", ("en", False)), (42, ("en", False)),
])
def test_email_language(tag, expected) -> None:
    assert email_language(tag) == expected


def test_detector_is_built_once_and_restricted_to_the_supported_languages() -> None:
    assert languages.detector() is languages.detector()
    confidences = languages.language_confidences("Wir haben einige Produkte für Sie ausgewählt.")
    assert {code for code, _ in confidences} == set(SUPPORTED_LANGUAGES)
    assert confidences[0][0] == "de"
    assert abs(sum(value for _, value in confidences) - 1.0) < 1e-6


def test_importing_the_package_loads_neither_lingua_nor_airflow() -> None:
    code = (
        "import sys; import include.campaign.validation, include.campaign.languages; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lingua', 'airflow')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- parse_draft

GOOD_INPUT = {"subject": " Hi there ", "preheader": "", "body": "Body text", "product_ids": ["B01", "B02", "B01"]}


def test_parse_draft_reads_the_tool_input() -> None:
    draft = parse_draft({**GOOD_INPUT, "language": "de", "extra": {"ignored": True}})
    assert draft == EmailDraft("Hi there", "", "Body text", ("B01", "B02"))
    assert parse_draft(json.dumps(GOOD_INPUT)) == EmailDraft("Hi there", "", "Body text", ("B01", "B02"))
    assert parse_draft({**GOOD_INPUT, "product_ids": []}).product_ids == ()


@pytest.mark.parametrize(("tool_input", "reason"), [
    (None, "tool input is null, not an object"),
    (["subject"], "tool input is a list, not an object"),
    ("not json", "tool input is not a JSON object"),
    ('["a"]', "tool input is a list, not an object"),
    ({k: v for k, v in GOOD_INPUT.items() if k != "subject"}, "missing field: subject"),
    ({k: v for k, v in GOOD_INPUT.items() if k != "preheader"}, "missing field: preheader"),
    ({k: v for k, v in GOOD_INPUT.items() if k != "body"}, "missing field: body"),
    ({k: v for k, v in GOOD_INPUT.items() if k != "product_ids"}, "missing field: product_ids"),
    ({**GOOD_INPUT, "subject": 12}, "field subject is a number, not a string"),
    ({**GOOD_INPUT, "body": ["Hello Anna"]}, "field body is a list, not a string"),
    ({**GOOD_INPUT, "preheader": None}, "field preheader is null, not a string"),
    ({**GOOD_INPUT, "subject": "   "}, "empty field: subject"),
    ({**GOOD_INPUT, "body": ""}, "empty field: body"),
    ({**GOOD_INPUT, "product_ids": "B01,B02"}, "field product_ids is a string, not a list"),
    ({**GOOD_INPUT, "product_ids": {"id": "B01"}}, "field product_ids is an object, not a list"),
    ({**GOOD_INPUT, "product_ids": ["B01", 7]}, "field product_ids holds a number, not strings"),
    ({**GOOD_INPUT, "product_ids": [{"id": "B01"}]}, "field product_ids holds an object, not strings"),
    ({**GOOD_INPUT, "product_ids": ["B01", " "]}, "field product_ids holds an empty id"),
])
def test_parse_draft_rejects_malformed_output(tool_input, reason) -> None:
    with pytest.raises(MalformedOutput) as raised:
        parse_draft(tool_input)
    assert raised.value.reason == reason == str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_malformed_reason_never_quotes_the_content() -> None:
    with pytest.raises(MalformedOutput) as raised:
        parse_draft({"subject": "Anna Schmidt, anna@example.com", "preheader": 5, "body": "x", "product_ids": []})
    assert "Anna" not in raised.value.reason and "@" not in raised.value.reason


def test_parse_draft_accepts_the_stand_in_output() -> None:
    tool_input = stand_in_email("de", "Jörg", [P1, P2])
    draft = parse_draft(tool_input)
    assert draft.product_ids == ("B0MOKA0001", "B0MUG00002")
    assert draft.body.startswith("Hallo Jörg,")


# ---------------------------------------------------------------------------- the stand-in's emails

LANGUAGE_CASES = [
    ("en", "en"), ("de", "de"), ("fr", "fr"), ("es", "es"), ("it", "it"), ("pt-PT", "pt"), ("pt-BR", "pt"),
    ("nl", "nl"), ("ja", "ja"),
]


@pytest.mark.parametrize(("tag", "language"), LANGUAGE_CASES)
def test_stand_in_emails_in_every_language(tag: str, language: str) -> None:
    """Good output passes; each bad output kind fails with exactly its reasons."""
    first, last = locale_names(tag)
    catalog = seed_catalog()
    recommended = [catalog[3], catalog[10], catalog[17]]
    others = [p for p in catalog if p not in recommended]
    people = [f"{c.first_name} {c.last_name}" for c in seed_customers()[:80]]
    ctx = context_for(first, last, email_language(tag)[0], recommended, others, people)
    assert ctx.language == language

    good = validate_email(parse_draft(stand_in_email(tag, first, recommended)), ctx)
    assert good == ValidationResult(True, (), language)

    wrong = validate_email(parse_draft(stand_in_email(tag, first, recommended, "wrong_language")), ctx)
    written_in = "de" if language == "en" else "en"  # the stand-in picks the first other language
    reason = f"wrong language: detected {written_in}, expected {language}"
    assert wrong == ValidationResult(False, (reason,), written_in)

    invented = validate_email(parse_draft(stand_in_email(tag, first, recommended, "invented_product")), ctx)
    assert invented.reasons == (
        "mentions products not recommended: P-INVENTED-0000", "price 99.99 EUR matches no recommended product")

    placeholder = validate_email(parse_draft(stand_in_email(tag, first, recommended, "placeholder")), ctx)
    assert placeholder.reasons == ("unresolved placeholder",)


@pytest.mark.parametrize("tag", ["sv-SE", "xx", "", None, "zh-CN"])
def test_unknown_language_is_written_and_validated_in_english(tag) -> None:
    language, known = email_language(tag)
    assert (language, known) == ("en", False)
    ctx = context_for("Astrid", "Lind", language, [P1, P2])
    result = validate_email(parse_draft(stand_in_email(tag, "Astrid", [P1, P2])), ctx)
    assert result == ValidationResult(True, (), "en")


def test_stand_in_sweep_over_seed_customers_and_catalog() -> None:
    """240 seed customers (9 language tags, real names, kanji for Japanese), 1-4 products each out of
    the 150-product seed catalog, the other 146+ products to refuse and everyone else as other people."""
    catalog = seed_catalog()
    customers = seed_customers()
    people = tuple(f"{c.first_name} {c.last_name}" for c in customers)
    outcomes: dict[str | None, set[tuple[str, ...]]] = {}
    for number, customer in enumerate(customers):
        rng = random.Random(number)
        recommended = rng.sample(catalog, rng.randint(1, 4))
        others = tuple(p for p in catalog if p not in recommended)
        language = email_language(customer.language)[0]
        ctx = context_for(customer.first_name, customer.last_name, language, recommended, others, people)
        bad = (None, "wrong_language", "invented_product", "placeholder")[number % 4]
        tool_input = stand_in_email(customer.language, customer.first_name, recommended, bad)
        result = validate_email(parse_draft(tool_input), ctx)
        reasons = tuple(re.sub(r"detected \w+, expected \w+", "detected X, expected Y", r) for r in result.reasons)
        outcomes.setdefault(bad, set()).add(reasons)
    assert outcomes == {
        None: {()},
        "wrong_language": {("wrong language: detected X, expected Y",)},
        "invented_product": {("mentions products not recommended: P-INVENTED-0000",
                              "price 99.99 EUR matches no recommended product")},
        "placeholder": {("unresolved placeholder",)},
    }


@needs_amazon
def test_stand_in_sweep_over_the_real_amazon_catalog() -> None:
    """Real product names (long, with model numbers, sizes, '|' and '(...)') and INR prices, with every
    other product of the dataset to refuse. The stand-in's preheader repeats the first product's full
    name, which for Amazon names is often over the 200-character default: the bound is widened here so
    the other checks are what is measured (test_length_bounds covers the bound)."""
    catalog = amazon_catalog()
    customers = seed_customers()
    people = tuple(f"{c.first_name} {c.last_name}" for c in customers)
    limits = ValidationLimits(preheader_chars=(0, 600), body_chars=(200, 8000))
    outcomes: dict[str | None, set[tuple[str, ...]]] = {}
    for number, customer in enumerate(customers[:160]):
        rng = random.Random(number)
        recommended = rng.sample(catalog, rng.randint(1, 4))
        others = tuple(p for p in catalog if p not in recommended)
        ctx = context_for(customer.first_name, customer.last_name, email_language(customer.language)[0],
                          recommended, others, people)
        bad = (None, "wrong_language", "invented_product", "placeholder")[number % 4]
        # Prices written like the dataset ("₹1,099") half of the time, plain ("1099") otherwise.
        price_text = (lambda p: f"₹{p.price:,}") if number % 3 == 0 else (lambda p: str(p.price))
        tool_input = stand_in_email(customer.language, customer.first_name, recommended, bad, price_text=price_text)
        # The stand-in writes "₹1,099 INR": make it "₹1,099", as a person would.
        tool_input["body"] = re.sub(r"(₹[\d,.]+) INR", r"\1", tool_input["body"])
        result = validate_email(parse_draft(tool_input), ctx, limits)
        reasons = tuple(re.sub(r"detected \w+, expected \w+", "detected X, expected Y", r) for r in result.reasons)
        outcomes.setdefault(bad, set()).add(reasons)
    assert outcomes == {
        None: {()},
        "wrong_language": {("wrong language: detected X, expected Y",)},
        "invented_product": {("mentions products not recommended: P-INVENTED-0000",
                              "price 99.99 INR matches no recommended product")},
        "placeholder": {("unresolved placeholder",)},
    }


def test_context_with_a_phone_number_or_fee_fails() -> None:
    """The stand-in quotes one context sentence: a store phone number or a shipping fee in the retrieved
    company context ends up in the email and fails validation (the caller should keep such sentences out)."""
    ctx = context_for("Emily", "Walsh", "en", [P1])
    phone = "Questions about a store? Call +43 512 000 000 and ask about our boots."
    result = validate_email(parse_draft(stand_in_email("en", "Emily", [P1], context=phone)), ctx)
    assert result.reasons == ("contains a phone number",)
    fee = "Express delivery of boots costs 10 euro."
    result = validate_email(parse_draft(stand_in_email("en", "Emily", [P1], context=fee)), ctx)
    assert result.reasons == ("price 10 EUR matches no recommended product",)


# ---------------------------------------------------------------------------- 1. language


def test_portuguese_covers_brazil_and_portugal() -> None:
    br = ("Oi Ana,\n\nSeparamos alguns produtos que você vai curtir muito. Dá uma olhada na nossa seleção e "
          "aproveite o frete grátis para todo o Brasil. Você pode parcelar sua compra no cartão sem juros. "
          "Qualquer dúvida, é só chamar a gente no chat do site.\n\nAbraços,\nEquipe Tarnwick")
    pt = ("Olá Ana,\n\nSelecionámos alguns produtos de que certamente vai gostar. Veja a nossa selecção e "
          "aproveite o envio gratuito para Portugal continental. Estamos à sua disposição na loja de Lisboa "
          "para o que precisar, de segunda a sábado.\n\nCom os melhores cumprimentos,\nEquipa Tarnwick")
    for body in (br, pt):
        ctx = context_for("Ana", "Silva", email_language("pt-BR")[0], [P1])
        result = validate_email(EmailDraft("Ana, novidades para você", "", body + "\n" + P1.name + " por 34.50 EUR.",
                                           (P1.product_id,)), ctx)
        assert result == ValidationResult(True, (), "pt")


def test_english_product_names_do_not_outvote_the_language() -> None:
    """Long English product names are language-neutral here: they are removed before detection."""
    long_names = [ProductFact(f"B0LONG000{i}", name, Decimal("10"), "EUR") for i, name in enumerate((
        "Ultra Lightweight Waterproof Breathable Hiking Jacket for Men and Women with Adjustable Hood",
        "Stainless Steel Vacuum Insulated Water Bottle Keeps Drinks Cold for 24 Hours and Hot for 12 Hours",
        "Portable Rechargeable Camping Lantern with Three Brightness Modes and Emergency Power Bank",
    ))]
    body = "Hallo Jonas,\n\n" + "\n".join(f"- {p.name}: 10 EUR" for p in long_names) + (
        "\n\nViele Grüße\nIhr Kundenteam")
    ctx = context_for("Jonas", "Weber", "de", long_names)
    result = validate_email(EmailDraft("Für Sie ausgewählt", "", body, tuple(p.product_id for p in long_names)),
                            ctx, ValidationLimits(body_chars=(10, 5000)))
    assert result == ValidationResult(True, (), "de")


def test_language_margin_accepts_a_close_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real lingua: "Produtos seleccionados para ti" is pt 0.65, es 0.34: not close enough for es.
    close = "Produtos seleccionados para ti"
    assert languages.language_confidences(close)[0][0] == "pt"
    ctx_es = context_for("Lucía", "García", "es", [P1])
    result = validate_email(EmailDraft(close, "", close, ()), ctx_es)
    assert "wrong language: detected pt, expected es" in result.reasons

    import include.campaign.validation as validation

    text = "Selecionamos alguns produtos que achamos que você vai adorar muito."
    ctx_pt = context_for("Ana", "Silva", "pt", [P1])
    for confidences, reason in [
        ((("pt", 0.9), ("es", 0.1)), None),
        ((("es", 0.55), ("pt", 0.45)), None),  # within the margin of 0.2
        ((("es", 0.6), ("pt", 0.4)), None),  # exactly the margin
        ((("es", 0.61), ("pt", 0.39)), "wrong language: detected es, expected pt"),
        ((("es", 0.5), ("it", 0.3), ("pt", 0.2)), "wrong language: detected es, expected pt"),
        ((("en", 0.0), ("pt", 0.0)), "language could not be determined, expected pt"),
    ]:
        monkeypatch.setattr(validation, "language_confidences", lambda _text, c=confidences: c)
        result = validate_email(EmailDraft(text, "", text, ()), ctx_pt)
        language_reasons = tuple(r for r in result.reasons if "language" in r)
        assert language_reasons == ((reason,) if reason else ()), confidences
        assert result.detected_language == (None if confidences[0][1] == 0 else confidences[0][0])


def test_language_undetermined_when_only_names_and_numbers() -> None:
    body = "\n".join(f"{p.name} 34.50 EUR" for p in (P1, P2)) + "\nEmily Walsh 2026"
    result = validate_email(en_draft(body=body, subject="Emily Walsh", preheader="12345"), en_context())
    assert result.detected_language is None
    assert result.reasons[0] == "language could not be determined, expected en"


def test_wrong_language_reason_and_detected_language() -> None:
    body = ("Bonjour Emily,\n\nNous avons sélectionné quelques produits qui vont vous plaire. Jetez-y un coup d'œil "
            "et trouvez votre nouveau coup de cœur.\n\n- Tarnwick Kessel Moka Pot, Six Cups, Cast Aluminium (Silver) "
            "est disponible au prix de 34,50 €.\n- Hollin & Vane Enamel Camp Mug, Each Glaze Unique (Ember) : 9,00 €."
            "\n\nCordialement,\nVotre service client")
    result = validate_email(en_draft(body=body, subject="Notre sélection pour vous"), en_context())
    assert result == ValidationResult(False, ("wrong language: detected fr, expected en",), "fr")


# ---------------------------------------------------------------------------- 2. products


def test_product_ids_must_be_recommended() -> None:
    assert check(EN_BODY).ok
    assert check(EN_BODY, ids=()).reasons == ("mentions no products",)
    result = check(EN_BODY, ids=("B0MOKA0001", "B0MUG00002", "B012", "B034"))
    assert result.reasons == ("mentions products not recommended: B012,B034",)


def test_unrecognised_ids_are_counted_not_quoted() -> None:
    result = check(EN_BODY, ids=("B0MOKA0001", "B0MUG00002", "Siobhan Kelly", "emily@example.com", "B0X9"))
    assert result.reasons == ("mentions products not recommended: B0X9 and 2 unrecognised ids",)


@pytest.mark.parametrize("mention", [
    "Omura Tekki Santoku Knife 18 cm, Damascus Steel (Olive Wood)",  # full name
    "the omura tekki SANTOKU knife",  # key phrase, any case
    "the Omura-Tekki Santoku Knife",  # punctuation does not matter
    "our Omura Tekki Santoku Knife",
])
def test_naming_a_product_that_is_not_recommended(mention: str) -> None:
    body = EN_BODY.replace("Thank you", f"You may also like {mention}. Thank you")
    assert check(body).reasons == ("names a product not recommended: B0KNIFE003",)


def test_several_other_products_are_listed_in_catalog_order() -> None:
    body = EN_BODY.replace("Thank you", "Also: the Tarnwick Fjellsund 2-Person Backpacking tent and the Omura "
                                        "Tekki Santoku knife. Thank you")
    assert check(body).reasons == ("names products not recommended: B0KNIFE003,B0TENT0004",)


def test_generic_words_of_other_product_names_are_not_a_mention() -> None:
    body = EN_BODY.replace("Thank you", "A good knife and a tent make every trip better. Thank you")
    assert check(body).ok


def test_variants_of_a_recommended_product() -> None:
    boots42 = ProductFact("B0BOOT0042", "Tarnwick Hochkar Leather Hiking Boots, Waterproof (Brown, EU 42)",
                          Decimal("229"), "EUR")
    boots43 = ProductFact("B0BOOT0043", "Tarnwick Hochkar Leather Hiking Boots, Waterproof (Brown, EU 43)",
                          Decimal("229"), "EUR")
    ctx = context_for("Emily", "Walsh", "en", [boots42], [boots43, P3])
    intro = "Hello Emily,\n\nWe have picked something we think you will love for your next walk in the hills.\n\n"
    outro = "\n\nThank you for shopping with us. We look forward to seeing you again soon.\n\nKind regards,\nYour team"
    for mention in (boots42.name, "the Tarnwick Hochkar Leather Hiking Boots"):
        draft = EmailDraft("Picked for you", "", f"{intro}- {mention} for 229 EUR.{outro}", (boots42.product_id,))
        assert validate_email(draft, ctx).ok, mention
    draft = EmailDraft("Picked for you", "", f"{intro}- {boots43.name} for 229 EUR.{outro}", (boots42.product_id,))
    assert validate_email(draft, ctx).reasons == ("names a product not recommended: B0BOOT0043",)


def test_listed_product_must_be_named() -> None:
    body = EN_BODY.replace("- Hollin & Vane Enamel Camp Mug, Each Glaze Unique (Ember) costs 9.00 EUR.\n", "")
    assert check(body).reasons == ("product B0MUG00002 listed but not named in the email",)
    # three consecutive words of the name before the first comma are enough
    shortened = body.replace("Thank you", "Pair it with the Vane Enamel Camp Mug. Thank you")
    assert check(shortened).ok


# ---------------------------------------------------------------------------- 3. prices

EUR_34_50 = ["34.50 EUR", "€34.50", "€ 34.50", "34,50 €", "34,50\u00a0€", "EUR 34.50", "EUR34.50", "34.50EUR",
             "34.5 EUR", "34,50 Euro", "34.50 euros", "34.50ユーロ"]
EUR_1299 = ["1.299,00 EUR", "EUR 1,299.00", "€1,299", "1 299,00 €", "1\u202f299,00 €", "1299 €", "1'299.00 EUR",
            "€1299.00", "1.299,– €", "1.299,- EUR"]


@pytest.mark.parametrize("amount", EUR_34_50)
def test_price_formats_matching_the_catalog(amount: str) -> None:
    body = EN_BODY.replace("34.50 EUR", amount)
    assert check(body).ok, amount


@pytest.mark.parametrize("amount", EUR_1299)
def test_thousands_separators(amount: str) -> None:
    ctx = en_context(recommended=(P1, P2, P3), other_products=(OTHER,))
    body = EN_BODY.replace("Thank you", f"The Omura Tekki Santoku Knife is {amount}. Thank you")
    draft = en_draft(body=body, ids=("B0MOKA0001", "B0MUG00002", "B0KNIFE003"))
    assert validate_email(draft, ctx).ok, amount


@pytest.mark.parametrize(("currency", "price", "texts"), [
    ("INR", "1099", ["₹1,099", "₹ 1,099.00", "Rs. 1,099", "Rs 1099", "INR 1,099", "1,099 INR", "1099 rupees"]),
    ("JPY", "4500", ["¥4,500", "￥4,500", "4,500円", "4500 JPY", "JPY 4,500", "4500 yen"]),
    ("USD", "29.99", ["$29.99", "US$29.99", "29.99 USD", "USD 29.99", "29.99 dollars"]),
    ("CAD", "29.99", ["$29.99", "C$29.99", "29.99 CAD"]),
    ("GBP", "19.95", ["£19.95", "19.95 GBP", "GBP 19.95"]),
    ("CHF", "49.90", ["CHF 49.90", "49.90 CHF", "CHF 49,90"]),
    ("BRL", "129.90", ["R$ 129,90", "R$129,90", "129,90 BRL"]),
])
def test_currencies(currency: str, price: str, texts: list[str]) -> None:
    product = ProductFact("B0PRICE001", "Tarnwick Kessel Dutch Oven, Enamel (Sage)", Decimal(price), currency)
    ctx = en_context(recommended=(product,))
    for text in texts:
        body = EN_BODY.replace("34.50 EUR", text).replace("Tarnwick Kessel Moka Pot, Six Cups, Cast Aluminium (Silver)",
                                                          product.name)
        body = body.replace("- Hollin & Vane Enamel Camp Mug, Each Glaze Unique (Ember) costs 9.00 EUR.\n", "")
        assert validate_email(en_draft(body=body, ids=(product.product_id,)), ctx).ok, text


@pytest.mark.parametrize(("amount", "reason"), [
    ("12.99 EUR", "price 12.99 EUR matches no recommended product"),
    ("€34.60", "price 34.60 EUR matches no recommended product"),
    ("34.50 USD", "price 34.50 USD matches no recommended product"),  # right amount, wrong currency
    ("£34.50", "price 34.50 GBP matches no recommended product"),
    ("3450 EUR", "price 3450 EUR matches no recommended product"),
    ("¥4,500", "price 4500 JPY matches no recommended product"),
])
def test_prices_not_in_the_catalog(amount: str, reason: str) -> None:
    assert check(EN_BODY.replace("34.50 EUR", amount)).reasons == (reason,)


def test_list_price_next_to_the_catalog_price_fails() -> None:
    body = EN_BODY.replace("is yours for 34.50 EUR", "was €49, now only €34.50")
    assert check(body).reasons == ("price 49 EUR matches no recommended product",)


def test_each_wrong_price_once_in_order() -> None:
    body = EN_BODY.replace("Thank you", "Shipping is 4.95 EUR, returns 7.95 EUR, shipping again 4.95 EUR. Thank you")
    assert check(body).reasons == ("price 4.95 EUR matches no recommended product",
                                   "price 7.95 EUR matches no recommended product")


@pytest.mark.parametrize("text", [
    "Save 35% today.", "Now -20 % on everything.", "Returns within 30 days.", "A 2-year warranty.",
    "Founded in 1994.", "Free delivery from 60 days of membership.", "Order before 14:00.", "Pack of 2.",
    "Rated 4.5 out of 5 by 24,269 customers.", "EU 42 and EU 43 sizes.", "TOP 10 picks.",
])
def test_amounts_that_are_not_prices(text: str) -> None:
    assert check(EN_BODY.replace("Thank you", f"{text} Thank you")).ok, text


def test_product_without_catalog_price_cannot_be_priced() -> None:
    unpriced = ProductFact("B0MOKA0001", P1.name, None, None)
    result = validate_email(en_draft(), en_context(recommended=(unpriced, P2)))
    assert result.reasons == ("price 34.50 EUR matches no recommended product",)


def test_catalog_prices_given_as_float_int_or_lower_case_currency() -> None:
    for price, currency in ((34.5, "EUR"), ("34.50", "eur"), (Decimal("34.500"), " EUR ")):
        moka = ProductFact("B0MOKA0001", P1.name, price, currency)
        assert validate_email(en_draft(), en_context(recommended=(moka, P2))).ok, (price, currency)
    mug = ProductFact("B0MUG00002", P2.name, 9.95, "EUR")  # Decimal(9.95) would be 9.9499999...
    body = EN_BODY.replace("9.00 EUR", "9.95 EUR")
    assert validate_email(en_draft(body=body), en_context(recommended=(P1, mug))).ok
    whole = ProductFact("B0MUG00002", P2.name, 9, "EUR")
    assert validate_email(en_draft(), en_context(recommended=(P1, whole))).ok


def test_numbers_inside_product_names_are_not_prices() -> None:
    product = ProductFact("B0HEAT0001", "Amazon Basics 2000/1000 Watt Room Heater, 2 EUR Plug (White)",
                          Decimal("1599"), "INR")
    body = EN_BODY.replace("34.50 EUR", "₹1,599").replace(P1.name, product.name)
    body = body.replace("- Hollin & Vane Enamel Camp Mug, Each Glaze Unique (Ember) costs 9.00 EUR.\n", "")
    assert validate_email(en_draft(body=body, ids=(product.product_id,)), en_context(recommended=(product,))).ok


# ---------------------------------------------------------------------------- 4. personal data


@pytest.mark.parametrize("address", [
    "emily.walsh@example.com", "service@tarnwick.example.org", "x+tag@mail.co.uk", "オリバー@example.jp",
    "emily [at] example [dot] com", "emily(at)example.com",
])
def test_email_addresses(address: str) -> None:
    assert check(EN_BODY.replace("Thank you", f"Write to {address} any time. Thank you")).reasons == (
        "contains an email address",)


PHONES = [
    "+49 30 1234567", "+49 (0)30 1234 5678", "+1 (555) 123-4567", "0049 30 1234567", "030 12345678",
    "030/1234567", "(030) 1234567", "06 12 34 56 78", "+33 1 42 68 53 00", "020 7946 0958",
    "+44 20 7946 0958", "(555) 123-4567", "555-123-4567", "555.123.4567", "1-800-555-0199", "0612345678",
    "+31 6 12345678", "347 123 4567", "+39 06 1234 5678", "612 345 678", "+34 612 34 56 78",
    "+351 912 345 678", "(11) 91234-5678", "+55 11 91234-5678", "03-1234-5678", "090-1234-5678",
    "+81 90 1234 5678", "０３－１２３４－５６７８", "+91 98765 43210", "98765 43210", "1800 102 5432",
    "1800-103-1300", "9223032222", "+43 512 000 000",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers(phone: str) -> None:
    assert check(EN_BODY.replace("Thank you", f"Questions? {phone}. Thank you")).reasons == (
        "contains a phone number",)


@pytest.mark.parametrize("text", [
    "Call us on 555 0199 today.", "Tel. 0512 123456.", "電話：03-1234-5678", "WhatsApp 9876543",
    "Customer care number: 18001028169.", "お問い合わせは03-1234-5678まで",
])
def test_phone_numbers_after_a_phone_word(text: str) -> None:
    assert check(EN_BODY.replace("Thank you", f"{text} Thank you")).reasons == ("contains a phone number",)


NOT_PHONES = [
    "Offer valid until 22.11.2026.", "Offer valid until 2026-11-22.", "Valid until 11/22/2026.",
    "Open Mon-Fri 8:00-18:00.", "Visit us at 6020 Innsbruck.", "Our store at 75001 Paris.",
    "D-80331 München.", "Since 1994.", "Serving you 1994-2024.", "Your order 12345678 has shipped.",
    "ISBN 978-3-16-148410-0.", "EAN 4006381333931.", "20,000 mm hydrostatic head.", "150 x 200 cm.",
    "700 Fill-Power down.", "Sizes 38 39 40 41 42 43.", "Works with Windows 11/10/8.1/8/7.",
    "Model UA32T4340BKXXL.", "Product B07JW9H4J1.", "ZIP 02134-1234.", "Ikea 903.391.72 shelf.",
    "Pilot Frixion Pen (9000019529).", "Heater with 1500/1000 Watts.", "R-Value 4.2.", "2 x 300 ml.",
    "Version 85.0.4181.3.", "IP68 with 5000mAh.", "Rated 4.2 by 24,269 buyers.", "2000/1000 W.",
    "USHA EI 1602 1000 W iron.", "Fits 32 37 40 42 47 50 55 inch TVs.", "MacBook Air 2018/2019/2020.",
    "DPI 800/1200/1600.",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_not_phone_numbers(text: str) -> None:
    assert check(EN_BODY.replace("Thank you", f"{text} Thank you")).ok, text


def test_prices_are_not_phone_numbers() -> None:
    ctx = en_context(recommended=(P1, P2, P3))
    body = EN_BODY.replace("Thank you", "The Omura Tekki Santoku Knife costs 1 299,00 €. Thank you")
    assert validate_email(en_draft(body=body, ids=("B0MOKA0001", "B0MUG00002", "B0KNIFE003")), ctx).ok


PHONE_WORDS = re.compile(r"call|contact|care|support|whatsapp|toll|service|reach|helpline|phone|number|\+", re.I)


@needs_amazon
def test_phone_rule_on_the_real_amazon_texts() -> None:
    """Every product name, description and review of the real dataset: each number the rule flags sits
    right after a contact word or starts with "+" (they are real customer-care numbers); model numbers,
    sizes, wattages, OS versions, years, dates and prices never trip it."""
    from include.campaign.validation import _phone_spans

    flagged = {"product_name": 0, "about_product": 0, "review_title": 0, "review_content": 0}
    with AMAZON_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for column in flagged:
                text = row[column]
                for start, end in _phone_spans(text):
                    flagged[column] += 1
                    snippet = text[max(0, start - 50):end]
                    assert text[start] == "+" or PHONE_WORDS.search(snippet), snippet
    # One product name really carries a support number ("Contact Our coustmer Care 7738090464").
    assert flagged["product_name"] == 1 and flagged["review_title"] == 0
    assert flagged["about_product"] >= 40  # dozens of support numbers in the descriptions are found


def test_other_customers_names() -> None:
    for text, flagged in [
        ("Oliver Smith loved this pot too.", True),
        ("oliver smith loved this pot too.", True),  # full names in any case
        ("Oliver says it is great.", True),  # a first name alone, exact spelling
        ("Ask Mr Smith about it.", True),  # honorific + last name
        ("Ask Mrs. Kelly about it.", True),
        ("Smith is a common word here.", False),  # a last name alone is not enough
        ("Say grace before dinner and make jones of it.", False),
        ("Emily, this is for you.", False),  # her own name
    ]:
        result = check(EN_BODY.replace("Thank you", f"{text} Thank you"))
        assert ("names another customer" in result.reasons) == flagged, text


def test_other_customer_with_the_same_first_name() -> None:
    ctx = en_context(other_people=("Emily Jones", "Emily Walsh"))
    assert validate_email(en_draft(), ctx).ok
    body = EN_BODY.replace("Thank you", "Emily Jones chose the same. Thank you")
    assert validate_email(en_draft(body=body), ctx).reasons == ("names another customer",)


def test_japanese_names() -> None:
    first, last = "健太", "佐藤"
    catalog = seed_catalog()
    recommended = [catalog[0], catalog[1]]
    people = ("誠 鈴木", "結衣 山田", "陽菜 佐藤")
    ctx = context_for(first, last, "ja", recommended, (), people)
    tool_input = stand_in_email("ja", first, recommended)
    assert "誠に" in tool_input["body"]  # "Makoto" is a single kanji that also means "sincerely"
    assert validate_email(parse_draft(tool_input), ctx).ok
    for added, reason in [("結衣さんもおすすめです。", "names another customer"),
                          ("山田様もご愛用です。", "names another customer"),
                          ("誠様もご愛用です。", "names another customer"),
                          ("佐藤様、ありがとうございます。", None)]:  # her own family name
        draft = parse_draft({**tool_input, "body": tool_input["body"] + "\n" + added})
        assert validate_email(draft, ctx).reasons == ((reason,) if reason else ()), added


def test_names_inside_product_names_do_not_count() -> None:
    product = ProductFact("B0OLIVER01", "Oliver Smith Trail Mug, Enamel (Blue)", Decimal("9.00"), "EUR")
    body = EN_BODY.replace("Hollin & Vane Enamel Camp Mug, Each Glaze Unique (Ember)", product.name)
    ctx = en_context(recommended=(P1, product))
    assert validate_email(en_draft(body=body, ids=("B0MOKA0001", "B0OLIVER01")), ctx).ok


@pytest.mark.parametrize(("greeting", "ok"), [
    ("Hello Emily,", True), ("Hi EMILY!", True), ("Dear Ms. Walsh,", True), ("Dear Emily Walsh,", True),
    ("Hello,", True), ("Dear customer,", True), ("Dear valued customer,", True), ("Hi there,", True),
    ("Hello friend,", True), ("Hello Tarnwick friend,", True), ("Hello Emily and welcome back!", True),
    ("Hello Oliver,", False), ("Dear Sarah,", False), ("Hi Emma,", False), ("Dear Mr. Smith,", False),
    ("Hello Emily and Sarah,", False), ("Dear Emily Smith,", False),
])
def test_greeting(greeting: str, ok: bool) -> None:
    result = check(EN_BODY.replace("Hello Emily,", greeting))
    assert ("greeting does not use the customer's first name" not in result.reasons) == ok, greeting


@pytest.mark.parametrize(("greeting", "first", "last", "ok"), [
    ("Liebe Kundin,", "Anja", "Huber", True), ("Sehr geehrte Frau Huber,", "Anja", "Huber", True),
    ("Hallo Anja,", "Anja", "Huber", True), ("Hallo Sabine,", "Anja", "Huber", False),
    ("Chère Céline,", "Céline", "Faure", True), ("Chère Celine,", "Céline", "Faure", True),
    ("Bonjour Camille,", "Céline", "Faure", False), ("Olá Ana,", "Ana", "Silva", True),
    ("Beste Sanne,", "Sanne", "Visser", True), ("Beste Fleur,", "Sanne", "Visser", False),
    ("健太様", "健太", "佐藤", True), ("佐藤健太様", "健太", "佐藤", True), ("お客様各位", "健太", "佐藤", True),
    ("直樹様", "健太", "佐藤", False),
])
def test_greetings_in_other_languages(greeting: str, first: str, last: str, ok: bool) -> None:
    from include.campaign.validation import _greeting_ok

    ctx = context_for(first, last, "en", [P1])
    assert _greeting_ok(f"{greeting}\n\nText.", ctx) == ok


# ---------------------------------------------------------------------------- 5. length


def test_length_bounds() -> None:
    limits = ValidationLimits()
    assert check(EN_BODY).ok
    short_body = "Hello Emily,\n\nThe Tarnwick Kessel Moka Pot is 34.50 EUR and the Enamel Camp Mug 9.00 EUR. Bye."
    assert check(short_body).reasons == (f"body too short: {len(short_body)} < {limits.body_chars[0]} characters",)
    long_body = EN_BODY + "\n\n" + "We really do think you will like these. " * 130
    assert check(long_body).reasons == (f"body too long: {len(long_body.strip())} > 5000 characters",)
    assert check(EN_BODY, subject="Hi").reasons == ("subject too short: 2 < 5 characters",)
    subject = "Emily, " + "we picked these for you " * 6
    assert check(EN_BODY, subject=subject).reasons == (f"subject too long: {len(subject.strip())} > 120 characters",)
    assert check(EN_BODY, preheader="").ok
    preheader = "Coffee on the trail " * 11
    assert check(EN_BODY, preheader=preheader).reasons == (
        f"preheader too long: {len(preheader.strip())} > 200 characters",)
    tight = ValidationLimits(subject_chars=(40, 50), preheader_chars=(25, 30), body_chars=(10, 100))
    assert validate_email(en_draft(), en_context(), tight).reasons == (
        "subject too short: 30 < 40 characters", "preheader too short: 19 < 25 characters",
        f"body too long: {len(EN_BODY)} > 100 characters")


# ---------------------------------------------------------------------------- 6. placeholders


@pytest.mark.parametrize("placeholder", [
    "{{first_name}}", "{{ customer.name }}", "{first_name}", "{name}", "{0}", "[[NAME]]", "[NAME]",
    "[FIRST_NAME]", "[PRODUCT 1]", "[Your Name]", "[insert discount code]", "[Customer Name]", "【お名前】",
    "<customer>", "<first_name/>", "</product>", "<p>", "<<FIRST NAME>>", "%s", "%(name)s", "%d",
    "$first_name", "${name}", "INSERT PRODUCT HERE", "[insert link here]", "Lorem ipsum dolor",
    "__FIRST_NAME__", "〇〇様",
])
def test_placeholders(placeholder: str) -> None:
    result = check(EN_BODY.replace("Thank you", f"{placeholder} Thank you"))
    assert result.reasons == ("unresolved placeholder",), placeholder


@pytest.mark.parametrize("text", [
    "[Shop now](https://tarnwick.example/shop)", "50% off", "100 % wool", "Save $5 on the next order",
    "A cosy evening", "Use code WINTER at checkout",
    "Insert the insoles here and there", "I <3 the mountains", "Between 5 < 10 and 20 > 15 degrees",
    "The moka pot (our favourite) is back", "Email us? No: visit us in store.",
])
def test_not_placeholders(text: str) -> None:
    result = check(EN_BODY.replace("Thank you", f"{text}. Thank you"))
    assert "unresolved placeholder" not in result.reasons, text


def test_placeholder_greeting_has_one_reason_in_every_script() -> None:
    for tag in ("en", "ja"):
        first, last = locale_names(tag)
        recommended = [seed_catalog()[5]]
        ctx = context_for(first, last, tag, recommended)
        result = validate_email(parse_draft(stand_in_email(tag, first, recommended, "placeholder")), ctx)
        assert result.reasons == ("unresolved placeholder",), tag


# ---------------------------------------------------------------------------- reasons and feedback

PII = ("Emily", "Walsh", "Oliver", "Smith", "Siobhan", "oliver@example.com", "picked a few things")


MESSY_BODY = ("Hallo Oliver Smith,\n\nhere is oliver@example.com and +44 20 7946 0958. The Omura Tekki Santoku "
              "Knife for €12.99. {{first_name}} We have picked a few things.")
MESSY_PREHEADER = "Coffee on the trail " * 11


def messy_draft() -> EmailDraft:
    return EmailDraft("Hi", MESSY_PREHEADER.strip(), MESSY_BODY, ("B0MOKA0001", "B9WRONG01"))


def test_reasons_in_stable_order_without_customer_data() -> None:
    result = validate_email(messy_draft(), en_context())
    assert result.reasons == (
        "mentions products not recommended: B9WRONG01",
        "names a product not recommended: B0KNIFE003",
        "product B0MOKA0001 listed but not named in the email",
        "price 12.99 EUR matches no recommended product",
        "contains an email address",
        "contains a phone number",
        "names another customer",
        "greeting does not use the customer's first name",
        "subject too short: 2 < 5 characters",
        f"preheader too long: {len(MESSY_PREHEADER.strip())} > 200 characters",
        f"body too short: {len(MESSY_BODY)} < 200 characters",
        "unresolved placeholder",
    )
    assert not result.ok
    assert validate_email(messy_draft(), en_context()) == result  # deterministic
    for reason in result.reasons:
        assert "\n" not in reason
        assert not any(word.lower() in reason.lower() for word in PII), reason


def test_feedback_for_the_retry() -> None:
    assert feedback(validate_email(en_draft(), en_context())) == ""
    result = validate_email(messy_draft(), en_context())
    text = feedback(result)
    assert text.startswith("Your previous email was rejected.")
    assert "Do not include any phone number." in text and "Do not include any email address." in text
    assert "B9WRONG01" in text and "B0KNIFE003" in text
    assert not any(word.lower() in text.lower() for word in PII)
    malformed = ValidationResult(False, ("malformed output: missing field: body",), None)
    assert "Call the tool once, with subject, preheader and body" in feedback(malformed)
    german = ValidationResult(
        False, ("wrong language: detected en, expected de", "body too short: 10 < 200 characters"), "en")
    assert feedback(german) == (
        "Your previous email was rejected. Write it again and call the tool, fixing this:\n"
        "- Write the subject, preheader and body entirely in German.\n"
        "- Change the length of the body (too short: 10 < 200 characters)."
    )


def test_validation_is_thread_safe() -> None:
    catalog = seed_catalog()
    cases = []
    for number, customer in enumerate(seed_customers()[:48]):
        recommended = [catalog[number], catalog[number + 50]]
        ctx = context_for(customer.first_name, customer.last_name, email_language(customer.language)[0], recommended,
                          [p for p in catalog if p not in recommended])
        cases.append((parse_draft(stand_in_email(customer.language, customer.first_name, recommended,
                                                 (None, "wrong_language")[number % 2])), ctx))
    expected = [validate_email(d, c) for d, c in cases]
    results: list[list[ValidationResult]] = [[] for _ in range(6)]

    def work(slot: int) -> None:
        results[slot] = [validate_email(d, c) for d, c in cases]

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == expected for r in results)
    assert [r.ok for r in expected] == [number % 2 == 0 for number in range(48)]
