"""Bedrock batch inference (model invocation jobs) on S3 JSONL, run in background threads.

Input: one or more ``.jsonl`` files (the s3Uri names a file or a prefix), one record per line:
``{"recordId": "...", "modelInput": <InvokeModel body>}``. Output, like Bedrock:
``<output s3Uri>/<jobId>/<input file name>.out`` with one line per record, either
``{"recordId", "modelInput", "modelOutput"}`` or ``{"recordId", "modelInput", "error"}``,
in a shuffled order (Bedrock does not keep the input order), and
``<output s3Uri>/<jobId>/manifest.json.out`` with the counts.
"""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from local.bedrock.errors import ServiceError, validation

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], tuple[dict[str, Any], int, int]]
"""(modelId, modelInput) -> (modelOutput, input tokens, output tokens); raises ServiceError."""

_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][-.a-z0-9]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")
_JOB_NAME = re.compile(r"^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$")
_ROLE_ARN = re.compile(r"^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$")
TERMINAL = {"Completed", "Failed", "Stopped", "PartiallyCompleted", "Expired"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def split_s3_uri(uri: str) -> tuple[str, str]:
    match = _S3_URI.match(uri or "")
    if not match:
        raise validation(f"Invalid S3 URI: {uri}")
    return match.group("bucket"), match.group("key") or ""


@dataclass
class Job:
    job_id: str
    arn: str
    name: str
    model_id: str
    role_arn: str
    input_config: dict[str, Any]
    output_config: dict[str, Any]
    submit_time: str = field(default_factory=_now)
    status: str = "Submitted"
    message: str | None = None
    last_modified: str = field(default_factory=_now)
    end_time: str | None = None
    client_token: str | None = None
    timeout_hours: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    stop_requested: bool = False

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "jobArn": self.arn, "jobName": self.name, "modelId": self.model_id,
            "roleArn": self.role_arn, "status": self.status, "submitTime": self.submit_time,
            "lastModifiedTime": self.last_modified, "inputDataConfig": self.input_config,
            "outputDataConfig": self.output_config,
        }
        optional = {"message": self.message, "endTime": self.end_time,
                    "clientRequestToken": self.client_token,
                    "timeoutDurationInHours": self.timeout_hours}
        out.update({k: v for k, v in optional.items() if v is not None})
        out.update(self.counts)
        return out


class BatchJobs:
    def __init__(self, invoke: Invoke, s3_client_factory: Callable[[], Any], *, region: str,
                 account_id: str, min_records: int, step_seconds: float, seed: int,
                 model_check: Callable[[str], bool]):
        self._invoke = invoke
        self._s3 = s3_client_factory
        self._region, self._account = region, account_id
        self.min_records, self.step_seconds, self.seed = min_records, step_seconds, seed
        self._model_check = model_check
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ API operations

    def create(self, body: dict[str, Any]) -> dict[str, str]:
        for key in ("jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig"):
            if not body.get(key):
                raise validation(f"1 validation error detected: Value null at '{key}' failed to "
                                 "satisfy constraint: Member must not be null")
        if not _JOB_NAME.match(body["jobName"]):
            raise validation("jobName must match [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}")
        if not _ROLE_ARN.match(body["roleArn"]):
            raise validation("roleArn is not a valid IAM role ARN")
        if not self._model_check(body["modelId"]):
            raise validation("The provided model identifier is invalid.")
        try:
            split_s3_uri(body["inputDataConfig"]["s3InputDataConfig"]["s3Uri"])
            split_s3_uri(body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"])
        except (KeyError, TypeError):
            raise validation("inputDataConfig.s3InputDataConfig.s3Uri and "
                             "outputDataConfig.s3OutputDataConfig.s3Uri are required")
        with self._lock:
            if any(j.name == body["jobName"] for j in self._jobs.values()):
                raise ServiceError("ConflictException",
                                   f"A job named {body['jobName']} already exists.", 400)
            job_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(12))
            arn = f"arn:aws:bedrock:{self._region}:{self._account}:model-invocation-job/{job_id}"
            job = Job(job_id, arn, body["jobName"], body["modelId"], body["roleArn"],
                      body["inputDataConfig"], body["outputDataConfig"],
                      client_token=body.get("clientRequestToken"),
                      timeout_hours=body.get("timeoutDurationInHours"))
            self._jobs[job_id] = job
        threading.Thread(target=self._run, args=(job,), name=f"batch-{job_id}", daemon=True).start()
        logger.info("batch job %s created", job_id)
        return {"jobArn": arn}

    def get(self, identifier: str) -> dict[str, Any]:
        return self._find(identifier).describe()

    def list(self, params: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.submit_time,
                          reverse=params.get("sortOrder", "Descending") == "Descending")
        if "statusEquals" in params:
            jobs = [j for j in jobs if j.status == params["statusEquals"]]
        if "nameContains" in params:
            jobs = [j for j in jobs if params["nameContains"] in j.name]
        start = int(params.get("nextToken") or 0)
        size = int(params.get("maxResults") or 1000)
        out: dict[str, Any] = {"invocationJobSummaries": [j.describe() for j in jobs[start:start + size]]}
        if start + size < len(jobs):
            out["nextToken"] = str(start + size)
        return out

    def stop(self, identifier: str) -> dict[str, Any]:
        job = self._find(identifier)
        if job.status in TERMINAL:
            raise ServiceError("ConflictException", f"Job is already {job.status}.", 400)
        job.stop_requested = True
        self._set(job, "Stopping")
        return {}

    def _find(self, identifier: str) -> Job:
        job_id = identifier.rsplit("/", 1)[-1]
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ServiceError("ResourceNotFoundException",
                               f"The specified job {job_id} could not be found.", 404)
        return job

    # ------------------------------------------------------------------ the job itself

    def _set(self, job: Job, status: str, message: str | None = None) -> None:
        job.status, job.last_modified = status, _now()
        if message is not None:
            job.message = message
        if status in TERMINAL or status == "Stopped":
            job.end_time = job.last_modified

    def _run(self, job: Job) -> None:
        try:
            time.sleep(self.step_seconds)
            if job.stop_requested:
                return self._set(job, "Stopped")
            self._set(job, "InProgress")
            self._process(job)
        except ServiceError as error:
            self._set(job, "Failed", error.message)
        except Exception as error:  # noqa: BLE001 - a job must end in a terminal state
            # Only the type: messages could quote record content (customer PII).
            logger.error("batch job %s failed: %s", job.job_id, type(error).__name__)
            self._set(job, "Failed", f"Internal error while processing the job: {type(error).__name__}")

    def _process(self, job: Job) -> None:
        s3 = self._s3()
        in_bucket, in_key = split_s3_uri(job.input_config["s3InputDataConfig"]["s3Uri"])
        out_bucket, out_prefix = split_s3_uri(job.output_config["s3OutputDataConfig"]["s3Uri"])
        if in_key.endswith(".jsonl"):
            keys = [in_key]
        else:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=in_bucket, Prefix=in_key)
            keys = sorted(o["Key"] for p in pages for o in p.get("Contents", []) if o["Key"].endswith(".jsonl"))
        if not keys:
            raise validation(f"No .jsonl input files found at s3://{in_bucket}/{in_key}")
        files = {key: s3.get_object(Bucket=in_bucket, Key=key)["Body"].read().decode("utf-8").splitlines()
                 for key in keys}
        files = {key: [line for line in lines if line.strip()] for key, lines in files.items()}
        total = sum(len(lines) for lines in files.values())
        if total < self.min_records:
            raise validation(f"The number of records in the input ({total}) is less than the "
                             f"minimum of {self.min_records} records per batch inference job.")
        counts = {"totalRecordCount": total, "processedRecordCount": 0,
                  "successRecordCount": 0, "errorRecordCount": 0}
        job.counts = counts
        tokens = {"inputTokenCount": 0, "outputTokenCount": 0}
        time.sleep(self.step_seconds)
        rng = random.Random(f"{self.seed}:{job.name}")
        prefix = f"{out_prefix.rstrip('/')}/{job.job_id}".lstrip("/")
        for key, lines in files.items():
            out_lines = []
            for line in lines:
                if job.stop_requested:
                    return self._set(job, "Stopped")
                record, ok = self._record(job.model_id, line, tokens)
                out_lines.append(json.dumps(record, ensure_ascii=False))
                counts["processedRecordCount"] += 1
                counts["successRecordCount" if ok else "errorRecordCount"] += 1
            rng.shuffle(out_lines)
            s3.put_object(Bucket=out_bucket, Key=f"{prefix}/{key.rsplit('/', 1)[-1]}.out",
                          Body=("\n".join(out_lines) + "\n").encode("utf-8"))
        manifest = {**counts, **tokens}
        s3.put_object(Bucket=out_bucket, Key=f"{prefix}/manifest.json.out",
                      Body=json.dumps(manifest).encode("utf-8"))
        self._set(job, "Completed")
        logger.info("batch job %s completed: %s", job.job_id, counts)

    def _record(self, model_id: str, line: str, tokens: dict[str, int]) -> tuple[dict[str, Any], bool]:
        try:
            record = json.loads(line)
        except ValueError:
            return {"recordId": None, "error": {"errorCode": 400, "errorMessage": "Invalid JSON line"}}, False
        record_id = record.get("recordId") if isinstance(record, dict) else None
        model_input = record.get("modelInput") if isinstance(record, dict) else None
        base = {"recordId": record_id, "modelInput": model_input}
        if not isinstance(model_input, dict):
            return {**base, "error": {"errorCode": 400, "errorMessage": "modelInput must be a JSON object"}}, False
        try:
            output, input_tokens, output_tokens = self._invoke(model_id, model_input)
        except ServiceError as error:
            return {**base, "error": {"errorCode": error.status, "errorMessage": error.message}}, False
        tokens["inputTokenCount"] += input_tokens
        tokens["outputTokenCount"] += output_tokens
        return {**base, "modelOutput": output}, True
