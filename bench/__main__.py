"""`make bench`: run every benchmark, print a table, save the figures under bench/results/."""

from __future__ import annotations

import json
import logging
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import (
    campaign, chunking, knowledge_refresh, parse_time, pos_load, production_run, recommendations, stack_startup,
)

BENCHMARKS = {
    "dag_parse_time": parse_time.run,
    "local_stack_startup": stack_startup.run,
    "pos_load": pos_load.run,
    "recommendations": recommendations.run,
    "knowledge_refresh": knowledge_refresh.run,
    "chunking": chunking.run,
    "campaign": campaign.run,
    "production_run": production_run.run,
}


def main(names: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    chosen = names or list(BENCHMARKS)
    results: dict[str, object] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    for name in chosen:
        start = time.perf_counter()
        results[name] = BENCHMARKS[name]()
        print(f"{name:<24} {json.dumps(results[name])}  ({time.perf_counter() - start:.0f} s)", flush=True)
    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
