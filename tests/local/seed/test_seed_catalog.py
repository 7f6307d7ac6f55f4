"""catalog/products.csv: the Amazon Sales Dataset columns and its messiness."""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from statistics import mean

import pytest

from local.seed.catalog import Product, catalog_csv, catalog_rows, generate_products
from local.seed.generate import SeedOutput

AMAZON_COLUMNS = [
    "product_id", "product_name", "category", "discounted_price", "actual_price",
    "discount_percentage", "rating", "rating_count", "about_product", "user_id", "user_name",
    "review_id", "review_title", "review_content", "img_link", "product_link",
]
REVIEW_COLUMNS = ("user_id", "user_name", "review_id", "review_title", "review_content")


@pytest.fixture(scope="module")
def catalog() -> tuple[list[Product], list[dict[str, str]]]:
    products = generate_products(2000, random.Random("catalog-test"))
    data = catalog_csv(catalog_rows(products, random.Random("reviews-test")))
    return products, list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_columns_are_the_amazon_ones(seed_output: SeedOutput) -> None:
    reader = csv.reader(io.StringIO(seed_output.files["catalog/products.csv"].decode("utf-8")))
    header = next(reader)
    assert header == AMAZON_COLUMNS
    assert all(len(row) == len(AMAZON_COLUMNS) for row in reader)


def test_prices_counts_and_percentages_are_formatted_like_the_original(
    catalog: tuple[list[Product], list[dict[str, str]]],
) -> None:
    _, rows = catalog
    for row in rows:
        for column in ("discounted_price", "actual_price"):
            assert re.fullmatch(r"€\d{1,3}(,\d{3})*", row[column]), row[column]
        assert re.fullmatch(r"\d{1,2}%", row["discount_percentage"])
        assert re.fullmatch(r"(\d{1,3}(,\d{3})*)?", row["rating_count"])
        assert row["category"].count("|") >= 1
        actual = int(row["actual_price"][1:].replace(",", ""))
        discounted = int(row["discounted_price"][1:].replace(",", ""))
        assert discounted <= actual
        assert int(row["discount_percentage"][:-1]) == round((1 - discounted / actual) * 100)
    assert any("," in row["actual_price"] for row in rows)  # "€1,299"
    assert any("," in row["rating_count"] for row in rows)  # "24,269"
    assert any(row["discount_percentage"] == "0%" for row in rows)


def test_ratings_are_mostly_numeric_with_some_garbage(
    catalog: tuple[list[Product], list[dict[str, str]]],
) -> None:
    _, rows = catalog
    ratings = [row["rating"] for row in rows]
    numeric = [float(r) for r in ratings if re.fullmatch(r"\d(\.\d)?", r)]
    assert len(numeric) > 0.95 * len(ratings)
    assert all(1.0 <= r <= 5.0 for r in numeric)
    assert "" in ratings and "|" in ratings
    assert any(re.fullmatch(r"\d", r) for r in ratings)  # "4", not "4.0"


def test_products_repeat_and_reviews_are_aligned_comma_lists(
    catalog: tuple[list[Product], list[dict[str, str]]],
) -> None:
    products, rows = catalog
    ids = Counter(row["product_id"] for row in rows)
    assert set(ids) == {p.product_id for p in products}
    assert all(re.fullmatch(r"B0[A-Z0-9]{8}", pid) for pid in ids)
    assert any(count > 1 for count in ids.values())
    lengths = Counter()
    for row in rows:
        sizes = {len(row[column].split(",")) for column in REVIEW_COLUMNS}
        assert len(sizes) == 1, row["product_id"]  # one element per review in every column
        lengths[sizes.pop()] += 1
    assert lengths[1] and sum(v for k, v in lengths.items() if k > 1)
    review_ids = [rid for row in rows for rid in row["review_id"].split(",")]
    assert all(re.fullmatch(r"R[A-Z0-9]{13}", rid) for rid in review_ids)


def test_duplicate_rows_describe_the_same_product(
    catalog: tuple[list[Product], list[dict[str, str]]],
) -> None:
    _, rows = catalog
    by_id: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_id.setdefault(row["product_id"], []).append(row)
    for copies in (c for c in by_id.values() if len(c) > 1):
        first, second = copies
        for column in ("product_name", "category", "actual_price", "review_id"):
            assert first[column] == second[column]
        assert first["product_link"] != second["product_link"]


def test_links_use_reserved_example_hosts(
    catalog: tuple[list[Product], list[dict[str, str]]],
) -> None:
    _, rows = catalog
    for row in rows:
        assert row["img_link"].startswith("https://images.tarnwick.example/")
        assert row["product_link"].startswith("https://shop.tarnwick.example/")
        assert f"/dp/{row['product_id']}/" in row["product_link"]


def test_review_sentiment_follows_rating(
    catalog: tuple[list[Product], list[dict[str, str]]],
) -> None:
    products, rows = catalog
    poor = [p for p in products if p.poorly_rated]
    good = [p for p in products if p.rating >= 4.3]
    assert 0.03 * len(products) < len(poor) < 0.1 * len(products)

    def share(group: list[Product], label: str) -> float:
        return mean(p.review_sentiments.count(label) / len(p.review_sentiments) for p in group)

    assert share(poor, "negative") > 0.5 > share(good, "negative")
    assert share(good, "positive") > 0.6 > share(poor, "positive")
    every = Counter(s for p in products for s in p.review_sentiments)
    assert min(every.values()) > 0.08 * sum(every.values())  # a real spread, mixed included
    # The words carry the sentiment too: the poor products' reviews complain.
    poor_ids = {p.product_id for p in poor}
    poor_text = " ".join(r["review_title"] for r in rows if r["product_id"] in poor_ids)
    assert re.search(r"Disappointed|Returned it|Poor quality|Avoid|Waste of money", poor_text)
