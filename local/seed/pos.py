"""Purchase events: ``pos/YYYY/MM/DD/HH/pos-1-<yyyy-mm-dd-hh-mm-ss>-<uuid>.jsonl[.gz]``.

Shaped like Kinesis Data Firehose output: several JSON-lines files per UTC hour, some of
them gzip-compressed. Purchases carry the signal recommendations need: each customer buys
mostly in their favourite categories, and bundle partners are often bought together.

With ``bad_rate > 0`` the feed also carries the faults a real feed has. Every injected
fault is recorded (object key and 1-based line number) so tests can check the ingest
pipeline quarantines exactly those lines and nothing else:

- bad records (quarantine): ``invalid_json``, ``missing_field``, ``zero_quantity``,
  ``negative_price``, ``unknown_currency`` ("XXX"), ``future_timestamp`` (event_ts over
  100 days after as-of), ``conflicting_event_id`` (a later line reusing a good event's
  event_id with different content: keep the first, quarantine the later one);
- exact duplicates (not bad): a good line re-sent verbatim in a later file of the same
  hour; loading must keep one copy.

"Later" means later in key order: within an hour folder, keys sort by delivery time.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from local.seed.catalog import Product
from local.seed.customers import Customer
from local.seed.retailer import COUNTRIES, PRICE_LIST_RATES_FROM_EUR, STORES

BAD_KINDS = (
    "invalid_json", "missing_field", "zero_quantity", "negative_price", "unknown_currency",
    "future_timestamp", "conflicting_event_id",
)
REQUIRED_FIELDS = ("event_id", "event_ts", "customer_id", "channel", "store_id", "currency",
                   "items")
# Fields the missing_field fault removes, in turn.
_DROPPABLE = ("customer_id", "items", "currency", "event_ts", "event_id", "channel")
FAVOURITE_SHARE = 0.8
BUNDLE_PICK_RATE = 0.7
GZIP_SHARE = 0.3
EVENTS_PER_FILE = 50
MAX_FILES_PER_HOUR = 60
_PAYMENT = {"pos": ("card", "card", "cash", "mobile_wallet"),
            "web": ("card", "card", "paypal", "klarna")}


@dataclass(eq=False)  # identity: two lines with the same text are still two lines
class Line:
    """One line of a POS file; ``key``/``number`` are filled in once files are final."""

    text: str
    event: dict[str, Any] | None
    fault: dict[str, Any] | None = None
    key: str = ""
    number: int = 0


@dataclass(eq=False)
class PosFile:
    key: str
    hour_index: int
    lines: list[Line] = field(default_factory=list)


def dump_event(event: dict[str, Any]) -> str:
    """Compact JSON with every unit_price written with exactly two decimals (12800.00)."""
    head = json.dumps({k: v for k, v in event.items() if k != "items"},
                      ensure_ascii=False, separators=(",", ":"))
    if "items" not in event:
        return head
    items = ",".join(
        '{"product_id":%s,"quantity":%d,"unit_price":%.2f}'
        % (json.dumps(item["product_id"]), item["quantity"], item["unit_price"])
        for item in event["items"]
    )
    return f'{head[:-1]},"items":[{items}]}}' if head != "{}" else f'{{"items":[{items}]}}'


def local_price(eur: float, currency: str) -> float:
    price = eur * PRICE_LIST_RATES_FROM_EUR[currency]
    # Yen prices end in a round ten; every other currency has cents.
    return float(round(price, -1)) if currency == "JPY" else round(price, 2)


@lru_cache(maxsize=None)
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo's own cache keeps only 8 zones strongly; we use 14 and would reload them.
    return ZoneInfo(name)


def _iso(instant: datetime, tz_name: str) -> str:
    return instant.astimezone(_zone(tz_name)).isoformat(timespec="milliseconds")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class PosFeed:
    """Builds the hourly files for one configuration (pure: returns bytes, no I/O)."""

    def __init__(self, customers: list[Customer], products: list[Product],
                 bundles: list[tuple[str, str]], as_of: datetime, rng: random.Random) -> None:
        self.customers = customers
        self.customer_cum = list(accumulate(c.activity for c in customers))
        self.products = products
        self.by_leaf: dict[str, list[Product]] = {}
        for product in products:
            self.by_leaf.setdefault(product.leaf, []).append(product)
        self.partners: dict[str, list[str]] = {}
        for first, second in bundles:
            self.partners.setdefault(first, []).append(second)
        self.price = {p.product_id: p.discounted_eur for p in products}
        self.stores_by_country: dict[str, list[str]] = {}
        for store in STORES:
            self.stores_by_country.setdefault(store.country, []).append(store.store_id)
        self.as_of = as_of
        self.rng = rng
        self.event_ids: set[str] = set()

    def _new_event_id(self) -> str:
        event_id = _uuid(self.rng)
        while event_id in self.event_ids:
            event_id = _uuid(self.rng)
        self.event_ids.add(event_id)
        return event_id

    def _pick_product(self, customer: Customer) -> Product:
        if self.rng.random() < FAVOURITE_SHARE:
            candidates = self.by_leaf.get(self.rng.choice(customer.favourite_leaves))
            if candidates:
                return self.rng.choice(candidates)
        return self.rng.choice(self.products)

    def make_event(self, instant: datetime) -> dict[str, Any]:
        rng = self.rng
        customer = rng.choices(self.customers, cum_weights=self.customer_cum)[0]
        country = COUNTRIES[customer.country]
        stores = self.stores_by_country.get(customer.country)
        channel = "pos" if stores and rng.random() < 0.6 else "web"
        quantities: dict[str, int] = {}
        for _ in range(rng.choices((1, 2, 3, 4), weights=(50, 30, 15, 5))[0]):
            product = self._pick_product(customer)
            chosen = [product.product_id]
            partners = self.partners.get(product.product_id)
            if partners and rng.random() < BUNDLE_PICK_RATE:
                chosen.append(rng.choice(partners))
            for product_id in chosen:
                quantities[product_id] = quantities.get(product_id, 0) + rng.choices(
                    (1, 2, 3), weights=(85, 12, 3))[0]
        event: dict[str, Any] = {
            "event_id": self._new_event_id(),
            "event_ts": _iso(instant, country.timezone),
            "customer_id": customer.customer_id,
            "channel": channel,
            "store_id": rng.choice(stores) if channel == "pos" and stores else None,
            "currency": country.currency,
        }
        if rng.random() < 0.9:  # optional in the event spec
            event["payment_type"] = rng.choice(_PAYMENT[channel])
        event["items"] = [
            {"product_id": pid, "quantity": qty,
             "unit_price": local_price(self.price[pid], country.currency)}
            for pid, qty in quantities.items()
        ]
        return event

    def _hour_files(self, hour_index: int, hour_start: datetime, count: int) -> list[PosFile]:
        instants = sorted(hour_start + timedelta(milliseconds=self.rng.randrange(3_600_000))
                          for _ in range(count))
        # At least two files per hour (when there are two events) so re-sent records can
        # land in a different file of the same hour; at most 60, so file names (which have
        # one-second resolution) sort in delivery order.
        wanted = min(MAX_FILES_PER_HOUR, math.ceil(count / EVENTS_PER_FILE))
        n_files = min(count, max(2, wanted))
        files = []
        for index in range(n_files):
            chunk = instants[index * count // n_files:(index + 1) * count // n_files]
            suffix = ".jsonl.gz" if self.rng.random() < GZIP_SHARE else ".jsonl"
            key = (f"pos/{hour_start:%Y/%m/%d/%H}/pos-1-{chunk[0]:%Y-%m-%d-%H-%M-%S}-"
                   f"{_uuid(self.rng)}{suffix}")
            pos_file = PosFile(key, hour_index)
            for instant in chunk:
                event = self.make_event(instant)
                pos_file.lines.append(Line(dump_event(event), event))
            files.append(pos_file)
        return files

    def build(self, hours: int, events_per_hour: int, bad_rate: float
              ) -> tuple[dict[str, bytes], dict[str, Any]]:
        first_hour = self.as_of.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
        files: list[PosFile] = []
        for hour_index in range(hours):
            files += self._hour_files(hour_index, first_hour + timedelta(hours=hour_index),
                                      events_per_hour)
        good_lines = [line for f in files for line in f.lines]
        total = len(good_lines)
        duplicates: list[tuple[Line, Line]] = []
        if bad_rate > 0 and total:
            n_bad = max(len(BAD_KINDS), round(bad_rate * total))
            kinds = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(n_bad)]
            n_conflicts = kinds.count("conflicting_event_id")
            n_dup = max(1, round(bad_rate * total / 2))
            home = {id(line): f for f in files for line in f.lines}
            # Distinct originals, so a line is never both re-sent and contradicted.
            conflict_originals = self.rng.sample(good_lines, k=min(total, n_conflicts))
            taken = {id(line) for line in conflict_originals}
            # A re-send lands in a later file of the same hour, so only lines with such a
            # file can be re-sent.
            last_of_hour = {f.hour_index: f for f in files}
            resendable = [line for line in good_lines if id(line) not in taken
                          and last_of_hour[home[id(line)].hour_index] is not home[id(line)]]
            resent = self.rng.sample(resendable, k=min(len(resendable), n_dup))
            for index, kind in enumerate(kinds):
                if kind != "conflicting_event_id":
                    self._inject_bad(kind, index, files, first_hour)
                elif conflict_originals:
                    original = conflict_originals.pop()
                    self._inject_conflict(files, original, home[id(original)])
            duplicates = self._inject_duplicates(files, resent, home)
        return self._finish(files, duplicates)

    def _inject_conflict(self, files: list[PosFile], original: Line, home: PosFile) -> None:
        """Reuse a good event's id with other content, later in the same hour."""
        rng = self.rng
        same_hour = [f for f in files if f.hour_index == home.hour_index]
        target = rng.choice(same_hour[same_hour.index(home):])
        event = json.loads(json.dumps(original.event))
        event["items"][0]["quantity"] += 1
        event["payment_type"] = "cash" if event.get("payment_type") != "cash" else "card"
        start = target.lines.index(original) + 1 if target is home else 0
        fault = {"kind": "conflicting_event_id", "event_id": event["event_id"],
                 "original": original}
        target.lines.insert(rng.randint(start, len(target.lines)),
                            Line(dump_event(event), event, fault))

    def _inject_bad(self, kind: str, index: int, files: list[PosFile],
                    first_hour: datetime) -> None:
        rng = self.rng
        target = rng.choice(files)
        hour_start = first_hour + timedelta(hours=target.hour_index)
        event = self.make_event(hour_start + timedelta(milliseconds=rng.randrange(3_600_000)))
        fault: dict[str, Any] = {"kind": kind, "event_id": event["event_id"]}
        text = ""
        if kind == "invalid_json":
            text = dump_event(event)[: -rng.randint(8, 30)]  # a truncated write
        elif kind == "missing_field":
            fault["field"] = _DROPPABLE[(index // len(BAD_KINDS)) % len(_DROPPABLE)]
            del event[fault["field"]]
        elif kind == "zero_quantity":
            event["items"][0]["quantity"] = 0
        elif kind == "negative_price":
            event["items"][0]["unit_price"] = -max(1.0, event["items"][0]["unit_price"])
        elif kind == "unknown_currency":
            event["currency"] = "XXX"
        elif kind == "future_timestamp":
            future = self.as_of + timedelta(days=rng.randint(100, 600))
            event["event_ts"] = _iso(future, "Europe/Vienna")
        target.lines.insert(rng.randint(0, len(target.lines)),
                            Line(text or dump_event(event), event, fault))

    def _inject_duplicates(self, files: list[PosFile], originals: list[Line],
                           home_of: dict[int, PosFile]) -> list[tuple[Line, Line]]:
        pairs = []
        for original in originals:
            home = home_of[id(original)]
            later = files[files.index(home) + 1:]
            others = [f for f in later if f.hour_index == home.hour_index]
            copy = Line(original.text, original.event)
            target = self.rng.choice(others)
            target.lines.insert(self.rng.randint(0, len(target.lines)), copy)
            pairs.append((original, copy))
        return pairs

    def _finish(self, files: list[PosFile], duplicates: list[tuple[Line, Line]]
                ) -> tuple[dict[str, bytes], dict[str, Any]]:
        out: dict[str, bytes] = {}
        bad: list[dict[str, Any]] = []
        for pos_file in files:
            for number, line in enumerate(pos_file.lines, start=1):
                line.key, line.number = pos_file.key, number
            data = "".join(line.text + "\n" for line in pos_file.lines).encode("utf-8")
            # mtime=0 keeps .gz files byte-identical between runs.
            out[pos_file.key] = gzip.compress(data, mtime=0) if pos_file.key.endswith(".gz") else data
        for pos_file in files:
            for line in pos_file.lines:
                if line.fault:
                    entry = {"key": line.key, "line": line.number}
                    entry.update({k: v for k, v in line.fault.items() if k != "original"})
                    if "original" in line.fault:
                        original = line.fault["original"]
                        entry["original"] = {"key": original.key, "line": original.number}
                    bad.append(entry)
        report = {
            "bad_records": bad,
            "exact_duplicates": [
                {"event_id": o.event["event_id"] if o.event else None,
                 "original": {"key": o.key, "line": o.number},
                 "duplicate": {"key": d.key, "line": d.number}}
                for o, d in duplicates
            ],
            "files": len(files),
            "lines": sum(len(f.lines) for f in files),
            "good_events": sum(1 for f in files for line in f.lines if not line.fault)
            - len(duplicates),
        }
        return out, report

