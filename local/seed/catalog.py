"""Product catalog with reviews: ``catalog/products.csv`` in the Amazon Sales Dataset columns.

The public dataset is messy and the pipelines must cope with it, so this file is messy in
the same ways: "€1,299" prices, "1,234" counts, "35%" discounts, "A|B|C" categories, the
same product on several rows, five review columns holding comma-joined lists (one element
per review), odd ratings ("" or "|"), run-together sentences.

One deliberate difference: the original's review titles and texts contain commas, which
makes its comma-joined lists impossible to split reliably. Here no single title or text
contains a comma, so splitting every review column on "," yields aligned lists.
"""

from __future__ import annotations

import csv
import io
import random
import string
from dataclasses import dataclass, field
from itertools import accumulate

from local.seed.retailer import (
    CATALOG_CURRENCY_SYMBOL, DEFAULT_WARRANTY, IMAGE_BASE_URL, LEAVES, SHOP_BASE_URL,
    STORES, WARRANTY_YEARS, brands_for,
)

PRODUCTS_KEY = "catalog/products.csv"
PRODUCT_COLUMNS = (
    "product_id", "product_name", "category", "discounted_price", "actual_price",
    "discount_percentage", "rating", "rating_count", "about_product", "user_id", "user_name",
    "review_id", "review_title", "review_content", "img_link", "product_link",
)
POOR_PRODUCT_RATE = 0.06
DUPLICATE_ROW_RATE = 0.08
BUNDLE_RATE = 0.35
_UPPER_ALNUM = string.ascii_uppercase + string.digits
# Outdoor gear dominates the range; care products are small add-ons.
_LEAF_WEIGHTS = {key: (0.5 if LEAVES[key].path.startswith("Care&Repair") else 1.0)
                 for key in LEAVES}

_REVIEWER_NAMES = (
    "Manav", "Anna K.", "hikerjoe", "Sabine", "Tom W", "Kenji", "Marta", "Lukas B.",
    "Claire", "Pieter", "Giulia R.", "trailmum", "Sean", "Yuki", "Ines", "Mark T",
    "Amazon Customer", "Rafael", "Heidi", "Sophie L.", "Oisin", "Camille", "Jo", "Bernd",
)
_PLACES = ("Dolomites", "Highlands", "Lake District", "Hokkaido", "Picos de Europa",
           "Black Forest", "Karwendel", "Pyrenees", "Scottish islands", "Ardennes")
_TITLES = {
    "positive": ("Love it", "Excellent {noun}", "Worth every cent", "Great quality",
                 "Five stars", "Does exactly what it says", "Highly recommended", "Very happy",
                 "Best {noun} I have owned"),
    "negative": ("Disappointed", "Returned it", "Poor quality", "Not worth the money",
                 "Fell apart", "Avoid", "Very poor {noun}", "Waste of money"),
    "mixed": ("Good but not perfect", "Okay for the price", "Mixed feelings", "Nice but flawed",
              "Almost great", "Decent {noun} with one issue"),
}
_GENERIC = {
    "positive": ("Would buy again.", "Fast delivery.", "Staff in the {city} store were very helpful.",
                 "Great value for money.", "Exactly as described.",
                 "Used it on a trip to the {place} and loved it."),
    "negative": ("Sent it back.", "Customer service took ten days to reply.",
                 "Expected much better for the price.", "Would not recommend.",
                 "Took it to the {place} and regretted it."),
    "mixed": ("Three stars.", "Fine for occasional use.", "Not sure I would buy it again.",
              "Good value if you get it on sale."),
}


@dataclass
class Product:
    product_id: str
    name: str
    leaf: str  # key into LEAVES
    actual_eur: int
    discounted_eur: int
    rating: float  # true quality; the CSV shows it rounded and sometimes garbled
    poorly_rated: bool
    review_sentiments: list[str] = field(default_factory=list)


def _token(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(rng.choices(_UPPER_ALNUM, k=length))


def _list_price(rng: random.Random, low: int, high: int) -> int:
    price = rng.randint(low, high)
    # Retail price points: 129, 1,299 rather than 127.
    return price // 10 * 10 + 9 if price >= 20 else price


def _euros(amount: int) -> str:
    return f"{CATALOG_CURRENCY_SYMBOL}{amount:,}"


def generate_products(count: int, rng: random.Random) -> list[Product]:
    keys = list(LEAVES)
    cum = list(accumulate(_LEAF_WEIGHTS[k] for k in keys))
    # Every leaf gets a product first, so small catalogs still cover every category.
    leaves = keys[:count] + rng.choices(keys, cum_weights=cum, k=max(0, count - len(keys)))
    seen: set[str] = set()
    products = []
    for leaf_key in leaves:
        leaf = LEAVES[leaf_key]
        product_id = _token(rng, "B0", 8)
        while product_id in seen:
            product_id = _token(rng, "B0", 8)
        seen.add(product_id)
        who = " for Women" if rng.random() < 0.4 else " for Men" if rng.random() < 0.5 else ""
        if not leaf.path.startswith("Outdoor&Trail|Clothing|") and "Footwear" not in leaf.path:
            who = ""
        first, second = rng.sample(leaf.features, k=2)
        brand = rng.choice(brands_for(leaf.path))
        name = (f"{brand} {rng.choice(leaf.titles)}{who}, {first}, {second} "
                f"({rng.choice(leaf.variants)})")
        actual = _list_price(rng, *leaf.price_eur)
        discount = 0.0 if rng.random() < 0.25 else rng.uniform(0.05, 0.6)
        poor = rng.random() < POOR_PRODUCT_RATE
        rating = rng.uniform(1.9, 2.9) if poor else min(4.9, max(3.1, rng.gauss(4.1, 0.35)))
        products.append(Product(product_id, name, leaf_key, actual,
                                max(1, round(actual * (1 - discount))), rating, poor))
    return products


def generate_bundles(products: list[Product], rng: random.Random) -> list[tuple[str, str]]:
    """Pairs bought together: a product and a companion (pan + seasoning oil, boots + wax)."""
    by_leaf: dict[str, list[Product]] = {}
    for product in products:
        by_leaf.setdefault(product.leaf, []).append(product)
    bundles = []
    for product in products:
        companion = LEAVES[product.leaf].companion
        if companion in by_leaf and rng.random() < BUNDLE_RATE:
            bundles.append((product.product_id, rng.choice(by_leaf[companion]).product_id))
    return bundles


def _sentiment(rng: random.Random, rating: float) -> str:
    positive = min(0.9, max(0.04, (rating - 2.4) / 2.2))
    negative = min(0.85, max(0.03, (3.7 - rating) / 1.6))
    mixed = max(0.08, 1 - positive - negative)
    return rng.choices(("positive", "negative", "mixed"), weights=(positive, negative, mixed))[0]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _review(rng: random.Random, product: Product, sentiment: str) -> tuple[str, str]:
    leaf = LEAVES[product.leaf]
    fill = {"noun": leaf.noun, "place": rng.choice(_PLACES), "city": rng.choice(STORES).city}
    title = rng.choice(_TITLES[sentiment]).format(**fill)
    if sentiment == "positive":
        parts = [_sentence(p) for p in rng.sample(leaf.good, k=min(2, len(leaf.good)))]
    elif sentiment == "negative":
        parts = [_sentence(p) for p in rng.sample(leaf.bad, k=min(2, len(leaf.bad)))]
    else:
        parts = [_sentence(f"{rng.choice(leaf.good)} but {rng.choice(leaf.bad)}")]
    parts.append(rng.choice(_GENERIC[sentiment]).format(**fill))
    rng.shuffle(parts)
    # Scraped reviews often lose the space between sentences ("fine tooNo complains").
    text = ("" if rng.random() < 0.2 else " ").join(parts)
    return title, text.replace(".", "", 1) if rng.random() < 0.1 else text


def _about(rng: random.Random, product: Product) -> str:
    leaf = LEAVES[product.leaf]
    warranty = WARRANTY_YEARS.get(product.leaf, DEFAULT_WARRANTY)
    bullets = [
        f"{feature}: " + rng.choice((
            "built for years of dependable use, season after season.",
            "tested by our team on the Nordkette above Innsbruck.",
            "so it is ready whenever you are, from city streets to high huts.",
            "a detail our customers asked for, and we listened.",
        ))
        for feature in rng.sample(leaf.features, k=min(3, len(leaf.features)))
    ]
    bullets.append(f"Covered by the {warranty} Tarnwick warranty; keep your receipt or "
                   "order number to claim.")
    return "|".join(bullets)


def _display_rating(rng: random.Random, rating: float) -> str:
    roll = rng.random()
    if roll < 0.01:
        return ""
    if roll < 0.015:
        return "|"  # the original has a literal "|" rating
    shown = f"{rating:.1f}"
    return shown[:-2] if shown.endswith(".0") else shown


def catalog_rows(products: list[Product], rng: random.Random) -> list[tuple[str, ...]]:
    rows = []
    for position, product in enumerate(products, start=1):
        leaf = LEAVES[product.leaf]
        n_reviews = rng.choices(range(1, 9), weights=(10, 8, 6, 5, 4, 4, 4, 10))[0]
        reviews = []
        for _ in range(n_reviews):
            sentiment = _sentiment(rng, product.rating)
            product.review_sentiments.append(sentiment)
            reviews.append((_token(rng, "A", 27), rng.choice(_REVIEWER_NAMES),
                            _token(rng, "R", 13), *_review(rng, product, sentiment)))
        user_ids, user_names, review_ids, titles, texts = (",".join(col) for col in zip(*reviews))
        rating_count = "" if rng.random() < 0.003 else f"{int(rng.lognormvariate(6.5, 1.6)) + n_reviews:,}"
        slug = "-".join(product.name.split(",")[0].split()[:5]).replace("&", "and")
        row = [
            product.product_id, product.name, leaf.path, _euros(product.discounted_eur),
            _euros(product.actual_eur),
            f"{round((1 - product.discounted_eur / product.actual_eur) * 100)}%",
            _display_rating(rng, product.rating), rating_count, _about(rng, product),
            user_ids, user_names, review_ids, titles, texts,
            f"{IMAGE_BASE_URL}/images/I/{_token(rng, '', 11)}._SX300_SY300_QL70_.jpg",
            f"{SHOP_BASE_URL}/{slug}/dp/{product.product_id}/ref=sr_1_{position}"
            f"?qid=1767225600&s=outdoor&sr=1-{position}",
        ]
        rows.append(tuple(row))
        if rng.random() < DUPLICATE_ROW_RATE:
            # Same product scraped again from another listing: only the links and the
            # (later, higher) rating count differ, like the original's duplicates.
            again = position + rng.randint(1, 400)
            row[7] = f"{int(row[7].replace(',', '') or 0) + rng.randint(1, 50):,}" if row[7] else ""
            row[14] = f"{IMAGE_BASE_URL}/images/I/{_token(rng, '', 11)}._SY300_SX300_.jpg"
            row[15] = (f"{SHOP_BASE_URL}/{slug}/dp/{product.product_id}/ref=sr_1_{again}"
                       f"?qid=1767312000&s=home&sr=1-{again}")
            rows.append(tuple(row))
    rng.shuffle(rows)
    return rows


def catalog_csv(rows: list[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PRODUCT_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
