"""Catalog fixtures: every store test runs against SQLite and a real PostgreSQL server.

PostgreSQL is `scripts/postgres.py`, started once per session, unless OPENEE_TEST_PG_DSN names a
server to use instead. Each test gets its own schema (its own tables) in that server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from openee.catalog.postgres import PostgresCatalog
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import CatalogStore

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_SCRIPT = REPO_ROOT / "scripts" / "postgres.py"


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A DSN of a PostgreSQL server that lives for the session."""
    given = os.environ.get("OPENEE_TEST_PG_DSN")
    if given:
        yield given
        return
    proc = subprocess.Popen(
        [sys.executable, str(PG_SCRIPT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline().decode().strip()
    if not line:
        proc.wait(30)
        err = proc.stderr.read().decode() if proc.stderr else ""
        pytest.fail(f"scripts/postgres.py did not start PostgreSQL:\n{err}")
    try:
        yield line
    finally:
        proc.stdin.close()  # the script stops the server and deletes it when stdin closes
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def pg_schema_dsn(pg_dsn: str) -> Iterator[str]:
    """A DSN whose tables live in a fresh schema, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield make_conninfo(pg_dsn, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


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
