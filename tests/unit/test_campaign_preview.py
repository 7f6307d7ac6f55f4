"""The HTML preview of a campaign (local/preview.py): one card per email, everything escaped."""

from __future__ import annotations

import json

from local.preview import COLUMNS, render


def email(customer_id: str, status: str, **changes: object) -> dict[str, object]:
    row: dict[str, object] = dict(zip(COLUMNS, (
        customer_id, status, "de", "de", False, "de", "Ihre Auswahl", "Neu für Sie", "Hallo Anna,\nKlingt gut.",
        json.dumps(["P1"]), json.dumps(["P1", "P2"]), json.dumps([]), json.dumps([]), 1, "anthropic.claude", "on_demand",
    )))
    row.update(changes)
    return row


def test_one_card_per_email_with_status_language_products_and_notes() -> None:
    page = render("email-2026-11-22", [
        email("C1", "generated"),
        email("C2", "needs_review", reasons=json.dumps(["wrong language: detected fr, expected de"]), attempts=2),
        email("C3", "generated", language="en", preferred_language="sw", fallback=True,
              notes=json.dumps(["preferred language sw not supported: written in English"])),
    ])
    assert page.count('<div class="card">') == 3
    assert "3 email(s): 2 generated, 1 needs_review" in page
    assert "wrong language: detected fr, expected de" in page and "2 attempt(s)" in page
    assert "customer: sw, English fallback" in page
    assert "<span>P1 ✓</span><span>P2</span>" in page


def test_model_text_is_escaped() -> None:
    page = render("c", [email("C1", "generated", body="<script>alert(1)</script>", subject="a & b")])
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &amp; b" in page
