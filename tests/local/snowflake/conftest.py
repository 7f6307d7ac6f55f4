"""In-process fakesnow (``fakesnow.patch()``) with the local Snowflake extensions installed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fakesnow
import pytest
import snowflake.connector

from local.snowflake.extensions import install


@pytest.fixture
def sf_conn() -> Iterator[Any]:
    install()
    with fakesnow.patch():
        # qmark, so parameters are bound server-side as the TLS server receives them
        conn = snowflake.connector.connect(database="GENAI", schema="PUBLIC", paramstyle="qmark")
        yield conn
        conn.close()


@pytest.fixture
def cur(sf_conn: Any) -> Any:  # noqa: ANN401 (fakesnow cursor)
    return sf_conn.cursor()
