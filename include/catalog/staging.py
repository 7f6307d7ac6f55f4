"""Write a run's catalog rows, reviews, quarantine rows and file versions to local CSV files for a Snowflake stage.

Rows are validated and written as the file streams in, so memory does not depend on the file; the
staged CSV dialect is include/staging.py's. Duplicate products (the same product_id on several
rows, in one file or several) are all staged: Snowflake picks one per product in the MERGE
(include/sql/product_reviews_sentiment/merge_products.sql), so the rule holds across files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from include.catalog.files import CsvRecord, Readable, iter_csv_records, iter_text_lines
from include.catalog.parsing import (
    CATALOG_COLUMNS, EMPTY_FILE, MISSING_COLUMNS, NOT_UTF8, UNREADABLE_RECORD, WRONG_FIELD_COUNT, CatalogRow,
    Rejection, parse_row, raw_json,
)
from include.pos.ledger import FileVersion
from include.staging import PART_BYTES, PartedCsv

# Column order of the staged files; the temporary tables in include/sql/product_reviews_sentiment/stage_batch.sql match it.
PRODUCT_STAGE_COLUMNS = (
    "PRODUCT_ID", "PRODUCT_NAME", "CATEGORY", "CATEGORY_PATH", "SUB_CATEGORY", "DISCOUNTED_PRICE", "ACTUAL_PRICE",
    "CURRENCY", "DISCOUNT_PERCENTAGE", "RATING", "RATING_COUNT", "ABOUT_PRODUCT", "IMG_LINK", "PRODUCT_LINK",
    "ROW_HASH", "SOURCE", "LINE_NUMBER",
)
REVIEW_STAGE_COLUMNS = (
    "PRODUCT_ID", "REVIEW_ID", "USER_ID", "USER_NAME", "REVIEW_TITLE", "REVIEW_CONTENT", "CONTENT_HASH", "SOURCE",
    "LINE_NUMBER", "ORDINAL",
)
QUARANTINE_STAGE_COLUMNS = ("SOURCE", "RECORD_KEY", "REASON", "RAW_RECORD", "RUN_ID")
SOURCE_STAGE_COLUMNS = ("SOURCE", "ETAG", "SIZE_BYTES", "RUN_ID")
HEADER_KEY = "header"
REVIEWS_KEY_SUFFIX = " reviews"


@dataclass
class FileCounts:
    rows: int = 0  # data rows read (blank lines are not rows)
    loaded: int = 0  # rows whose product is staged
    rejected: int = 0  # rows quarantined whole
    reviews: int = 0  # reviews staged
    review_lists_rejected: int = 0  # rows whose product is staged but whose reviews are quarantined


@dataclass
class StagedCatalog:
    """What a closed writer produced: local files and the Python-side counts."""

    files: dict[str, tuple[Path, ...]]  # products, reviews, quarantine, sources -> CSV parts
    row_counts: dict[str, int]  # staged rows per kind
    versions: tuple[FileVersion, ...]
    totals: FileCounts
    rejected_by_reason: dict[str, int] = field(default_factory=dict)


class CatalogBatchWriter:
    """Validate catalog files row by row and write the staged CSVs as they stream in. Use as a context manager."""

    def __init__(self, folder: Path, run_id: str, part_bytes: int = PART_BYTES) -> None:
        self.run_id = run_id
        self._csv = {kind: PartedCsv(folder / kind, part_bytes) for kind in ("products", "reviews", "quarantine", "sources")}
        self._versions: list[FileVersion] = []
        self._totals = FileCounts()
        self._reasons: Counter[str] = Counter()

    def __enter__(self) -> CatalogBatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for parted in self._csv.values():
            parted.close()

    def add_file(self, version: FileVersion, body: Readable) -> FileCounts:
        """Validate and stage every row of one catalog file; the file is recorded as loaded whatever its rows held
        (reading it again cannot help until it is replaced, and a replaced file has a new ETag)."""
        counts = FileCounts()
        records = iter_csv_records(iter_text_lines(body))
        header = next(records, None)
        columns = _header_columns(header.fields) if header is not None and header.fields is not None else None
        if header is None:
            self._quarantine(version.uri, HEADER_KEY, (EMPTY_FILE,), raw_json(""))
        elif columns is None or not set(CATALOG_COLUMNS) <= set(columns):
            missing = sorted(set(CATALOG_COLUMNS) - set(columns or ()))
            self._quarantine(version.uri, HEADER_KEY, (MISSING_COLUMNS,), raw_json(missing))
        else:
            for record in records:
                counts.rows += 1
                self._add_record(version.uri, columns, record, counts)
        self._csv["sources"].write((version.uri, version.etag, version.size, self.run_id))
        self._versions.append(version)
        for name in ("rows", "loaded", "rejected", "reviews", "review_lists_rejected"):
            setattr(self._totals, name, getattr(self._totals, name) + getattr(counts, name))
        return counts

    def close(self) -> StagedCatalog:
        for parted in self._csv.values():
            parted.close()
        return StagedCatalog(
            files={kind: tuple(parted.parts) for kind, parted in self._csv.items()},
            row_counts={kind: parted.rows for kind, parted in self._csv.items()},
            versions=tuple(self._versions),
            totals=self._totals,
            rejected_by_reason=dict(sorted(self._reasons.items())),
        )

    def _add_record(self, source: str, columns: list[str], record: CsvRecord, counts: FileCounts) -> None:
        line, fields = record.line, record.fields
        if fields is None:
            self._reject(source, Rejection(line, None, (UNREADABLE_RECORD,), raw_json("")), counts)
            return
        if len(fields) != len(columns):
            self._reject(source, Rejection(line, None, (WRONG_FIELD_COUNT,), raw_json(fields)), counts)
            return
        cells = dict(zip(columns, fields))
        if any("\ufffd" in value for value in fields):
            product_id = cells["product_id"].strip() or None
            self._reject(source, Rejection(line, product_id, (NOT_UTF8,), raw_json(cells)), counts)
            return
        parsed = parse_row(cells, line)
        if isinstance(parsed, Rejection):
            self._reject(source, parsed, counts)
            return
        self._write_row(source, parsed, cells, counts)

    def _write_row(self, source: str, row: CatalogRow, cells: dict[str, str], counts: FileCounts) -> None:
        self._csv["products"].write((
            row.product_id, row.product_name, row.category, row.category_path, row.sub_category,
            row.discounted_price, row.actual_price, row.currency, row.discount_percentage,
            None if row.rating is None else repr(row.rating), row.rating_count, row.about_product, row.img_link,
            row.product_link, row.row_hash, source, row.line,
        ))
        counts.loaded += 1
        for review in row.reviews:
            self._csv["reviews"].write((
                row.product_id, review.review_id, review.user_id, review.user_name, review.title, review.content,
                review.content_hash, source, row.line, review.ordinal,
            ))
            counts.reviews += 1
        if row.reviews_rejected is not None:
            review_cells = {name: cells[name] for name in ("product_id", "user_id", "user_name", "review_id",
                                                           "review_title", "review_content")}
            self._quarantine(source, row.record_key + REVIEWS_KEY_SUFFIX, (row.reviews_rejected,), raw_json(review_cells))
            counts.review_lists_rejected += 1

    def _reject(self, source: str, rejection: Rejection, counts: FileCounts) -> None:
        self._quarantine(source, rejection.record_key, rejection.reasons, rejection.raw_json)
        counts.rejected += 1

    def _quarantine(self, source: str, key: str, reasons: tuple[str, ...], raw: str) -> None:
        self._csv["quarantine"].write((source, key, "; ".join(reasons), raw, self.run_id))
        self._reasons.update(reasons)  # a row with two problems counts under both


def _header_columns(fields: list[str]) -> list[str]:
    return [name.strip().lower() for name in fields]
