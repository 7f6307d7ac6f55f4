"""Write a run's validated events, quarantine rows and file versions to local CSV files for a Snowflake stage.

Records are written as they stream in, so memory does not grow with the batch; events are cut into
parts of about ``part_bytes`` because a PUT reads each local file whole when it uploads it.

The CSV dialect is include/staging.py's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from include.pos.files import UnreadableFileError
from include.pos.ledger import FileVersion
from include.pos.validation import UNREADABLE_FILE, PosEvent, Rejection, validate_line
from include.staging import PART_BYTES, csv_row

# Column order of the staged files; the temporary tables in include/sql/pos_transactions_ingest/stage_batch.sql match it.
EVENT_STAGE_COLUMNS = (
    "EVENT_ID", "EVENT_TS", "CUSTOMER_ID", "CHANNEL", "STORE_ID", "CURRENCY", "PAYMENT_TYPE", "ITEMS",
    "RAW_RECORD", "RECORD_HASH", "SOURCE_FILE", "LINE_NUMBER", "RECORD_KEY",
)
QUARANTINE_STAGE_COLUMNS = ("SOURCE", "RECORD_KEY", "REASON", "RAW_RECORD", "RUN_ID")
SOURCE_STAGE_COLUMNS = ("SOURCE", "ETAG", "SIZE_BYTES", "RUN_ID")


@dataclass
class FileCounts:
    lines: int = 0
    valid: int = 0
    rejected: int = 0


@dataclass
class StagedBatch:
    """What a closed writer produced: local files and the Python-side counts."""

    event_parts: tuple[Path, ...]
    quarantine: Path
    sources: Path
    files: tuple[FileVersion, ...]
    lines: int
    valid: int
    rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def row_counts(self) -> dict[str, int]:
        return {"events": self.valid, "quarantine": self.rejected, "sources": len(self.files)}


class PosBatchWriter:
    """Validate lines file by file and write the staged CSVs as they stream in. Use as a context manager."""

    def __init__(self, folder: Path, run_id: str, not_after: datetime, part_bytes: int = PART_BYTES) -> None:
        self.folder = folder
        self.run_id = run_id
        self.not_after = not_after
        self.part_bytes = part_bytes
        self._parts: list[Path] = []
        self._part: BinaryIO | None = None
        self._part_size = 0
        self._quarantine = (folder / "quarantine.csv").open("wb")
        self._sources = (folder / "sources.csv").open("wb")
        self._files: list[FileVersion] = []
        self._lines = 0
        self._valid = 0
        self._rejected = 0
        self._reasons: Counter[str] = Counter()

    def __enter__(self) -> PosBatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close_files()

    def add_file(self, version: FileVersion, lines: Iterable[bytes]) -> FileCounts:
        """Validate and stage every line of one file. A truncated gzip keeps the lines before the damage and
        quarantines the file's tail as one row; the file is still recorded as loaded (reading it again cannot
        help until it is replaced, and a replaced file has a new ETag)."""
        counts = FileCounts()
        try:
            for number, line in enumerate(lines, start=1):
                counts.lines = number
                if not line.strip():
                    continue  # blank lines (a trailing one, often) are not records
                checked = validate_line(line, number, self.not_after)
                if isinstance(checked, PosEvent):
                    self._write_event(checked, version.uri)
                    counts.valid += 1
                else:
                    self._write_rejection(checked, version.uri)
                    counts.rejected += 1
        except UnreadableFileError as e:
            at = e.lines_read + 1
            self._write_rejection(Rejection(at, None, (UNREADABLE_FILE,), '"unreadable"'), version.uri)
            counts.rejected += 1
        self._sources.write(csv_row((version.uri, version.etag, version.size, self.run_id)))
        self._files.append(version)
        self._lines += counts.lines
        return counts

    def close(self) -> StagedBatch:
        self._close_files()
        return StagedBatch(
            event_parts=tuple(self._parts), quarantine=self.folder / "quarantine.csv",
            sources=self.folder / "sources.csv", files=tuple(self._files), lines=self._lines, valid=self._valid,
            rejected=self._rejected, rejected_by_reason=dict(sorted(self._reasons.items())),
        )

    def _write_event(self, event: PosEvent, source: str) -> None:
        row = csv_row((
            event.event_id, event.event_ts.isoformat(), event.customer_id, event.channel, event.store_id,
            event.currency, event.payment_type, event.items_json(), event.raw_text, event.record_hash, source,
            event.line, event.record_key,
        ))
        if self._part is None or self._part_size >= self.part_bytes:
            self._next_part()
        assert self._part is not None
        self._part.write(row)
        self._part_size += len(row)
        self._valid += 1

    def _write_rejection(self, rejection: Rejection, source: str) -> None:
        self._quarantine.write(
            csv_row((source, rejection.record_key, rejection.reason, rejection.raw_json, self.run_id))
        )
        self._rejected += 1
        self._reasons.update(rejection.reasons)  # a record with two problems counts under both

    def _next_part(self) -> None:
        if self._part is not None:
            self._part.close()
        path = self.folder / "events" / f"part-{len(self._parts) + 1:05d}.csv"
        path.parent.mkdir(exist_ok=True)
        self._parts.append(path)
        self._part = path.open("wb")
        self._part_size = 0

    def _close_files(self) -> None:
        for f in (self._part, self._quarantine, self._sources):
            if f is not None and not f.closed:
                f.close()

