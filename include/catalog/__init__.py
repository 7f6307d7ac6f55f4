"""Product catalog with reviews (``catalog/*.csv``, Amazon Sales Dataset columns): parsing, validation, staged
batches and the pure parts of review sentiment, free of Airflow and boto3."""

from include.catalog.files import CATALOG_PREFIX, is_catalog_file, iter_csv_records, iter_text_lines
from include.catalog.parsing import CATALOG_COLUMNS, CatalogRow, Rejection, Review, content_hash, parse_row
from include.catalog.staging import CatalogBatchWriter, FileCounts, StagedCatalog

__all__ = [
    "CATALOG_COLUMNS", "CATALOG_PREFIX", "CatalogBatchWriter", "CatalogRow", "FileCounts", "Rejection", "Review",
    "StagedCatalog", "content_hash", "is_catalog_file", "iter_csv_records", "iter_text_lines", "parse_row",
]
