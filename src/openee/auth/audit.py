"""The audit log: one JSON object per line in `<data dir>/audit.log`, or, with a shared state
database, one row per event in its `audit_events` table (every replica's events in one place).

Records who did what, when and in which project: token grants and refusals, and changes to
service accounts and keys. Callers pass identifiers only (e-mails, key ids, scopes, addresses);
never a token, an assertion or key material.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openee.statedb import Migration, StateDB


class AuditLog:
    """Appends audit events to a JSON-lines file. Safe to share between threads and processes."""

    def __init__(self, path: Path) -> None:
        """Creates the log; the file is created (mode 0600) on the first event.

        Args:
            path: The log file.
        """
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, event: str, **fields: Any) -> None:
        """Appends one event.

        Args:
            event: What happened, e.g. `token.grant`.
            **fields: Identifiers describing it (`principal`, `project`, `client`, ...).
        """
        entry = {"time": _now(), "event": event}
        entry.update(fields)
        line = (json.dumps(entry, sort_keys=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # One write of a whole line: O_APPEND keeps lines from concurrent writers apart.
                os.write(fd, line)
            finally:
                os.close(fd)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# The audit component's schema versions (statedb.migrate); append, never edit.
MIGRATIONS: tuple[Migration, ...] = (
    (
        "CREATE TABLE IF NOT EXISTS audit_events ("
        " id {serial}, time TEXT NOT NULL, event TEXT NOT NULL, fields TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time)",
    ),
)


class StoredAuditLog(AuditLog):
    """The audit log in the state database: a row per event (time, event, the other fields
    as a JSON object). Shared by every replica of a deployment."""

    def __init__(self, db: StateDB) -> None:
        self.db = db
        db.migrate("audit", MIGRATIONS)

    def record(self, event: str, **fields: Any) -> None:
        with self.db.tx() as conn:
            conn.execute(
                "INSERT INTO audit_events (time, event, fields) VALUES (?, ?, ?)",
                (_now(), event, json.dumps(fields, sort_keys=False, default=str)),
            )

    def events(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The latest events, oldest first, as the file log writes them."""
        with self.db.tx(write=False) as conn:
            rows = conn.execute(
                "SELECT time, event, fields FROM audit_events ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [{"time": t, "event": e, **json.loads(f)} for t, e, f in reversed(rows)]
