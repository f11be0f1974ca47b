"""One SQLite file shared by threads (and processes): a connection per thread, WAL, and
`BEGIN IMMEDIATE` transactions that roll back on any error. Used by every SQLite store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


class SqliteFile:
    def __init__(self, path: Path, schema: str, pragmas: Sequence[str] = ()) -> None:
        self.path = path
        self._pragmas = ("journal_mode=WAL", *pragmas)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # executescript commits on its own, so it runs outside tx().
        if schema:
            self.connection().executescript(schema)

    def connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # check_same_thread=False only so that close() may close other threads' connections.
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            for pragma in self._pragmas:
                db.execute(f"PRAGMA {pragma}")
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

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
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()
