"""A batch's facts, from the rows of include/sql/personalized_email_campaign/batch_facts.sql and
batch_context.sql, as one CustomerFacts per customer (plus what the validator compares against).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from include.campaign.prompt import ContextChunk, CustomerFacts, Product, merge_context
from include.campaign.validation import ProductFact


@dataclass
class BatchCustomer:
    facts: CustomerFacts
    consent: bool
    missing_products: int = 0  # recommended, but no longer in the catalog
    other_products: tuple[ProductFact, ...] = ()
    other_people: tuple[str, ...] = field(default_factory=tuple, repr=False)


def customers_from_rows(fact_rows: Iterable[Sequence[Any]], context_rows: Iterable[Sequence[Any]],
                        context_k: int) -> list[BatchCustomer]:
    """Group batch_facts rows (ordered by customer, rank) into customers with their top-k context.

    fact row: CUSTOMER_ID, FIRST_NAME, LAST_NAME, PREFERRED_LANGUAGE, COUNTRY, MARKETING_CONSENT,
    ORDER_COUNT, FAVOURITE_CATEGORIES (JSON), LAST_PURCHASE_AT, RANK, PRODUCT_ID, PRODUCT_NAME, CATEGORY,
    PRICE, CURRENCY, RATING, ABOUT_PRODUCT. context row: PRODUCT_ID, CHUNK_ID, SCORE, TITLE, SOURCE_URI, TEXT.
    """
    by_product: dict[str, list[ContextChunk]] = {}
    for product_id, chunk_id, score, title, source_uri, text in context_rows:
        if chunk_id is None or text is None:
            continue
        by_product.setdefault(str(product_id), []).append(
            ContextChunk(str(chunk_id), None if title is None else str(title), str(source_uri or ""), str(text),
                         float(score or 0.0)))

    grouped: dict[str, dict[str, Any]] = {}
    for row in fact_rows:
        (customer_id, first, last, language, country, consent, orders, favourites, last_purchase,
         _rank, product_id, name, category, price, currency, rating, about) = row
        key = str(customer_id)
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = {
                "row": (first, last, language, country, consent, orders, favourites, last_purchase),
                "products": [], "missing": 0, "seen": set(),
            }
        if product_id is None or str(product_id) in entry["seen"]:
            continue
        entry["seen"].add(str(product_id))
        if name is None or not str(name).strip():
            entry["missing"] += 1
            continue
        entry["products"].append(Product(
            product_id=str(product_id), name=str(name).strip(), category=None if category is None else str(category),
            price=_decimal(price), currency=None if currency is None else str(currency),
            rating=None if rating is None else float(rating), about=None if about is None else str(about)))

    customers = []
    for customer_id, entry in grouped.items():
        first, last, language, country, consent, orders, favourites, last_purchase = entry["row"]
        products = tuple(entry["products"])
        context = merge_context([by_product.get(p.product_id, []) for p in products], context_k) if context_k else ()
        facts = CustomerFacts(
            customer_id=customer_id, first_name=_text(first), last_name=_text(last), preferred_language=_text(language),
            country=_text(country), products=products, orders=int(orders or 0),
            favourite_categories=tuple(_json_list(favourites)), last_purchase=_month(last_purchase), context=context)
        customers.append(BatchCustomer(facts=facts, consent=bool(consent), missing_products=entry["missing"]))
    _add_others(customers)
    return customers


def _add_others(customers: list[BatchCustomer]) -> None:
    """What each customer's email must not name: the batch's other products and other customers."""
    catalog: dict[str, ProductFact] = {}
    for customer in customers:
        for p in customer.facts.products:
            catalog.setdefault(p.product_id, ProductFact(p.product_id, p.name, p.price, p.currency))
    people = [(c.facts.customer_id, " ".join(n for n in (c.facts.first_name, c.facts.last_name) if n))
              for c in customers]
    for customer in customers:
        own = {p.product_id for p in customer.facts.products}
        customer.other_products = tuple(fact for pid, fact in catalog.items() if pid not in own)
        customer.other_people = tuple(name for cid, name in people if cid != customer.facts.customer_id and name)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _month(value: Any) -> str | None:
    """YYYY-MM of a timestamp (the prompt says when, not the exact moment)."""
    if value is None:
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m")
    text = str(value).strip()
    return text[:7] if len(text) >= 7 and text[4] == "-" else None


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount == amount.quantize(Decimal("0.01")) else amount


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return []
    return [str(v) for v in parsed if v is not None] if isinstance(parsed, list) else []
