"""Which landing files a run reads, and how a file is read: line by line, never whole."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Protocol

from include.pos.validation import MAX_LINE_BYTES

EVENT_FILE_SUFFIXES = (".jsonl", ".jsonl.gz")
# Read size from S3: big enough to amortise calls, small enough that memory does not depend on the file.
CHUNK_BYTES = 1024 * 1024
# GzipFile.read drops what it decompressed of a chunk when the stream breaks inside it: smaller reads
# keep more of the lines before the damage.
GZIP_CHUNK_BYTES = 64 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class UnreadableFileError(ValueError):
    """A compressed file ends early or is not gzip; ``lines_read`` lines before that were good to read."""

    def __init__(self, lines_read: int) -> None:
        super().__init__(f"unreadable after line {lines_read}")
        self.lines_read = lines_read


def hour_prefixes(instant: datetime, root: str = "pos/") -> tuple[str, str]:
    """``root`` + ``YYYY/MM/DD/HH/`` of the UTC hour before ``instant`` and of ``instant``'s own hour.

    The previous hour catches files that land late (Firehose buffers up to 15 minutes, retries longer).
    """
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    hour = instant.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return tuple(f"{root}{h:%Y/%m/%d/%H}/" for h in (hour - timedelta(hours=1), hour))  # type: ignore[return-value]


def is_event_file(key: str, prefix: str) -> bool:
    """A ``.jsonl`` or ``.jsonl.gz`` object directly under ``prefix`` (sub-folders are not part of the layout)."""
    name = key[len(prefix):]
    return key.startswith(prefix) and "/" not in name and name.endswith(EVENT_FILE_SUFFIXES)


def iter_lines(stream: Readable, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The lines of a byte stream without their line ending (``\\n`` or ``\\r\\n``).

    Only ``\\n`` ends a line, so line numbers match ``wc -l`` and the seed manifest. A line longer
    than MAX_LINE_BYTES is yielded cut to MAX_LINE_BYTES + 1 bytes (validation rejects it) and the
    rest of it is skipped, so memory stays bounded whatever the file holds.
    """
    buffer = b""
    skipping = False  # inside an over-long line whose head was already yielded
    while chunk := stream.read(chunk_bytes):
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            if not skipping:
                yield _strip_cr(buffer[start:end])
            skipping = False
            start = end + 1
        buffer = buffer[start:]
        if len(buffer) > MAX_LINE_BYTES:
            if not skipping:
                yield buffer[: MAX_LINE_BYTES + 1]
            skipping, buffer = True, b""
    if buffer and not skipping:
        yield _strip_cr(buffer)


def _strip_cr(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line


def iter_file_lines(body: Readable, key: str) -> Iterator[bytes]:
    """Lines of a landing file's streaming body, gunzipped on the fly for ``.gz`` keys.

    Raises UnreadableFileError when a compressed file is cut short or corrupt (a network error is
    not caught here: it propagates, and the task's retry reads the file again).
    """
    if not key.endswith(".gz"):
        yield from iter_lines(body)
        return
    count = 0
    try:
        for line in iter_lines(gzip.GzipFile(fileobj=body, mode="rb"), GZIP_CHUNK_BYTES):  # type: ignore[arg-type]
            count += 1
            yield line
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise UnreadableFileError(count) from e
