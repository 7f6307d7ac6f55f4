"""Streaming a catalog file (include/catalog/files.py) and staging a batch (include/catalog/staging.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from include.catalog.files import CsvRecord, is_catalog_file, iter_csv_records, iter_text_lines
from include.catalog.parsing import CATALOG_COLUMNS
from include.catalog.staging import PRODUCT_STAGE_COLUMNS, REVIEW_STAGE_COLUMNS, CatalogBatchWriter
from include.pos.ledger import FileVersion

HEADER = ",".join(CATALOG_COLUMNS)


def catalog_line(product_id: str = "B0AAAAAAAA", **changes: str) -> str:
    cells = {
        "product_id": product_id, "product_name": "Down Jacket, Women (Navy)", "category": "Outdoor|Clothing|Jackets",
        "discounted_price": "€1,299", "actual_price": "€1,499", "discount_percentage": "13%", "rating": "4.4",
        "rating_count": "1,234", "about_product": "Warm|Light", "user_id": "A1,A2", "user_name": "Sabine,Kenji",
        "review_id": "R1,R2", "review_title": "Love it,Too warm", "review_content": "Great jacket,Fine",
        "img_link": "https://img/1.jpg", "product_link": "https://shop/dp/1",
    }
    cells.update(changes)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([cells[name] for name in CATALOG_COLUMNS])
    return buffer.getvalue()


class Trickle(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read, to cut multi-byte characters and lines apart."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        chunk = self.data[self.pos:self.pos + min(self.step, size if size > 0 else self.step)]
        self.pos += len(chunk)
        return chunk


def test_catalog_files_are_csv_directly_under_the_prefix() -> None:
    assert is_catalog_file("catalog/products.csv") and is_catalog_file("catalog/AMAZON.CSV")
    assert not is_catalog_file("catalog/") and not is_catalog_file("catalog/old/products.csv")
    assert not is_catalog_file("catalog/products.csv.gz") and not is_catalog_file("customers/customers.csv")


@pytest.mark.parametrize("step", [1, 2, 3, 7, 1 << 20])
def test_lines_survive_any_chunking_and_drop_the_bom(step: int) -> None:
    text = "\ufeffa,₹1,099\r\n\"multi\nline ₹\",x\n\nlast without newline €"
    assert list(iter_text_lines(Trickle(text.encode(), step), chunk_bytes=step)) == [
        "a,₹1,099\r\n", '"multi\n', 'line ₹",x\n', "\n", "last without newline €"]


def test_invalid_utf8_becomes_replacement_characters_in_its_own_line() -> None:
    lines = list(iter_text_lines(io.BytesIO(b"good\nbad \xff\xfe here\nalso good\n")))
    assert lines == ["good\n", "bad \ufffd\ufffd here\n", "also good\n"]


def test_records_carry_the_line_they_start_on() -> None:
    text = 'h1,h2\n"a\nb",c\n\nd,e\r\n'
    assert list(iter_csv_records(iter_text_lines(io.BytesIO(text.encode())))) == [
        CsvRecord(1, ["h1", "h2"]), CsvRecord(2, ["a\nb", "c"]), CsvRecord(5, ["d", "e"])]


def test_a_record_the_parser_cannot_read_is_reported_and_parsing_goes_on() -> None:
    huge = "x" * (csv.field_size_limit() + 10)
    text = f'h\n"{huge}"\nnext\n'
    records = list(iter_csv_records(iter_text_lines(io.BytesIO(text.encode()))))
    assert records[0] == CsvRecord(1, ["h"]) and records[1].fields is None and records[-1] == CsvRecord(3, ["next"])


def _staged(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_a_messy_file_stages_good_rows_and_quarantines_the_rest(tmp_path: Path) -> None:
    lines = [
        HEADER,
        catalog_line("B0AAAAAAAA"),                                                    # 2 good, 2 reviews
        catalog_line("B0BBBBBBBB", actual_price="1,499"),                              # 3 no currency symbol
        catalog_line("B0CCCCCCCC", review_title="Love it, really,Too warm, sadly,ok"),  # 4 reviews unaligned
        "B0DDDDDDDD,only,three",                                                       # 5 wrong field count
        catalog_line("", product_name=""),                                             # 6 two reasons
        catalog_line("B0EEEEEEEE", rating="|", rating_count=""),                       # 7 good, NULLs
        "",                                                                            # 8 blank: not a row
    ]
    data = ("\n".join(lines) + "\n").encode()
    data += catalog_line("B0FFFFFFFF").encode().replace("Sabine".encode(), b"Sab\xffine") + b"\n"  # 9 not UTF-8
    version = FileVersion.of("bucket", "catalog/a.csv", '"etag-1"', len(data))

    with CatalogBatchWriter(tmp_path, "run-1") as writer:
        counts = writer.add_file(version, io.BytesIO(data))
        batch = writer.close()

    assert (counts.rows, counts.loaded, counts.rejected, counts.reviews, counts.review_lists_rejected) == (7, 3, 4, 4, 1)
    assert batch.row_counts == {"products": 3, "reviews": 4, "quarantine": 5, "sources": 1}
    products = _staged(batch.files["products"][0])
    assert [p[0] for p in products] == ["B0AAAAAAAA", "B0CCCCCCCC", "B0EEEEEEEE"]
    first = dict(zip(PRODUCT_STAGE_COLUMNS, products[0]))
    assert {k: first[k] for k in ("CATEGORY", "SUB_CATEGORY", "DISCOUNTED_PRICE", "ACTUAL_PRICE", "CURRENCY",
                                  "DISCOUNT_PERCENTAGE", "RATING", "RATING_COUNT", "SOURCE", "LINE_NUMBER")} == {
        "CATEGORY": "Outdoor", "SUB_CATEGORY": "Jackets", "DISCOUNTED_PRICE": "1299", "ACTUAL_PRICE": "1499",
        "CURRENCY": "EUR", "DISCOUNT_PERCENTAGE": "13", "RATING": "4.4", "RATING_COUNT": "1234",
        "SOURCE": "s3://bucket/catalog/a.csv", "LINE_NUMBER": "2"}
    nulls = batch.files["products"][0].read_bytes().splitlines()[2]
    assert b'"4.4"' not in nulls and b',\\N,\\N,' in nulls  # rating and count staged as SQL NULL
    reviews = [dict(zip(REVIEW_STAGE_COLUMNS, r)) for r in _staged(batch.files["reviews"][0])]
    assert [(r["PRODUCT_ID"], r["REVIEW_ID"], r["REVIEW_TITLE"], r["ORDINAL"]) for r in reviews] == [
        ("B0AAAAAAAA", "R1", "Love it", "1"), ("B0AAAAAAAA", "R2", "Too warm", "2"),
        ("B0EEEEEEEE", "R1", "Love it", "1"), ("B0EEEEEEEE", "R2", "Too warm", "2")]
    quarantine = _staged(batch.files["quarantine"][0])
    assert [(q[0], q[1], q[2], q[4]) for q in quarantine] == [
        ("s3://bucket/catalog/a.csv", "line 3: B0BBBBBBBB", "actual_price without a known currency symbol", "run-1"),
        ("s3://bucket/catalog/a.csv", "line 4: B0CCCCCCCC reviews", "review lists cannot be aligned", "run-1"),
        ("s3://bucket/catalog/a.csv", "line 5", "wrong number of fields", "run-1"),
        ("s3://bucket/catalog/a.csv", "line 6", "missing product_id; missing product_name", "run-1"),
        ("s3://bucket/catalog/a.csv", "line 9: B0FFFFFFFF", "not valid UTF-8", "run-1"),
    ]
    assert json.loads(quarantine[2][3]) == ["B0DDDDDDDD", "only", "three"]
    assert json.loads(quarantine[0][3])["actual_price"] == "1,499"  # the row as received
    assert batch.rejected_by_reason == {
        "actual_price without a known currency symbol": 1, "missing product_id": 1, "missing product_name": 1,
        "not valid UTF-8": 1, "review lists cannot be aligned": 1, "wrong number of fields": 1}
    assert _staged(batch.files["sources"][0]) == [["s3://bucket/catalog/a.csv", "etag-1", str(len(data)), "run-1"]]


def test_a_file_without_the_catalog_header_is_quarantined_whole(tmp_path: Path) -> None:
    with CatalogBatchWriter(tmp_path, "run-1") as writer:
        wrong = writer.add_file(FileVersion.of("b", "catalog/x.csv", "e", 9), io.BytesIO(b"customer_id,email\n1,a@x\n"))
        empty = writer.add_file(FileVersion.of("b", "catalog/empty.csv", "e", 0), io.BytesIO(b""))
        batch = writer.close()
    assert (wrong.rows, empty.rows, batch.row_counts["products"]) == (0, 0, 0)
    quarantine = _staged(batch.files["quarantine"][0])
    assert [(q[0], q[1], q[2]) for q in quarantine] == [
        ("s3://b/catalog/x.csv", "header", "header lacks catalog columns"),
        ("s3://b/catalog/empty.csv", "header", "file has no header")]
    assert json.loads(quarantine[0][3])[:2] == ["about_product", "actual_price"]  # the missing column names
    assert batch.row_counts["sources"] == 2  # both are recorded as read: re-reading cannot help until replaced


def test_header_names_are_matched_case_and_space_insensitively_in_any_order(tmp_path: Path) -> None:
    columns = list(reversed(CATALOG_COLUMNS))
    line = catalog_line()
    values = next(csv.reader([line]))
    row = dict(zip(CATALOG_COLUMNS, values))
    buffer = io.StringIO()
    writer_ = csv.writer(buffer, lineterminator="\n")
    writer_.writerow([f" {c.upper()} " for c in columns] + ["extra"])
    writer_.writerow([row[c] for c in columns] + ["ignored"])
    with CatalogBatchWriter(tmp_path, "r") as writer:
        counts = writer.add_file(FileVersion.of("b", "catalog/r.csv", "e", 1), io.BytesIO(buffer.getvalue().encode()))
    assert (counts.loaded, counts.reviews) == (1, 2)


def test_staged_parts_are_cut_by_size(tmp_path: Path) -> None:
    data = ("\n".join([HEADER] + [catalog_line(f"B0{i:08d}") for i in range(50)]) + "\n").encode()
    with CatalogBatchWriter(tmp_path, "r", part_bytes=2000) as writer:
        writer.add_file(FileVersion.of("b", "catalog/p.csv", "e", len(data)), io.BytesIO(data))
        batch = writer.close()
    assert len(batch.files["products"]) > 1
    assert sum(len(_staged(part)) for part in batch.files["products"]) == 50
