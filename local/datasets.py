"""Where the real Amazon Sales Dataset lies. It is read in place, never copied into the repository.

The workplace keeps it beside the checkout, at ``../shared/data/amazon-sales/amazon.csv``; a clone
elsewhere (CI's, say) finds it at the workplace's absolute path, or wherever AMAZON_SALES_CSV says.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_RELATIVE = Path("shared") / "data" / "amazon-sales" / "amazon.csv"


def amazon_sales_csv() -> Path:
    """The first existing candidate; else the first candidate (callers report it as missing)."""
    candidates = [Path(p) for p in [os.environ.get("AMAZON_SALES_CSV")] if p] + [
        REPO_ROOT.parent / _RELATIVE, Path("/work") / _RELATIVE,
    ]
    return next((path for path in candidates if path.is_file()), candidates[0])
