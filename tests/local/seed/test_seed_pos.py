"""POS events: valid good records, exactly the manifest's bad records, buying signal."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from local.seed.catalog import generate_bundles, generate_products
from local.seed.customers import generate_customers
from local.seed.generate import SeedConfig, SeedOutput, generate
from local.seed.pos import BAD_KINDS, PosFeed
from local.seed.retailer import STORES

PosLine = tuple[str, int, str]
CURRENCY = {"GB": "GBP", "IE": "EUR", "US": "USD", "DE": "EUR", "AT": "EUR", "CH": "CHF",
            "FR": "EUR", "BE": "EUR", "ES": "EUR", "IT": "EUR", "PT": "EUR", "BR": "BRL",
            "NL": "EUR", "JP": "JPY"}
REQUIRED = {"event_id", "event_ts", "customer_id", "channel", "store_id", "currency", "items"}
STORE_COUNTRY = {store.store_id: store.country for store in STORES}


class EventChecker:
    """A reference reading of the event spec, as the ingest pipeline should apply it.

    Lines are checked in delivery order; the first valid line with an event_id wins, an
    identical later line is a re-send, a different later line is a conflict."""

    def __init__(self, output: SeedOutput) -> None:
        files = output.files
        customers = csv.DictReader(io.StringIO(files["customers/customers.csv"].decode()))
        self.country = {row["customer_id"]: row["country"] for row in customers}
        catalog = csv.DictReader(io.StringIO(files["catalog/products.csv"].decode()))
        self.products = {row["product_id"] for row in catalog}
        self.as_of = datetime.fromisoformat(output.manifest["config"]["as_of"])
        self.seen: dict[str, str] = {}

    def verdict(self, key: str, text: str) -> str:
        try:
            event = json.loads(text)
        except json.JSONDecodeError:
            return "invalid_json"
        if not isinstance(event, dict) or REQUIRED - event.keys():
            return "missing_field"
        ts = datetime.fromisoformat(event["event_ts"])
        assert ts.utcoffset() is not None, text
        if ts > self.as_of:
            return "future_timestamp"
        hour = datetime.strptime(key[4:17], "%Y/%m/%d/%H").replace(tzinfo=timezone.utc)
        assert hour <= ts < hour + timedelta(hours=1), text
        country = self.country[event["customer_id"]]
        if event["currency"] not in CURRENCY.values():
            return "unknown_currency"
        assert event["currency"] == CURRENCY[country], text
        assert event["channel"] in ("pos", "web")
        if event["channel"] == "web":
            assert event["store_id"] is None
        else:
            assert STORE_COUNTRY[event["store_id"]] == country, text
        assert isinstance(event["items"], list) and event["items"]
        for item in event["items"]:
            assert item["product_id"] in self.products
            assert isinstance(item["quantity"], int) and not isinstance(item["quantity"], bool)
            if item["quantity"] <= 0:
                return "zero_quantity"
            if item["unit_price"] < 0:
                return "negative_price"
        prices = re.findall(r'"unit_price":(-?[0-9.]+)[,}]', text)
        assert len(prices) == len(event["items"])
        assert all(re.fullmatch(r"\d+\.\d{2}", price) for price in prices), text
        first = self.seen.setdefault(event["event_id"], text)
        if first is text:
            return "good"
        return "resent" if first == text else "conflicting_event_id"


def verdicts(output: SeedOutput, lines: list[PosLine]) -> dict[tuple[str, int], str]:
    checker = EventChecker(output)
    return {(key, number): checker.verdict(key, text) for key, number, text in lines}


def test_files_look_like_firehose_output(seed_output: SeedOutput, pos_lines: list[PosLine],
                                         seed_config: SeedConfig) -> None:
    keys = [k for k in seed_output.files if k.startswith("pos/")]
    assert any(k.endswith(".jsonl.gz") for k in keys) and any(k.endswith(".jsonl") for k in keys)
    per_hour = Counter(k[:17] for k in keys)
    assert len(per_hour) == seed_config.hours and min(per_hour.values()) >= 2
    for key in keys:  # the name's timestamp is in the folder's hour
        assert key[24:37].replace("-", "/") == key[4:17], key


def test_exactly_the_manifest_records_are_bad(seed_output: SeedOutput,
                                              pos_lines: list[PosLine]) -> None:
    found = verdicts(seed_output, pos_lines)
    bad = {loc: v for loc, v in found.items() if v not in ("good", "resent")}
    expected = {(e["key"], e["line"]): e["kind"] for e in seed_output.manifest["bad_records"]}
    assert bad == expected
    assert set(expected.values()) == set(BAD_KINDS)
    resent = {loc for loc, v in found.items() if v == "resent"}
    assert resent == {(d["duplicate"]["key"], d["duplicate"]["line"])
                      for d in seed_output.manifest["exact_duplicates"]}
    good = sum(1 for v in found.values() if v == "good")
    assert good == seed_output.manifest["counts"]["good_events"]
    assert good == 3 * 150  # hours x events_per_hour


def test_bad_and_duplicate_counts_follow_the_rate(seed_output: SeedOutput) -> None:
    counts = seed_output.manifest["counts"]
    assert counts["bad_records"] == round(0.02 * 450) == 9
    assert counts["exact_duplicates"] == round(0.01 * 450)
    for entry in seed_output.manifest["exact_duplicates"]:
        original, duplicate = entry["original"], entry["duplicate"]
        assert original["key"] != duplicate["key"]
        assert original["key"][:17] == duplicate["key"][:17]  # same hour folder
    conflicts = [e for e in seed_output.manifest["bad_records"]
                 if e["kind"] == "conflicting_event_id"]
    assert conflicts and all((c["original"]["key"], c["original"]["line"])
                             < (c["key"], c["line"]) for c in conflicts)


def test_zero_bad_rate_gives_a_clean_feed(
    seed_config: SeedConfig, pos_reader: Callable[[dict[str, bytes]], list[PosLine]],
) -> None:
    clean = generate(replace(seed_config, bad_rate=0.0))
    assert clean.manifest["bad_records"] == [] and clean.manifest["exact_duplicates"] == []
    assert set(verdicts(clean, pos_reader(clean.files)).values()) == {"good"}


def test_default_rate_still_injects_every_kind(
    seed_config: SeedConfig, pos_reader: Callable[[dict[str, bytes]], list[PosLine]],
) -> None:
    small = generate(replace(seed_config, hours=1, events_per_hour=20, bad_rate=0.01))
    kinds = [e["kind"] for e in small.manifest["bad_records"]]
    assert sorted(kinds) == sorted(BAD_KINDS)
    found = verdicts(small, pos_reader(small.files))
    assert sorted(v for v in found.values() if v not in ("good", "resent")) == sorted(kinds)


def test_prices_are_local_and_yen_has_two_decimals(pos_lines: list[PosLine]) -> None:
    events = [json.loads(text) for _, _, text in pos_lines if text.endswith("}")]
    currencies = {e.get("currency") for e in events}
    assert {"EUR", "GBP", "JPY", "CHF"} <= currencies
    yen = [text for _, _, text in pos_lines if '"currency":"JPY"' in text and text[-1] == "}"]
    prices = [p for text in yen for p in re.findall(r'"unit_price":(-?[0-9.]+)', text)]
    assert prices and all(re.fullmatch(r"-?\d*0\.00", price) for price in prices)
    offsets = {e["event_ts"][-6:] for e in events if "event_ts" in e}
    assert {"+00:00", "+01:00", "+09:00"} <= offsets


@pytest.fixture(scope="module")
def signal_feed(
    pos_reader: Callable[[dict[str, bytes]], list[PosLine]],
) -> tuple[Any, list[dict[str, Any]], list[tuple[str, str]]]:
    customers = generate_customers(400, random.Random("signal-c"))
    products = generate_products(300, random.Random("signal-p"))
    bundles = generate_bundles(products, random.Random("signal-b"))
    feed = PosFeed(customers, products, bundles,
                   datetime(2026, 6, 1, tzinfo=timezone.utc), random.Random("signal-e"))
    files, _ = feed.build(hours=10, events_per_hour=200, bad_rate=0.0)
    events = [json.loads(text) for _, _, text in pos_reader(files)]
    return (customers, products), events, bundles


def test_customers_buy_mostly_in_their_favourite_categories(signal_feed: Any) -> None:
    (customers, products), events, _ = signal_feed
    favourites = {c.customer_id: set(c.favourite_leaves) for c in customers}
    leaf = {p.product_id: p.leaf for p in products}
    items = [(e["customer_id"], i["product_id"]) for e in events for i in e["items"]]
    share = sum(leaf[pid] in favourites[cid] for cid, pid in items) / len(items)
    assert share > 0.7


def test_bundle_partners_are_bought_together(signal_feed: Any) -> None:
    _, events, bundles = signal_feed
    baskets = [{i["product_id"] for i in e["items"]} for e in events]
    with_first = together = 0
    for first, second in bundles:
        for basket in baskets:
            if first in basket:
                with_first += 1
                together += second in basket
    assert bundles and with_first and together / with_first > 0.3
