"""Same arguments give byte-identical output; different seeds do not."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from local.seed.generate import SeedConfig, SeedOutput, generate


def test_same_config_gives_identical_bytes(seed_config: SeedConfig, seed_output: SeedOutput) -> None:
    again = generate(seed_config)
    assert again.files == seed_output.files
    assert again.manifest_bytes() == seed_output.manifest_bytes()


def test_different_seed_changes_every_generated_kind(seed_config: SeedConfig, seed_output: SeedOutput) -> None:
    other = generate(replace(seed_config, seed=seed_config.seed + 1))
    assert other.files["customers/customers.csv"] != seed_output.files["customers/customers.csv"]
    assert other.files["catalog/products.csv"] != seed_output.files["catalog/products.csv"]
    assert {k for k in other.files if k.startswith("pos/")} != {
        k for k in seed_output.files if k.startswith("pos/")}
    # Documents are hand-written, not generated: they must not depend on the seed.
    docs = {k: v for k, v in seed_output.files.items() if k.startswith("documents/")}
    assert docs == {k: v for k, v in other.files.items() if k.startswith("documents/")}


def test_as_of_moves_events_but_not_master_data(seed_config: SeedConfig, seed_output: SeedOutput) -> None:
    later = generate(replace(seed_config, as_of=seed_config.as_of + timedelta(hours=5)))
    assert later.files["customers/customers.csv"] == seed_output.files["customers/customers.csv"]
    assert later.files["catalog/products.csv"] == seed_output.files["catalog/products.csv"]
    hours = {k.split("/")[4] for k in later.files if k.startswith("pos/")}
    assert hours == {"12", "13", "14"}


def test_every_key_is_in_the_landing_layout(seed_output: SeedOutput) -> None:
    pos_key = re.compile(
        r"^pos/\d{4}/\d{2}/\d{2}/\d{2}/pos-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-"
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl(\.gz)?$")
    for key in seed_output.files:
        assert (key in {"customers/customers.csv", "catalog/products.csv"}
                or pos_key.match(key)
                or re.match(r"^documents/[a-z-]+/[a-z0-9-]+\.(md|txt|html|pdf)$", key)), key
    # The manifest is returned, not part of the landing files.
    assert not any(k.startswith("seed/") for k in seed_output.files)
