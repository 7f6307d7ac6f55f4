"""Contract tests: the real boto3 clients, via the amazon provider's hooks, against the stand-in."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from local.bedrock.server import RunningServer

pytestmark = pytest.mark.integration

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
TITAN = "amazon.titan-embed-text-v2:0"
PROMPT = (
    "Write a short email to the customer. language: it\n"
    '<customer>{"customer_id": 42, "first_name": "Giulia", "preferred_language": "de"}</customer>\n'
    '<recommended_products>[{"product_id": "B01", "name": "Moka Pot", "price": 34.50, "currency": "EUR"}]'
    "</recommended_products>"
)
EMAIL_TOOL = {"toolSpec": {"name": "write_email", "inputSchema": {"json": {
    "type": "object",
    "properties": {"subject": {"type": "string"}, "body": {"type": "string"},
                   "product_ids": {"type": "array", "items": {"type": "string"}}},
    "required": ["subject", "body", "product_ids"]}}}}

Start = Callable[..., RunningServer]


def runtime_client() -> Any:
    from airflow.providers.amazon.aws.hooks.bedrock import BedrockRuntimeHook

    return BedrockRuntimeHook(aws_conn_id="aws_default").conn


def stats(server: RunningServer) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/_local/stats") as response:
        return json.load(response)


def converse(client: Any, text: str = PROMPT, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("inferenceConfig", {"maxTokens": 800})
    return client.converse(modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": text}]}], **kwargs)


def error_code(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def server(start_stand_in: Start, use_aws_connection: Callable[..., None]) -> RunningServer:
    running = start_stand_in()
    use_aws_connection(running.url)
    return running


def test_converse_text(server: RunningServer) -> None:
    response = converse(runtime_client(), system=[{"text": "You are helpful."}])
    text = response["output"]["message"]["content"][0]["text"]
    assert "Giulia" in text and "Moka Pot è disponibile a 34.50 EUR." in text
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["inputTokens"] > 0 and usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert response["metrics"]["latencyMs"] >= 0
    assert converse(runtime_client(), system=[{"text": "You are helpful."}])["output"] == response["output"]


def test_converse_tool_use(server: RunningServer) -> None:
    response = converse(runtime_client(), toolConfig={"tools": [EMAIL_TOOL],
                                                      "toolChoice": {"tool": {"name": "write_email"}}})
    assert response["stopReason"] == "tool_use"
    tool_use = response["output"]["message"]["content"][0]["toolUse"]
    assert tool_use["name"] == "write_email" and tool_use["toolUseId"]
    assert tool_use["input"]["product_ids"] == ["B01"]
    assert tool_use["input"]["subject"].startswith("Giulia")


def test_converse_max_tokens(server: RunningServer) -> None:
    response = converse(runtime_client(), inferenceConfig={"maxTokens": 5})
    assert response["stopReason"] == "max_tokens" and response["usage"]["outputTokens"] == 5


def test_invoke_model_claude(server: RunningServer) -> None:
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 500, "system": "Be brief.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
            "tools": [{"name": "write_email", "input_schema": EMAIL_TOOL["toolSpec"]["inputSchema"]["json"]}],
            "tool_choice": {"type": "any"}}
    response = runtime_client().invoke_model(modelId=CLAUDE, body=json.dumps(body))
    payload = json.loads(response["body"].read())
    assert payload["type"] == "message" and payload["role"] == "assistant"
    assert payload["id"].startswith("msg_bdrk_") and payload["model"] == "claude-3-haiku-20240307"
    assert payload["stop_reason"] == "tool_use"
    assert payload["content"][0]["type"] == "tool_use"
    assert payload["content"][0]["input"]["product_ids"] == ["B01"]
    assert set(payload["usage"]) == {"input_tokens", "output_tokens"}
    del body["tools"], body["tool_choice"]
    text = json.loads(runtime_client().invoke_model(modelId=CLAUDE, body=json.dumps(body))["body"].read())
    assert text["stop_reason"] == "end_turn" and "Giulia" in text["content"][0]["text"]


def embed(client: Any, text: str, dims: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"inputText": text}
    if dims:
        body["dimensions"] = dims
    return json.loads(client.invoke_model(modelId=TITAN, body=json.dumps(body))["body"].read())


@pytest.mark.parametrize("dims", [256, 512, 1024, None])
def test_invoke_model_titan_embeddings(server: RunningServer, dims: int | None) -> None:
    client = runtime_client()
    policy = embed(client, "the return policy allows 30 days", dims)
    assert len(policy["embedding"]) == (dims or 1024) and policy["inputTextTokenCount"] > 0
    question = np.array(embed(client, "how long do I have to return an item", dims)["embedding"])
    stores = np.array(embed(client, "our stores in Berlin", dims)["embedding"])
    vector = np.array(policy["embedding"])
    assert vector @ question > vector @ stores
    assert stats(server)["embedding_texts"] == 3


def test_validation_errors_not_500(server: RunningServer) -> None:
    client = runtime_client()
    assert error_code(lambda: client.invoke_model(modelId="acme.unknown-model", body="{}")) == ("ValidationException", 400)
    assert error_code(lambda: client.converse(
        modelId=TITAN, messages=[{"role": "user", "content": [{"text": "hi"}]}])) == ("ValidationException", 400)
    assert error_code(lambda: client.invoke_model(modelId=TITAN, body=json.dumps({"inputText": "x", "dimensions": 300}))) == ("ValidationException", 400)
    assert error_code(lambda: client.invoke_model(modelId=CLAUDE, body=json.dumps({"messages": []}))) == ("ValidationException", 400)
    assert error_code(lambda: client.invoke_model(modelId=CLAUDE, body=b"not json")) == ("ValidationException", 400)
    assert error_code(lambda: client.converse_stream(
        modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "hi"}]}])) == ("UnknownOperationException", 404)
    from airflow.providers.amazon.aws.hooks.comprehend import ComprehendHook

    comprehend = ComprehendHook(aws_conn_id="aws_default").conn
    assert error_code(lambda: comprehend.detect_entities(Text="x", LanguageCode="en"))[0] == "UnknownOperationException"


def test_comprehend_batch_detect_sentiment(server: RunningServer) -> None:
    from airflow.providers.amazon.aws.hooks.comprehend import ComprehendHook

    client = ComprehendHook(aws_conn_id="aws_default").conn
    texts = ["I love this, it works great!", "Awful. Broke in a day.", "It is a cable.",
             "Love the design, hate the battery."]
    response = client.batch_detect_sentiment(TextList=texts, LanguageCode="en")
    assert [r["Sentiment"] for r in response["ResultList"]] == ["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]
    assert [r["Index"] for r in response["ResultList"]] == [0, 1, 2, 3] and response["ErrorList"] == []
    assert sum(response["ResultList"][0]["SentimentScore"].values()) == pytest.approx(1.0, abs=1e-4)
    assert error_code(lambda: client.batch_detect_sentiment(TextList=["ok"] * 26, LanguageCode="en"))[0] == "BatchSizeLimitExceededException"
    assert error_code(lambda: client.batch_detect_sentiment(TextList=["ok", "ü" * 2501], LanguageCode="en"))[0] == "TextSizeLimitExceededException"
    assert error_code(lambda: client.batch_detect_sentiment(TextList=["ok"], LanguageCode="pl"))[0] == "UnsupportedLanguageException"


def test_batch_job_round_trip(start_stand_in: Start, use_aws_connection: Callable[..., None], moto_url: str) -> None:
    import boto3
    from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

    running = start_stand_in(s3_endpoint=moto_url, batch_min_records=5)
    use_aws_connection(running.url, s3_url=moto_url)
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="batch-bucket")
    records = [{"recordId": f"R{i:03d}", "modelInput": {
        "anthropic_version": "bedrock-2023-05-31", "max_tokens": 800,
        "messages": [{"role": "user", "content": PROMPT.replace("Giulia", f"Name{i}")}]}} for i in range(12)]
    records.append({"recordId": "BAD", "modelInput": {"messages": "nope"}})
    s3.put_object(Bucket="batch-bucket", Key="in/campaign.jsonl",
                  Body="\n".join(json.dumps(r) for r in records).encode())
    client = BedrockHook(aws_conn_id="aws_default").conn
    arn = client.create_model_invocation_job(
        jobName="campaign-1", roleArn="arn:aws:iam::123456789012:role/bedrock-batch", modelId=CLAUDE,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://batch-bucket/in/campaign.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://batch-bucket/out/"}})["jobArn"]
    job_id = arn.rsplit("/", 1)[-1]
    seen = set()
    for _ in range(200):
        job = client.get_model_invocation_job(jobIdentifier=arn)
        seen.add(job["status"])
        if job["status"] in ("Completed", "Failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "Completed", job.get("message")
    assert "InProgress" in seen or "Submitted" in seen
    assert client.get_model_invocation_job(jobIdentifier=job_id)["jobArn"] == arn
    assert [j["jobArn"] for j in client.list_model_invocation_jobs()["invocationJobSummaries"]] == [arn]
    lines = [json.loads(line) for line in s3.get_object(
        Bucket="batch-bucket", Key=f"out/{job_id}/campaign.jsonl.out")["Body"].read().decode().splitlines()]
    assert sorted(line["recordId"] for line in lines) == sorted(r["recordId"] for r in records)
    assert [line["recordId"] for line in lines] != [r["recordId"] for r in records]  # shuffled
    by_id = {line["recordId"]: line for line in lines}
    assert "error" in by_id["BAD"] and "modelOutput" not in by_id["BAD"]
    assert "Name7" in by_id["R007"]["modelOutput"]["content"][0]["text"]
    manifest = json.loads(s3.get_object(Bucket="batch-bucket", Key=f"out/{job_id}/manifest.json.out")["Body"].read())
    assert (manifest["totalRecordCount"], manifest["successRecordCount"], manifest["errorRecordCount"]) == (13, 12, 1)
    assert error_code(lambda: client.get_model_invocation_job(jobIdentifier="abcdefabcdef"))[0] == "ResourceNotFoundException"


def test_batch_job_fails_below_minimum_records(start_stand_in: Start, use_aws_connection: Callable[..., None], moto_url: str) -> None:
    import boto3
    from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

    running = start_stand_in(s3_endpoint=moto_url)  # the default minimum of 100 records
    use_aws_connection(running.url)
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="small-bucket")
    s3.put_object(Bucket="small-bucket", Key="in/few.jsonl", Body=b'{"recordId": "1", "modelInput": {}}\n')
    client = BedrockHook(aws_conn_id="aws_default").conn
    arn = client.create_model_invocation_job(
        jobName="too-small", roleArn="arn:aws:iam::123456789012:role/r", modelId=CLAUDE,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://small-bucket/in/few.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://small-bucket/out/"}})["jobArn"]
    for _ in range(100):
        job = client.get_model_invocation_job(jobIdentifier=arn)
        if job["status"] == "Failed":
            break
        time.sleep(0.05)
    assert job["status"] == "Failed" and "minimum of 100" in job["message"]


def test_latency_knob(start_stand_in: Start, use_aws_connection: Callable[..., None]) -> None:
    running = start_stand_in(latency_ms=300)
    use_aws_connection(running.url)
    client = runtime_client()
    started = time.monotonic()
    converse(client)
    assert time.monotonic() - started >= 0.3


def test_tpm_quota_throttles_with_bedrock_message(start_stand_in: Start, use_aws_connection: Callable[..., None]) -> None:
    running = start_stand_in(tpm=2000)
    use_aws_connection(running.url)
    client = runtime_client()
    # The reservation is input + maxTokens, so a large maxTokens alone exceeds the quota.
    with pytest.raises(ClientError) as info:
        converse(client, inferenceConfig={"maxTokens": 2500})
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    assert info.value.response["Error"]["Message"] == "Too many tokens, please wait before trying again."
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    outcomes = []
    for _ in range(40):  # each call settles to ~110 tokens, so the window fills up
        try:
            converse(client, inferenceConfig={"maxTokens": 300})
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    assert outcomes[0] == "ok" and outcomes[-1] == "ThrottlingException"
    assert stats(running)["quota_throttles"] == 1 + outcomes.count("ThrottlingException")


def test_throttle_and_error_rates(start_stand_in: Start, use_aws_connection: Callable[..., None]) -> None:
    running = start_stand_in(throttle_rate=1.0)
    use_aws_connection(running.url)
    assert error_code(lambda: converse(runtime_client())) == ("ThrottlingException", 429)
    running = start_stand_in(error_rate=1.0, seed=3)
    use_aws_connection(running.url)
    codes = {error_code(lambda: converse(runtime_client())) for _ in range(12)}
    assert codes == {("InternalServerException", 500), ("ServiceUnavailableException", 503)}
    assert stats(running)["injected_errors"] == 12


def test_throttle_rate_is_seeded_and_retries_recover(start_stand_in: Start, use_aws_connection: Callable[..., None]) -> None:
    def run(seed: int) -> list[str]:
        running = start_stand_in(throttle_rate=0.5, seed=seed)
        use_aws_connection(running.url)
        client = runtime_client()
        results = []
        for _ in range(10):
            try:
                converse(client)
                results.append("ok")
            except ClientError as error:
                results.append(error.response["Error"]["Code"])
        return results

    first = run(7)
    assert first == run(7) and {"ok", "ThrottlingException"} <= set(first)
    running = start_stand_in(throttle_rate=0.5, seed=7)
    use_aws_connection(running.url, max_attempts=8)  # botocore's standard retries absorb throttling
    assert all(converse(runtime_client())["stopReason"] == "end_turn" for _ in range(3))
    assert stats(running)["throttles"] > 0


def test_bad_output_rate(start_stand_in: Start, use_aws_connection: Callable[..., None]) -> None:
    running = start_stand_in(bad_output_rate=1.0)
    use_aws_connection(running.url)
    client = runtime_client()
    good_text = "Moka Pot è disponibile a 34.50 EUR."
    for _ in range(6):
        text = converse(client)["output"]["message"]["content"][0]["text"]
        assert good_text not in text or "{{first_name}}" in text or "Mystery Gadget" in text
    bad = stats(running)["bad_outputs"]
    assert sum(bad.values()) == 6 and set(bad) <= {"wrong_language", "invented_product", "placeholder"}


def test_health_and_stats(server: RunningServer) -> None:
    with urllib.request.urlopen(f"{server.url}/_local/health") as response:
        assert json.load(response)["status"] == "ok"
    converse(runtime_client())
    counters = stats(server)
    assert counters["calls"]["Converse"] == 1 and counters["input_tokens"] > 0 and counters["output_tokens"] > 0


def test_cli_reports_a_taken_port_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "local.bedrock.server", "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"local bedrock: port {port} is already in use (is the stack already running? try: make local-down)"]


def test_stop_batch_job(start_stand_in: Start, use_aws_connection: Callable[..., None], moto_url: str) -> None:
    from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

    running = start_stand_in(s3_endpoint=moto_url, batch_step_seconds=0.5)
    use_aws_connection(running.url)
    client = BedrockHook(aws_conn_id="aws_default").conn
    arn = client.create_model_invocation_job(
        jobName="to-stop", roleArn="arn:aws:iam::123456789012:role/r", modelId=CLAUDE,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://nowhere-bucket/in/x.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://nowhere-bucket/out/"}})["jobArn"]
    client.stop_model_invocation_job(jobIdentifier=arn)
    assert client.get_model_invocation_job(jobIdentifier=arn)["status"] == "Stopping"
    for _ in range(40):
        if client.get_model_invocation_job(jobIdentifier=arn)["status"] == "Stopped":
            break
        time.sleep(0.05)
    assert client.get_model_invocation_job(jobIdentifier=arn)["status"] == "Stopped"
    assert error_code(lambda: client.stop_model_invocation_job(jobIdentifier=arn))[0] == "ConflictException"


def test_knobs_change_at_runtime(server: RunningServer) -> None:
    def post(body: object) -> tuple[int, dict]:
        request = urllib.request.Request(f"{server.url}/_local/config", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    status, knobs = post({"throttle_rate": 1.0})
    assert status == 200 and knobs["throttle_rate"] == 1.0
    with pytest.raises(ClientError, match="ThrottlingException"):
        converse(runtime_client())
    assert post({"throttle_rate": 0})[1]["throttle_rate"] == 0.0
    converse(runtime_client())
    assert post({"throttle_rate": 2})[0] == 400 and post({"nonsense": 1})[0] == 400
    with urllib.request.urlopen(f"{server.url}/_local/config") as response:
        assert json.load(response)["throttle_rate"] == 0.0
