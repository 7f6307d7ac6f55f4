"""CLI: ``python -m local.seed --bucket genai-landing --aws-conn-id aws_default``."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Sequence

from local.seed.generate import MANIFEST_KEY, SeedConfig, current_hour, generate
from local.seed.writer import write_to_bucket, write_to_dir

_KINDS = ("customers", "catalog", "pos", "documents")


def _as_of(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("--as-of needs an offset, e.g. 2026-11-22T10:00:00Z")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.seed",
        description="Generate deterministic synthetic data for Tarnwick Outdoor & Home "
        "(customers, catalog with reviews, POS events, company documents) and upload it "
        "to the landing bucket or write it to a directory.",
        epilog="Same arguments give byte-identical output, but --as-of defaults to the "
        "current UTC hour: pass a fixed --as-of for reproducible files.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--bucket", help="S3 bucket to upload to (created if missing)")
    target.add_argument("--out-dir", type=Path, help="write files under this directory instead")
    parser.add_argument("--aws-conn-id", default="aws_default",
                        help="Airflow connection used by S3Hook (default: aws_default)")
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--products", type=int, default=150)
    parser.add_argument("--hours", type=int, default=6,
                        help="whole UTC hours of POS events before the as-of hour")
    parser.add_argument("--events-per-hour", type=int, default=120)
    parser.add_argument("--bad-rate", type=float, default=0.01,
                        help="share of bad POS records (0 gives a clean feed, no duplicates)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=_as_of, default=None,
                        help="ISO-8601 instant with offset (default: current UTC hour)")
    parser.add_argument("--with-manifest", action="store_true",
                        help=f"also write the injected-faults manifest to {MANIFEST_KEY}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = SeedConfig(
            customers=args.customers, products=args.products, hours=args.hours,
            events_per_hour=args.events_per_hour, bad_rate=args.bad_rate, seed=args.seed,
            as_of=args.as_of or current_hour(),
        )
    except ValueError as error:
        _parser().error(str(error))
    output = generate(config)
    files = dict(output.files)
    if args.with_manifest:
        files[MANIFEST_KEY] = output.manifest_bytes()
    if args.out_dir:
        write_to_dir(files, args.out_dir)
    else:
        write_to_bucket(files, args.bucket, args.aws_conn_id)

    sizes: dict[str, list[int]] = defaultdict(list)
    for key, data in files.items():
        sizes[key.split("/", 1)[0]].append(len(data))
    counts = output.manifest["counts"]
    details = {
        "customers": f"{counts['customers']} customers, {counts['bad_customer_rows']} bad rows",
        "catalog": f"{counts['products']} products, {counts['catalog_rows']} rows, "
        f"{counts['reviews']} reviews",
        "pos": f"{counts['good_events']} good events, {counts['bad_records']} bad, "
        f"{counts['exact_duplicates']} re-sent",
        "documents": "company documents",
        "seed": "manifest",
    }
    destination = args.out_dir or f"s3://{args.bucket}"
    for kind in (*_KINDS, "seed"):
        if kind in sizes:
            n_files = len(sizes[kind])
            print(f"{kind}: {n_files} file{'' if n_files == 1 else 's'}, {details[kind]}, "
                  f"{sum(sizes[kind]):,} bytes -> {destination}/{kind}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
