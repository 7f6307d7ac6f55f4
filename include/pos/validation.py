"""Validate one line of a POS events file (one JSON object per line).

Validation is per record and stateless, so a file of any size streams through it. The one check
that needs other records, "same event_id seen with different content", runs in Snowflake over the
whole batch and bronze (include/sql/pos_transactions_ingest/merge_events.sql); it compares
``record_hash``, computed here.

The event format (README, "Purchase events"): ``event_id`` (non-empty string), ``event_ts``
(ISO-8601 with a UTC offset), ``customer_id`` (non-empty string), ``channel`` (``pos`` or
``web``), ``store_id`` (a non-empty string for ``pos``; null or absent for ``web``), ``currency``
(an ISO 4217 code, upper case), ``items`` (a non-empty list of ``{product_id: non-empty string,
quantity: integer > 0, unit_price: number >= 0}``), ``payment_type`` (optional string or null).
Other fields are kept in the raw record and otherwise ignored.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from include.pos.currencies import CURRENCY_CODES

# Reasons are stable strings: they are part of the quarantine table's key and of the run summary.
# They name fields, never values, so they can be logged.
INVALID_JSON = "invalid JSON"
NOT_AN_OBJECT = "record is not a JSON object"
QUANTITY_NOT_POSITIVE = "quantity <= 0"
NEGATIVE_PRICE = "negative price"
UNKNOWN_CURRENCY = "unknown currency"
BAD_TIMESTAMP = "event_ts not ISO-8601 with offset"
FUTURE_TIMESTAMP = "event_ts more than a day in the future"
EMPTY_ITEMS = "empty items"
UNKNOWN_CHANNEL = "channel not pos/web"
STORE_ID_MISSING = "store_id missing for channel pos"
STORE_ID_FOR_WEB = "store_id set for channel web"
CONFLICTING_EVENT = "event_id seen with different content"  # detected in Snowflake, see module doc
# Only lines this long are records; a longer one is almost surely two records glued together, and
# reading it whole would make memory grow with the file.
MAX_LINE_BYTES = 1024 * 1024
LINE_TOO_LONG = f"line longer than {MAX_LINE_BYTES} bytes"
UNREADABLE_FILE = "file truncated or not valid gzip; lines after this one not read"

REQUIRED_FIELDS = ("event_id", "event_ts", "customer_id", "channel", "currency", "items")
CHANNELS = ("pos", "web")
FUTURE_TOLERANCE = timedelta(days=1)
# A record key quotes the event_id; a pathological one is cut so keys stay readable.
_MAX_KEY_ID = 128


def missing(field: str) -> str:
    return f"missing field: {field}"


def mistyped(field: str) -> str:
    return f"mistyped field: {field}"


@dataclass(frozen=True, slots=True)
class PosEvent:
    """A valid event, as it goes to bronze."""

    event_id: str
    event_ts: datetime
    customer_id: str
    channel: str
    store_id: str | None
    currency: str
    payment_type: str | None
    items: tuple[dict[str, Any], ...]
    raw_text: str
    record_hash: str
    line: int

    @property
    def record_key(self) -> str:
        return record_key(self.line, self.event_id)

    def items_json(self) -> str:
        return json.dumps(list(self.items), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    event_id: str | None
    reasons: tuple[str, ...]
    raw_json: str  # JSON text of the record as received (a JSON string when it was not valid JSON)

    @property
    def record_key(self) -> str:
        return record_key(self.line, self.event_id)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def record_key(line: int, event_id: str | None) -> str:
    """Run-independent key within a file, the same shape as customer_master_ingest's."""
    return f"line {line}: {event_id[:_MAX_KEY_ID]}" if event_id else f"line {line}"


def record_hash(record: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, ASCII): equal for the same content however it was
    formatted, so a re-sent event is a duplicate and a changed one a conflict."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class _InvalidJson(ValueError):
    pass


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of two equal keys, Snowflake's PARSE_JSON refuses them: reject up front.
    record = dict(pairs)
    if len(record) != len(pairs):
        raise _InvalidJson("duplicate key")
    return record


def _reject_constant(name: str) -> None:
    raise _InvalidJson(f"{name} is not JSON")  # json accepts NaN and Infinity by default


def _is_text(value: object) -> bool:
    """A non-empty string that is valid Unicode (JSON escapes can smuggle in lone surrogates)."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_event_ts(value: str) -> datetime | None:
    """The instant of an ISO-8601 timestamp with an offset ('Z' or +hh:mm), else None."""
    if "T" not in value and " " not in value:
        return None  # a date alone is not an instant
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_items(items: object, reasons: list[str]) -> tuple[dict[str, Any], ...]:
    if not isinstance(items, list):
        reasons.append(mistyped("items"))
        return ()
    if not items:
        reasons.append(EMPTY_ITEMS)
        return ()
    checked = []
    for item in items:
        if not isinstance(item, dict):
            reasons.append(mistyped("items"))
            continue
        product_id, quantity, price = item.get("product_id"), item.get("quantity"), item.get("unit_price")
        if "product_id" not in item:
            reasons.append(missing("items.product_id"))
        elif not _is_text(product_id):
            reasons.append(mistyped("items.product_id"))
        if "quantity" not in item:
            reasons.append(missing("items.quantity"))
        elif not isinstance(quantity, int) or isinstance(quantity, bool):
            reasons.append(mistyped("items.quantity"))  # 2.0 too: a quantity is counted, not measured
        elif quantity <= 0:
            reasons.append(QUANTITY_NOT_POSITIVE)
        if "unit_price" not in item:
            reasons.append(missing("items.unit_price"))
        elif not isinstance(price, int | float) or isinstance(price, bool) or not math.isfinite(price):
            reasons.append(mistyped("items.unit_price"))  # 1e999 parses as inf
        elif price < 0:
            reasons.append(NEGATIVE_PRICE)
        checked.append({"product_id": product_id, "quantity": quantity, "unit_price": price})
    return tuple(checked)


def validate_line(data: bytes, line: int, not_after: datetime) -> PosEvent | Rejection:
    """Check one line (without its newline). ``not_after`` is the run's data interval end: an event_ts more
    than a day after it is rejected, so a backfill judges a file exactly as the original run did."""
    if len(data) > MAX_LINE_BYTES:
        text = data[:1024].decode("utf-8", errors="replace")
        return Rejection(line, None, (LINE_TOO_LONG,), json.dumps(text + "..."))
    try:
        text = data.decode("utf-8")
        record = json.loads(text, object_pairs_hook=_object_without_duplicate_keys, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError and _InvalidJson are ValueErrors
        return Rejection(line, None, (INVALID_JSON,), json.dumps(data.decode("utf-8", errors="replace")))
    if not isinstance(record, dict):
        return Rejection(line, None, (NOT_AN_OBJECT,), text)

    reasons = [missing(name) for name in REQUIRED_FIELDS if name not in record]
    event_id, customer_id = record.get("event_id"), record.get("customer_id")
    if "event_id" in record and not _is_text(event_id):
        reasons.append(mistyped("event_id"))
    if "customer_id" in record and not _is_text(customer_id):
        reasons.append(mistyped("customer_id"))

    event_ts = None
    if isinstance(record.get("event_ts"), str):
        event_ts = parse_event_ts(record["event_ts"])
        if event_ts is None:
            reasons.append(BAD_TIMESTAMP)
        elif event_ts > not_after + FUTURE_TOLERANCE:
            reasons.append(FUTURE_TIMESTAMP)
    elif "event_ts" in record:
        reasons.append(mistyped("event_ts"))

    channel, store_id = record.get("channel"), record.get("store_id")
    if "channel" in record:
        if not isinstance(channel, str):
            reasons.append(mistyped("channel"))
        elif channel not in CHANNELS:
            reasons.append(UNKNOWN_CHANNEL)
        elif channel == "pos" and store_id is None:
            reasons.append(STORE_ID_MISSING)
        elif channel == "pos" and not _is_text(store_id):
            reasons.append(mistyped("store_id"))
        elif channel == "web" and store_id is not None:
            reasons.append(STORE_ID_FOR_WEB)

    currency = record.get("currency")
    if "currency" in record:
        if not isinstance(currency, str):
            reasons.append(mistyped("currency"))
        elif currency not in CURRENCY_CODES:
            reasons.append(UNKNOWN_CURRENCY)

    payment_type = record.get("payment_type")
    if payment_type is not None and not _is_text(payment_type):
        reasons.append(mistyped("payment_type"))

    items = _check_items(record["items"], reasons) if "items" in record else ()

    key_id = event_id if _is_text(event_id) else None
    if reasons:
        return Rejection(line, key_id, tuple(dict.fromkeys(reasons)), text)
    assert key_id is not None and event_ts is not None  # for the type checker: no reasons means both are valid
    return PosEvent(
        event_id=key_id, event_ts=event_ts, customer_id=customer_id, channel=channel, store_id=store_id,
        currency=currency, payment_type=payment_type, items=items, raw_text=text,
        record_hash=record_hash(record), line=line,
    )
