"""Purchase events (``pos/YYYY/MM/DD/HH/*.jsonl[.gz]``): validation, file selection, load ledger and staged
batches, free of Airflow and boto3."""

from include.pos.files import UnreadableFileError, hour_prefixes, is_event_file, iter_file_lines, iter_lines
from include.pos.ledger import FileVersion, LoadPlan, plan_loads
from include.pos.staging import PosBatchWriter, StagedBatch, csv_row
from include.pos.summary import PosLoadSummary
from include.pos.validation import CONFLICTING_EVENT, PosEvent, Rejection, validate_line

__all__ = [
    "CONFLICTING_EVENT", "FileVersion", "LoadPlan", "PosBatchWriter", "PosEvent", "PosLoadSummary", "Rejection",
    "StagedBatch", "UnreadableFileError", "csv_row", "hour_prefixes", "is_event_file", "iter_file_lines",
    "iter_lines", "plan_loads", "validate_line",
]
