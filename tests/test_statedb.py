"""The state database (`openee.statedb`), on SQLite and on PostgreSQL: versioned migrations run
once and in order, a newer schema is refused, constraint violations are one error type, and the
SQL written once (`?`, `%` in LIKE, ON CONFLICT) means the same on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openee.cli import main as openee_cli
from openee.settings import Settings
from openee.statedb import Conn, IntegrityError, SqliteState, StateDB


@pytest.fixture
def db(state_target: Path | StateDB) -> Iterator[StateDB]:
    made = state_target if isinstance(state_target, StateDB) else SqliteState(state_target)
    yield made
    made.close()


def test_migrations_run_once_in_order_and_record_the_version(db: StateDB) -> None:
    ran: list[str] = []

    def second(conn: Conn) -> None:
        ran.append("second")
        conn.execute("INSERT INTO things (name, size) VALUES (?, ?)", ("seed", 1.5))

    first = ("CREATE TABLE things (name TEXT PRIMARY KEY, size {real} NOT NULL)",)
    assert db.migrate("things", [first]) == 1
    assert db.migrate("things", [first, second]) == 2
    assert db.migrate("things", [first, second]) == 2  # nothing left to run
    assert ran == ["second"]
    assert db.versions()["things"] == 2
    with db.tx(write=False) as conn:
        assert conn.execute("SELECT name, size FROM things").fetchall() == [("seed", 1.5)]


def test_a_schema_newer_than_the_code_is_refused(db: StateDB) -> None:
    db.migrate("things", [("CREATE TABLE things (x TEXT)",), ("CREATE TABLE more (y TEXT)",)])
    with pytest.raises(
        RuntimeError, match=r"things schema .* is version 2, newer than this openee knows \(1\)"
    ):
        db.migrate("things", [("CREATE TABLE things (x TEXT)",)])


def test_one_integrity_error_and_the_same_sql_on_both(db: StateDB) -> None:
    db.migrate("t", [("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)",)])
    with db.tx() as conn:
        conn.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [("a", "EXPORT_IMAGE"), ("b", "x")])
    with pytest.raises(IntegrityError), db.tx() as conn:
        conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", ("a", "again"))
    with db.tx() as conn:  # the failed transaction left nothing behind
        cur = conn.execute("INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING", ("a", "z"))
        assert cur.rowcount == 0
        assert conn.execute("SELECT k FROM t WHERE v LIKE 'EXPORT%'").fetchall() == [("a",)]
        assert conn.execute("SELECT v FROM t WHERE k = ?", ("a",)).fetchone() == ("EXPORT_IMAGE",)


def test_a_failed_transaction_writes_nothing(db: StateDB) -> None:
    db.migrate("t", [("CREATE TABLE t (k TEXT PRIMARY KEY)",)])
    with pytest.raises(ValueError), db.tx() as conn:
        conn.execute("INSERT INTO t (k) VALUES (?)", ("a",))
        raise ValueError("midway")
    with db.tx(write=False) as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_db_upgrade_creates_every_schema(
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    for name in ("OPENEE_STATE", "OPENEE_CATALOG"):
        monkeypatch.delenv(name, raising=False)
    if kind == "postgres":
        monkeypatch.setenv("OPENEE_STATE", request.getfixturevalue("pg_schema_dsn"))
    assert openee_cli(["db", "upgrade", "--data-dir", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert "auth: version 2" in out and "operations: version 3" in out
    if kind == "postgres":
        assert "audit: version 1" in out and "ratelimit: version 1" in out
        assert not (tmp_path / "data" / "auth.sqlite").exists()
    else:
        assert (tmp_path / "data" / "auth.sqlite").exists()
        assert (tmp_path / "data" / "operations.sqlite").exists()
    assert (tmp_path / "data" / "catalog.sqlite").exists()  # OPENEE_STATE moves the state only


def test_db_upgrade_names_an_unreachable_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENEE_CATALOG", raising=False)
    monkeypatch.setenv("OPENEE_STATE", f"postgresql://nobody@/none?host={tmp_path}/no-socket")
    assert openee_cli(["db", "upgrade", "--data-dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("openee db: ") and "no-socket" in err


def test_the_state_setting_takes_postgresql_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENEE_STATE", "/tmp/state.sqlite")
    with pytest.raises(ValueError, match="OPENEE_STATE must be a PostgreSQL connection string"):
        Settings.from_env()
    monkeypatch.setenv("OPENEE_STATE", "")
    monkeypatch.setenv("OPENEE_CATALOG", "host=db dbname=openee")
    assert Settings.from_env().state_dsn == "host=db dbname=openee"  # the catalog's server
    monkeypatch.setenv("OPENEE_CATALOG", "/srv/catalog.sqlite")
    assert Settings.from_env().state_dsn is None  # SQLite files in the data dir
