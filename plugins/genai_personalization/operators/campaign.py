"""The personalized email campaign's operators: audience, company context, generation, summary.

``SelectAudienceOperator``     computes the run's audience in Snowflake and assigns it to batches;
                               returns only batch descriptors (number, size, mode) for the map
``RetrieveCampaignContextOperator``  top-k company chunks per recommended product, once per campaign
``GenerateEmailsOperator``     one mapped task per batch: facts in one query, prompts, Claude through
                               Converse with tool use, validation with one retry, staged MERGE
``CampaignSummaryOperator``    counts by status, model usage; fails when emails are failed or missing

Domain logic (prompts, validation, batching, prices) is in include/campaign/; SQL in
include/sql/personalized_email_campaign/. Nothing here logs customer data, prompts or emails:
only counts.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from genai_personalization.operators.snowflake_steps import SnowflakeStepsOperator, snowflake_error_line
from genai_personalization.sql import render_sql

if TYPE_CHECKING:
    from airflow.sdk import Context

    from include.campaign.config import CampaignConfig
    from include.campaign.generation import EmailResult

DAG_SQL = "personalized_email_campaign"
FINAL_STATUSES = ("generated", "needs_review")
# the campaign's inputs and the pipelines that create them
INPUTS = {
    ("RAW", "CUSTOMERS"): "customer_master_ingest",
    ("RAW", "PRODUCTS"): "product_reviews_sentiment",
    ("ANALYTICS", "RECOMMENDATIONS"): "customer_recommendations",
    ("ANALYTICS", "CUSTOMER_PURCHASE_HISTORY"): "pos_transactions_ingest",
}
FLUSH_SECONDS = 30.0
RETRIEVAL_PAGE = 100  # products whose chunks are retrieved and written together


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


class CampaignOperatorBase(SnowflakeStepsOperator):
    """Settings, the campaign id and the run's parameters shared by the campaign's operators.

    :param campaign_id: templated; empty means ``email-<UTC date of the logical date or run_after>``
    :param redo_needs_review: templated; also regenerate emails stored as ``needs_review``
    """

    template_fields: Sequence[str] = (*SnowflakeStepsOperator.template_fields, "campaign_id", "redo_needs_review")
    dag_sql = DAG_SQL
    ui_color = "#fbe9f3"

    def __init__(self, *, campaign_id: str | None = None, redo_needs_review: bool | str = False,
                 aws_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.redo_needs_review = redo_needs_review
        self.aws_conn_id = aws_conn_id

    def campaign_config(self) -> CampaignConfig:
        from include.campaign.config import CampaignConfig

        try:
            return CampaignConfig.from_env()
        except ValueError as e:
            raise AirflowFailException(f"campaign settings: {e}") from e

    def run_params(self, context: Context) -> dict[str, Any]:
        """database, campaign_id, run_id, final_statuses: validated, for the SQL steps."""
        from include.campaign.config import check_run_id, resolve_campaign_id

        dag_run = context.get("dag_run")
        try:
            campaign_id = resolve_campaign_id(self.campaign_id, context.get("logical_date"),
                                              getattr(dag_run, "run_after", None))
            run_id = check_run_id(str(context["run_id"]))
        except ValueError as e:
            raise AirflowFailException(str(e)) from e
        final = ("generated",) if _flag(self.redo_needs_review) else FINAL_STATUSES
        return {"database": self.resolve_database(), "campaign_id": campaign_id, "run_id": run_id,
                "final_statuses": final, "pipeline": self.dag_id}

    def fetch(self, conn: Any, step: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Rows of a one-statement step (a query), on ``conn``; a Snowflake error is one line."""
        from snowflake.connector.errors import Error as SnowflakeError

        try:
            with closing(conn.cursor()) as cursor:
                cursor.execute(render_sql(DAG_SQL, step, **params))
                return [tuple(row) for row in cursor.fetchall()]
        except SnowflakeError as e:
            raise AirflowException(f"{DAG_SQL}/{step}.sql failed: {snowflake_error_line(e)}") from e

    def write_usage(self, conn: Any, params: dict[str, Any], rows: list[list[object]]) -> None:
        from include.staging import csv_row

        with self.staging_folder(prefix="campaign-usage-") as folder:
            path = folder / "usage.csv"
            path.write_bytes(b"".join(csv_row(row) for row in rows))
            self.run_step(conn, "merge_usage", {**params, "usage_file": str(path), "usage_stage_path": uuid.uuid4().hex})


class SelectAudienceOperator(CampaignOperatorBase):
    """Select the run's audience in Snowflake, assign it to batches, return the batch descriptors.

    Audience: consenting customers (``MARKETING_CONSENT``) matching ``languages`` / ``countries``, the
    first ``max_customers`` of them by CUSTOMER_ID, minus those whose email for the campaign is final
    (``generated``, and ``needs_review`` unless ``redo_needs_review``). Those without recommendations
    are stored as ``skipped`` with the reason. The rest go to MARKETING.CAMPAIGN_AUDIENCE in batches of
    ``batch_size`` (default GENAI_CAMPAIGN_BATCH_SIZE), grown so the map stays within Airflow's
    ``max_map_length`` (and GENAI_CAMPAIGN_MAX_BATCHES). Returns ``[{"batch_no", "customers", "mode"}]``.

    ``mode``: ``on_demand``, ``batch`` (Bedrock batch inference) or ``auto`` (batch from
    GENAI_CAMPAIGN_BATCH_MODE_THRESHOLD customers); batch mode is in operators/campaign_batch.py.
    """

    template_fields: Sequence[str] = (*CampaignOperatorBase.template_fields, "languages", "countries",
                                      "max_customers", "mode", "batch_size")

    def __init__(self, *, languages: Any = None, countries: Any = None, max_customers: Any = None,
                 mode: str = "auto", batch_size: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.languages = languages
        self.countries = countries
        self.max_customers = max_customers
        self.mode = mode
        self.batch_size = batch_size

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from include.campaign.batching import choose_mode, plan_batches
        from include.campaign.config import Audience, optional_positive_int, resolve_mode

        config = self.campaign_config()
        params = self.run_params(context)
        try:
            audience = Audience.from_params(self.languages, self.countries, self.max_customers)
            requested = resolve_mode(self.mode)
            batch_size = optional_positive_int(self.batch_size, "batch_size") or config.batch_size
        except ValueError as e:
            raise AirflowFailException(str(e)) from e
        select = {**params, "languages": audience.languages, "countries": audience.countries,
                  "max_customers": audience.max_customers}
        with closing(self.snowflake_hook.get_conn()) as conn:
            present = {(str(a).upper(), str(b).upper()) for a, b in self.fetch(conn, "inputs", params)}
            missing = [f"{schema}.{table} (run {dag})" for (schema, table), dag in INPUTS.items()
                       if (schema, table) not in present]
            if missing:
                raise AirflowFailException(f"{params['database']}: the campaign's inputs do not exist yet: {', '.join(missing)}")
            eligible, to_generate, without = (int(v or 0) for v in self.run_step(conn, "select_audience", select)[-1].fetchone())
            plan = plan_batches(to_generate, batch_size, min(config.max_batches, self.max_map_length()))
            mode = choose_mode(requested, to_generate, config.batch_mode_threshold)
            assign = {**select, "batch_size": plan.batch_size, "batches": plan.batches, "mode": mode,
                      "eligible": eligible, "to_generate": to_generate, "skipped": without,
                      "audience_json": json.dumps(audience.as_dict())}
            batches = [(int(n), int(c)) for n, c in self.run_step(conn, "assign_batches", assign)[-1].fetchall()]
        self.log.info("campaign %s: %d eligible customer(s), %d to write in %d batch(es) of up to %d (%s), "
                      "%d skipped without recommendations", params["campaign_id"], eligible, to_generate,
                      len(batches), plan.batch_size, mode, without)
        return [{"batch_no": number, "customers": count, "mode": mode} for number, count in batches]

    @staticmethod
    def max_map_length() -> int:
        from airflow.sdk.configuration import conf

        return conf.getint("core", "max_map_length", fallback=1024)


class RetrieveCampaignContextOperator(CampaignOperatorBase):
    """Retrieve the company chunks for every product recommended to the run's audience, once per campaign.

    One retrieval query per distinct product (its name and categories), not per customer: customers
    share products, so a campaign embeds at most as many queries as the catalog has products, and a
    re-run or a retry embeds none that are stored. Each customer's prompt later takes the best
    ``GENAI_CAMPAIGN_CONTEXT_K`` chunks over their products. The queries are embedded with the active
    embedding set's model and scored in Snowflake (genai_personalization.retrieval.search_many).
    Without an active embedding set this fails, unless GENAI_CAMPAIGN_REQUIRE_CONTEXT=false.
    """

    def execute(self, context: Context) -> dict[str, Any]:
        from genai_personalization.bedrock import TitanEmbedder, bedrock_runtime_client
        from genai_personalization.converse import QuotaPatientCaller
        from genai_personalization.retrieval import NoActiveEmbeddingSet, active_set, search_many
        from include.campaign.pricing import PriceTable
        from include.knowledge.embedding import EmbeddingConfig
        from include.retry import Backoff
        from include.staging import csv_row

        config = self.campaign_config()
        params = self.run_params(context)
        if config.context_k == 0:
            self.log.info("GENAI_CAMPAIGN_CONTEXT_K=0: no company context")
            return {"products": 0, "retrieved": 0}
        with closing(self.snowflake_hook.get_conn()) as conn:
            todo = self.fetch(conn, "context_todo", params)
            if not todo:
                self.log.info("company context: every recommended product has its chunks already")
                return {"products": 0, "retrieved": 0}
            try:
                chosen = active_set(conn, params["database"])
            except NoActiveEmbeddingSet as e:
                if config.require_context:
                    raise AirflowFailException(f"{e} (or set GENAI_CAMPAIGN_REQUIRE_CONTEXT=false to write without it)") from e
                self.log.warning("no company knowledge to retrieve from: emails are written without company context")
                return {"products": len(todo), "retrieved": 0}
            caller = QuotaPatientCaller(Backoff(config.max_attempts, config.backoff_base_seconds,
                                                config.backoff_cap_seconds), config.throttle_patience_seconds)
            client = bedrock_runtime_client(self.aws_conn_id or self.settings.aws_conn_id, config.embedding_concurrency)
            embedders: dict[tuple[str, int], TitanEmbedder] = {}

            def embedder_for(model_id: str, dimensions: int) -> TitanEmbedder:
                key = (model_id, dimensions)
                if key not in embedders:
                    embedders[key] = TitanEmbedder(client, EmbeddingConfig(model_id=model_id, dimensions=dimensions), caller)
                return embedders[key]

            ti = context.get("ti")
            started = time.time()
            retrieved = done = 0
            for start in range(0, len(todo), RETRIEVAL_PAGE):
                page = todo[start:start + RETRIEVAL_PAGE]
                queries = [product_query(name, category, sub) for _, name, category, sub in page]
                found = search_many(conn, params["database"], embedder_for, queries, k=config.context_k,
                                    concurrency=config.embedding_concurrency)
                rows: list[list[object]] = []
                for (product_id, *_), chunks in zip(page, found):
                    rows += [[product_id, rank, c.chunk_id, c.score] for rank, c in enumerate(chunks, start=1)]
                    rows += [] if chunks else [[product_id, 0, None, None]]
                    retrieved += len(chunks)
                with self.staging_folder(prefix="campaign-context-") as folder:
                    path = folder / "context.csv"
                    path.write_bytes(b"".join(csv_row(row) for row in rows))
                    self.run_step(conn, "merge_context", {**params, "file": str(path), "stage_path": uuid.uuid4().hex})
                done += len(page)
            stats = caller.stats.as_dict()
            cost = PriceTable.from_env().cost(chosen.model_id, stats["input_tokens"], 0)
            self.write_usage(conn, params, [usage_row(params, ti, self.task_id, chosen.model_id, "retrieval", None, None,
                                                      done, stats, 0, 0, cost, started)])
        summary = {"products": done, "retrieved": retrieved, "embedding_set": chosen.set_name,
                   **{f"embedding_{k}": v for k, v in stats.items() if k != "output_tokens"}}
        self.log.info("company context: %s", json.dumps(summary, sort_keys=True))
        return summary


def product_query(name: Any, category: Any, sub_category: Any) -> str:
    """The retrieval query for a product: its name and categories (what company documents talk about)."""
    parts = [str(name).strip()] + [str(c).strip() for c in (category, sub_category) if c and str(c).strip()]
    return ". ".join(dict.fromkeys(p for p in parts if p))


def usage_row(params: dict[str, Any], ti: Any, task_id: str, model_id: str, purpose: str, batch_no: int | None,
              mode: str | None, items: int, stats: dict[str, int], validation_retries: int,
              estimated_input_tokens: int, cost: Decimal | None, started: float) -> list[object]:
    """One OPS.LLM_USAGE row (merge_usage.sql column order)."""
    from datetime import datetime, timezone

    map_index = getattr(ti, "map_index", -1)
    return [
        params["run_id"], params["pipeline"], task_id, -1 if map_index is None else int(map_index),
        int(getattr(ti, "try_number", 1) or 1), model_id, purpose, params["campaign_id"], batch_no, mode, items,
        stats["calls"], stats["throttles"], stats["server_errors"], stats["retries"], stats["failures"],
        validation_retries, stats["input_tokens"], stats["output_tokens"], estimated_input_tokens,
        None if cost is None else format(cost, "f"),
        datetime.fromtimestamp(started, tz=timezone.utc).isoformat(sep=" ", timespec="seconds"),
    ]


class GenerateEmailsOperator(CampaignOperatorBase):
    """Write, validate and store the emails of one batch (a mapped task per batch; use the ``bedrock`` pool).

    1. One query reads every fact of the batch's customers still to write (batch_facts.sql: customer,
       purchase history, recommended products with catalog facts; customers already ``generated`` for
       the campaign are excluded here too, so a retried task redoes only what is missing), and one the
       retrieved company chunks of their products (batch_context.sql).
    2. Per customer, ``GENAI_CAMPAIGN_CONCURRENCY`` in flight: a prompt from include/prompts within the
       input token budget, Claude through Converse forcing the ``write_email`` tool (maxTokens set),
       full-jitter backoff on throttling and 5xx; validation (include/campaign/validation.py), one retry
       with the reasons, else ``needs_review``. A call that fails for good: ``failed`` with the reason.
       After GENAI_CAMPAIGN_STOP_AFTER_FAILURES consecutive failures (an outage) no new call starts.
    3. Results are MERGEd every ``GENAI_CAMPAIGN_FLUSH_ROWS`` emails (or 30 s) with the attempt's
       OPS.LLM_USAGE row, so a killed task keeps its progress.

    Fails with one line, after storing everything, if a customer failed or was not attempted: the
    task's retry (or a cleared task) then redoes exactly those. Returns the batch's counts.

    :param batch: ``{"batch_no", "customers", "mode"}``, one item of SelectAudienceOperator's list
    """

    template_fields: Sequence[str] = (*CampaignOperatorBase.template_fields, "batch", "aws_conn_id")

    def __init__(self, *, batch: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch = batch

    @cached_property
    def bedrock_client(self) -> Any:
        from genai_personalization.bedrock import bedrock_runtime_client

        return bedrock_runtime_client(self.aws_conn_id or self.settings.aws_conn_id,
                                      self.campaign_config().concurrency)

    def execute(self, context: Context) -> dict[str, Any]:
        config = self.campaign_config()
        params = self.run_params(context)
        batch = self.batch if isinstance(self.batch, dict) else json.loads(str(self.batch))
        try:
            batch_no = int(batch["batch_no"])
        except (KeyError, TypeError, ValueError) as e:
            raise AirflowFailException(f"batch must be a dict with a batch_no, got {type(self.batch).__name__}") from e
        mode = str(batch.get("mode") or "on_demand")
        params = {**params, "batch_no": batch_no, "mode": mode, "model_id": config.model_id,
                  "about_chars": config.about_chars}
        if mode != "on_demand":
            return self.execute_batch_inference(context, params, config)
        with closing(self.snowflake_hook.get_conn()) as conn:
            return self.generate_on_demand(context, conn, params, config)

    def execute_batch_inference(self, context: Context, params: dict[str, Any] | None = None,
                                config: CampaignConfig | None = None, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Mode ``batch``: submit a Bedrock batch inference job and defer; resumed here with the trigger's
        ``event`` (genai_personalization.operators.campaign_batch)."""
        from genai_personalization.operators.campaign_batch import complete_batch_job, start_batch_job

        config = config or self.campaign_config()
        if event is None:
            if params is None:
                raise AirflowFailException("execute_batch_inference needs the batch's params or a trigger event")
            return start_batch_job(self, context, params, config)
        return complete_batch_job(self, context, config, event)

    def load_batch(self, conn: Any, params: dict[str, Any], config: CampaignConfig) -> list[Any]:
        """The batch's customers still to write, with their facts and top-k company chunks (two queries)."""
        from include.campaign.facts import customers_from_rows

        facts = self.fetch(conn, "batch_facts", params)
        if not facts:
            return []
        context_rows: list[tuple[Any, ...]] = []
        if config.context_k:
            try:
                context_rows = self.fetch(conn, "batch_context", params)
            except AirflowException:
                if config.require_context:
                    raise
                self.log.warning("company context could not be read: writing without it")
        return customers_from_rows(facts, context_rows, config.context_k)

    def generate_on_demand(self, context: Context, conn: Any, params: dict[str, Any],
                           config: CampaignConfig) -> dict[str, Any]:
        from genai_personalization.bedrock import ModelCallError
        from genai_personalization.converse import ConverseToolModel, QuotaPatientCaller
        from include.campaign.generation import failed_result, generate_email
        from include.campaign.pricing import PriceTable
        from include.campaign.prompt import PromptBuilder, TokenCounter, prompt_limits
        from include.campaign.validation import ValidationLimits
        from include.retry import Backoff

        started = time.time()
        customers = self.load_batch(conn, params, config)
        caller = QuotaPatientCaller(Backoff(config.max_attempts, config.backoff_base_seconds, config.backoff_cap_seconds),
                                    config.throttle_patience_seconds)
        sink = EmailSink(self, conn, params, context.get("ti"), config, caller, PriceTable.from_env(), started)
        pending = []
        for customer in customers:
            if not customer.consent:
                sink.add(_skipped(customer, "marketing consent withdrawn since the audience was selected"))
            elif not customer.facts.products:
                reason = ("recommended products are no longer in the catalog" if customer.missing_products
                          else "no recommendations for this customer")
                sink.add(_skipped(customer, reason))
            else:
                pending.append(customer)

        limits = ValidationLimits()
        builder = PromptBuilder(company_name=config.company_name, limits=prompt_limits(limits),
                                input_token_budget=config.input_token_budget,
                                count_tokens=TokenCounter(config.token_encoding), about_chars=config.about_chars)
        model = ConverseToolModel(self.bedrock_client, caller, config.model_id, config.max_tokens, config.temperature)
        stop = threading.Event()

        def work(customer: Any) -> EmailResult:
            try:
                return generate_email(customer.facts, builder, model, other_products=customer.other_products,
                                      other_people=customer.other_people, company_names=config.company_names,
                                      limits=limits)
            except ModelCallError:
                raise
            except Exception as e:  # noqa: BLE001 (a bug or odd data must not stop the rest of the batch)
                # type and place only: an exception's message may quote customer data or the email
                frame = traceback.extract_tb(e.__traceback__)[-1]
                self.log.error("internal error on one customer: %s at %s:%d", type(e).__name__,
                               frame.filename.rsplit("/", 1)[-1], frame.lineno)
                return failed_result(customer.facts, f"internal error: {type(e).__name__}")

        def supply() -> Iterator[Any]:
            for customer in pending:
                if stop.is_set():
                    return
                yield customer

        failures: Counter[str] = Counter()
        consecutive = attempted = 0
        try:
            for customer, outcome in caller.map(work, supply(), config.concurrency):
                attempted += 1
                if isinstance(outcome, ModelCallError):
                    failures[outcome.code] += 1
                    consecutive += 1
                    if consecutive >= config.stop_after_failures and not stop.is_set():
                        stop.set()
                        self.log.warning("%d consecutive customers failed (%s): no new model call in this attempt",
                                         consecutive, outcome.code)
                    sink.add(failed_result(customer.facts, f"model call failed: {outcome.code} after "
                                                           f"{outcome.attempts} attempt(s)"))
                else:
                    if outcome.status == "failed":
                        failures[outcome.reasons[0].split(": ", 1)[-1]] += 1
                    consecutive = 0
                    sink.add(outcome)
        finally:
            sink.close()
        not_attempted = len(pending) - attempted
        summary = {"batch_no": params["batch_no"], "customers": len(customers), **sink.summary(),
                   "not_attempted": not_attempted}
        self.log.info("batch %d: %s", params["batch_no"], json.dumps(summary, sort_keys=True))
        if failures or not_attempted:
            codes = ", ".join(f"{code} x{count}" for code, count in sorted(failures.items()))
            raise AirflowException(
                f"batch {params['batch_no']}: {sum(failures.values())} customer(s) failed ({codes or 'none'}), "
                f"{not_attempted} not attempted; the {sink.counts['generated'] + sink.counts['needs_review']} written "
                "are kept and a retry redoes only the rest")
        return summary


def _skipped(customer: Any, reason: str) -> EmailResult:
    from include.campaign.generation import SKIPPED, EmailResult, written_language

    facts = customer.facts
    tag, _, fallback = written_language(facts.preferred_language)
    return EmailResult(customer_id=facts.customer_id, status=SKIPPED, language=tag,
                       preferred_language=facts.preferred_language, language_fallback=fallback, reasons=(reason,))


class EmailSink:
    """Buffers a task's results and MERGEs them, with the attempt's usage row, every few rows or seconds.

    The writes run on one background thread, in order, so the model calls go on while a flush is
    staged and merged; the task's Snowflake session is used by that thread only, once the batch is
    loaded. A failed write is raised at the next flush or at close. ``close`` writes the rest and
    waits for every write.
    """

    def __init__(self, operator: CampaignOperatorBase, conn: Any, params: dict[str, Any], ti: Any,
                 config: CampaignConfig, caller: Any, prices: Any, started: float) -> None:
        from concurrent.futures import Future, ThreadPoolExecutor

        self.operator = operator
        self.conn = conn
        self.params = params
        self.ti = ti
        self.config = config
        self.caller = caller
        self.prices = prices
        self.started = started
        self.buffer: list[EmailResult] = []
        self.counts: Counter[str] = Counter({s: 0 for s in ("generated", "needs_review", "failed", "skipped")})
        self.items = 0
        self.validation_retries = 0
        self.estimated_input_tokens = 0
        self.prompted = 0  # results that had a model answer
        self.language_fallbacks = 0
        self.context_dropped = 0
        self.flushes = 0
        self._last_flush = time.monotonic()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="campaign-flush")
        self._pending: list[Future[None]] = []

    def add(self, result: EmailResult) -> None:
        self.buffer.append(result)
        self.items += 1
        self.counts[result.status] += 1
        self.validation_retries += result.validation_retries
        self.estimated_input_tokens += result.estimated_input_tokens
        self.prompted += int(result.attempts > 0)
        self.language_fallbacks += int(result.language_fallback)
        self.context_dropped += result.dropped_chunks
        if len(self.buffer) >= self.config.flush_rows or time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def close(self) -> None:
        try:
            self.flush(always=True)
        finally:
            self._writer.shutdown(wait=True)
        for future in self._pending:
            future.result()
        self._pending.clear()

    def cost(self) -> Decimal | None:
        stats = self.caller.stats.as_dict()
        return self.prices.cost(self.config.model_id, stats["input_tokens"], stats["output_tokens"],
                                batch=self.params["mode"] == "batch")

    def summary(self) -> dict[str, Any]:
        stats = self.caller.stats.as_dict()
        cost = self.cost()
        return {
            **dict(self.counts), "validation_retries": self.validation_retries,
            "language_fallbacks": self.language_fallbacks, "context_chunks_dropped": self.context_dropped,
            "calls": stats["calls"], "throttles": stats["throttles"], "server_errors": stats["server_errors"],
            "retries": stats["retries"], "input_tokens": stats["input_tokens"], "output_tokens": stats["output_tokens"],
            "estimated_input_tokens": self.estimated_input_tokens,
            "estimated_input_tokens_per_email": (round(self.estimated_input_tokens / self.prompted, 1)
                                                 if self.prompted else None),
            "estimated_cost_usd": None if cost is None else float(cost), "flushes": self.flushes,
        }

    def flush(self, always: bool = False) -> None:
        """Hand the buffered results and the usage so far to the writer thread."""
        still_running = []
        for future in self._pending:
            if future.done():
                future.result()  # a failed write fails the task here
            else:
                still_running.append(future)
        self._pending = still_running
        if not self.buffer and not always:
            return
        rows = [email_row(r) for r in self.buffer]
        self.buffer = []
        usage = usage_row(self.params, self.ti, self.operator.task_id, self.config.model_id, "email",
                          self.params["batch_no"], self.params["mode"], self.items, self.caller.stats.as_dict(),
                          self.validation_retries, self.estimated_input_tokens, self.cost(), self.started)
        self._pending.append(self._writer.submit(self._write, rows, usage))
        self.flushes += 1
        self._last_flush = time.monotonic()

    def _write(self, rows: list[list[object]], usage: list[object]) -> None:
        from include.staging import csv_row

        with self.operator.staging_folder(prefix="campaign-emails-") as folder:
            usage_path = folder / "usage.csv"
            usage_path.write_bytes(csv_row(usage))
            step_params = {**self.params, "usage_file": str(usage_path), "usage_stage_path": uuid.uuid4().hex}
            if rows:
                path = folder / "emails.csv"
                path.write_bytes(b"".join(csv_row(row) for row in rows))
                self.operator.run_step(self.conn, "merge_emails", {**step_params, "file": str(path),
                                                                  "stage_path": uuid.uuid4().hex})
            else:
                self.operator.run_step(self.conn, "merge_usage", step_params)


def email_row(r: EmailResult) -> list[object]:
    """One staged MARKETING.EMAILS row (merge_emails.sql column order)."""
    return [
        r.customer_id, r.status, r.language, r.preferred_language, "true" if r.language_fallback else "false",
        r.detected_language, r.subject, r.preheader, r.body, json.dumps(list(r.product_ids)),
        json.dumps(list(r.recommended_ids)), json.dumps(list(r.context_chunk_ids)),
        json.dumps(list(r.reasons), ensure_ascii=False), json.dumps(list(r.notes), ensure_ascii=False), r.attempts,
        r.input_tokens, r.output_tokens, r.estimated_input_tokens,
    ]


class CampaignSummaryOperator(CampaignOperatorBase):
    """Count the campaign's emails by status and this run's model usage; fail if any is failed or missing,
    or if this run never selected its audience.

    Runs whatever happened upstream (trigger rule ``all_done``), so a run that failed still reports what
    it stored; as the DAG's last task it also decides the run's state, so a run whose select_audience
    failed must not end green. Returns (and logs) the counts; no customer data.
    """

    def execute(self, context: Context) -> dict[str, Any]:
        params = self.run_params(context)
        with closing(self.snowflake_hook.get_conn()) as conn:
            statuses = {str(s): (int(n or 0), int(f or 0)) for s, n, f in self.fetch(conn, "summary", params)}
            usage_rows = self.fetch(conn, "run_usage", params)
            per_email, per_request = self.fetch(conn, "token_stats", params)[0]
        counts = {status: statuses.get(status, (0, 0))[0]
                  for status in ("generated", "needs_review", "failed", "skipped", "missing")}
        usage = {}
        for purpose, model_id, *values in usage_rows:
            names = ("calls", "throttles", "server_errors", "retries", "failures", "validation_retries",
                     "input_tokens", "output_tokens", "estimated_input_tokens", "items")
            entry: dict[str, Any] = {name: int(v or 0) for name, v in zip(names, values)}
            cost, unpriced = values[10], int(values[11] or 0)
            entry["estimated_cost_usd"] = None if unpriced or cost is None else float(cost)
            entry["model_id"] = str(model_id)
            usage[str(purpose)] = entry
        summary: dict[str, Any] = {
            "campaign_id": params["campaign_id"], **counts,
            "language_fallbacks": sum(f for _, f in statuses.values()),
            "usage": usage,
            "estimated_input_tokens_per_email": None if per_email is None else round(float(per_email), 1),
            "estimated_input_tokens_per_request": None if per_request is None else round(float(per_request), 1),
        }
        self.log.info("campaign summary: %s", json.dumps(summary, sort_keys=True))
        if not statuses.get("selected", (0, 0))[0]:
            raise AirflowException(
                f"campaign {params['campaign_id']}: run {params['run_id']} selected no audience (select_audience did "
                "not finish): see its log, fix the cause, then clear select_audience with its downstream tasks")
        if counts["failed"] or counts["missing"]:
            raise AirflowException(
                f"campaign {params['campaign_id']}: {counts['failed']} email(s) failed and {counts['missing']} of this "
                f"run's audience not written ({counts['generated']} generated, {counts['needs_review']} need review); "
                "clear the failed generate_batch tasks or re-run the campaign: only those customers are redone")
        return summary
