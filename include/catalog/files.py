"""Which landing files are catalogs, and how one is read: streamed as CSV records, never whole."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

CATALOG_PREFIX = "catalog/"
CATALOG_SUFFIX = ".csv"
# Read size from S3: big enough to amortise calls, small enough that memory does not depend on the file.
CHUNK_BYTES = 1024 * 1024
# A physical line longer than this is handed to the CSV parser in pieces, so memory stays bounded
# (the parser's own field limit then rejects the record).
MAX_LINE_CHARS = 4 * 1024 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One CSV record: the physical line it starts on, and its fields (None when the parser could not read it)."""

    line: int
    fields: list[str] | None


def is_catalog_file(key: str, prefix: str = CATALOG_PREFIX) -> bool:
    """A ``.csv`` object directly under ``prefix`` (sub-folders are not part of the layout)."""
    name = key[len(prefix):]
    return key.startswith(prefix) and bool(name) and "/" not in name and name.lower().endswith(CATALOG_SUFFIX)


def iter_text_lines(stream: Readable, chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
    """The physical lines of a UTF-8 byte stream, each with its ``\\n`` (the last one may lack it).

    Only ``\\n`` ends a line (``\\r\\n`` is handled by the CSV parser), so line numbers match
    ``wc -l``. A leading byte-order mark is dropped. Bytes that are not UTF-8 become U+FFFD, so the
    CSV parser stays in step with the file and only the record that holds them is rejected.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    started = False
    while chunk := stream.read(chunk_bytes):
        buffer += decoder.decode(chunk)
        if not started and buffer:
            buffer, started = buffer.removeprefix("\ufeff"), True
        start = 0
        while (end := buffer.find("\n", start)) >= 0:
            yield buffer[start:end + 1]
            start = end + 1
        buffer = buffer[start:]
        while len(buffer) > MAX_LINE_CHARS:
            yield buffer[:MAX_LINE_CHARS]
            buffer = buffer[MAX_LINE_CHARS:]
    buffer += decoder.decode(b"", final=True)
    if not started:
        buffer = buffer.removeprefix("\ufeff")
    if buffer:
        yield buffer


def iter_csv_records(lines: Iterable[str]) -> Iterator[CsvRecord]:
    """CSV records (RFC 4180: quoted fields may hold commas, quotes and newlines), blank lines skipped.

    A record the parser rejects (a field above its size limit, a stray quote in a way it cannot
    recover from) comes back with ``fields=None``; parsing goes on with the next line.
    """
    reader = csv.reader(lines, strict=False)
    last_line = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield CsvRecord(last_line + 1, None)
            last_line = reader.line_num
            continue
        start, last_line = last_line + 1, reader.line_num
        if not any(value.strip() for value in fields):
            continue
        yield CsvRecord(start, fields)
