"""Customer master data (``customers/*.csv``): validation and load batches, free of Airflow and boto3."""

from include.customer_master.batch import (
    CustomerBatch,
    LoadSummary,
    build_batch,
    write_customers_csv,
    write_quarantine_csv,
)
from include.customer_master.validation import (
    HEADER,
    REASONS,
    CustomerFileError,
    CustomerRecord,
    ParsedFile,
    Rejection,
    parse_customer_file,
)

__all__ = [
    "HEADER", "REASONS", "CustomerBatch", "CustomerFileError", "CustomerRecord", "LoadSummary", "ParsedFile",
    "Rejection", "build_batch", "parse_customer_file", "write_customers_csv", "write_quarantine_csv",
]
