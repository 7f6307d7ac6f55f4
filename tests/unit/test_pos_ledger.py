"""The load ledger's diff: which listed file versions still need loading."""

from __future__ import annotations

from include.pos import FileVersion, plan_loads

A = FileVersion.of("genai-landing", "pos/2025/03/01/06/a.jsonl", '"etag-a"', 100)
B = FileVersion.of("genai-landing", "pos/2025/03/01/05/b.jsonl.gz", '"etag-b"', 50)


def test_versions_are_normalised() -> None:
    assert (A.uri, A.etag, A.size, A.key) == (
        "s3://genai-landing/pos/2025/03/01/06/a.jsonl", "etag-a", 100, "pos/2025/03/01/06/a.jsonl")


def test_nothing_in_the_ledger_loads_everything_in_key_order() -> None:
    plan = plan_loads([A, B], [])
    assert (plan.to_load, plan.already_loaded) == ((B, A), ())


def test_the_same_version_is_skipped() -> None:
    plan = plan_loads([A, B], [(A.uri, '"etag-a"', 100)])
    assert (plan.to_load, plan.already_loaded) == ((B,), (A,))


def test_a_new_etag_or_size_is_loaded_again() -> None:
    ledger = [(A.uri, "etag-old", 100), (B.uri, "etag-b", 49)]
    assert plan_loads([A, B], ledger).to_load == (B, A)


def test_a_file_listed_twice_is_loaded_once() -> None:
    assert plan_loads([A, A], []).to_load == (A,)
