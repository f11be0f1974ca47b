"""Catalog fixtures: every store test runs against SQLite and a real PostgreSQL server (the
session's, `pg_schema_dsn` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openee.catalog.postgres import PostgresCatalog
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import CatalogStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogStore]:
    """An empty store of each implementation."""
    made: CatalogStore
    if request.param == "sqlite":
        made = SqliteCatalog(tmp_path / "catalog.sqlite")
    else:
        made = PostgresCatalog(request.getfixturevalue("pg_schema_dsn"))
    try:
        yield made
    finally:
        made.close()
