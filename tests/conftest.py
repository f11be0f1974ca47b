"""Suite-wide hooks: every registered algorithm must be exercised by at least one test.

At start the suite sets OPENEE_RECORD_ALGORITHMS to a fresh directory (`openee.graph.record`):
this process records the algorithms its in-process evaluations call, and every server process
the tests start inherits the variable and writes its own file there when it exits (the servers
stop on SIGTERM before the session ends). At the end of a run of the whole suite (no path
narrower than tests/, no -k or -m selection, nothing failed), the union of the recorded names is
compared with the registry and the run fails, listing the algorithms no test called.

OPENEE_COVERAGE_CHECK=1 forces the check on a narrower run, =0 turns it off.

PostgreSQL for the store tests (catalog, state) is `scripts/postgres.py`, started once per
session when a test first asks for it, unless OPENEE_TEST_PG_DSN names a server to use instead.
Each test gets its own schema (its own tables) in that server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from openee.graph import record
from openee.statedb import PostgresState, StateDB

TESTS_DIR = Path(__file__).resolve().parent
PG_SCRIPT = TESTS_DIR.parent / "scripts" / "postgres.py"
_state: dict[str, object] = {"dir": None, "deselected": 0, "missing": None}


def pytest_configure(config: pytest.Config) -> None:
    if record.ENV_VAR in os.environ:  # an outer run already records: share it
        return
    directory = tempfile.mkdtemp(prefix="openee-algorithms-")
    _state["dir"] = directory
    os.environ[record.ENV_VAR] = directory


def pytest_deselected(items: list[pytest.Item]) -> None:
    _state["deselected"] = int(str(_state["deselected"])) + len(items)


def _whole_suite(session: pytest.Session) -> bool:
    forced = os.environ.get("OPENEE_COVERAGE_CHECK")
    if forced is not None:
        return forced == "1"
    config = session.config
    if config.option.keyword or config.option.markexpr or _state["deselected"]:
        return False
    if session.testsfailed or session.shouldstop or session.shouldfail:
        return False
    here = config.invocation_params.dir
    paths = [(here / str(a).split("::")[0]).resolve() for a in config.args]
    return all(p in (TESTS_DIR, TESTS_DIR.parent) for p in paths)


def recorded_names() -> set[str]:
    """Algorithms called in this process and by every server that recorded into the directory."""
    names = set(record.called())
    directory = os.environ.get(record.ENV_VAR)
    if directory and Path(directory).is_dir():
        for path in Path(directory).glob("algorithms-*.txt"):
            names |= set(path.read_text().split())
    return names


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    try:
        if not _whole_suite(session):
            return
        from openee.algorithms import default_registry

        missing = sorted(set(default_registry().names()) - recorded_names())
        _state["missing"] = missing
        if missing:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    finally:
        directory = _state["dir"]
        if isinstance(directory, str):
            shutil.rmtree(directory, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    missing = _state["missing"]
    if not isinstance(missing, list):
        return
    if not missing:
        terminalreporter.write_line("algorithm coverage: every registered algorithm was called")
        return
    terminalreporter.section("algorithm coverage", red=True)
    terminalreporter.write_line(
        f"{len(missing)} registered algorithms were not called by any test:", red=True
    )
    for name in missing:
        terminalreporter.write_line(f"  {name}")


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
def state_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | StateDB]:
    """Where a state store lives, of each kind: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield tmp_path / "state.sqlite"
        return
    db = PostgresState(request.getfixturevalue("pg_schema_dsn"))
    try:
        yield db
    finally:
        db.close()


# The threads an app starts when it is built and that use its state database. (Its chunk pool's
# threads start on first use, also while a test uses an app a module-scoped fixture built, so a
# thread started during a test is not necessarily that test's.)
_APP_THREADS = ("openee-leases", "openee-operations-")


def _app_threads() -> dict[int, threading.Thread]:
    return {
        t.ident: t
        for t in threading.enumerate()
        if t.ident is not None and t.name.startswith(_APP_THREADS)
    }


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fails a test that leaves an app's background thread (its operation runners, its lease
    keeper) running: an app a test built must be shut down (a TestClient used
    as a context manager runs its shutdown), or the thread outlives its database and keeps
    writing to it."""
    before = set(_app_threads())
    yield
    deadline = time.monotonic() + 5  # a thread told to stop may be finishing a step
    leaked = []
    for ident, thread in _app_threads().items():
        if ident not in before:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                leaked.append(thread.name)
    assert not leaked, f"background threads left running: {sorted(leaked)}"
