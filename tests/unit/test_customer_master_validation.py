"""Validation of customer master files: every quarantine reason, normalisation, file-level errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.customer_master import (
    HEADER,
    REASONS,
    CustomerFileError,
    LoadSummary,
    build_batch,
    parse_customer_file,
    write_customers_csv,
    write_quarantine_csv,
)
from include.customer_master.validation import (
    CONFLICTING_DUPLICATE,
    INVALID_CONSENT,
    INVALID_EMAIL,
    MISSING_CUSTOMER_ID,
    UNKNOWN_COUNTRY,
    UNKNOWN_LANGUAGE,
    WRONG_COLUMN_COUNT,
    is_valid_email,
    normalize_language_tag,
)

SOURCE = "s3://genai-landing/customers/a.csv"
CSV_HEADER = ",".join(HEADER) + "\n"
GOOD = "C1,Anna,Müller,anna@example.de,de,DE,true"


def parse(*rows: str, source: str = SOURCE):
    return parse_customer_file((CSV_HEADER + "\n".join(rows) + "\n").encode("utf-8"), source)


@pytest.mark.parametrize(
    ("row", "reasons"),
    [
        pytest.param("C1,Anna,Müller", (WRONG_COLUMN_COUNT,), id="too-few-columns"),
        pytest.param(GOOD + ",extra", (WRONG_COLUMN_COUNT,), id="too-many-columns"),
        pytest.param(",Anna,M,a@example.de,de,DE,true", (MISSING_CUSTOMER_ID,), id="missing-customer-id"),
        pytest.param("  ,Anna,M,a@example.de,de,DE,true", (MISSING_CUSTOMER_ID,), id="blank-customer-id"),
        pytest.param("C1,Anna,M,anna.example.de,de,DE,true", (INVALID_EMAIL,), id="email-without-at"),
        pytest.param("C1,Anna,M,,de,DE,true", (INVALID_EMAIL,), id="empty-email"),
        pytest.param("C1,Anna,M,xx,ZZ,DE,true", (INVALID_EMAIL, UNKNOWN_LANGUAGE), id="two-reasons-kept-in-order"),
        pytest.param("C1,Anna,M,a@example.de,xx,DE,true", (UNKNOWN_LANGUAGE,), id="unknown-language"),
        pytest.param("C1,Anna,M,a@example.de,de-XX,DE,true", (UNKNOWN_LANGUAGE,), id="language-with-unknown-region"),
        pytest.param("C1,Anna,M,a@example.de,de_DE,DE,true", (UNKNOWN_LANGUAGE,), id="underscore-is-not-bcp47"),
        pytest.param("C1,Anna,M,a@example.de,,DE,true", (UNKNOWN_LANGUAGE,), id="empty-language"),
        pytest.param("C1,Anna,M,a@example.de,de,ZZ,true", (UNKNOWN_COUNTRY,), id="unknown-country"),
        pytest.param("C1,Anna,M,a@example.de,en,UK,true", (UNKNOWN_COUNTRY,), id="uk-is-not-iso"),
        pytest.param("C1,Anna,M,a@example.de,de,DEU,true", (UNKNOWN_COUNTRY,), id="alpha-3-country"),
        pytest.param("C1,Anna,M,a@example.de,de,DE,yes", (INVALID_CONSENT,), id="consent-yes"),
        pytest.param("C1,Anna,M,a@example.de,de,DE,", (INVALID_CONSENT,), id="consent-empty"),
        pytest.param("C1,Anna,M,a@example.de,de,DE,1", (INVALID_CONSENT,), id="consent-1"),
    ],
)
def test_bad_rows_are_quarantined_with_their_reasons(row: str, reasons: tuple[str, ...]) -> None:
    parsed = parse(GOOD.replace("C1", "C0"), row)
    assert [r.customer_id for r in parsed.records] == ["C0"]  # the good row around it still loads
    (rejection,) = parsed.rejections
    assert rejection.reasons == reasons
    assert rejection.reason == "; ".join(reasons)
    assert rejection.line == 3
    assert rejection.source_file == SOURCE


def test_every_reason_is_covered_by_a_test() -> None:
    covered = {WRONG_COLUMN_COUNT, MISSING_CUSTOMER_ID, INVALID_EMAIL, UNKNOWN_LANGUAGE, UNKNOWN_COUNTRY,
               INVALID_CONSENT, CONFLICTING_DUPLICATE}
    assert covered == set(REASONS)


def test_same_customer_twice_with_different_content_quarantines_both() -> None:
    parsed = parse(GOOD, "C2,Ben,K,b@example.de,de,DE,true", GOOD.replace("true", "false"))
    assert [r.customer_id for r in parsed.records] == ["C2"]
    assert [(r.record_key, r.reason) for r in parsed.rejections] == [
        ("line 2: C1", CONFLICTING_DUPLICATE),
        ("line 4: C1", CONFLICTING_DUPLICATE),
    ]
    assert parsed.rejections[1].raw_record["marketing_consent"] == "false"  # raw as received


def test_same_customer_twice_with_identical_content_loads_once() -> None:
    # differences that normalise away (case of the language tag, spaces) are not conflicts
    parsed = parse(GOOD, " C1 ,Anna,Müller,anna@example.de,DE,de,TRUE")
    assert [(r.customer_id, r.line) for r in parsed.records] == [("C1", 2)]
    assert parsed.rejections == ()
    assert parsed.rows_read == 2


def test_values_are_normalised() -> None:
    (record,) = parse(" C1 , Anna , Müller , anna@example.de , PT-br , br , FALSE ").records
    assert (record.customer_id, record.first_name, record.last_name, record.email) == ("C1", "Anna", "Müller", "anna@example.de")
    assert (record.preferred_language, record.country, record.marketing_consent) == ("pt-BR", "BR", False)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("de", "de"), ("DE", "de"), ("PT-br", "pt-BR"), ("zh-hant-tw", "zh-Hant-TW"), ("sr-Latn", "sr-Latn"),
        ("es-419", "es-419"), ("en-GB", "en-GB"),
        ("xx", None), ("deu", None), ("en-UK", None), ("en-US-x-private", None), ("de-DE-1996", None),
        ("en_US", None), ("", None), ("e", None),
    ],
)
def test_language_tags(tag: str, expected: str | None) -> None:
    assert normalize_language_tag(tag) == expected


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("a@example.de", True), ("first.last+tag@mail.example.co.uk", True), ("o'neil@example.ie", True),
        ("a@localhost", False), ("a@@example.de", False), ("a b@example.de", False), (".a@example.de", False),
        ("a..b@example.de", False), ("a@-example.de", False), ("a@example.123", False), ("@example.de", False),
        ("a@example.de.", False), ("x" * 65 + "@example.de", False), ("jöran@example.se", False),
    ],
)
def test_emails(email: str, valid: bool) -> None:
    assert is_valid_email(email) is valid


def test_header_must_match_exactly() -> None:
    with pytest.raises(CustomerFileError, match=rf"^{SOURCE}: header does not match customer_id,first_name"):
        parse_customer_file(b"customer_id,first_name,last_name,email,language,country,marketing_consent\n", SOURCE)


def test_header_may_carry_a_bom_and_blank_lines_are_not_rows() -> None:
    parsed = parse_customer_file(("\ufeff" + CSV_HEADER + GOOD + "\n\n").encode("utf-8"), SOURCE)
    assert (parsed.rows_read, len(parsed.records)) == (1, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "empty file", id="empty"),
        pytest.param(CSV_HEADER.encode() + "C1,Jörg,M,j@example.de,de,DE,true\n".encode("latin-1"), "not UTF-8", id="latin-1"),
    ],
)
def test_file_level_errors_are_one_line_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(CustomerFileError) as info:
        parse_customer_file(data, SOURCE)
    assert str(info.value).startswith(f"{SOURCE}: {message}")
    assert "\n" not in str(info.value)


def test_a_header_only_file_has_no_rows() -> None:
    parsed = parse_customer_file(CSV_HEADER.encode(), SOURCE)
    assert (parsed.rows_read, parsed.records, parsed.rejections) == (0, (), ())


def test_row_hash_covers_business_columns_only() -> None:
    a = parse(GOOD).records[0]
    b = parse(GOOD, source="s3://genai-landing/customers/b.csv").records[0]
    c = parse(GOOD.replace("true", "false")).records[0]
    assert a.row_hash == b.row_hash != c.row_hash


def test_newest_file_wins_and_summary_counts() -> None:
    older = parse(GOOD, "C2,Ben,K,b@example.de,de,DE,true", "C3,x,y,bad,de,DE,maybe")
    newer = parse(GOOD.replace("true", "false"), source="s3://genai-landing/customers/b.csv")
    batch = build_batch([older, newer])
    assert [(r.customer_id, r.marketing_consent, r.source_file) for r in batch.customers] == [
        ("C1", False, "s3://genai-landing/customers/b.csv"),
        ("C2", True, SOURCE),
    ]
    assert batch.superseded == 1
    summary = LoadSummary.of(batch, inserted=1, updated=1).as_dict()
    assert summary == {
        "files": 2, "rows_read": 4, "customers_in_batch": 2, "inserted": 1, "updated": 1, "unchanged": 0,
        "superseded": 1, "quarantined": 1,
        "quarantined_by_reason": {INVALID_CONSENT: 1, INVALID_EMAIL: 1},
    }
    assert "Anna" not in json.dumps(summary)


def test_staged_files_round_trip_through_csv(tmp_path: Path) -> None:
    import csv

    parsed = parse('C1,"Smith, Jr.","O""Neil",a@example.de,de,DE,true', "C2,,,b@example.de,de,DE,false", "C3,too,few")
    assert write_customers_csv(parsed.records, tmp_path / "c.csv") == 2
    assert write_quarantine_csv(parsed.rejections, "run-1", tmp_path / "q.csv") == 1
    with (tmp_path / "c.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:7] == ["C1", "Smith, Jr.", 'O"Neil', "a@example.de", "de", "DE", "true"]
    assert rows[1][1:3] == ["", ""] and rows[1][7] == SOURCE and len(rows[1][8]) == 64
    with (tmp_path / "q.csv").open(newline="", encoding="utf-8") as f:
        (q,) = list(csv.reader(f))
    assert (q[0], q[1], q[2], json.loads(q[3]), q[4]) == (SOURCE, "line 4", WRONG_COLUMN_COUNT, ["C3", "too", "few"], "run-1")
