"""A local incoming webhook (Slack/Teams style) for the on-call tests: a real HTTP server in a thread.

It records every JSON body POSTed to it and answers with a chosen status, or hangs (until the test
ends) to let the notifier's timeout expire. Shared by tests/unit/test_oncall.py and
tests/integration/test_oncall_end_to_end.py.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Webhook:
    def __init__(self, status: int = 200, *, hang: bool = False) -> None:
        self.status = status
        self.hang = hang
        self.requests: list[dict[str, Any]] = []  # {"path", "content_type", "body"} per POST
        self._lock = threading.Lock()
        self._release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook._lock:
                    hook.requests.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                          "body": json.loads(raw)})
                if hook.hang:
                    hook._release.wait(30)
                self.send_response(hook.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if hook.status < 300 else b"error")

            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oncall-webhook", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/services/T000/B000/secret-token"

    def lines(self) -> list[str]:
        """The ``text`` of every message received, in order."""
        with self._lock:
            return [r["body"]["text"] for r in self.requests]

    def connection_json(self, **extra: Any) -> str:
        """The AIRFLOW_CONN_* value of an on-call connection pointing here (URL in the password)."""
        return json.dumps({"conn_type": "http", "password": self.url, **({"extra": extra} if extra else {})})

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
