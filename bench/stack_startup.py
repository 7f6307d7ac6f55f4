"""Local-stack start-up time: from `up()` to every stand-in answering, on fresh ports and state."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from local import assets
from local.stack import DEFAULT_PORTS, LocalStack, StackConfig, free_port


def run(samples: int = 3) -> dict[str, object]:
    times = []
    for _ in range(samples):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = StackConfig(
                state_dir=Path(tmp),
                assets_dir=assets.DEFAULT_ASSETS_DIR,  # fetched once, like a second `make local-up`
                ports={name: free_port() for name in DEFAULT_PORTS},
            )
            stack = LocalStack(cfg)
            start = time.perf_counter()
            try:
                stack.up()
                times.append(time.perf_counter() - start)
            finally:
                stack.down()
    return {"samples": samples, "median_s": round(statistics.median(times), 2), "all_s": [round(t, 2) for t in times],
            "target_below_s": 20}
