"""Shared fixtures for the seed generator tests: one generated data set, built once."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from local.seed.generate import SeedConfig, SeedOutput, generate

PosLine = tuple[str, int, str]  # (key, 1-based line number, text)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs a local server (moto)")


@pytest.fixture(scope="session")
def seed_config() -> SeedConfig:
    return SeedConfig(customers=500, products=200, hours=3, events_per_hour=150,
                      bad_rate=0.02, seed=7,
                      as_of=datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def seed_output(seed_config: SeedConfig) -> SeedOutput:
    return generate(seed_config)


def read_pos_lines(files: dict[str, bytes]) -> list[PosLine]:
    """Every POS line, files in key order (within an hour, that is delivery order)."""
    out = []
    for key in sorted(k for k in files if k.startswith("pos/")):
        data = gzip.decompress(files[key]) if key.endswith(".gz") else files[key]
        for number, text in enumerate(data.decode("utf-8").splitlines(), start=1):
            out.append((key, number, text))
    return out


@pytest.fixture(scope="session")
def pos_reader() -> Callable[[dict[str, bytes]], list[PosLine]]:
    return read_pos_lines


@pytest.fixture(scope="session")
def pos_lines(seed_output: SeedOutput) -> list[PosLine]:
    return read_pos_lines(seed_output.files)
