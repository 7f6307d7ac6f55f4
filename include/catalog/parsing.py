"""Parse and validate one row of a product catalog in the columns of the public Amazon Sales Dataset.

The columns: product_id, product_name, category, discounted_price, actual_price,
discount_percentage, rating, rating_count, about_product, user_id, user_name, review_id,
review_title, review_content, img_link, product_link. The real file is messy, and every form below
is parsed rather than rejected:

* prices "₹1,099", "€1,299", "₹1,39,900" (Indian digit grouping), "₹273.10": an amount with up to
  two decimals and a currency symbol (₹ INR, € EUR, $ USD, £ GBP). A price without a known symbol
  cannot be used (an amount in an unknown currency), so its row is quarantined.
* counts "24,269" or "1,40,036" -> integer; an empty count -> NULL.
* percentages "64%" -> 64.00; empty -> NULL.
* ratings "4.2" or "4" -> float; anything that is not a number in 0..5 ("|", "") -> NULL.
* categories "A|B|C" -> CATEGORY "A" (top level), SUB_CATEGORY "C" (leaf), CATEGORY_PATH "A|B|C"
  (parts stripped, empty parts dropped).
* user_id, user_name, review_id, review_title and review_content hold comma-joined lists, one
  element per review. See :func:`split_review_lists` for how they are aligned.

A row is quarantined (one reason per problem, naming fields, never values) when it has no
product_id, name or category, or a price that is missing, malformed, in an unknown currency or in
two currencies, or a malformed count or percentage. A row whose product is fine but whose review
lists cannot be aligned keeps its product; only its reviews are quarantined.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal

CATALOG_COLUMNS = (
    "product_id", "product_name", "category", "discounted_price", "actual_price",
    "discount_percentage", "rating", "rating_count", "about_product", "user_id", "user_name",
    "review_id", "review_title", "review_content", "img_link", "product_link",
)
REVIEW_LIST_COLUMNS = ("user_id", "user_name", "review_id", "review_title", "review_content")
CURRENCY_SYMBOLS = {"₹": "INR", "€": "EUR", "$": "USD", "£": "GBP"}

# Reasons are stable strings: part of the quarantine table's key and of the run summary. They name
# fields, never values, so they can be logged.
WRONG_FIELD_COUNT = "wrong number of fields"
UNREADABLE_RECORD = "unreadable CSV record"
NOT_UTF8 = "not valid UTF-8"
MISSING_PRODUCT_ID = "missing product_id"
MALFORMED_PRODUCT_ID = "malformed product_id"
MISSING_NAME = "missing product_name"
MISSING_CATEGORY = "missing category"
PRICES_IN_TWO_CURRENCIES = "discounted_price and actual_price in different currencies"
DISCOUNT_ABOVE_PRICE = "discounted_price above actual_price"
BAD_DISCOUNT = "discount_percentage not a percentage in 0-100"
BAD_RATING_COUNT = "rating_count not a count"
UNALIGNED_REVIEWS = "review lists cannot be aligned"
EMPTY_REVIEW_ID = "empty review_id in review list"
REVIEWS_WITHOUT_IDS = "reviews without review_id"
MISSING_COLUMNS = "header lacks catalog columns"
EMPTY_FILE = "file has no header"


def missing_price(column: str) -> str:
    return f"missing {column}"


def malformed_price(column: str) -> str:
    return f"{column} not a price"


def unknown_currency(column: str) -> str:
    return f"{column} without a known currency symbol"


# An amount: digits with optional thousands separators (Western 1,234,567 or Indian 12,34,567 grouping;
# the grouping is not checked, "24,269" and "2,4269" both mean 24269) and at most two decimals.
_AMOUNT = r"\d+(?:,\d+)*(?:\.\d{1,2})?"
_PRICE = re.compile(rf"^(?P<symbol>[^\d\s.,+-]*)\s*(?P<amount>{_AMOUNT})$")
_COUNT = re.compile(r"^\d+(?:,\d+)*$")
_PERCENT = re.compile(r"^(?P<value>\d+(?:\.\d{1,2})?)\s*%$")
_RATING = re.compile(r"^\d+(?:\.\d+)?$")
_PRODUCT_ID = re.compile(r"^\S{1,64}$")
# NUMBER(12, 2): ten digits before the point
_MAX_PRICE = Decimal("9999999999.99")
# A separator between two list elements is a comma with no white space on either side: a comma inside
# a title or text is almost always followed by a space ("fast, good product") or preceded by one.
_LIST_SEPARATOR = re.compile(r"(?<!\s),(?!\s)")


@dataclass(frozen=True, slots=True)
class Price:
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Review:
    review_id: str
    user_id: str | None
    user_name: str | None
    title: str | None
    content: str | None
    ordinal: int  # 1-based position in the row's lists

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.content)


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """A row whose product can be loaded; ``reviews_rejected`` says why its reviews cannot (or None)."""

    line: int
    product_id: str
    product_name: str
    category: str
    category_path: str
    sub_category: str
    discounted_price: Decimal
    actual_price: Decimal
    currency: str
    discount_percentage: Decimal | None
    rating: float | None
    rating_count: int | None
    about_product: str | None
    img_link: str | None
    product_link: str | None
    reviews: tuple[Review, ...] = ()
    reviews_rejected: str | None = None

    @property
    def record_key(self) -> str:
        return record_key(self.line, self.product_id)

    @property
    def row_hash(self) -> str:
        """sha256 of the product's parsed attributes (not its reviews): a MERGE updates only changed products."""
        values = [
            self.product_id, self.product_name, self.category_path, str(self.discounted_price),
            str(self.actual_price), self.currency,
            None if self.discount_percentage is None else str(self.discount_percentage),
            None if self.rating is None else repr(self.rating), self.rating_count, self.about_product,
            self.img_link, self.product_link,
        ]
        return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that cannot be loaded: its quarantine key, reasons and the row as received (JSON text)."""

    line: int
    product_id: str | None
    reasons: tuple[str, ...]
    raw_json: str

    @property
    def record_key(self) -> str:
        return record_key(self.line, self.product_id)


def record_key(line: int, product_id: str | None) -> str:
    """``line N: <product_id>`` (``line N`` without a usable id): unique within a file, independent of the run."""
    return f"line {line}: {product_id[:64]}" if product_id else f"line {line}"


def content_hash(title: str | None, content: str | None) -> str:
    """sha256 of ``title + "\\n" + content`` (None counts as empty): the review text sentiment is measured on."""
    return hashlib.sha256(f"{title or ''}\n{content or ''}".encode()).hexdigest()


def parse_price(text: str, column: str) -> Price | str:
    """A price, or the reason it is not one."""
    text = text.strip()
    if not text:
        return missing_price(column)
    match = _PRICE.match(text)
    if match is None:
        return malformed_price(column)
    currency = CURRENCY_SYMBOLS.get(match["symbol"])
    if currency is None:
        return unknown_currency(column)
    amount = Decimal(match["amount"].replace(",", ""))
    if amount > _MAX_PRICE:
        return malformed_price(column)
    return Price(amount, currency)


def parse_count(text: str) -> int | None | str:
    """``"24,269"`` -> 24269; empty -> None; anything else -> the reason."""
    text = text.strip()
    if not text:
        return None
    if not _COUNT.match(text):
        return BAD_RATING_COUNT
    return int(text.replace(",", ""))


def parse_percentage(text: str) -> Decimal | None | str:
    """``"64%"`` -> Decimal("64"); empty -> None; anything else or above 100 -> the reason."""
    text = text.strip()
    if not text:
        return None
    match = _PERCENT.match(text)
    if match is None or Decimal(match["value"]) > 100:
        return BAD_DISCOUNT
    return Decimal(match["value"])


def parse_rating(text: str) -> float | None:
    """A star rating in 0..5, else None (the real file has "|" and empty ratings)."""
    text = text.strip()
    if not _RATING.match(text):
        return None
    value = float(text)
    return value if 0 <= value <= 5 else None


def parse_category(text: str) -> tuple[str, str, str] | None:
    """``"A|B|C"`` -> (top level "A", path "A|B|C", leaf "C"); None when no part is left."""
    parts = [part.strip() for part in text.split("|") if part.strip()]
    if not parts:
        return None
    return parts[0], "|".join(parts), parts[-1]


def split_list(text: str, count: int) -> list[str] | None:
    """Split one comma-joined review cell into ``count`` elements, or None when that cannot be done reliably.

    Rules, in order (the first that gives exactly ``count`` elements wins):

    1. one review: the whole cell is its value, commas and all;
    2. an empty cell: ``count`` empty values;
    3. split on every comma (exact whenever no element holds a comma: always in the generator's
       files and in the shared copy of the real file);
    4. split only on commas with no white space on either side: in the original dataset a comma
       inside a title or text is nearly always written ", " (or " ,"), while the list separator has
       no space.

    The count comes from the review_id list (ids never hold commas), so a cell that yields a
    different number of elements under every rule is ambiguous and the row's reviews are rejected.
    """
    if count == 1:
        return [text]
    if not text.strip():
        return [""] * count
    parts = text.split(",")
    if len(parts) == count:
        return parts
    parts = _LIST_SEPARATOR.split(text)
    if len(parts) == count:
        return parts
    return None


def split_review_lists(cells: dict[str, str]) -> tuple[Review, ...] | str:
    """The row's reviews, aligned across the five list columns by the review_id list, or the reason they cannot be.

    No review ids and nothing else in the five cells means no reviews. Values are stripped; an empty
    value is None. The same review id twice in one row keeps the first.
    """
    ids_text = cells["review_id"].strip()
    if not ids_text:
        if any(cells[column].strip() for column in REVIEW_LIST_COLUMNS):
            return REVIEWS_WITHOUT_IDS
        return ()
    ids = [part.strip() for part in ids_text.split(",")]
    if not all(ids):
        return EMPTY_REVIEW_ID
    columns: dict[str, list[str]] = {}
    for column in ("user_id", "user_name", "review_title", "review_content"):
        parts = split_list(cells[column], len(ids))
        if parts is None:
            return UNALIGNED_REVIEWS
        columns[column] = parts
    reviews: list[Review] = []
    seen: set[str] = set()
    for index, review_id in enumerate(ids):
        if review_id in seen:
            continue
        seen.add(review_id)
        reviews.append(Review(
            review_id=review_id,
            user_id=_text(columns["user_id"][index]),
            user_name=_text(columns["user_name"][index]),
            title=_text(columns["review_title"][index]),
            content=_text(columns["review_content"][index]),
            ordinal=index + 1,
        ))
    return tuple(reviews)


def raw_json(cells: dict[str, str] | list[str]) -> str:
    """The row as received, as JSON text for OPS.QUARANTINE.RAW_RECORD."""
    return json.dumps(cells, ensure_ascii=False)


def parse_row(cells: dict[str, str], line: int) -> CatalogRow | Rejection:
    """Validate and parse one row (``cells``: column name -> raw text, every catalog column present)."""
    reasons: list[str] = []
    product_id = cells["product_id"].strip()
    if not product_id:
        reasons.append(MISSING_PRODUCT_ID)
    elif not _PRODUCT_ID.match(product_id):
        reasons.append(MALFORMED_PRODUCT_ID)
    name = cells["product_name"].strip()
    if not name:
        reasons.append(MISSING_NAME)
    category = parse_category(cells["category"])
    if category is None:
        reasons.append(MISSING_CATEGORY)
    discounted = parse_price(cells["discounted_price"], "discounted_price")
    actual = parse_price(cells["actual_price"], "actual_price")
    for price in (discounted, actual):
        if isinstance(price, str):
            reasons.append(price)
    if isinstance(discounted, Price) and isinstance(actual, Price):
        if discounted.currency != actual.currency:
            reasons.append(PRICES_IN_TWO_CURRENCIES)
        elif discounted.amount > actual.amount:
            reasons.append(DISCOUNT_ABOVE_PRICE)
    discount = parse_percentage(cells["discount_percentage"])
    if isinstance(discount, str):
        reasons.append(discount)
    rating_count = parse_count(cells["rating_count"])
    if isinstance(rating_count, str):
        reasons.append(rating_count)
    if reasons:
        usable_id = product_id if product_id and _PRODUCT_ID.match(product_id) else None
        return Rejection(line, usable_id, tuple(reasons), raw_json(cells))
    assert isinstance(discounted, Price) and isinstance(actual, Price) and category is not None
    assert not isinstance(discount, str) and not isinstance(rating_count, str)
    reviews = split_review_lists(cells)
    return CatalogRow(
        line=line,
        product_id=product_id,
        product_name=name,
        category=category[0],
        category_path=category[1],
        sub_category=category[2],
        discounted_price=discounted.amount,
        actual_price=actual.amount,
        currency=actual.currency,
        discount_percentage=discount,
        rating=parse_rating(cells["rating"]),
        rating_count=rating_count,
        about_product=_text(cells["about_product"]),
        img_link=_text(cells["img_link"]),
        product_link=_text(cells["product_link"]),
        reviews=() if isinstance(reviews, str) else reviews,
        reviews_rejected=reviews if isinstance(reviews, str) else None,
    )


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None
