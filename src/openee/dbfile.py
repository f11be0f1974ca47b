"""One SQLite file shared by threads (and processes): a connection per thread, WAL, and
`BEGIN IMMEDIATE` transactions that roll back on any error. Used by every SQLite store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, Protocol, TypeVar


class _Connection(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Connection)


class PerThread(Generic[C]):
    """A database connection per thread, made by `connect` when the thread has none (or when
    `closed` says its own was closed); `close` closes every thread's."""

    def __init__(
        self, connect: Callable[[], C], closed: Callable[[C], bool] = lambda db: False
    ) -> None:
        self._connect = connect
        self._closed = closed
        self._local = threading.local()
        self._all: list[C] = []
        self._lock = threading.Lock()

    def get(self) -> C:
        db: C | None = getattr(self._local, "db", None)
        if db is None or self._closed(db):
            db = self._connect()
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()


class SqliteFile:
    def __init__(self, path: Path, schema: str, pragmas: Sequence[str] = ()) -> None:
        self.path = path
        self._pragmas = ("journal_mode=WAL", *pragmas)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connections = PerThread(self._connect)
        # executescript commits on its own, so it runs outside tx().
        if schema:
            self.connection().executescript(schema)

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False only so that close() may close other threads' connections.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        for pragma in self._pragmas:
            db.execute(f"PRAGMA {pragma}")
        return db

    def connection(self) -> sqlite3.Connection:
        return self._connections.get()

    @contextmanager
    def tx(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """A transaction that commits on success; `immediate` takes the write lock at once
        (a writer), otherwise at the first write (a reader)."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        self._connections.close()
