"""The server's state database: one interface over SQLite (embedded) and PostgreSQL (shared).

Accounts, keys, tokens, IAM bindings, capabilities and API keys (`auth/`), operations
(`services/operations.py`) and, with PostgreSQL, the audit trail and the failed-authentication
counters live in tables reached through `StateDB.tx()`. Queries are written once, in the SQL both
databases speak (`?` placeholders, `ON CONFLICT`, no `INSERT OR IGNORE`); `Conn` turns the
placeholders into psycopg's. Schemas are versioned per component (`migrate`): each component's
migrations run once, in order, recorded in `openee_schema`, by `openee db upgrade` and on start.

SQLite keeps one file per component in the data dir (auth.sqlite, operations.sqlite), as before;
PostgreSQL holds every component in one database, shared by every replica (ADR 0046).
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal

from openee.dbfile import SqliteFile

Dialect = Literal["sqlite", "postgres"]
# A migration: DDL statements (one per string; `{real}` is a double-precision column type,
# `{serial}` an auto-numbered primary key), or a function for what DDL cannot say.
Migration = Sequence[str] | Callable[["Conn"], None]

_TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {"real": "REAL", "serial": "INTEGER PRIMARY KEY"},
    "postgres": {"real": "DOUBLE PRECISION", "serial": "BIGSERIAL PRIMARY KEY"},
}
# The database's own clock, in Unix seconds (a double), as SQL: what operation leases are
# compared with, so that replicas whose clocks disagree still agree on which lease ran out.
# PostgreSQL: the server's clock at the statement; SQLite: the clock of the one machine whose
# processes share the file (`'now'` is fixed within one statement).
_NOW: dict[Dialect, str] = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgres": "date_part('epoch', clock_timestamp())",
}
# Connections one process keeps to PostgreSQL for its state (each replica; the catalog has its own).
POOL_SIZE = 8
# How long a transaction waits for a free pooled connection before giving up, in seconds.
POOL_WAIT_S = 60.0


class SchemaTooNewError(RuntimeError):
    """The database holds a schema version this openee does not know: a newer openee upgraded
    it. Refused rather than guessed at (`openee serve` and `openee db upgrade` say so)."""


class IntegrityError(Exception):
    """A unique, primary-key or foreign-key constraint refused a write (either database)."""


class Conn:
    """One connection inside one transaction; `?` placeholders on both databases."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect

    @property
    def now(self) -> str:
        """SQL for the database's current time in Unix seconds (`lease_until < {conn.now}`)."""
        return _NOW[self.dialect]

    def _sql(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql
        # psycopg: `%` is its escape character, `%s` its placeholder.
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Runs one statement; returns the cursor (`fetchone`, `fetchall`, `rowcount`)."""
        try:
            return self.raw.execute(self._sql(sql), tuple(params))
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        except Exception as exc:
            if _is_pg_integrity(exc):
                raise IntegrityError(str(exc)) from exc
            raise

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            try:
                self.raw.executemany(sql, rows)
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(str(exc)) from exc
            return
        with self.raw.cursor() as cur:
            try:
                cur.executemany(self._sql(sql), [tuple(r) for r in rows])
            except Exception as exc:
                if _is_pg_integrity(exc):
                    raise IntegrityError(str(exc)) from exc
                raise

    def lock(self, key: str) -> None:
        """Serializes this transaction with every other one that locks `key`, in any process,
        until it ends (a read-modify-write). SQLite's write transactions already are."""
        if self.dialect == "postgres":
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(key),))

    def columns(self, table: str) -> set[str]:
        """The column names of a table (empty if it does not exist)."""
        if self.dialect == "sqlite":
            return {r[1] for r in self.raw.execute(f"PRAGMA table_info({table})")}
        rows = self.raw.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
        return {r[0] for r in rows}

    def run(self, statements: Sequence[str]) -> None:
        """Runs DDL statements, with the dialect's column types filled in."""
        for statement in statements:
            self.raw.execute(statement.format(**_TYPES[self.dialect]))


def _is_pg_integrity(exc: Exception) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite only
        return False
    return isinstance(exc, psycopg.errors.IntegrityError)


def _lock_id(key: str) -> int:
    """A 63-bit advisory-lock id of a name, the same in every process."""
    return zlib.crc32(("openee:" + key).encode()) | (0x6F65 << 32)


class StateDB:
    """Transactions on the state database; see `open_state_db`."""

    dialect: Dialect
    description: str

    def tx(self, write: bool = True) -> AbstractContextManager[Conn]:
        """A transaction that commits on success and rolls back on an error. `write=False`
        promises only reads: SQLite then takes no write lock, PostgreSQL runs each statement
        in its own snapshot."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def migrate(self, component: str, migrations: Sequence[Migration]) -> int:
        """Applies a component's migrations not yet applied, in order, each in the same
        transaction as the version it records. Safe when several processes start at once.

        Returns:
            The component's schema version (the number of its migrations).
        """
        with self.tx() as conn:
            conn.lock("schema")
            conn.run(
                [
                    "CREATE TABLE IF NOT EXISTS openee_schema ("
                    " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
                ]
            )
            row = conn.execute(
                "SELECT version FROM openee_schema WHERE component = ?", (component,)
            ).fetchone()
            version = int(row[0]) if row else 0
            if version > len(migrations):
                raise SchemaTooNewError(
                    f"The {component} schema in {self.description} is version {version}, newer"
                    f" than this openee knows ({len(migrations)}): upgrade openee."
                )
            for migration in migrations[version:]:
                if callable(migration):
                    migration(conn)
                else:
                    conn.run(migration)
            conn.execute(
                "INSERT INTO openee_schema (component, version) VALUES (?, ?)"
                " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, len(migrations)),
            )
        return len(migrations)

    def versions(self) -> dict[str, int]:
        """The schema version of every component in this database."""
        with self.tx(write=False) as conn:
            return {
                str(r[0]): int(r[1])
                for r in conn.execute("SELECT component, version FROM openee_schema").fetchall()
            }


class SqliteState(StateDB):
    """A component's SQLite file: a connection per thread, WAL."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = str(self.path)
        self._file = SqliteFile(self.path, "", pragmas=("foreign_keys=ON",))

    @contextmanager
    def tx(self, write: bool = True) -> Iterator[Conn]:
        with self._file.tx(immediate=write) as db:
            yield Conn(db, "sqlite")

    def close(self) -> None:
        self._file.close()


class PostgresState(StateDB):
    """Every component in one PostgreSQL database, through a small pool of connections."""

    dialect: Dialect = "postgres"

    def __init__(self, dsn: str, pool_size: int = POOL_SIZE) -> None:
        import psycopg

        self._psycopg = psycopg
        self.dsn = dsn
        self.description = "the PostgreSQL state database"
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_size)
        with self.tx() as conn:  # fails now, with libpq's message, if the server is unreachable
            conn.execute("SELECT 1")

    def _checkout(self) -> Any:
        with self._lock:
            while self._idle:
                db = self._idle.pop()
                if not db.closed and not db.broken:
                    return db
        return self._psycopg.connect(self.dsn, autocommit=True)

    @contextmanager
    def tx(self, write: bool = True) -> Iterator[Conn]:
        if not self._slots.acquire(timeout=POOL_WAIT_S):
            raise TimeoutError("No connection to the state database became free in time.")
        try:
            db = self._checkout()
            try:
                if write:
                    with db.transaction():
                        yield Conn(db, "postgres")
                else:  # reads: each statement its own snapshot, no BEGIN/COMMIT round trips
                    yield Conn(db, "postgres")
            finally:
                with self._lock:
                    if not db.closed and not db.broken:
                        self._idle.append(db)
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            for db in self._idle:
                db.close()
            self._idle.clear()
