"""Combine validated files into one load batch, and write it as the CSV files we stage in Snowflake."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from include.customer_master.validation import CustomerRecord, ParsedFile, Rejection

# Column order of the staged files; the COPY INTO targets in include/sql/customer_master_ingest/ match it.
CUSTOMER_STAGE_COLUMNS = (
    "CUSTOMER_ID", "FIRST_NAME", "LAST_NAME", "EMAIL", "PREFERRED_LANGUAGE", "COUNTRY", "MARKETING_CONSENT",
    "SOURCE_FILE", "ROW_HASH",
)
QUARANTINE_STAGE_COLUMNS = ("SOURCE", "RECORD_KEY", "REASON", "RAW_RECORD", "RUN_ID")


@dataclass(frozen=True)
class CustomerBatch:
    sources: tuple[str, ...]
    rows_read: int
    customers: tuple[CustomerRecord, ...]
    rejections: tuple[Rejection, ...]
    superseded: int

    def quarantined_by_reason(self) -> dict[str, int]:
        """Rows per reason; a row with two problems counts under both."""
        counts = Counter(reason for rejection in self.rejections for reason in rejection.reasons)
        return dict(sorted(counts.items()))


def build_batch(files_oldest_first: Sequence[ParsedFile]) -> CustomerBatch:
    """One row per customer: a customer in several files takes the newest file's version.

    The caller orders files by (LastModified, key), so the result does not depend on listing order
    and a re-run over the same files yields the same batch.
    """
    newest: dict[str, CustomerRecord] = {}
    valid_rows = 0
    for parsed in files_oldest_first:
        for record in parsed.records:
            valid_rows += 1
            newest[record.customer_id] = record
    return CustomerBatch(
        sources=tuple(p.source_file for p in files_oldest_first),
        rows_read=sum(p.rows_read for p in files_oldest_first),
        customers=tuple(sorted(newest.values(), key=lambda r: r.customer_id)),
        rejections=tuple(r for p in files_oldest_first for r in p.rejections),
        superseded=valid_rows - len(newest),
    )


def write_customers_csv(records: Iterable[CustomerRecord], path: Path) -> int:
    """Write staged customer rows (no header). Empty names become empty fields, which COPY loads as NULL."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for r in records:
            writer.writerow([
                r.customer_id, r.first_name, r.last_name, r.email, r.preferred_language, r.country,
                "true" if r.marketing_consent else "false", r.source_file, r.row_hash,
            ])
            count += 1
    return count


def write_quarantine_csv(rejections: Iterable[Rejection], run_id: str, path: Path) -> int:
    """Write staged quarantine rows (no header); RAW_RECORD is JSON text, parsed to VARIANT by the MERGE."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for r in rejections:
            raw = json.dumps(r.raw_record, ensure_ascii=False, sort_keys=isinstance(r.raw_record, dict))
            writer.writerow([r.source_file, r.record_key, r.reason, raw, run_id])
            count += 1
    return count


@dataclass(frozen=True)
class LoadSummary:
    """What a run did, in counts only: safe to log and to return as XCom (no customer data)."""

    files: int
    rows_read: int
    customers_in_batch: int
    inserted: int
    updated: int
    unchanged: int
    superseded: int
    quarantined: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, batch: CustomerBatch, inserted: int, updated: int) -> LoadSummary:
        return cls(
            files=len(batch.sources),
            rows_read=batch.rows_read,
            customers_in_batch=len(batch.customers),
            inserted=inserted,
            updated=updated,
            unchanged=len(batch.customers) - inserted - updated,
            superseded=batch.superseded,
            quarantined=len(batch.rejections),
            quarantined_by_reason=batch.quarantined_by_reason(),
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files, "rows_read": self.rows_read, "customers_in_batch": self.customers_in_batch,
            "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
            "superseded": self.superseded, "quarantined": self.quarantined,
            "quarantined_by_reason": dict(self.quarantined_by_reason),
        }
