"""Parse and validate one customer master CSV file.

Customer files are small (one row per customer, tens of MB at most), so a file is validated in
memory in Python, where every rejected row can get a precise reason; the load itself is bulk SQL.
A bad row is quarantined and never stops the good rows around it. Only a file-level problem
(wrong header, not UTF-8) stops the load, with a one-line message naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass

from include.customer_master.codes import COUNTRY_CODES, LANGUAGE_CODES

HEADER = (
    "customer_id", "first_name", "last_name", "email", "preferred_language", "country", "marketing_consent",
)

# Reasons are stable strings: they are part of the quarantine table's key and of the run summary.
# They never carry the offending value, so a reason can be logged without leaking customer data.
WRONG_COLUMN_COUNT = "wrong column count"
MISSING_CUSTOMER_ID = "missing customer_id"
INVALID_EMAIL = "invalid email"
UNKNOWN_LANGUAGE = "unknown language tag"
UNKNOWN_COUNTRY = "unknown country code"
INVALID_CONSENT = "consent not true/false"
CONFLICTING_DUPLICATE = "customer_id repeated in file with different content"
REASONS = (
    WRONG_COLUMN_COUNT, MISSING_CUSTOMER_ID, INVALID_EMAIL, UNKNOWN_LANGUAGE, UNKNOWN_COUNTRY,
    INVALID_CONSENT, CONFLICTING_DUPLICATE,
)

# Pragmatic address check (RFC 5321 lengths, dot-atom local part, LDH domain with a dot), ASCII
# only: internationalised addresses are rare in this master data and our mail provider rejects them.
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# language[-Script][-REGION], the subset of BCP 47 we can act on; variants, extensions and
# private-use subtags are rejected rather than silently dropped.
_LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")
_CONSENT = {"true": True, "false": False}


class CustomerFileError(ValueError):
    """The whole file cannot be loaded; the message is one line naming the file."""


@dataclass(frozen=True)
class CustomerRecord:
    customer_id: str
    first_name: str
    last_name: str
    email: str
    preferred_language: str
    country: str
    marketing_consent: bool
    source_file: str
    line: int

    @property
    def row_hash(self) -> str:
        """Hash of the business columns only: the same customer from another file is unchanged."""
        payload = json.dumps(
            [self.customer_id, self.first_name, self.last_name, self.email, self.preferred_language,
             self.country, self.marketing_consent],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Rejection:
    source_file: str
    line: int
    customer_id: str
    reasons: tuple[str, ...]
    raw_record: dict[str, str] | list[str]

    @property
    def record_key(self) -> str:
        """Run-independent key: the line is what tells two rows of one customer apart."""
        return f"line {self.line}: {self.customer_id}" if self.customer_id else f"line {self.line}"

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class ParsedFile:
    source_file: str
    rows_read: int
    records: tuple[CustomerRecord, ...]
    rejections: tuple[Rejection, ...]


def normalize_language_tag(value: str) -> str | None:
    """Canonical case (``PT-br`` -> ``pt-BR``, ``zh-hant-tw`` -> ``zh-Hant-TW``), or None if not accepted.

    Accepted: an ISO 639-1 language, an optional 4-letter script, and an optional region that is
    an ISO 3166-1 alpha-2 code or a 3-digit UN M.49 area (``es-419``).
    """
    match = _LANGUAGE_TAG.match(value.strip())
    if not match:
        return None
    language, script, region = match.groups()
    if language.lower() not in LANGUAGE_CODES:
        return None
    if region and region.isalpha() and region.upper() not in COUNTRY_CODES:
        return None
    parts = [language.lower()] + ([script.title()] if script else []) + ([region.upper()] if region else [])
    return "-".join(parts)


def normalize_country(value: str) -> str | None:
    code = value.strip().upper()
    return code if code in COUNTRY_CODES else None


def is_valid_email(value: str) -> bool:
    if len(value) > 254 or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    labels = domain.split(".")
    return (
        0 < len(local) <= 64
        and bool(_LOCAL_PART.match(local))
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.match(label) for label in labels)
        and labels[-1].isalpha()
    )


def parse_consent(value: str) -> bool | None:
    """``true``/``false`` in any case (spreadsheets write TRUE); anything else, including empty, is None."""
    return _CONSENT.get(value.strip().lower())


def _check_row(fields: list[str], source_file: str, line: int) -> CustomerRecord | Rejection:
    if len(fields) != len(HEADER):
        return Rejection(source_file, line, "", (WRONG_COLUMN_COUNT,), list(fields))
    raw = dict(zip(HEADER, fields))
    customer_id, first, last, email, language, country, consent = (f.strip() for f in fields)
    reasons = []
    if not customer_id:
        reasons.append(MISSING_CUSTOMER_ID)
    if not is_valid_email(email):
        reasons.append(INVALID_EMAIL)
    normalized_language = normalize_language_tag(language)
    if normalized_language is None:
        reasons.append(UNKNOWN_LANGUAGE)
    normalized_country = normalize_country(country)
    if normalized_country is None:
        reasons.append(UNKNOWN_COUNTRY)
    parsed_consent = parse_consent(consent)
    if parsed_consent is None:
        reasons.append(INVALID_CONSENT)
    if reasons:
        return Rejection(source_file, line, customer_id, tuple(reasons), raw)
    assert normalized_language and normalized_country and parsed_consent is not None  # for the type checker
    return CustomerRecord(
        customer_id=customer_id, first_name=first, last_name=last, email=email,
        preferred_language=normalized_language, country=normalized_country, marketing_consent=parsed_consent,
        source_file=source_file, line=line,
    )


def parse_customer_file(data: bytes, source_file: str) -> ParsedFile:
    """Validate one file. ``source_file`` (e.g. ``s3://bucket/customers/x.csv``) names it in errors and rows.

    Raises CustomerFileError if the file is not UTF-8 or its header is not exactly HEADER.
    A customer_id that appears more than once with identical content is loaded once; with
    different content every occurrence is quarantined, since we cannot tell which one is right.
    """
    try:
        text = data.decode("utf-8-sig")  # a BOM is what Excel writes; it is not part of the header
    except UnicodeDecodeError as e:
        raise CustomerFileError(f"{source_file}: not UTF-8 (byte {e.start})") from e
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CustomerFileError(f"{source_file}: empty file, expected header {','.join(HEADER)}")
    if tuple(h.strip() for h in header) != HEADER:
        raise CustomerFileError(f"{source_file}: header does not match {','.join(HEADER)}")

    rows_read = 0
    checked: list[tuple[CustomerRecord | Rejection, list[str]]] = []
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue  # blank lines (often a trailing one) are not records
        rows_read += 1
        checked.append((_check_row(fields, source_file, reader.line_num), fields))

    records, rejections = _resolve_duplicates(checked)
    return ParsedFile(source_file, rows_read, tuple(records), tuple(rejections))


def _resolve_duplicates(
    checked: list[tuple[CustomerRecord | Rejection, list[str]]],
) -> tuple[list[CustomerRecord], list[Rejection]]:
    by_id: dict[str, list[CustomerRecord]] = {}
    for item, _fields in checked:
        if isinstance(item, CustomerRecord):
            by_id.setdefault(item.customer_id, []).append(item)
    conflicting = {cid for cid, versions in by_id.items() if len({v.row_hash for v in versions}) > 1}

    records: list[CustomerRecord] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for item, fields in checked:
        if isinstance(item, Rejection):
            rejections.append(item)
        elif item.customer_id in conflicting:
            raw = dict(zip(HEADER, fields))
            rejections.append(Rejection(item.source_file, item.line, item.customer_id, (CONFLICTING_DUPLICATE,), raw))
        elif item.customer_id not in seen:
            seen.add(item.customer_id)
            records.append(item)
    return records, rejections

