"""customers/customers.csv: exact header, ids, languages consistent with countries."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest

from local.seed.customers import customers_csv, generate_customers
from local.seed.generate import SeedOutput

# Written out here, not imported, so a change in the generator cannot silently agree with it.
ALLOWED_COUNTRIES = {
    "en": {"GB", "IE", "US"}, "de": {"DE", "AT", "CH"}, "fr": {"FR", "BE", "CH"},
    "es": {"ES"}, "it": {"IT", "CH"}, "pt-PT": {"PT"}, "pt-BR": {"BR"}, "nl": {"NL", "BE"},
    "ja": {"JP"},
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    data = customers_csv(generate_customers(3000, random.Random("customers-test")))
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_header_is_exact(seed_output: SeedOutput) -> None:
    first_line = seed_output.files["customers/customers.csv"].split(b"\n", 1)[0]
    assert first_line == (b"customer_id,first_name,last_name,email,preferred_language,"
                          b"country,marketing_consent")


def test_ids_and_emails_are_unique_and_well_formed(rows: list[dict[str, str]]) -> None:
    assert [r["customer_id"] for r in rows] == [f"C{n:06d}" for n in range(1, len(rows) + 1)]
    emails = [r["email"] for r in rows]
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert re.fullmatch(r"[a-z0-9.]+@example\.(com|org|net)", email), email


def test_languages_and_countries_are_consistent(rows: list[dict[str, str]]) -> None:
    languages = {r["preferred_language"] for r in rows}
    assert languages == set(ALLOWED_COUNTRIES)  # 9 languages incl. pt-PT and pt-BR
    for row in rows:
        assert row["country"] in ALLOWED_COUNTRIES[row["preferred_language"]], row
    # Every allowed pairing actually occurs, so consumers see multi-country languages.
    pairs = {(r["preferred_language"], r["country"]) for r in rows}
    assert {("de", "AT"), ("de", "CH"), ("en", "US"), ("fr", "BE"), ("nl", "BE")} <= pairs


def test_names_are_local(rows: list[dict[str, str]]) -> None:
    japanese = [r for r in rows if r["preferred_language"] == "ja"]
    assert japanese and all(not r["last_name"].isascii() for r in japanese)  # kanji
    assert any(not r["first_name"].isascii() for r in rows if r["preferred_language"] == "de")
    assert all(r["first_name"] and r["last_name"] for r in rows)


def test_consent_is_boolean_text_and_mostly_true(rows: list[dict[str, str]]) -> None:
    values = [r["marketing_consent"] for r in rows]
    assert set(values) == {"true", "false"}
    assert 0.75 < values.count("true") / len(values) < 0.85


def test_bad_customer_rows_are_exactly_what_the_pipeline_quarantines(seed_output: SeedOutput) -> None:
    # the customer pipeline's own validator, so generator and pipeline cannot drift apart
    from include.customer_master import parse_customer_file

    injected = seed_output.manifest["bad_customer_rows"]
    assert {entry["kind"] for entry in injected} == {
        "invalid_email", "unknown_language", "unknown_country", "invalid_consent", "missing_customer_id",
        "wrong_column_count",
    }
    parsed = parse_customer_file(seed_output.files["customers/customers.csv"], "s3://b/customers/customers.csv")
    assert sorted(r.line for r in parsed.rejections) == sorted(entry["line"] for entry in injected)
    assert len(parsed.records) == seed_output.manifest["counts"]["customers"]


def test_no_bad_customer_rows_without_a_bad_rate() -> None:
    from local.seed.customers import bad_customer_rows

    assert bad_customer_rows(300, 0.0) == []
    assert len(bad_customer_rows(1000, 0.01)) == 10
