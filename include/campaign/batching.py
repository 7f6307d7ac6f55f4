"""How a campaign's audience is cut into batches, one mapped task each, and which path a run takes.

Fan-out is over batches, never customers: a task instance costs seconds of scheduling and a
Snowflake session, and Airflow refuses to expand a map to more than ``[core] max_map_length``
items (1,024 by default). So the batch size is the configured one unless the audience would need
more batches than that; then it grows just enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from include.campaign.config import BEDROCK_BATCH_MIN_RECORDS


@dataclass(frozen=True)
class BatchPlan:
    customers: int
    batch_size: int
    batches: int

    def sizes(self) -> list[int]:
        """Customers per batch, batch 1 first (the last may be smaller)."""
        full, rest = divmod(self.customers, self.batch_size)
        return [self.batch_size] * full + ([rest] if rest else [])


def plan_batches(customers: int, batch_size: int, max_batches: int) -> BatchPlan:
    """At least ``batch_size`` customers per batch, at most ``max_batches`` batches."""
    if customers < 0:
        raise ValueError(f"customers must be >= 0, got {customers}")
    if batch_size < 1 or max_batches < 1:
        raise ValueError("batch_size and max_batches must be >= 1")
    size = max(batch_size, math.ceil(customers / max_batches)) if customers else batch_size
    return BatchPlan(customers=customers, batch_size=size, batches=math.ceil(customers / size) if customers else 0)


def batch_number(position: int, batch_size: int) -> int:
    """Batch (1-based) of the customer at 1-based ``position`` in the audience order (as the SQL computes it)."""
    return (position - 1) // batch_size + 1


def choose_mode(requested: str, customers: int, threshold: int) -> str:
    """``on_demand`` or ``batch`` for a run: ``auto`` takes batch inference from ``threshold`` customers.

    Batch inference costs half as much but takes hours and needs at least
    BEDROCK_BATCH_MIN_RECORDS records per job, so small audiences always go on demand.
    """
    if requested == "on_demand":
        return "on_demand"
    if requested == "batch":
        return "batch"
    if requested != "auto":
        raise ValueError(f"mode must be auto, on_demand or batch, got {requested!r}")
    return "batch" if customers >= max(threshold, BEDROCK_BATCH_MIN_RECORDS) else "on_demand"
