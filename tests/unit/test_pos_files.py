"""Which files a run reads (hour prefixes, file names) and how it reads them (line by line, gzip on the fly)."""

from __future__ import annotations

import gzip
import io
from datetime import datetime, timedelta, timezone

import pytest

from include.pos import UnreadableFileError, hour_prefixes, is_event_file, iter_file_lines, iter_lines
from include.pos.validation import MAX_LINE_BYTES


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param(datetime(2025, 3, 1, 6, 15, tzinfo=timezone.utc),
                     ("pos/2025/03/01/05/", "pos/2025/03/01/06/"), id="within-a-day"),
        pytest.param(datetime(2025, 3, 1, 6, 0, tzinfo=timezone.utc),
                     ("pos/2025/03/01/05/", "pos/2025/03/01/06/"), id="on-the-hour"),
        pytest.param(datetime(2025, 3, 1, 0, 45, tzinfo=timezone.utc),
                     ("pos/2025/02/28/23/", "pos/2025/03/01/00/"), id="month-boundary"),
        pytest.param(datetime(2024, 3, 1, 0, 0, tzinfo=timezone.utc),
                     ("pos/2024/02/29/23/", "pos/2024/03/01/00/"), id="leap-day"),
        pytest.param(datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc),
                     ("pos/2025/12/31/23/", "pos/2026/01/01/00/"), id="year-boundary"),
        pytest.param(datetime(2025, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),
                     ("pos/2025/02/28/22/", "pos/2025/02/28/23/"), id="offsets-become-utc"),
    ],
)
def test_hour_prefixes_are_the_utc_hour_before_and_the_hour_of_the_instant(
    instant: datetime, expected: tuple[str, str]
) -> None:
    assert hour_prefixes(instant) == expected


def test_hour_prefixes_need_an_aware_instant_and_take_a_root() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        hour_prefixes(datetime(2025, 3, 1, 6))
    assert hour_prefixes(datetime(2025, 3, 1, 6, tzinfo=timezone.utc), root="landing/pos/")[1] == "landing/pos/2025/03/01/06/"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("pos/2025/03/01/06/pos-1-2025-03-01-06-10-00-a.jsonl", True),
        ("pos/2025/03/01/06/pos-1-2025-03-01-06-10-00-a.jsonl.gz", True),
        ("pos/2025/03/01/06/notes.txt", False),
        ("pos/2025/03/01/06/a.json", False),
        ("pos/2025/03/01/06/archive/a.jsonl", False),
        ("pos/2025/03/01/07/a.jsonl", False),
    ],
)
def test_event_files_are_jsonl_directly_in_the_hour_folder(key: str, expected: bool) -> None:
    assert is_event_file(key, "pos/2025/03/01/06/") is expected


@pytest.mark.parametrize("chunk_bytes", [1, 3, 1024])
def test_lines_split_on_newline_only_whatever_the_chunking(chunk_bytes: int) -> None:
    data = b'{"a":1}\r\n\n{"b":"x\ry"}\n{"c":3}'
    assert list(iter_lines(io.BytesIO(data), chunk_bytes)) == [b'{"a":1}', b"", b'{"b":"x\ry"}', b'{"c":3}']


def test_an_over_long_line_is_cut_and_the_rest_of_it_skipped() -> None:
    long = b"x" * (3 * MAX_LINE_BYTES)
    lines = list(iter_lines(io.BytesIO(b"a\n" + long + b"\nb\n"), chunk_bytes=64 * 1024))
    assert [len(line) for line in lines] == [1, MAX_LINE_BYTES + 1, 1]


def test_gzip_files_are_read_on_the_fly() -> None:
    data = gzip.compress(b"one\ntwo\n")
    assert list(iter_file_lines(io.BytesIO(data), "pos/x.jsonl.gz")) == [b"one", b"two"]
    assert list(iter_file_lines(io.BytesIO(b"one\ntwo\n"), "pos/x.jsonl")) == [b"one", b"two"]


def test_a_truncated_gzip_file_yields_its_good_lines_then_says_where_it_broke() -> None:
    data = gzip.compress(b"".join(b'{"n":%d}\n' % i for i in range(200_000)))
    lines = []
    with pytest.raises(UnreadableFileError) as info:
        for line in iter_file_lines(io.BytesIO(data[: len(data) // 2]), "pos/x.jsonl.gz"):
            lines.append(line)
    assert 0 < info.value.lines_read == len(lines) < 200_000
    with pytest.raises(UnreadableFileError):
        list(iter_file_lines(io.BytesIO(b"not gzip at all"), "pos/x.jsonl.gz"))
