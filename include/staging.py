"""Local CSV files for Snowflake bulk loads (PUT to an internal stage, COPY INTO, MERGE).

The dialect is the one both Snowflake and the stand-in read the same way with
``FIELD_OPTIONALLY_ENCLOSED_BY = '"'``: every value enclosed in double quotes (inner quotes
doubled), SQL NULL as an unenclosed ``\\N`` (the default NULL_IF). Enclosing every value keeps
Snowflake from reading a backslash in an unenclosed field as an escape character, and lets values
hold commas and newlines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

PART_BYTES = 64 * 1024 * 1024
NULL = b"\\N"


def csv_row(values: Sequence[object]) -> bytes:
    """One staged CSV line: every value enclosed, NULL as unenclosed \\N (see module doc)."""
    return b",".join(
        NULL if value is None else b'"' + str(value).replace('"', '""').encode("utf-8") + b'"' for value in values
    ) + b"\n"


class PartedCsv:
    """Rows written as they come, cut into parts of about ``part_bytes`` (a PUT reads a file whole)."""

    def __init__(self, folder: Path, part_bytes: int = PART_BYTES) -> None:
        self.folder = folder
        self.part_bytes = part_bytes
        self.parts: list[Path] = []
        self.rows = 0
        self._file: BinaryIO | None = None
        self._size = 0

    def write(self, values: Sequence[object]) -> None:
        row = csv_row(values)
        if self._file is None or self._size >= self.part_bytes:
            self._next_part()
        assert self._file is not None
        self._file.write(row)
        self._size += len(row)
        self.rows += 1

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()

    def _next_part(self) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"part-{len(self.parts) + 1:05d}.csv"
        self.parts.append(path)
        self._file = path.open("wb")
        self._size = 0
