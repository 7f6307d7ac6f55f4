"""Staged CSV files: the dialect, parts, counts, the unreadable-file row, and the run summary."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import datetime, timezone
from pathlib import Path

from include.pos import FileVersion, LoadPlan, PosBatchWriter, PosLoadSummary, csv_row, iter_file_lines
from include.pos.staging import EVENT_STAGE_COLUMNS
from include.pos.validation import CONFLICTING_EVENT, UNREADABLE_FILE

NOT_AFTER = datetime(2025, 3, 1, 7, tzinfo=timezone.utc)
VERSION = FileVersion.of("genai-landing", "pos/2025/03/01/06/a.jsonl", "etag", 10)


def good(i: int) -> bytes:
    return json.dumps({
        "event_id": f"e-{i}", "event_ts": "2025-03-01T06:10:00Z", "customer_id": "C1", "channel": "web",
        "store_id": None, "currency": "EUR", "items": [{"product_id": 'B"1\\', "quantity": 1, "unit_price": 2.5}],
    }).encode()


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_every_value_is_enclosed_and_null_is_an_unenclosed_backslash_n() -> None:
    assert csv_row(["a", 'say "hi"', None, 3, "back\\slash"]) == b'"a","say ""hi""",\\N,"3","back\\slash"\n'


def test_events_quarantine_and_sources_are_written_as_they_stream(tmp_path: Path) -> None:
    lines = [good(1), b"", b"{broken", good(2)]
    with PosBatchWriter(tmp_path, "run-1", NOT_AFTER) as writer:
        counts = writer.add_file(VERSION, lines)
        batch = writer.close()
    assert (counts.lines, counts.valid, counts.rejected) == (4, 2, 1)
    assert (batch.lines, batch.valid, batch.rejected, batch.rejected_by_reason) == (4, 2, 1, {"invalid JSON": 1})
    assert batch.row_counts == {"events": 2, "quarantine": 1, "sources": 1}
    (part,) = batch.event_parts
    rows = read_csv(part)
    assert len(rows[0]) == len(EVENT_STAGE_COLUMNS)
    row = dict(zip(EVENT_STAGE_COLUMNS, rows[1]))
    assert (row["EVENT_ID"], row["STORE_ID"], row["LINE_NUMBER"], row["RECORD_KEY"]) == ("e-2", "\\N", "4", "line 4: e-2")
    assert json.loads(row["ITEMS"]) == [{"product_id": 'B"1\\', "quantity": 1, "unit_price": 2.5}]
    assert json.loads(row["RAW_RECORD"])["event_id"] == "e-2"
    assert row["SOURCE_FILE"] == VERSION.uri
    assert read_csv(batch.quarantine) == [[VERSION.uri, "line 3", "invalid JSON", '"{broken"', "run-1"]]
    assert read_csv(batch.sources) == [[VERSION.uri, "etag", "10", "run-1"]]


def test_events_are_cut_into_parts(tmp_path: Path) -> None:
    with PosBatchWriter(tmp_path, "run-1", NOT_AFTER, part_bytes=1000) as writer:
        writer.add_file(VERSION, [good(i) for i in range(20)])
        batch = writer.close()
    assert len(batch.event_parts) > 3
    assert sum(len(read_csv(part)) for part in batch.event_parts) == 20
    assert all(part.stat().st_size < 1000 + 600 for part in batch.event_parts)


def test_a_truncated_gzip_keeps_its_good_lines_and_quarantines_the_rest_as_one_row(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(good(i) + b"\n" for i in range(5000)))
    version = FileVersion.of("genai-landing", "pos/2025/03/01/06/b.jsonl.gz", "etag", len(data) // 2)
    with PosBatchWriter(tmp_path, "run-1", NOT_AFTER) as writer:
        counts = writer.add_file(version, iter_file_lines(io.BytesIO(data[: len(data) // 2]), version.key))
        batch = writer.close()
    assert 0 < counts.valid < 5000 and counts.rejected == 1
    (row,) = read_csv(batch.quarantine)
    assert (row[1], row[2]) == (f"line {counts.valid + 1}", UNREADABLE_FILE)
    assert batch.row_counts["sources"] == 1  # recorded: reading it again cannot help until it is replaced


def test_the_summary_adds_conflicts_found_in_snowflake(tmp_path: Path) -> None:
    with PosBatchWriter(tmp_path, "run-1", NOT_AFTER) as writer:
        writer.add_file(VERSION, [good(1), b"[]", good(2)])
        batch = writer.close()
    plan = LoadPlan(to_load=(VERSION,), already_loaded=(FileVersion("s3://b/k", "e", 1),))
    summary = PosLoadSummary.of(plan, batch, inserted=1, duplicate=0, conflicts=1).as_dict()
    assert summary == {
        "files_listed": 2, "files_skipped": 1, "files_loaded": 1, "lines_read": 3, "loaded": 1, "duplicate": 0,
        "quarantined": 2, "quarantined_by_reason": {CONFLICTING_EVENT: 1, "record is not a JSON object": 1},
    }
    assert PosLoadSummary.of(LoadPlan((), ()), None, 0, 0, 0).as_dict()["files_listed"] == 0
