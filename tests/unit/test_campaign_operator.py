"""The campaign's operators on in-process fakesnow (``stand_ins``) with a Converse client answering like the
local Bedrock stand-in: audience and batches in SQL, one email per customer stored by MERGE, skipped and
fallback customers, a re-run that calls nothing, failed customers redone by a retry, progress kept when a
task dies, usage rows, and no customer data in the logs."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.unit.campaign_fakes import CUSTOMERS, StandInConverse, _tiktoken_offline, add_context, seed  # noqa: F401

CAMPAIGN = "spring-test"


class TI:
    def __init__(self, map_index: int = -1, try_number: int = 1) -> None:
        self.map_index = map_index
        self.try_number = try_number


def context(run_id: str = "manual__1", ti: TI | None = None) -> dict[str, Any]:
    return {"run_id": run_id, "logical_date": datetime(2026, 3, 1, 9, tzinfo=timezone.utc), "dag_run": None,
            "ti": ti or TI()}


@pytest.fixture(autouse=True)
def fast_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_CAMPAIGN_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("GENAI_CAMPAIGN_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("GENAI_CAMPAIGN_CONCURRENCY", "3")


@pytest.fixture
def warehouse(stand_ins: Any, rows: Any) -> Any:
    from genai_personalization.operators.campaign import SelectAudienceOperator

    _, conn = stand_ins
    seed(conn, rows)
    SelectAudienceOperator(task_id="create").run_step(conn, "create_objects", {"database": "GENAI"})
    add_context(conn, rows, CAMPAIGN)
    return conn


def select(run_id: str = "manual__1", **params: Any) -> list[dict[str, Any]]:
    from genai_personalization.operators.campaign import SelectAudienceOperator

    params.setdefault("mode", "on_demand")
    return SelectAudienceOperator(task_id="select_audience", campaign_id=CAMPAIGN, **params).execute(context(run_id))


def generate(batch: dict[str, Any], client: StandInConverse, run_id: str = "manual__1", try_number: int = 1) -> dict[str, Any]:
    from genai_personalization.operators.campaign import GenerateEmailsOperator

    operator = GenerateEmailsOperator(task_id="generate_batch", campaign_id=CAMPAIGN, batch=batch)
    operator.__dict__["bedrock_client"] = client
    return operator.execute(context(run_id, TI(batch["batch_no"] - 1, try_number)))


def emails(rows: Any, conn: Any) -> dict[str, dict[str, Any]]:
    names = ("CUSTOMER_ID", "STATUS", "LANGUAGE", "LANGUAGE_FALLBACK", "SUBJECT", "BODY", "PRODUCT_IDS",
             "RECOMMENDED_PRODUCT_IDS", "CONTEXT_CHUNK_IDS", "REASONS", "NOTES", "ATTEMPTS", "RUN_ID", "BATCH_NO",
             "ESTIMATED_INPUT_TOKENS", "INPUT_TOKENS", "MODE")
    found = rows(conn, f"SELECT {', '.join(names)} FROM GENAI.MARKETING.EMAILS WHERE CAMPAIGN_ID = '{CAMPAIGN}'")
    result = {}
    for row in found:
        entry = dict(zip(names, row))
        for key in ("PRODUCT_IDS", "RECOMMENDED_PRODUCT_IDS", "CONTEXT_CHUNK_IDS", "REASONS", "NOTES"):
            entry[key] = json.loads(entry[key]) if entry[key] else None
        result[entry["CUSTOMER_ID"]] = entry
    assert len(found) == len(result), "one row per (campaign, customer)"
    return result


def test_select_audience_batches_consenting_customers_and_skips_those_without_recommendations(warehouse: Any, rows: Any) -> None:
    batches = select(batch_size=2)
    # C001-C006 have recommendations (C007 has no consent, C008 no recommendations)
    assert batches == [{"batch_no": 1, "customers": 2, "mode": "on_demand"}, {"batch_no": 2, "customers": 2, "mode": "on_demand"},
                       {"batch_no": 3, "customers": 2, "mode": "on_demand"}]
    assert rows(warehouse, "SELECT BATCH_NO, CUSTOMER_ID FROM GENAI.MARKETING.CAMPAIGN_AUDIENCE ORDER BY CUSTOMER_ID") == [
        (1, "C001"), (1, "C002"), (2, "C003"), (2, "C004"), (3, "C005"), (3, "C006")]
    stored = emails(rows, warehouse)
    assert set(stored) == {"C008"}
    assert (stored["C008"]["STATUS"], stored["C008"]["REASONS"]) == ("skipped", ["no recommendations for this customer"])
    run = rows(warehouse, "SELECT MODE, ELIGIBLE, TO_GENERATE, SKIPPED, BATCH_SIZE, BATCHES FROM GENAI.MARKETING.CAMPAIGN_RUNS")
    assert run == [("on_demand", 7, 6, 1, 2, 3)]

    # filters: languages by base tag ("pt" takes pt-BR), countries, a cap
    assert sum(b["customers"] for b in select(languages=["pt", "JA"], batch_size=10)) == 2
    assert sum(b["customers"] for b in select(countries=["de", "fr"])) == 2
    assert sum(b["customers"] for b in select(max_customers=3)) == 3
    # a new selection replaces the campaign's assignment: earlier runs' batches are empty now
    assert rows(warehouse, "SELECT DISTINCT RUN_ID FROM GENAI.MARKETING.CAMPAIGN_AUDIENCE") == [("manual__1",)]


def test_bad_params_fail_with_one_line(warehouse: Any) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    for params, message in (({"languages": ["de'; DROP TABLE X; --"]}, "not a BCP-47 language tag"),
                            ({"countries": ["DEU"]}, "ISO 3166-1 alpha-2"), ({"mode": "fast"}, "mode must be"),
                            ({"max_customers": "many"}, "max_customers")):
        with pytest.raises(AirflowFailException, match=message):
            select(**params)
    from genai_personalization.operators.campaign import SelectAudienceOperator

    with pytest.raises(AirflowFailException, match="campaign_id must be"):
        SelectAudienceOperator(task_id="s", campaign_id="it's", mode="on_demand").execute(context())


def test_every_customer_gets_one_validated_email_and_a_rerun_calls_nothing(
    warehouse: Any, rows: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    client = StandInConverse()
    batches = select(batch_size=4)
    summaries = [generate(batch, client) for batch in batches]
    assert len(client.requests) == 6  # one answer each, all valid the first time
    assert all('<purchase_history>{"orders": 3, "favourite_categories": ["Kitchen", "Outdoor"], "last_purchase": "2026-02"}'
               in text for text in client.user_texts())
    for request in client.requests:
        assert request["inferenceConfig"]["maxTokens"] == 1024
        assert request["toolConfig"]["toolChoice"] == {"tool": {"name": "write_email"}}

    stored = emails(rows, warehouse)
    assert {c: e["STATUS"] for c, e in stored.items()} == {
        "C001": "generated", "C002": "generated", "C003": "generated", "C004": "generated", "C005": "generated",
        "C006": "generated", "C008": "skipped"}
    assert {c: e["LANGUAGE"] for c, e in stored.items() if e["STATUS"] == "generated"} == {
        "C001": "de", "C002": "fr", "C003": "ja", "C004": "pt-BR", "C005": "en", "C006": "en"}
    assert stored["C006"]["LANGUAGE_FALLBACK"] is True and "not supported" in stored["C006"]["NOTES"][0]
    assert stored["C001"]["LANGUAGE_FALLBACK"] is False and stored["C001"]["NOTES"] == []
    recommended = {c: rows(warehouse, f"SELECT PRODUCT_ID FROM GENAI.ANALYTICS.RECOMMENDATIONS WHERE CUSTOMER_ID = '{c}' "
                                      "AND AS_OF_DATE = '2026-03-01' ORDER BY RANK") for c in stored}
    for customer, email in stored.items():
        if email["STATUS"] != "generated":
            continue
        assert email["PRODUCT_IDS"] == email["RECOMMENDED_PRODUCT_IDS"] == [r[0] for r in recommended[customer]]
        assert email["CONTEXT_CHUNK_IDS"] == ["K1", "K2"]  # deduplicated over products; the deleted document's gone
        assert email["ATTEMPTS"] == 1 and email["RUN_ID"] == "manual__1" and email["MODE"] == "on_demand"
        assert 0 < email["ESTIMATED_INPUT_TOKENS"] <= 2000 and email["INPUT_TOKENS"] > 0
        first = dict(zip((c[0] for c in CUSTOMERS), (c[1] for c in CUSTOMERS)))[customer]
        assert first in email["BODY"] and email["SUBJECT"]
    assert [s["generated"] for s in summaries] == [4, 2]
    assert summaries[0]["estimated_input_tokens_per_email"] > 0

    usage = rows(warehouse, "SELECT TASK_ID, MAP_INDEX, TRY_NUMBER, PURPOSE, ITEMS, CALLS, INPUT_TOKENS, ESTIMATED_COST_USD "
                            "FROM GENAI.OPS.LLM_USAGE ORDER BY MAP_INDEX")
    assert [(u[0], u[1], u[2], u[3], u[4], u[5]) for u in usage] == [
        ("generate_batch", 0, 1, "email", 4, 4), ("generate_batch", 1, 1, "email", 2, 2)]
    assert all(u[6] > 0 and u[7] > 0 for u in usage)

    # the whole campaign again: nothing to write, no model call, no second row
    again = StandInConverse()
    assert select(run_id="manual__2", batch_size=4) == []
    after = emails(rows, warehouse)
    assert again.requests == [] and {c: e for c, e in after.items() if c != "C008"} == {
        c: e for c, e in stored.items() if c != "C008"}
    assert (after["C008"]["STATUS"], after["C008"]["RUN_ID"]) == ("skipped", "manual__2")  # looked at again, still skipped

    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "batch 1:" in logged  # the operator's log is captured here
    for secret in ("Anna", "Schneider", "Camille", "@example.com", "Cast Iron Skillet", "Season your"):
        assert secret not in logged


def test_a_batch_retry_redoes_only_failed_customers(warehouse: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowException

    [batch] = select(batch_size=10)
    # every call for Camille and Haruto fails (5xx, all 3 attempts); the others go through
    def fault(number: int, request: dict[str, Any]) -> str | None:
        text = request["messages"][0]["content"][0]["text"]
        return "error" if ('"Camille"' in text or '"Haruto"' in text) else None

    first = StandInConverse(fault)
    with pytest.raises(AirflowException, match=r"batch 1: 2 customer\(s\) failed \(ServiceUnavailableException x2\), "
                                               r"0 not attempted; the 4 written are kept"):
        generate(batch, first)
    stored = emails(rows, warehouse)
    assert {c for c, e in stored.items() if e["STATUS"] == "failed"} == {"C002", "C003"}
    assert stored["C002"]["REASONS"] == ["model call failed: ServiceUnavailableException after 3 attempt(s)"]
    assert len(first.requests) == 4 + 2 * 3

    retry = StandInConverse()
    summary = generate(batch, retry, try_number=2)
    assert len(retry.requests) == 2 and summary["generated"] == 2 and summary["customers"] == 2
    stored = emails(rows, warehouse)
    assert {c: e["STATUS"] for c, e in stored.items()} == {**{c: "generated" for c in ("C001", "C002", "C003", "C004", "C005", "C006")},
                                                           "C008": "skipped"}
    usage = rows(warehouse, "SELECT TRY_NUMBER, ITEMS, CALLS, SERVER_ERRORS, FAILURES FROM GENAI.OPS.LLM_USAGE ORDER BY TRY_NUMBER")
    assert usage == [(1, 6, 10, 6, 2), (2, 2, 2, 0, 0)]


def test_throttling_is_retried_and_nothing_is_lost(warehouse: Any, rows: Any) -> None:
    [batch] = select(batch_size=10)
    seen: set[str] = set()

    def fault(number: int, request: dict[str, Any]) -> str | None:  # each request is throttled once, then passes
        text = request["messages"][0]["content"][0]["text"]
        if text in seen:
            return None
        seen.add(text)
        return "throttle"

    client = StandInConverse(fault)
    summary = generate(batch, client)
    assert summary["generated"] == 6 and summary["throttles"] == 6 and summary["retries"] == 6
    assert len(emails(rows, warehouse)) == 7


def test_bad_outputs_get_one_retry_then_need_review(warehouse: Any, rows: Any) -> None:
    [batch] = select(batch_size=10)
    kinds = {'"Anna"': "wrong_language", '"Camille"': "invented_product", '"Haruto"': "placeholder",
             '"Beatriz"': "missing_tool_use"}

    def fault(number: int, request: dict[str, Any]) -> str | None:
        text = request["messages"][0]["content"][0]["text"]
        if '"Oliver"' in text and "rejected" not in text:
            return "invented_product"  # bad once, fixed by the retry
        return next((kind for name, kind in kinds.items() if name in text), None)

    client = StandInConverse(fault)
    summary = generate(batch, client)
    stored = emails(rows, warehouse)
    assert {c: e["STATUS"] for c, e in stored.items()} == {
        "C001": "needs_review", "C002": "needs_review", "C003": "needs_review", "C004": "needs_review",
        "C005": "generated", "C006": "generated", "C008": "skipped"}
    assert len(stored["C001"]["REASONS"]) == 1 and stored["C001"]["REASONS"][0].startswith("wrong language: detected ")
    assert stored["C001"]["REASONS"][0].endswith(", expected de")
    assert any("P-INVENTED-0000" in r for r in stored["C002"]["REASONS"])
    assert stored["C003"]["REASONS"] == ["unresolved placeholder"]
    assert stored["C004"]["REASONS"][0].startswith("malformed output: no write_email tool call")
    assert stored["C004"]["BODY"] is None
    assert stored["C005"]["ATTEMPTS"] == 2 and stored["C005"]["REASONS"] == []
    assert all(stored[c]["ATTEMPTS"] == 2 for c in ("C001", "C002", "C003", "C004"))
    assert summary["validation_retries"] == 5 and len(client.requests) == 11  # 4 x 2, Oliver 2, Amani 1
    retried = [t for t in client.user_texts() if "rejected" in t]
    assert len(retried) == 5 and any("Do not name any product other than" in t or "product_ids may only" in t for t in retried)

    # needs_review is final for a re-run, unless it asks for it
    assert select(run_id="manual__2") == []
    assert sum(b["customers"] for b in select(run_id="manual__3", redo_needs_review=True)) == 4


def test_progress_is_kept_when_a_task_dies(warehouse: Any, rows: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_CAMPAIGN_FLUSH_ROWS", "2")
    monkeypatch.setenv("GENAI_CAMPAIGN_CONCURRENCY", "1")
    [batch] = select(batch_size=10)

    class Killed(BaseException):
        """Like the task being terminated: not an error a model call retries or records."""

    def fault(number: int, request: dict[str, Any]) -> str | None:
        if number == 4:
            raise Killed("task killed")
        return None

    with pytest.raises(Killed):
        generate(batch, StandInConverse(fault))
    assert sorted(c for c, e in emails(rows, warehouse).items() if e["STATUS"] == "generated") == ["C001", "C002", "C003"]

    retry = StandInConverse()
    generate(batch, retry, try_number=2)
    assert len(retry.requests) == 3
    assert sorted(c for c, e in emails(rows, warehouse).items() if e["STATUS"] == "generated") == [
        "C001", "C002", "C003", "C004", "C005", "C006"]


def test_an_outage_stops_new_calls(warehouse: Any, rows: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowException

    monkeypatch.setenv("GENAI_CAMPAIGN_STOP_AFTER_FAILURES", "2")
    monkeypatch.setenv("GENAI_CAMPAIGN_CONCURRENCY", "1")
    [batch] = select(batch_size=10)
    client = StandInConverse(lambda number, request: "denied")  # not retryable: one call each
    with pytest.raises(AirflowException, match=r"2 customer\(s\) failed \(AccessDeniedException x2\), 4 not attempted"):
        generate(batch, client)
    assert len(client.requests) == 2


def test_summary_counts_and_fails_on_failed_or_missing(warehouse: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowException

    from genai_personalization.operators.campaign import CampaignSummaryOperator

    batches = select(batch_size=3)
    generate(batches[0], StandInConverse())
    summarize = CampaignSummaryOperator(task_id="summarize", campaign_id=CAMPAIGN)
    with pytest.raises(AirflowException, match=r"0 email\(s\) failed and 3 of this run's audience not written"):
        summarize.execute(context())
    generate(batches[1], StandInConverse())
    summary = summarize.execute(context())
    assert {k: summary[k] for k in ("generated", "needs_review", "failed", "skipped", "missing", "language_fallbacks")} == {
        "generated": 6, "needs_review": 0, "failed": 0, "skipped": 1, "missing": 0, "language_fallbacks": 1}
    assert summary["usage"]["email"]["calls"] == 6 and summary["usage"]["email"]["items"] == 6
    assert summary["estimated_input_tokens_per_email"] == summary["estimated_input_tokens_per_request"] > 0
    assert summary["usage"]["email"]["estimated_cost_usd"] > 0


def test_summary_fails_a_run_that_never_selected_its_audience(warehouse: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowException

    from genai_personalization.operators.campaign import CampaignSummaryOperator

    # an earlier run generated every email; this run's select_audience failed, so it selected nothing
    for batch in select(run_id="manual__1", batch_size=10):
        generate(batch, StandInConverse(), run_id="manual__1")
    summarize = CampaignSummaryOperator(task_id="summarize", campaign_id=CAMPAIGN)
    assert summarize.execute(context("manual__1"))["generated"] == 6
    with pytest.raises(AirflowException, match=r"run manual__2 selected no audience \(select_audience did not finish\)"):
        summarize.execute(context("manual__2"))


def test_missing_inputs_name_the_pipeline_to_run(stand_ins: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from genai_personalization.operators.campaign import SelectAudienceOperator

    _, conn = stand_ins
    rows(conn, "CREATE SCHEMA IF NOT EXISTS GENAI.RAW")
    rows(conn, "CREATE TABLE GENAI.RAW.CUSTOMERS (CUSTOMER_ID VARCHAR)")
    SelectAudienceOperator(task_id="create").run_step(conn, "create_objects", {"database": "GENAI"})
    with pytest.raises(AirflowFailException, match=r"inputs do not exist yet: RAW.PRODUCTS \(run product_reviews_sentiment\), "
                                                   r"ANALYTICS.RECOMMENDATIONS \(run customer_recommendations\), "
                                                   r"ANALYTICS.CUSTOMER_PURCHASE_HISTORY \(run pos_transactions_ingest\)"):
        select()


def test_an_internal_error_on_one_customer_fails_only_that_customer(
    warehouse: Any, rows: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.sdk.exceptions import AirflowException

    import include.campaign.generation as generation

    real = generation.validate_email

    def fragile(draft: Any, context: Any, limits: Any) -> Any:
        if context.first_name == "Camille":
            raise ValueError(f"cannot handle {context.first_name} {draft.body[:20]}")
        return real(draft, context, limits)

    monkeypatch.setattr(generation, "validate_email", fragile)
    [batch] = select(batch_size=10)
    with pytest.raises(AirflowException, match=r"1 customer\(s\) failed \(ValueError x1\)"):
        generate(batch, StandInConverse())
    stored = emails(rows, warehouse)
    assert (stored["C002"]["STATUS"], stored["C002"]["REASONS"]) == ("failed", ["internal error: ValueError"])
    assert sum(e["STATUS"] == "generated" for e in stored.values()) == 5
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "internal error on one customer: ValueError at test_campaign_operator.py" in logged
    assert "Camille" not in logged
