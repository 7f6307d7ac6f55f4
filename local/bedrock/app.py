"""The Starlette app: one port for bedrock-runtime, bedrock (batch jobs) and Comprehend.

Dispatch follows the real wire protocols, so boto3 clients work unchanged:
bedrock-runtime and bedrock are REST-JSON (the route names the operation), Comprehend is
JSON 1.1 (``POST /`` with ``X-Amz-Target: Comprehend_20171127.<Operation>``).

Request text is never logged: prompts carry customer PII.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.bedrock import runtime
from local.bedrock.batch import BatchJobs
from local.bedrock.config import StandInConfig
from local.bedrock.embeddings import Embedder
from local.bedrock.errors import ServiceError, json_rpc_error, rest_json_error, validation
from local.bedrock.generator import BAD_OUTPUT_KINDS, ChatRequest, Generation, generate
from local.bedrock.sentiment import detect_sentiment
from local.bedrock.tokens import TokenQuota

logger = logging.getLogger(__name__)

COMPREHEND_PREFIX = "Comprehend_20171127."
COMPREHEND_LANGUAGES = {"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"}
COMPREHEND_MAX_DOCS = 25
COMPREHEND_MAX_BYTES = 5000
TOO_MANY_TOKENS = "Too many tokens, please wait before trying again."
TOO_MANY_REQUESTS = "Too many requests, please wait before trying again."
# knobs that POST /_local/config may change at runtime: name -> "rate" (0..1) or "amount" (>= 0)
RUNTIME_KNOBS = {"latency_ms": "amount", "tpm": "amount", "throttle_rate": "rate", "error_rate": "rate",
                 "bad_output_rate": "rate"}


class StandIn:
    """State shared by all requests: knobs, seeded RNG, quota, counters, model, jobs."""

    def __init__(self, config: StandInConfig):
        self.config = config
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()
        self.quota = TokenQuota(config.tpm)
        self.embedder = Embedder(config.tokenizer_path, config.model_path)
        self._stats_lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self.bad_outputs: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.jobs = BatchJobs(
            self.invoke_for_batch, self._s3_client, region=config.region,
            account_id=config.account_id, min_records=config.batch_min_records,
            step_seconds=config.batch_step_seconds, seed=config.seed,
            model_check=lambda m: runtime.is_claude(m) or runtime.is_titan_embed_v2(m),
        )

    # ------------------------------------------------------------------ helpers

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < rate

    def choice(self, options: tuple[str, ...]) -> str:
        with self._rng_lock:
            return self._rng.choice(options)

    def count(self, counter: Counter[str], key: str, amount: int = 1) -> None:
        with self._stats_lock:
            counter[key] += amount

    def _s3_client(self) -> Any:
        import boto3

        if self.config.s3_endpoint:
            return boto3.client("s3", endpoint_url=self.config.s3_endpoint,
                                region_name=self.config.region,
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        return boto3.client("s3", region_name=self.config.region)

    async def inject_faults(self, throttling_status: int) -> None:
        """Latency, random throttling and random server errors, in that order."""
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)
        if self.roll(self.config.throttle_rate):
            self.count(self.counters, "throttles")
            raise ServiceError("ThrottlingException", TOO_MANY_REQUESTS, throttling_status)
        if self.roll(self.config.error_rate):
            self.count(self.counters, "injected_errors")
            if self.choice(("500", "503")) == "500":
                raise ServiceError("InternalServerException", "The server encountered an internal error.", 500)
            raise ServiceError("ServiceUnavailableException", "Bedrock is unable to process your request.", 503)

    def bad_output_kind(self, request: ChatRequest) -> str | None:
        if not self.roll(self.config.bad_output_rate):
            return None
        kinds = BAD_OUTPUT_KINDS if request.tools else BAD_OUTPUT_KINDS[:-1]
        kind = self.choice(kinds)
        self.count(self.bad_outputs, kind)
        return kind

    def generate_metered(self, request: ChatRequest, input_tokens: int) -> Generation:
        """Reserve input + maxTokens against the TPM quota, generate, settle the quota."""
        reservation = self.quota.reserve(input_tokens + request.max_tokens)
        if reservation is None:
            self.count(self.counters, "throttles")
            self.count(self.counters, "quota_throttles")
            raise ServiceError("ThrottlingException", TOO_MANY_TOKENS, 429)
        result = generate(request, self.bad_output_kind(request))
        self.quota.settle(reservation, input_tokens + result.output_tokens)
        self.count(self.counters, "input_tokens", input_tokens)
        self.count(self.counters, "output_tokens", result.output_tokens)
        return result

    def embed_metered(self, body: dict[str, Any]) -> dict[str, Any]:
        text, dims, normalize = runtime.titan_request(body)
        try:
            token_count = self.embedder.count_tokens(text)
        except FileNotFoundError as error:
            raise ServiceError("InternalServerException", str(error), 500)
        reservation = self.quota.reserve(token_count)
        if reservation is None:
            self.count(self.counters, "throttles")
            self.count(self.counters, "quota_throttles")
            raise ServiceError("ThrottlingException", TOO_MANY_TOKENS, 429)
        vector = self.embedder.embed(text, dims=dims, normalize=normalize)
        self.count(self.counters, "embedding_texts")
        self.count(self.counters, "input_tokens", token_count)
        return {"embedding": vector, "inputTextTokenCount": token_count}

    def invoke_for_batch(self, model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
        """One batch record: no latency, quota or fault knobs, but bad outputs may occur."""
        if runtime.is_titan_embed_v2(model_id):
            output = self.embed_metered_unlimited(body)
            return output, output["inputTextTokenCount"], 0
        request, input_tokens = runtime.claude_request(body)
        result = generate(request, self.bad_output_kind(request))
        self.count(self.counters, "batch_records")
        return runtime.claude_response(model_id, result, input_tokens), input_tokens, result.output_tokens

    def embed_metered_unlimited(self, body: dict[str, Any]) -> dict[str, Any]:
        text, dims, normalize = runtime.titan_request(body)
        self.count(self.counters, "embedding_texts")
        return {"embedding": self.embedder.embed(text, dims=dims, normalize=normalize),
                "inputTextTokenCount": self.embedder.count_tokens(text)}

    def knobs(self) -> dict[str, float]:
        return {name: getattr(self.config, name) for name in RUNTIME_KNOBS}

    def set_knobs(self, changes: Any) -> dict[str, float]:
        """Change fault knobs while running (tests inject throttling into one phase of a pipeline)."""
        if not isinstance(changes, dict) or not set(changes) <= set(RUNTIME_KNOBS):
            raise validation(f"the body must be a JSON object with some of {sorted(RUNTIME_KNOBS)}")
        for name, value in changes.items():
            kind = RUNTIME_KNOBS[name]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or (kind == "rate" and value > 1):
                raise validation(f"{name} must be a number{' in 0..1' if kind == 'rate' else ' >= 0'}, got {value!r}")
        for name, value in changes.items():
            setattr(self.config, name, int(value) if name == "tpm" else float(value))
            if name == "tpm":
                self.quota = TokenQuota(int(value))
        return self.knobs()

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {
                "calls": dict(self.calls),
                "errors": dict(self.errors),
                "bad_outputs": dict(self.bad_outputs),
                "throttles": self.counters["throttles"],
                "quota_throttles": self.counters["quota_throttles"],
                "injected_errors": self.counters["injected_errors"],
                "input_tokens": self.counters["input_tokens"],
                "output_tokens": self.counters["output_tokens"],
                "embedding_texts": self.counters["embedding_texts"],
                "batch_records": self.counters["batch_records"],
                "quota_tokens_in_window": self.quota.used(),
            }


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(state: StandIn, operation: str, render: Callable[[ServiceError], Response]) -> Callable[[Handler], Handler]:
    """Count the call and turn every failure into the service's error shape, never a traceback."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request) -> Response:
            state.count(state.calls, operation)
            try:
                return await handler(request)
            except ServiceError as error:
                state.count(state.errors, error.code)
                return render(error)
            except Exception as error:  # noqa: BLE001 - a test double must not leak tracebacks
                logger.error("%s failed: %s", operation, type(error).__name__)
                state.count(state.errors, "InternalServerException")
                return render(ServiceError("InternalServerException", "The server encountered an internal error.", 500))

        return wrapper

    return decorate


def create_app(config: StandInConfig | None = None) -> Starlette:
    state = StandIn(config or StandInConfig())

    @_guarded(state, "Converse", rest_json_error)
    async def converse(request: Request) -> Response:
        started = time.monotonic()
        model_id = request.path_params["model_id"]
        if not runtime.is_text_model(model_id):
            raise validation(runtime.INVALID_MODEL)
        chat, input_tokens = runtime.converse_request(
            runtime.parse_json_body(await request.body()), state.config.default_max_tokens)
        await state.inject_faults(429)
        result = await run_in_threadpool(state.generate_metered, chat, input_tokens)
        latency = int((time.monotonic() - started) * 1000)
        return JSONResponse(runtime.converse_response(chat, result, input_tokens, latency))

    @_guarded(state, "InvokeModel", rest_json_error)
    async def invoke_model(request: Request) -> Response:
        model_id = request.path_params["model_id"]
        body = runtime.parse_json_body(await request.body())
        if runtime.is_titan_embed_v2(model_id):
            runtime.titan_request(body)  # validate before any fault is injected
            await state.inject_faults(429)
            return JSONResponse(await run_in_threadpool(state.embed_metered, body))
        if not runtime.is_claude(model_id):
            raise validation(runtime.INVALID_MODEL)
        chat, input_tokens = runtime.claude_request(body)
        await state.inject_faults(429)
        result = await run_in_threadpool(state.generate_metered, chat, input_tokens)
        return JSONResponse(runtime.claude_response(model_id, result, input_tokens))

    @_guarded(state, "CreateModelInvocationJob", rest_json_error)
    async def create_job(request: Request) -> Response:
        return JSONResponse(state.jobs.create(runtime.parse_json_body(await request.body())))

    @_guarded(state, "GetModelInvocationJob", rest_json_error)
    async def get_job(request: Request) -> Response:
        return JSONResponse(state.jobs.get(request.path_params["job"]))

    @_guarded(state, "ListModelInvocationJobs", rest_json_error)
    async def list_jobs(request: Request) -> Response:
        return JSONResponse(state.jobs.list(dict(request.query_params)))

    @_guarded(state, "StopModelInvocationJob", rest_json_error)
    async def stop_job(request: Request) -> Response:
        return JSONResponse(state.jobs.stop(request.path_params["job"]))

    @_guarded(state, "Comprehend", json_rpc_error)
    async def comprehend(request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(COMPREHEND_PREFIX)
        if not target.startswith(COMPREHEND_PREFIX) or operation not in ("BatchDetectSentiment", "DetectSentiment"):
            raise ServiceError("UnknownOperationException", "The requested operation is not supported by the local stand-in.", 400)
        state.count(state.calls, operation)
        body = runtime.parse_json_body(await request.body())
        await state.inject_faults(400)  # JSON-protocol services answer throttling with 400
        texts = body.get("TextList") if operation == "BatchDetectSentiment" else [body.get("Text")]
        result = await run_in_threadpool(_sentiment_batch, texts, body.get("LanguageCode"))
        if operation == "DetectSentiment":
            item = result["ResultList"][0]
            result = {"Sentiment": item["Sentiment"], "SentimentScore": item["SentimentScore"]}
        return JSONResponse(result, media_type="application/x-amz-json-1.1")

    @_guarded(state, "Unknown", rest_json_error)
    async def unknown(request: Request) -> Response:
        raise ServiceError("UnknownOperationException", "The requested operation is not supported by the local stand-in.", 404)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "local-bedrock",
                             "embedding_model_loaded": state.embedder.loaded})

    async def stats(request: Request) -> Response:
        return JSONResponse(state.stats())

    @_guarded(state, "LocalConfig", rest_json_error)
    async def local_config(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = await request.json()
            except ValueError:
                raise validation("the body must be JSON") from None
            return JSONResponse(state.set_knobs(changes))
        return JSONResponse(state.knobs())

    all_methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
    app = Starlette(routes=[
        Route("/_local/health", health, methods=["GET"]),
        Route("/_local/stats", stats, methods=["GET"]),
        Route("/_local/config", local_config, methods=["GET", "POST"]),
        Route("/model/{model_id:path}/converse", converse, methods=["POST"]),
        Route("/model/{model_id:path}/invoke", invoke_model, methods=["POST"]),
        Route("/model-invocation-job", create_job, methods=["POST"]),
        Route("/model-invocation-jobs", list_jobs, methods=["GET"]),
        Route("/model-invocation-job/{job:path}/stop", stop_job, methods=["POST"]),
        Route("/model-invocation-job/{job:path}", get_job, methods=["GET"]),
        Route("/", comprehend, methods=["POST"]),
        Route("/{path:path}", unknown, methods=all_methods),
    ])
    app.state.stand_in = state
    return app


def _sentiment_batch(texts: Any, language: Any) -> dict[str, Any]:
    if language not in COMPREHEND_LANGUAGES:
        raise ServiceError("UnsupportedLanguageException",
                           f"Unsupported language code: {language}", 400)
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise ServiceError("InvalidRequestException", "TextList must hold 1 to 25 non-empty strings.", 400)
    if len(texts) > COMPREHEND_MAX_DOCS:
        raise ServiceError("BatchSizeLimitExceededException",
                           f"The number of documents in the request exceeds the limit of {COMPREHEND_MAX_DOCS}.", 400)
    # Like the real API, one oversized document fails the whole request (not an ErrorList entry).
    for text in texts:
        size = len(text.encode("utf-8"))
        if size > COMPREHEND_MAX_BYTES:
            raise ServiceError("TextSizeLimitExceededException",
                               f"Input text size exceeds limit. Max length of request text allowed "
                               f"is {COMPREHEND_MAX_BYTES} bytes while in this request the text size is {size} bytes", 400)
    results = []
    for index, text in enumerate(texts):
        label, scores = detect_sentiment(text)
        results.append({"Index": index, "Sentiment": label, "SentimentScore": scores})
    return {"ResultList": results, "ErrorList": []}
