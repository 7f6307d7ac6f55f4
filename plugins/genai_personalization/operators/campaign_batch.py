"""Bedrock batch inference for one campaign batch (mode ``batch``), behind GenerateEmailsOperator's seam.

``start_batch_job``    the batch's customers and prompts exactly as on demand (load_batch, the same
                       PromptBuilder), one JSONL record per customer to the landing bucket
                       (``batch-inference/<campaign>/<run>/<batch>/input.jsonl``), a model invocation
                       job through the amazon provider's BedrockHook, then ``defer`` on BatchJobTrigger
                       (no worker slot held while Bedrock works; why not the provider's trigger: below)
``complete_batch_job`` on the trigger's event: the output JSONL joined to the input by ``recordId``
                       (order not guaranteed, error lines), then the on-demand loop itself
                       (generate_on_demand) with a client that answers each customer's first prompt
                       from the batch output; a record without an answer, and the retry after a
                       failed validation (its prompt carries the feedback), go to Converse. So
                       validation, the retry, the sink (staged MERGE, exactly once) and OPS.LLM_USAGE
                       (mode ``batch``) are the on-demand path's own.

A batch with fewer customers than GENAI_CAMPAIGN_BATCH_MIN_RECORDS (Bedrock refuses jobs under 100
records), and a job that fails or stops as a whole, go on demand (one log line). Nothing here logs
prompts, answers or customer data: counts and the job ARN only.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow.sdk import Context

    from genai_personalization.operators.campaign import GenerateEmailsOperator
    from include.campaign.config import CampaignConfig


def batch_settings() -> Any:
    from include.campaign.batch_records import BatchSettings

    try:
        return BatchSettings.from_env()
    except ValueError as e:
        raise AirflowFailException(f"batch inference settings: {e}") from e


def prompt_builder(config: CampaignConfig) -> Any:
    """The PromptBuilder generate_on_demand uses (same arguments: the prompts must be identical)."""
    from include.campaign.prompt import PromptBuilder, TokenCounter, prompt_limits
    from include.campaign.validation import ValidationLimits

    return PromptBuilder(company_name=config.company_name, limits=prompt_limits(ValidationLimits()),
                         input_token_budget=config.input_token_budget,
                         count_tokens=TokenCounter(config.token_encoding), about_chars=config.about_chars)


def needs_model(customer: Any) -> bool:
    """The customers generate_on_demand sends to the model (others are stored as skipped there)."""
    return bool(customer.consent and customer.facts.products)


def batch_prefix(params: dict[str, Any]) -> str:
    from include.campaign.batch_records import safe_part

    return (f"batch-inference/{safe_part(params['campaign_id'], 80)}/{safe_part(params['run_id'], 80)}/"
            f"{int(params['batch_no'])}")


def job_name(params: dict[str, Any], try_number: int) -> str:
    from include.campaign.batch_records import safe_part

    tail = f"-b{int(params['batch_no'])}-t{try_number}-{uuid.uuid4().hex[:8]}"
    return f"campaign-{safe_part(params['campaign_id'], 30)}"[:63 - len(tail)] + tail


def start_batch_job(op: GenerateEmailsOperator, context: Context, params: dict[str, Any],
                    config: CampaignConfig) -> dict[str, Any]:
    from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.campaign.batch_records import INPUT_FILE, model_input, record_line
    from include.campaign.generation import written_language

    settings = batch_settings()
    with closing(op.snowflake_hook.get_conn()) as conn:
        pending = [c for c in op.load_batch(conn, params, config) if needs_model(c)]
        if len(pending) < settings.min_records:
            op.log.info("batch %d: %d customer(s) to write, under the %d records a batch inference job needs: "
                        "generating on demand", params["batch_no"], len(pending), settings.min_records)
            return op.generate_on_demand(context, conn, params, config)
    builder = prompt_builder(config)
    lines = []
    for customer in pending:
        tag, _, _ = written_language(customer.facts.preferred_language)
        prompt = builder.build(customer.facts, tag)
        body = model_input(prompt.system, prompt.user, config.max_tokens, config.temperature)
        lines.append(record_line(customer.facts.customer_id, body))
    aws_conn_id = op.aws_conn_id or op.settings.aws_conn_id
    bucket = op.settings.landing_bucket
    prefix = batch_prefix(params)
    S3Hook(aws_conn_id=aws_conn_id).load_bytes(b"".join(lines), f"{prefix}/{INPUT_FILE}", bucket_name=bucket,
                                                replace=True)
    ti = context.get("ti")
    name = job_name(params, int(getattr(ti, "try_number", 1) or 1))
    response = BedrockHook(aws_conn_id=aws_conn_id).conn.create_model_invocation_job(
        jobName=name, roleArn=settings.role_arn, modelId=config.model_id,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/{prefix}/{INPUT_FILE}",
                                               "s3InputFormat": "JSONL"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/{prefix}/output/"}},
    )
    job_arn = str(response["jobArn"])
    op.log.info("batch %d: %d record(s) submitted to Bedrock batch inference job %s; waiting deferred",
                params["batch_no"], len(lines), job_arn)
    op.defer(
        trigger=BatchJobTrigger(job_arn=job_arn, aws_conn_id=aws_conn_id, poll_seconds=settings.poll_seconds,
                                max_polls=settings.max_polls,
                                resume={"params": {**params, "final_statuses": list(params["final_statuses"])},
                                        "bucket": bucket, "prefix": prefix, "records": len(lines)}),
        method_name="execute_batch_inference",
    )
    raise AssertionError("defer() returns only by raising")  # pragma: no cover


class BatchJobTrigger(BaseTrigger):
    """Poll a model invocation job until it ends, without holding a worker slot.

    Why not the amazon provider's BedrockBatchInferenceCompletedTrigger: it waits with aiobotocore, which
    is not installable next to the pinned botocore 1.44.5 (aiobotocore 3.10.0 needs botocore < 1.43.118),
    so it fails at its first poll. This trigger polls GetModelInvocationJob with the sync BedrockHook in a
    worker thread (``asyncio.to_thread``), every ``poll_seconds``, at most ``max_polls`` times. Events:
    ``{"status": "success", "job_arn", "job_status", "resume"}`` for Completed / PartiallyCompleted (records
    without an answer go on demand), ``{"status": "error", ...}`` for Failed / Stopped / Expired or the poll
    limit reached, ``{"status": "poll_failed", "reason", ...}`` when GetModelInvocationJob fails for good (a
    denied or unknown job: throttling and 5xx only cost a poll), so the task fails with one line. ``resume`` (the run's step parameters and where the JSONL is) travels in the event, not
    in ``defer(kwargs=...)``: ``dag.test()`` replaces the next kwargs by the event alone.
    """

    def __init__(self, *, job_arn: str, aws_conn_id: str | None, poll_seconds: int = 60, max_polls: int = 1440,
                 resume: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.job_arn, self.aws_conn_id, self.resume = job_arn, aws_conn_id, resume or {}
        self.poll_seconds, self.max_polls = int(poll_seconds), int(max_polls)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{__name__}.BatchJobTrigger", {"job_arn": self.job_arn, "aws_conn_id": self.aws_conn_id,
                                                "poll_seconds": self.poll_seconds, "max_polls": self.max_polls,
                                                "resume": self.resume})

    def job_status(self) -> str:
        from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

        job = BedrockHook(aws_conn_id=self.aws_conn_id).conn.get_model_invocation_job(jobIdentifier=self.job_arn)
        return str(job.get("status"))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from genai_personalization.bedrock import error_code
        from include.retry import is_retryable

        status = "unknown"
        for _ in range(self.max_polls):
            try:
                status = await asyncio.to_thread(self.job_status)
            except Exception as e:  # a crash here would reach the task (and on-call) as a bare "Trigger failure"
                code, http_status = error_code(e)
                if not is_retryable(code, http_status):
                    first = (str(e).strip().splitlines() or [""])[0][:200]
                    yield TriggerEvent({"status": "poll_failed", "job_arn": self.job_arn, "job_status": status,
                                        "reason": f"{code}: {first}" if first else code, "resume": self.resume})
                    return
                self.log.warning("Bedrock batch inference job %s: polling failed (%s), polling again", self.job_arn,
                                 code)
                await asyncio.sleep(self.poll_seconds)
                continue
            if status in ("Completed", "PartiallyCompleted"):
                yield TriggerEvent({"status": "success", "job_arn": self.job_arn, "job_status": status,
                                    "resume": self.resume})
                return
            if status in ("Failed", "Stopped", "Expired"):
                break
            self.log.info("Bedrock batch inference job %s: %s", self.job_arn, status)
            await asyncio.sleep(self.poll_seconds)
        yield TriggerEvent({"status": "error", "job_arn": self.job_arn, "job_status": status, "resume": self.resume})


class BatchAnswerClient:
    """A bedrock-runtime client whose ``converse`` answers a prompt from the batch output once, if it can.

    Any other request (no batch answer: an error record, a missing record, a prompt that changed, or
    the retry prompt with validation feedback) goes to the real client.
    """

    def __init__(self, client: Any, answers: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.answers = answers
        self.served = 0
        self.fallbacks = 0
        self._lock = threading.Lock()

    def converse(self, **request: Any) -> dict[str, Any]:
        from include.campaign.batch_records import prompt_key

        try:
            key = prompt_key(request["system"][0]["text"], request["messages"][0]["content"][0]["text"])
        except (KeyError, IndexError, TypeError):
            key = None
        with self._lock:
            answer = self.answers.pop(key, None) if key else None
            if answer is not None:
                self.served += 1
            else:
                self.fallbacks += 1
        return answer if answer is not None else self.client.converse(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def read_lines(s3: Any, bucket: str, key: str) -> list[str]:
    if not s3.check_for_key(key, bucket_name=bucket):
        return []
    return s3.read_key(key, bucket_name=bucket).splitlines()


def complete_batch_job(op: GenerateEmailsOperator, context: Context, config: CampaignConfig,
                       event: dict[str, Any]) -> dict[str, Any]:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.campaign.batch_records import INPUT_FILE, answers_by_prompt, input_prompt_keys, parse_output

    try:
        resume = event["resume"]
        params = {**resume["params"], "final_statuses": tuple(resume["params"]["final_statuses"])}
        job_arn, bucket, prefix, records = str(event["job_arn"]), resume["bucket"], resume["prefix"], resume["records"]
    except (KeyError, TypeError) as e:
        raise AirflowFailException("batch inference: the trigger event lacks the job and batch to resume") from e
    aws_conn_id = op.aws_conn_id or op.settings.aws_conn_id
    answers: dict[str, dict[str, Any]] = {}
    if event.get("status") == "poll_failed":
        # the job may still run: generating on demand now could pay for every email twice
        raise AirflowException(f"batch {params['batch_no']}: polling Bedrock batch inference job {job_arn} failed: "
                               f"{str(event.get('reason'))[:200]}")
    if event.get("status") != "success":
        op.log.warning("batch %d: Bedrock batch inference job %s did not complete (%s): generating the batch on "
                       "demand", params["batch_no"], job_arn, str(event.get("job_status") or event.get("status"))[:40])
    else:
        s3 = S3Hook(aws_conn_id=aws_conn_id)
        job_id = job_arn.rsplit("/", 1)[-1]
        keys = input_prompt_keys(read_lines(s3, bucket, f"{prefix}/{INPUT_FILE}"))
        output = parse_output(read_lines(s3, bucket, f"{prefix}/output/{job_id}/{INPUT_FILE}.out"))
        answers = answers_by_prompt(keys, output)
        missing = len(set(keys) - set(output.answers) - set(output.errors))
        op.log.info("batch %d: job %s: %d of %d record(s) answered, %d error record(s), %d missing, %d unreadable "
                    "line(s); those without an answer go on demand", params["batch_no"], job_id, len(answers),
                    records, len(output.errors), missing, output.unreadable)
    client = BatchAnswerClient(op.bedrock_client, answers)
    op.__dict__["bedrock_client"] = client  # the cached_property generate_on_demand reads
    try:
        with closing(op.snowflake_hook.get_conn()) as conn:
            return op.generate_on_demand(context, conn, params, config)
    finally:
        op.log.info("batch %d: %d answer(s) from the batch job, %d Converse request(s) (records without an answer "
                    "and retries after a failed validation)", params["batch_no"], client.served, client.fallbacks)
