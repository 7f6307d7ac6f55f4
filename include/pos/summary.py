"""What a run of pos_transactions_ingest did, in counts only: safe to log and to return as XCom."""

from __future__ import annotations

from dataclasses import dataclass, field

from include.pos.ledger import LoadPlan
from include.pos.staging import StagedBatch
from include.pos.validation import CONFLICTING_EVENT


@dataclass(frozen=True)
class PosLoadSummary:
    files_listed: int
    files_skipped: int  # already in the ledger with the same ETag and size
    files_loaded: int
    lines_read: int
    loaded: int  # new events inserted into bronze
    duplicate: int  # events bronze or this batch already held with identical content
    quarantined: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: LoadPlan, batch: StagedBatch | None, inserted: int, duplicate: int, conflicts: int) -> PosLoadSummary:
        by_reason = dict(batch.rejected_by_reason) if batch else {}
        if conflicts:
            by_reason[CONFLICTING_EVENT] = by_reason.get(CONFLICTING_EVENT, 0) + conflicts
        return cls(
            files_listed=len(plan.to_load) + len(plan.already_loaded),
            files_skipped=len(plan.already_loaded),
            files_loaded=len(batch.files) if batch else 0,
            lines_read=batch.lines if batch else 0,
            loaded=inserted,
            duplicate=duplicate,
            quarantined=(batch.rejected if batch else 0) + conflicts,
            quarantined_by_reason=dict(sorted(by_reason.items())),
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "files_listed": self.files_listed, "files_skipped": self.files_skipped, "files_loaded": self.files_loaded,
            "lines_read": self.lines_read, "loaded": self.loaded, "duplicate": self.duplicate,
            "quarantined": self.quarantined, "quarantined_by_reason": dict(self.quarantined_by_reason),
        }
