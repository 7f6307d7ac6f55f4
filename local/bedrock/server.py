"""Run the stand-in: ``python -m local.bedrock.server --port 18600 --s3-endpoint URL``.

Also ``serve_in_thread(config)`` for tests and benchmarks: a real uvicorn server on a free
port in a daemon thread.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from local.bedrock.app import create_app
from local.bedrock.config import StandInConfig

logger = logging.getLogger("local.bedrock")


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(config: StandInConfig, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    sock = _bind(host, port)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("local bedrock did not start")
        time.sleep(0.02)
    return RunningServer(server, thread, f"http://{host}:{sock.getsockname()[1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local Bedrock / Comprehend stand-in (a test double)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18600)
    parser.add_argument("--s3-endpoint", default=None, help="S3 (moto) endpoint for batch jobs")
    parser.add_argument("--tokenizer", default=None, help="tokenizer.json of all-MiniLM-L6-v2")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = StandInConfig.from_env(
            s3_endpoint=args.s3_endpoint,
            tokenizer_path=Path(args.tokenizer) if args.tokenizer else None,
        )
    except ValueError as error:
        sys.stderr.write(f"local bedrock: invalid configuration: {error}\n")
        return 2
    try:
        sock = _bind(args.host, args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            sys.stderr.write(f"local bedrock: port {args.port} is already in use "
                             "(is the stack already running? try: make local-down)\n")
        else:
            sys.stderr.write(f"local bedrock: cannot listen on {args.host}:{args.port}: {error.strerror}\n")
        return 1
    app = create_app(config)
    # Load the embedding model in the background so the first Titan call is not slow.
    stand_in = app.state.stand_in
    threading.Thread(target=_preload, args=(stand_in,), daemon=True).start()
    logger.info("local bedrock (test double) on http://%s:%d (tpm=%s latency_ms=%s throttle=%s "
                "error=%s bad_output=%s)", args.host, args.port, config.tpm, config.latency_ms,
                config.throttle_rate, config.error_rate, config.bad_output_rate)
    # clients keep pooled connections open; without a bound, a stop would wait for them forever
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _preload(stand_in: object) -> None:
    try:
        embedder = stand_in.embedder  # type: ignore[attr-defined]
        embedder.load()
        for dims in (256, 512, 1024):
            embedder.embed("warm-up", dims)  # builds the projection matrices once
    except Exception as error:  # noqa: BLE001 - a missing model only breaks Titan calls
        logger.error("embedding model not loaded: %s", error)


if __name__ == "__main__":
    sys.exit(main())
