"""An HTML preview of one campaign's emails, for a person to open: one card per email.

`make demo` writes it after the pipelines ran. Each card shows the status, the language written
(and the customer's, when English was a fallback), the products the email mentions and was
written from, the validation notes, and the subject, preheader and body. It is a local file with
customer data in it: the demo prints only its path, never its content.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

QUERY = """
SELECT CUSTOMER_ID, STATUS, LANGUAGE, PREFERRED_LANGUAGE, LANGUAGE_FALLBACK, DETECTED_LANGUAGE, SUBJECT,
       PREHEADER, BODY, TO_JSON(PRODUCT_IDS), TO_JSON(RECOMMENDED_PRODUCT_IDS), TO_JSON(REASONS), TO_JSON(NOTES),
       ATTEMPTS, MODEL_ID, MODE
FROM {database}.MARKETING.EMAILS
WHERE CAMPAIGN_ID = %(campaign_id)s
ORDER BY STATUS, LANGUAGE, CUSTOMER_ID
"""
LATEST = "SELECT CAMPAIGN_ID FROM {database}.MARKETING.EMAILS ORDER BY UPDATED_AT DESC LIMIT 1"
COLUMNS = ("customer_id", "status", "language", "preferred_language", "fallback", "detected_language", "subject",
           "preheader", "body", "product_ids", "recommended_ids", "reasons", "notes", "attempts", "model_id", "mode")
STATUS_COLOURS = {"generated": "#1b7f3b", "needs_review": "#b26a00", "failed": "#b00020", "skipped": "#666"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; background: #f4f4f1; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #555; margin-bottom: 1.5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(26rem, 1fr)); gap: 1rem; }
.card { background: #fff; border-radius: 8px; padding: 1rem 1.2rem; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.status { color: #fff; border-radius: 4px; padding: .1rem .5rem; font-size: .8rem; }
.tags span { display: inline-block; background: #eef; border-radius: 4px; padding: 0 .4rem; margin: .1rem; font-size: .8rem; }
.subject { font-weight: 600; margin: .6rem 0 .1rem; } .preheader { color: #666; font-size: .9rem; }
.body { white-space: pre-wrap; border-top: 1px solid #eee; margin-top: .6rem; padding-top: .6rem; font-size: .92rem; }
.notes { color: #b26a00; font-size: .85rem; margin: .4rem 0 0 1rem; padding: 0; }
"""


def _list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = json.loads(value) if isinstance(value, str) else value
    return [str(item) for item in items or []]


def render(campaign_id: str, rows: list[dict[str, Any]]) -> str:
    counts = Counter(row["status"] for row in rows)
    cards = []
    for row in rows:
        esc = {k: html.escape(str(v)) if v is not None else "" for k, v in row.items()}
        colour = STATUS_COLOURS.get(row["status"], "#333")
        language = esc["language"] + (f" (customer: {esc['preferred_language']}, English fallback)" if row["fallback"] else "")
        detected = f", detected {esc['detected_language']}" if row["detected_language"] else ""
        mentioned = set(_list(row["product_ids"]))
        products = "".join(
            f"<span>{html.escape(p)}{' ✓' if p in mentioned else ''}</span>" for p in _list(row["recommended_ids"])
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in _list(row["reasons"]) + _list(row["notes"]))
        cards.append(f"""
<div class="card">
  <div><span class="status" style="background:{colour}">{esc['status']}</span>
       customer {esc['customer_id']} · {language}{detected} · {esc['attempts'] or 0} attempt(s) · {esc['mode']}</div>
  <div class="tags">products (✓ mentioned): {products or '<em>none</em>'}</div>
  {f'<ul class="notes">{notes}</ul>' if notes else ''}
  <div class="subject">{esc['subject']}</div>
  <div class="preheader">{esc['preheader']}</div>
  <div class="body">{esc['body']}</div>
</div>""")
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Campaign {html.escape(campaign_id)}</title>
<style>{STYLE}</style></head>
<body><h1>Campaign {html.escape(campaign_id)}</h1>
<div class="meta">{len(rows)} email(s): {html.escape(summary)}. Written by the local Bedrock stand-in, a
deterministic test double (not a language model), from each customer's recommendations and the
company documents.</div>
<div class="cards">{''.join(cards)}</div></body></html>
"""


def write_preview(hook: Any, database: str, out: Path, campaign_id: str | None = None) -> tuple[str, Counter[str]] | None:
    """Write the preview of ``campaign_id`` (default: the latest written) to ``out``; None if there are no emails."""
    if campaign_id is None:
        latest = hook.get_first(LATEST.format(database=database))
        if not latest:
            return None
        campaign_id = str(latest[0])
    conn = hook.get_conn()
    try:
        cursor = conn.cursor()
        cursor.execute(QUERY.format(database=database), {"campaign_id": campaign_id})  # not hook.run: no logging
        rows = [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]
    finally:
        conn.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(campaign_id, rows), encoding="utf-8")
    return campaign_id, Counter(row["status"] for row in rows)
