"""Parsing and validation of catalog rows (include/catalog/parsing.py): every messy form of the Amazon Sales
Dataset, the quarantine reasons, and the review-list alignment rules; then the real amazon.csv read by path."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from decimal import Decimal

import pytest

from include.catalog.parsing import (
    BAD_DISCOUNT, BAD_RATING_COUNT, CATALOG_COLUMNS, DISCOUNT_ABOVE_PRICE, EMPTY_REVIEW_ID, MALFORMED_PRODUCT_ID,
    MISSING_CATEGORY, MISSING_NAME, MISSING_PRODUCT_ID, PRICES_IN_TWO_CURRENCIES, REVIEWS_WITHOUT_IDS,
    UNALIGNED_REVIEWS, CatalogRow, Price, Rejection, content_hash, parse_category, parse_count, parse_percentage,
    parse_price, parse_rating, parse_row, split_list, split_review_lists,
)
from local.datasets import amazon_sales_csv

# The real dataset is read where it lies (never copied into the repository): ../shared/data/amazon-sales/amazon.csv
REAL_FILE = amazon_sales_csv()


def row(**changes: str) -> dict[str, str]:
    cells = {
        "product_id": "B07JW9H4J1", "product_name": "Nylon Braided Cable, 3 FT (Grey)",
        "category": "Computers&Accessories|Cables&Accessories|Cables|USBCables",
        "discounted_price": "₹399", "actual_price": "₹1,099", "discount_percentage": "64%", "rating": "4.2",
        "rating_count": "24,269", "about_product": "Fast charge|Durable", "user_id": "AAA,BBB",
        "user_name": "Manav,Anna K.", "review_id": "R1,R2", "review_title": "Satisfied,Great",
        "review_content": "Looks durable,Charges fast", "img_link": "https://img/x.jpg",
        "product_link": "https://shop/dp/B07JW9H4J1",
    }
    cells.update(changes)
    assert set(cells) == set(CATALOG_COLUMNS)
    return cells


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("₹1,099", "1099", "INR"), ("₹399", "399", "INR"), ("₹1,39,900", "139900", "INR"), ("₹273.10", "273.10", "INR"),
    ("€1,299", "1299", "EUR"), ("$19.99", "19.99", "USD"), ("£7", "7", "GBP"), (" € 12 ", "12", "EUR"),
])
def test_prices_are_split_into_amount_and_currency(text: str, amount: str, currency: str) -> None:
    assert parse_price(text, "actual_price") == Price(Decimal(amount), currency)


@pytest.mark.parametrize(("text", "reason"), [
    ("", "missing actual_price"), ("  ", "missing actual_price"),
    ("1,099", "actual_price without a known currency symbol"), ("¥1,099", "actual_price without a known currency symbol"),
    ("Rs.99", "actual_price not a price"), ("₹-5", "actual_price not a price"), ("₹1.999", "actual_price not a price"),
    ("₹12,99,99,99,999", "actual_price not a price"), ("₹abc", "actual_price not a price"), ("₹", "actual_price not a price"),
])
def test_unusable_prices_name_the_problem(text: str, reason: str) -> None:
    assert parse_price(text, "actual_price") == reason


def test_counts_percentages_ratings_and_categories() -> None:
    assert [parse_count(t) for t in ("24,269", "1,40,036", "992", "", " 7 ")] == [24269, 140036, 992, None, 7]
    assert [parse_count(t) for t in ("24.269", "-3", "many", "1,2,")] == [BAD_RATING_COUNT] * 4
    assert [parse_percentage(t) for t in ("64%", "5 %", "12.5%", "")] == [Decimal(64), Decimal(5), Decimal("12.5"), None]
    assert [parse_percentage(t) for t in ("64", "120%", "-5%", "%")] == [BAD_DISCOUNT] * 4
    assert [parse_rating(t) for t in ("4.2", "4", "0", "5.0")] == [4.2, 4.0, 0.0, 5.0]
    assert [parse_rating(t) for t in ("|", "", "4,2", "5.1", "n/a", "-1")] == [None] * 6
    assert parse_category("Computers&Accessories|Cables|USBCables") == (
        "Computers&Accessories", "Computers&Accessories|Cables|USBCables", "USBCables")
    assert parse_category(" Home | | Kitchen ") == ("Home", "Home|Kitchen", "Kitchen")
    assert parse_category("Electronics") == ("Electronics", "Electronics", "Electronics")
    assert parse_category("Electronics|HomeTheater,TV&Video") == (
        "Electronics", "Electronics|HomeTheater,TV&Video", "HomeTheater,TV&Video")
    assert parse_category(" | ") is None


def test_a_good_row_is_parsed_with_its_reviews() -> None:
    parsed = parse_row(row(), line=2)
    assert isinstance(parsed, CatalogRow)
    assert (parsed.product_id, parsed.category, parsed.sub_category, parsed.category_path) == (
        "B07JW9H4J1", "Computers&Accessories", "USBCables", "Computers&Accessories|Cables&Accessories|Cables|USBCables")
    assert (parsed.discounted_price, parsed.actual_price, parsed.currency) == (Decimal(399), Decimal(1099), "INR")
    assert (parsed.discount_percentage, parsed.rating, parsed.rating_count) == (Decimal(64), 4.2, 24269)
    assert parsed.record_key == "line 2: B07JW9H4J1"
    assert [(r.review_id, r.user_id, r.user_name, r.title, r.content, r.ordinal) for r in parsed.reviews] == [
        ("R1", "AAA", "Manav", "Satisfied", "Looks durable", 1), ("R2", "BBB", "Anna K.", "Great", "Charges fast", 2)]
    assert parsed.reviews[0].content_hash == hashlib.sha256(b"Satisfied\nLooks durable").hexdigest()
    assert parsed.reviews_rejected is None


def test_odd_ratings_and_empty_counts_load_as_null() -> None:
    parsed = parse_row(row(rating="|", rating_count="", discount_percentage=""), line=3)
    assert isinstance(parsed, CatalogRow)
    assert (parsed.rating, parsed.rating_count, parsed.discount_percentage) == (None, None, None)


def test_the_row_hash_changes_with_any_product_attribute_but_not_with_reviews() -> None:
    base = parse_row(row(), 2)
    assert isinstance(base, CatalogRow)
    assert parse_row(row(review_content="Other,Texts"), 9).row_hash == base.row_hash  # type: ignore[union-attr]
    for change in ({"rating_count": "24,270"}, {"product_link": "https://shop/other"}, {"actual_price": "₹1,100"},
                   {"rating": "|"}):
        assert parse_row(row(**change), 2).row_hash != base.row_hash  # type: ignore[union-attr]


@pytest.mark.parametrize(("changes", "reasons", "key"), [
    ({"product_id": " "}, (MISSING_PRODUCT_ID,), "line 7"),
    ({"product_id": "B0 12"}, (MALFORMED_PRODUCT_ID,), "line 7"),
    ({"product_name": ""}, (MISSING_NAME,), "line 7: B07JW9H4J1"),
    ({"category": "|"}, (MISSING_CATEGORY,), "line 7: B07JW9H4J1"),
    ({"discounted_price": "399"}, ("discounted_price without a known currency symbol",), "line 7: B07JW9H4J1"),
    ({"actual_price": ""}, ("missing actual_price",), "line 7: B07JW9H4J1"),
    ({"actual_price": "€1,099"}, (PRICES_IN_TWO_CURRENCIES,), "line 7: B07JW9H4J1"),
    ({"discounted_price": "₹2,000"}, (DISCOUNT_ABOVE_PRICE,), "line 7: B07JW9H4J1"),
    ({"discount_percentage": "sixty"}, (BAD_DISCOUNT,), "line 7: B07JW9H4J1"),
    ({"rating_count": "24.269"}, (BAD_RATING_COUNT,), "line 7: B07JW9H4J1"),
    ({"product_id": "", "actual_price": "1,099"}, (MISSING_PRODUCT_ID, "actual_price without a known currency symbol"),
     "line 7"),
])
def test_unusable_rows_are_rejected_with_every_reason(changes: dict[str, str], reasons: tuple[str, ...], key: str) -> None:
    rejected = parse_row(row(**changes), line=7)
    assert isinstance(rejected, Rejection)
    assert (rejected.reasons, rejected.record_key) == (reasons, key)
    assert "\n" not in "; ".join(rejected.reasons)


@pytest.mark.parametrize(("text", "count", "expected"), [
    ("Good quality, would recommend", 1, ["Good quality, would recommend"]),  # one review: the whole cell
    ("", 3, ["", "", ""]),
    ("A,B,,D", 4, ["A", "B", "", "D"]),  # naive split is exact when no element holds a comma
    ("Charging is really fast, good product.,Till now satisfied", 2,
     ["Charging is really fast, good product.", "Till now satisfied"]),  # ", " inside an element
    ("it was basic ,I liked it,Quite easy", 2, ["it was basic ,I liked it", "Quite easy"]),  # " ," inside
    ("Good product,long wire,Charges good", 2, None),  # ambiguous: which comma separates?
    ("A,B,C", 2, None),
])
def test_review_cells_split_by_the_first_rule_that_aligns(text: str, count: int, expected: list[str] | None) -> None:
    assert split_list(text, count) == expected


def test_review_lists_align_by_the_review_ids_or_are_rejected() -> None:
    reviews = split_review_lists(row(review_content="Fast, sturdy,Nice"))
    assert [r.content for r in reviews] == ["Fast, sturdy", "Nice"]  # type: ignore[union-attr]
    assert split_review_lists(row(review_content="Good product,long wire,Charges good")) == UNALIGNED_REVIEWS
    assert split_review_lists(row(user_id="AAA")) == UNALIGNED_REVIEWS
    assert split_review_lists(row(review_id="R1,")) == EMPTY_REVIEW_ID
    assert split_review_lists(row(review_id="", user_id="", user_name="", review_title="", review_content="")) == ()
    assert split_review_lists(row(review_id="")) == REVIEWS_WITHOUT_IDS
    # the same review twice in one row is kept once; empty values are None
    twice = split_review_lists(row(review_id="R1,R1", review_title=",", review_content="x,y"))
    assert [(r.review_id, r.title, r.content, r.ordinal) for r in twice] == [("R1", None, "x", 1)]  # type: ignore[union-attr]


def test_a_row_with_unaligned_reviews_keeps_its_product() -> None:
    parsed = parse_row(row(review_title="Good, fast,Great,Nice"), line=4)
    assert isinstance(parsed, CatalogRow)
    assert (parsed.reviews, parsed.reviews_rejected) == ((), UNALIGNED_REVIEWS)


def test_content_hash_is_of_title_newline_content() -> None:
    assert content_hash("T", "C") == hashlib.sha256("T\nC".encode()).hexdigest()
    assert content_hash(None, "C") == hashlib.sha256(b"\nC").hexdigest()


@pytest.mark.skipif(not REAL_FILE.exists(), reason=f"the real dataset is not at {REAL_FILE} (set AMAZON_SALES_CSV)")
def test_the_real_amazon_csv_parses_completely() -> None:
    """Every one of the 1,465 rows of the real file (read by path, never copied) is usable: 1,351 products,
    1,354 (product, review) pairs; the non-numeric rating and the empty counts load as NULL."""
    with REAL_FILE.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    parsed = [parse_row(cells, line) for line, cells in enumerate(records, start=2)]
    rejected = [p for p in parsed if isinstance(p, Rejection)]
    rows_ok = [p for p in parsed if isinstance(p, CatalogRow)]
    assert (len(records), len(rows_ok), len(rejected)) == (1465, 1465, 0)
    assert len({p.product_id for p in rows_ok}) == 1351
    assert len({(p.product_id, r.review_id) for p in rows_ok for r in p.reviews}) == 1354
    assert sum(p.reviews_rejected is not None for p in rows_ok) == 0
    assert Counter(p.currency for p in rows_ok) == {"INR": 1465}
    assert sum(p.rating is None for p in rows_ok) == 1  # the "|" rating
    assert sum(p.rating_count is None for p in rows_ok) == 2
    assert sum(p.reviews[0].content is None for p in rows_ok) == 24  # title only
    first = rows_ok[0]
    assert (first.product_id, first.discounted_price, first.actual_price, first.discount_percentage, first.rating_count,
            first.category, first.sub_category) == (
        "B07JW9H4J1", Decimal(399), Decimal(1099), Decimal(64), 24269, "Computers&Accessories", "USBCables")
