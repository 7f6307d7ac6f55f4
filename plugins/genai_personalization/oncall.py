"""On-call: one line per task that failed for good, posted to a chat webhook, never customer data.

Every DAG sets ``default_args["on_failure_callback"] = OnCallNotifier()``. Airflow runs a task's
``on_failure_callback`` only when the task ends FAILED, i.e. after its last try (a try that will be
retried runs ``on_retry_callback``, which we leave empty: a retry is no reason to page anyone). It
runs in the task's own process after the failure is recorded, or in the DAG processor when the
task process died (then there is no exception to quote). One line per failed task instance::

    DAG <dag_id> task <task_id>[<map_index>] run <run_id> try <n>/<max> failed: <Class>: <first line> | log: <url>

``[<map_index>]`` only for mapped tasks; ``<max>`` is the last try the task was allowed
(retries + 1, more after a clear); ``<url>`` is the task's log page under ``[api] base_url``.

The reason is the exception's class and the first line of its message (with the next line when the
first ends with a colon, as Snowflake's do), whitespace collapsed, scrubbed, then cut to
``MAX_REASON_CHARS``. Scrubbing replaces e-mail addresses, phone-like digit groups and runs of 7+
digits, and empties quoted literals unless they look like identifiers or paths (``'Anna Müller'``
becomes ``'…'``, ``'GENAI.RAW.CUSTOMERS'`` stays): exception messages are where customer values
leak (a failed cast quotes the value). Nothing else of the task goes in: no params, rendered
templates, XCom, SQL or log text.

Where it goes: the Airflow connection named by ``GENAI_ONCALL_CONN_ID`` (default ``genai_oncall``),
whose **password** is the full incoming-webhook URL (a secret: Airflow masks connection passwords
in logs); optional extra ``{"timeout": seconds}`` (default 5, at most 30). The body is
``{"text": "<line>"}``, which the incoming webhooks of Slack, Mattermost, Google Chat and Microsoft
Teams (Office 365 connector) accept. Without the connection the line is logged at ERROR only. A
failed post is logged in one line (with the line it carried) and never raised: it must not change
or hide the task's own failure.

Importing this module costs nothing beyond ``airflow.sdk`` (DAG files import it at every parse): the
HTTP client and the connection are touched only when a task fails.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

if TYPE_CHECKING:
    from airflow.sdk import Context

CONN_ID_ENV = "GENAI_ONCALL_CONN_ID"
DEFAULT_CONN_ID = "genai_oncall"
DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_TIMEOUT_SECONDS = 30.0
MAX_REASON_CHARS = 300
_SCAN_CHARS = 4000  # scrubbing reads at most this much of a message; the reason is cut far shorter anyway
NO_EXCEPTION = "no exception recorded (the task process died or lost its heartbeat, or was failed from outside)"

# Order matters: dates (also as S3 hour folders and 20250301) and UUIDs (Snowflake query ids) are kept
# whole before their digits can look like a phone number or a long number.
_SENSITIVE = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
    r"|\d{4}/\d\d/\d\d(?:/\d\d)?|(?<!\d)(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d))"
    r"|(?P<uuid>\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b)"
    r"|(?P<email>[\w.%+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*)"
    r"|(?P<phone>(?<![\w+(])\+?\(?\d(?:[ ().\-/]{0,2}\d){7,}(?!\w))"
    r"|(?P<number>\d{7,})"
)
_QUOTED = re.compile(r"""(?<!\w)(?P<q>['"])(?P<body>[^'"\n]{1,500})(?P=q)(?!\w)""")
# quoted text that is kept: Snowflake identifiers (upper case), lower-case names, keys and paths
_HARMLESS_QUOTED = re.compile(r"^(?:[A-Z0-9_$.\-]+|[a-z0-9_$.:/\-]+|[^\s<>]*/[^\s<>]*)$")
_WHITESPACE = re.compile(r"\s+")


def scrub(text: str) -> str:
    """``text`` with what could be customer data replaced: e-mails, phone numbers, long digit runs, quoted values."""

    def sensitive(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind in ("date", "uuid"):
            return match.group()
        if kind == "phone":
            if sum(c.isdigit() for c in match.group()) < 8:
                return match.group()
            if match.group().isdigit():  # one unbroken run: a number, not necessarily a phone's
                return "<number>"
        return f"<{kind}>"

    def quoted(match: re.Match[str]) -> str:
        body = match.group("body")
        return match.group() if _HARMLESS_QUOTED.match(body) else f"{match.group('q')}…{match.group('q')}"

    return _QUOTED.sub(quoted, _SENSITIVE.sub(sensitive, text))


def _message_head(text: str) -> str:
    """The first non-empty line, with the next one when it only introduces it (ends with a colon)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0]
    if head.endswith(":") and len(lines) > 1:
        head = f"{head} {lines[1]}"
    return head


def failure_reason(error: object, limit: int = MAX_REASON_CHARS) -> str:
    """``<Class>: <first line>`` of the task's exception, scrubbed and at most ``limit`` characters."""
    if error is None:
        return NO_EXCEPTION
    if isinstance(error, BaseException):
        kind = type(error).__name__
        try:
            text = str(error)
        except Exception:  # a broken __str__ must not cost the notice
            text = ""
    else:  # some paths hand over a message instead of the exception
        kind, text = "", str(error)
    head = _message_head(text)
    if len(head) > _SCAN_CHARS:  # cut on a space, so no half e-mail address slips past scrubbing
        head = head[:_SCAN_CHARS].rsplit(" ", 1)[0]
    head = _WHITESPACE.sub(" ", scrub(head)).strip()
    reason = f"{kind}: {head}" if kind and head else (kind or head or "no message")
    return reason if len(reason) <= limit else reason[: limit - 1].rstrip() + "…"


def failure_line(context: Context | dict[str, Any]) -> str:
    """The one line on-call gets for a failed task instance (format in the module docstring)."""
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None) or "?"
    task_id = getattr(ti, "task_id", None) or "?"
    map_index = getattr(ti, "map_index", None)
    run_id = getattr(ti, "run_id", None) or context.get("run_id") or "?"
    try_number = getattr(ti, "try_number", None)
    max_tries = getattr(ti, "max_tries", None)
    try:
        log_url = getattr(ti, "log_url", None) or "no log link"
    except Exception:  # the URL needs [api] base_url; the notice goes out without it
        log_url = "no log link"
    task = f"{task_id}[{map_index}]" if isinstance(map_index, int) and map_index >= 0 else task_id
    tries = f"{try_number if try_number else '?'}/{max_tries + 1 if isinstance(max_tries, int) else '?'}"
    reason = failure_reason(context.get("exception"))
    return f"DAG {dag_id} task {task} run {run_id} try {tries} failed: {reason} | log: {log_url}"


def post_to_webhook(url: str, line: str, timeout: float) -> None:
    """POST ``{"text": line}`` as JSON; raises on a non-2xx answer, a network error or the timeout."""
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps({"text": line}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "genai-personalization-oncall"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (an http(s) URL, checked)
        response.read(65536)


def _post_error(error: Exception, url: str, timeout: float) -> str:
    """What went wrong with a post, in a few words and without the webhook URL (which is a secret)."""
    import urllib.error

    reason: object = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(error, urllib.error.HTTPError):
        text = f"HTTP {error.code}"
    elif isinstance(reason, TimeoutError):
        text = f"no answer within {timeout:g}s"
    else:
        text = f"{type(reason).__name__}: {_message_head(str(reason))}"
    return text.replace(url, "<webhook>")[:200]


def _timeout(extra: dict[str, Any]) -> float:
    try:
        value = float(extra.get("timeout", DEFAULT_TIMEOUT_SECONDS))
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_SECONDS
    return value if 0 < value <= MAX_TIMEOUT_SECONDS else DEFAULT_TIMEOUT_SECONDS


class OnCallNotifier(BaseNotifier):
    """Failure callback: one scrubbed line per failed task to the on-call webhook, or to the log.

    :param conn_id: connection holding the webhook URL in its password; default from
        ``GENAI_ONCALL_CONN_ID`` (read when a task fails), else ``genai_oncall``
    """

    def __init__(self, conn_id: str | None = None) -> None:
        super().__init__()
        self.conn_id = conn_id

    def notify(self, context: Context) -> None:
        # Messages are formatted here, not by the logger: Airflow's loggers are structlog's, whose event is
        # the whole line, so the line appears in the task log exactly as it was (or would have been) posted.
        try:
            line = failure_line(context)
        except Exception as e:  # never let the notice add a failure of its own
            self.log.error(f"on-call notice could not be built ({type(e).__name__}); see the task's log")
            return
        conn_id = self.conn_id or os.environ.get(CONN_ID_ENV) or DEFAULT_CONN_ID
        try:
            from airflow.sdk import BaseHook
            from airflow.sdk.exceptions import AirflowNotFoundException

            try:
                conn = BaseHook.get_connection(conn_id)
            except AirflowNotFoundException:
                self.log.error(f"on-call (no connection {conn_id}, logged only): {line}")
                return
            url = (conn.password or "").strip()
            if not url.lower().startswith(("http://", "https://")):
                self.log.error(f"on-call (connection {conn_id} has no http(s) webhook URL in its password, "
                               f"logged only): {line}")
                return
            timeout = _timeout(conn.extra_dejson)
        except Exception as e:
            self.log.error(f"on-call (connection {conn_id} unreadable: {type(e).__name__}, logged only): {line}")
            return
        try:
            post_to_webhook(url, line, timeout)
        except Exception as e:
            self.log.error(f"on-call post to {conn_id} failed ({_post_error(e, url, timeout)}), the line was: {line}")
            return
        self.log.info(f"on-call notice posted to {conn_id}: {line}")
