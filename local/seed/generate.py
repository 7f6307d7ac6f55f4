"""Pure generation: a ``SeedConfig`` in, ``{s3_key: bytes}`` plus a manifest out. No I/O
except reading the document sources kept beside this module."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from local.seed.catalog import (
    PRODUCTS_KEY, catalog_csv, catalog_rows, generate_bundles, generate_products,
)
from local.seed.customers import CUSTOMERS_KEY, bad_customer_rows, customers_csv, generate_customers
from local.seed.documents import generate_documents
from local.seed.pos import PosFeed
from local.seed.retailer import RETAILER_NAME

MANIFEST_KEY = "seed/_manifest.json"


def current_hour() -> datetime:
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SeedConfig:
    customers: int = 300
    products: int = 150
    hours: int = 6
    events_per_hour: int = 120
    bad_rate: float = 0.01
    seed: int = 42
    # Events fill the `hours` whole UTC hours before as-of's hour.
    as_of: datetime = field(default_factory=current_hour)

    def __post_init__(self) -> None:
        if self.customers < 1 or self.products < 1:
            raise ValueError("need at least one customer and one product")
        if self.hours < 0 or self.events_per_hour < 0:
            raise ValueError("hours and events_per_hour must not be negative")
        if not 0 <= self.bad_rate <= 0.5:
            raise ValueError("bad_rate must be between 0 and 0.5")
        if self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")


@dataclass
class SeedOutput:
    files: dict[str, bytes]
    manifest: dict[str, Any]

    def manifest_bytes(self) -> bytes:
        return json.dumps(self.manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def _rng(config: SeedConfig, stream: str) -> random.Random:
    # One stream per kind, so changing --hours does not reshuffle customers or products.
    # Seeding with a str is stable across runs and platforms (it is hashed with SHA-512).
    return random.Random(f"{config.seed}/{stream}")


def generate(config: SeedConfig) -> SeedOutput:
    customers = generate_customers(config.customers, _rng(config, "customers"))
    products = generate_products(config.products, _rng(config, "products"))
    bundles = generate_bundles(products, _rng(config, "bundles"))
    rows = catalog_rows(products, _rng(config, "reviews"))
    feed = PosFeed(customers, products, bundles, config.as_of.astimezone(timezone.utc),
                   _rng(config, "pos"))
    pos_files, pos_report = feed.build(config.hours, config.events_per_hour, config.bad_rate)

    bad_customers = bad_customer_rows(len(customers), config.bad_rate)
    files = {CUSTOMERS_KEY: customers_csv(customers, bad_customers), PRODUCTS_KEY: catalog_csv(rows)}
    files.update(pos_files)
    files.update(generate_documents())
    settings = asdict(config) | {"as_of": config.as_of.astimezone(timezone.utc).isoformat()}
    manifest = {
        "retailer": RETAILER_NAME,
        "config": settings,
        "counts": {
            "customers": len(customers),
            "bad_customer_rows": len(bad_customers),
            "products": len(products),
            "catalog_rows": len(rows),
            "reviews": sum(len(p.review_sentiments) for p in products),
            "pos_files": pos_report["files"],
            "pos_lines": pos_report["lines"],
            "good_events": pos_report["good_events"],
            "bad_records": len(pos_report["bad_records"]),
            "exact_duplicates": len(pos_report["exact_duplicates"]),
        },
        "bad_records": pos_report["bad_records"],
        "bad_customer_rows": [entry for _, entry in bad_customers],
        "exact_duplicates": pos_report["exact_duplicates"],
        "bundles": [list(pair) for pair in bundles],
        "poorly_rated_products": [p.product_id for p in products if p.poorly_rated],
    }
    return SeedOutput(files, manifest)
