"""Render the project's SQL files (include/sql/<dag>/<step>.sql) with Jinja.

Only identifiers and paths the code controls are templated in; record values are never put into
SQL text (they travel through staged files). StrictUndefined turns a missing variable into an
error instead of an empty string in a statement.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

import include

SQL_ROOT = Path(include.__file__).resolve().parent / "sql"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SQL_ROOT)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 (SQL, not HTML; inputs are validated identifiers and paths)
    )


def render_sql(dag_id: str, step: str, **params: object) -> str:
    """The text of include/sql/<dag_id>/<step>.sql rendered with ``params``."""
    return _environment().get_template(f"{dag_id}/{step}.sql").render(**params)
