"""Validation of POS event lines: every quarantine reason, the accepted shapes, the record hash."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from include.pos import PosEvent, Rejection, validate_line
from include.pos import validation as v

NOT_AFTER = datetime(2025, 3, 1, 6, 15, tzinfo=timezone.utc)
GOOD: dict[str, Any] = {
    "event_id": "e-1", "event_ts": "2025-03-01T07:10:00.000+01:00", "customer_id": "C000001", "channel": "pos",
    "store_id": "AT-VIE-01", "currency": "EUR", "payment_type": "card",
    "items": [{"product_id": "B012345678", "quantity": 2, "unit_price": 19.9}],
}


def check(record: dict[str, Any] | str | bytes, line: int = 3) -> PosEvent | Rejection:
    data = record if isinstance(record, bytes) else (record if isinstance(record, str) else json.dumps(record)).encode()
    return validate_line(data, line, NOT_AFTER)


def changed(**fields: Any) -> dict[str, Any]:
    record = {**GOOD, **fields}
    return {k: value for k, value in record.items() if value is not ...}


def item(**fields: Any) -> dict[str, Any]:
    return changed(items=[{k: value for k, value in {**GOOD["items"][0], **fields}.items() if value is not ...}])


@pytest.mark.parametrize(
    ("record", "reasons"),
    [
        pytest.param('{"event_id": "e-1", "items": [', (v.INVALID_JSON,), id="truncated-json"),
        pytest.param(b'{"event_id": "\xff"}', (v.INVALID_JSON,), id="not-utf8"),
        pytest.param('{"event_id": "e-1", "event_id": "e-2"}', (v.INVALID_JSON,), id="duplicate-key"),
        pytest.param(json.dumps(item(unit_price=1.0)).replace("1.0", "NaN"), (v.INVALID_JSON,), id="nan"),
        pytest.param("[1, 2]", (v.NOT_AN_OBJECT,), id="array"),
        pytest.param("42", (v.NOT_AN_OBJECT,), id="number"),
        pytest.param(b"x" * (v.MAX_LINE_BYTES + 1), (v.LINE_TOO_LONG,), id="too-long"),
        pytest.param(changed(event_id=...), (v.missing("event_id"),), id="missing-event-id"),
        pytest.param(changed(event_ts=...), (v.missing("event_ts"),), id="missing-event-ts"),
        pytest.param(changed(customer_id=...), (v.missing("customer_id"),), id="missing-customer-id"),
        pytest.param(changed(channel=...), (v.missing("channel"),), id="missing-channel"),
        pytest.param(changed(currency=...), (v.missing("currency"),), id="missing-currency"),
        pytest.param(changed(items=...), (v.missing("items"),), id="missing-items"),
        pytest.param(changed(event_id=7), (v.mistyped("event_id"),), id="numeric-event-id"),
        pytest.param(changed(event_id=" "), (v.mistyped("event_id"),), id="blank-event-id"),
        pytest.param(changed(customer_id=None), (v.mistyped("customer_id"),), id="null-customer-id"),
        pytest.param(changed(customer_id="\ud800"), (v.mistyped("customer_id"),), id="lone-surrogate"),
        pytest.param(changed(event_ts=1740809400), (v.mistyped("event_ts"),), id="epoch-event-ts"),
        pytest.param(changed(channel=1), (v.mistyped("channel"),), id="numeric-channel"),
        pytest.param(changed(currency=978), (v.mistyped("currency"),), id="numeric-currency"),
        pytest.param(changed(payment_type=3), (v.mistyped("payment_type"),), id="numeric-payment-type"),
        pytest.param(changed(items={"product_id": "B1"}), (v.mistyped("items"),), id="items-object"),
        pytest.param(changed(items=["B1"]), (v.mistyped("items"),), id="item-not-object"),
        pytest.param(item(product_id=...), (v.missing("items.product_id"),), id="missing-product-id"),
        pytest.param(item(product_id=12), (v.mistyped("items.product_id"),), id="numeric-product-id"),
        pytest.param(item(quantity=...), (v.missing("items.quantity"),), id="missing-quantity"),
        pytest.param(item(quantity="2"), (v.mistyped("items.quantity"),), id="string-quantity"),
        pytest.param(item(quantity=2.0), (v.mistyped("items.quantity"),), id="float-quantity"),
        pytest.param(item(quantity=True), (v.mistyped("items.quantity"),), id="bool-quantity"),
        pytest.param(item(unit_price=...), (v.missing("items.unit_price"),), id="missing-price"),
        pytest.param(item(unit_price="19.90"), (v.mistyped("items.unit_price"),), id="string-price"),
        pytest.param(json.dumps(item()).replace("19.9", "1e999"), (v.mistyped("items.unit_price"),), id="inf-price"),
        pytest.param(item(quantity=0), (v.QUANTITY_NOT_POSITIVE,), id="zero-quantity"),
        pytest.param(item(quantity=-1), (v.QUANTITY_NOT_POSITIVE,), id="negative-quantity"),
        pytest.param(item(unit_price=-0.01), (v.NEGATIVE_PRICE,), id="negative-price"),
        pytest.param(changed(currency="XXX"), (v.UNKNOWN_CURRENCY,), id="xxx-no-currency"),
        pytest.param(changed(currency="eur"), (v.UNKNOWN_CURRENCY,), id="lower-case-currency"),
        pytest.param(changed(currency="HRK"), (v.UNKNOWN_CURRENCY,), id="withdrawn-currency"),
        pytest.param(changed(event_ts="2025-03-01T06:10:00"), (v.BAD_TIMESTAMP,), id="no-offset"),
        pytest.param(changed(event_ts="2025-03-01"), (v.BAD_TIMESTAMP,), id="date-only"),
        pytest.param(changed(event_ts="01/03/2025 06:10"), (v.BAD_TIMESTAMP,), id="not-iso"),
        pytest.param(changed(event_ts="2025-03-02T06:15:01Z"), (v.FUTURE_TIMESTAMP,), id="a-day-and-a-second-ahead"),
        pytest.param(changed(items=[]), (v.EMPTY_ITEMS,), id="empty-items"),
        pytest.param(changed(channel="app"), (v.UNKNOWN_CHANNEL,), id="unknown-channel"),
        pytest.param(changed(channel="POS"), (v.UNKNOWN_CHANNEL,), id="upper-case-channel"),
        pytest.param(changed(store_id=None), (v.STORE_ID_MISSING,), id="pos-null-store"),
        pytest.param(changed(store_id=...), (v.STORE_ID_MISSING,), id="pos-without-store"),
        pytest.param(changed(store_id=5), (v.mistyped("store_id"),), id="numeric-store"),
        pytest.param(changed(channel="web"), (v.STORE_ID_FOR_WEB,), id="web-with-store"),
        pytest.param(
            changed(currency="XXX", items=[{"product_id": "B1", "quantity": 0, "unit_price": -1},
                                           {"product_id": "B2", "quantity": 0, "unit_price": 1}]),
            (v.UNKNOWN_CURRENCY, v.QUANTITY_NOT_POSITIVE, v.NEGATIVE_PRICE), id="several-reasons-once-each",
        ),
    ],
)
def test_bad_records_are_rejected_with_their_reasons(record: Any, reasons: tuple[str, ...]) -> None:
    result = check(record)
    assert isinstance(result, Rejection)
    assert result.reasons == reasons
    assert "\n" not in result.reason
    assert result.line == 3


def test_every_reason_is_covered() -> None:
    # the conflict is decided in Snowflake (tests/integration), the unreadable file in test_pos_staging
    reasons = {value for name, value in vars(v).items() if name.isupper() and isinstance(value, str) and name not in (
        "FUTURE_TOLERANCE",)} - {"pos", "web"}
    checked = {v.INVALID_JSON, v.NOT_AN_OBJECT, v.QUANTITY_NOT_POSITIVE, v.NEGATIVE_PRICE, v.UNKNOWN_CURRENCY,
               v.BAD_TIMESTAMP, v.FUTURE_TIMESTAMP, v.EMPTY_ITEMS, v.UNKNOWN_CHANNEL, v.STORE_ID_MISSING,
               v.STORE_ID_FOR_WEB, v.LINE_TOO_LONG, v.CONFLICTING_EVENT, v.UNREADABLE_FILE}
    assert reasons == checked


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(GOOD, id="pos"),
        pytest.param(changed(channel="web", store_id=None), id="web-null-store"),
        pytest.param(changed(channel="web", store_id=...), id="web-without-store"),
        pytest.param(changed(payment_type=...), id="no-payment-type"),
        pytest.param(changed(payment_type=None), id="null-payment-type"),
        pytest.param(changed(event_ts="2025-03-01T05:10:00Z"), id="zulu"),
        pytest.param(changed(event_ts="2025-03-02T06:15:00+00:00"), id="exactly-a-day-ahead"),
        pytest.param(item(unit_price=0), id="free-item"),
        pytest.param(item(unit_price=12800), id="integer-price"),
        pytest.param(changed(loyalty_tier="gold"), id="extra-field-kept"),
        pytest.param(changed(currency="JPY"), id="yen"),
    ],
)
def test_good_records_pass(record: dict[str, Any]) -> None:
    result = check(record)
    assert isinstance(result, PosEvent), getattr(result, "reasons", None)
    assert result.raw_text == json.dumps(record)


def test_a_valid_event_carries_typed_values_and_a_content_hash() -> None:
    result = check(GOOD, line=7)
    assert isinstance(result, PosEvent)
    assert result.event_ts == datetime(2025, 3, 1, 6, 10, tzinfo=timezone.utc)
    assert result.event_ts.utcoffset().total_seconds() == 3600  # the offset is kept
    assert (result.record_key, result.store_id, result.payment_type) == ("line 7: e-1", "AT-VIE-01", "card")
    assert json.loads(result.items_json()) == GOOD["items"]
    # the hash is of the content: key order and spacing do not matter, any value does
    reordered = json.dumps(dict(reversed(list(GOOD.items()))), indent=1).replace("\n", "")
    assert check(reordered).record_hash == result.record_hash  # type: ignore[union-attr]
    assert check(changed(payment_type="cash")).record_hash != result.record_hash  # type: ignore[union-attr]
    assert len(result.record_hash) == 64


def test_the_future_is_judged_against_the_interval_not_the_clock() -> None:
    record = changed(event_ts="2030-01-01T00:00:00Z")
    assert isinstance(check(record), Rejection)
    assert isinstance(validate_line(json.dumps(record).encode(), 1, datetime(2029, 12, 31, tzinfo=timezone.utc)), PosEvent)


def test_rejections_keep_the_record_as_received_and_a_key_without_values() -> None:
    bad = check(changed(currency="XXX"), line=12)
    assert isinstance(bad, Rejection)
    assert (bad.record_key, json.loads(bad.raw_json)) == ("line 12: e-1", changed(currency="XXX"))
    broken = check('{"event_id": "e-1", "cust', line=4)
    assert isinstance(broken, Rejection)
    assert (broken.record_key, json.loads(broken.raw_json)) == ("line 4", '{"event_id": "e-1", "cust')
    assert check(changed(event_id="x" * 500, currency="XXX")).record_key == "line 3: " + "x" * 128  # type: ignore[union-attr]
