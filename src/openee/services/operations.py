"""Long-running operations (Earth Engine's `Operation`): imports run in background threads and
their state lives in a small SQLite file of their own (`<data dir>/operations.sqlite`).

States follow Earth Engine: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED, with
CANCELLING while a running operation is asked to stop. A job checks for cancellation before it
writes (imports write the catalog once, in one transaction), so a cancelled import changes
nothing. Operations still PENDING or RUNNING when a server starts were cut short by a stop or a
crash; they are marked FAILED (their catalog write never happened or was rolled back).
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openee.catalog.rows import now_iso
from openee.dbfile import SqliteFile
from openee.errors import NotFoundError, OpeneeError

log = logging.getLogger("openee.operations")

METADATA_TYPE = "type.googleapis.com/google.earthengine.v1.OperationMetadata"
EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
PENDING, RUNNING, CANCELLING = "PENDING", "RUNNING", "CANCELLING"
SUCCEEDED, FAILED, CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"
DONE_STATES = (SUCCEEDED, FAILED, CANCELLED)

SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    request_id TEXT,
    principal TEXT NOT NULL,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL,
    start_time TEXT,
    end_time TEXT,
    error TEXT,
    response TEXT,
    extra TEXT
);
CREATE INDEX IF NOT EXISTS operations_project_created ON operations (project, create_time, id);
CREATE UNIQUE INDEX IF NOT EXISTS operations_request
    ON operations (project, request_id) WHERE request_id IS NOT NULL;
"""

_COLUMNS = (
    "id, project, type, description, state, request_id, principal, create_time, update_time,"
    " start_time, end_time, error, response, extra"
)
# Metadata beyond the state machine (exports: priority, progress, stages, destinationUris,
# batchEecuUsageSeconds, ...), kept as one JSON object and merged into `metadata` as is.
_EXTRA_MIGRATION = "ALTER TABLE operations ADD COLUMN extra TEXT"


class Cancelled(Exception):
    """Raised by `Job.check()` when the operation was asked to stop."""


@dataclass(frozen=True)
class Operation:
    id: str
    project: str
    type: str
    description: str
    state: str
    request_id: str | None
    principal: str
    create_time: str
    update_time: str
    start_time: str | None = None
    end_time: str | None = None
    error: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return f"projects/{self.project}/operations/{self.id}"

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    def resource(self) -> dict[str, Any]:
        """The REST `Operation` (`metadata` is mandatory: the client indexes it directly)."""
        metadata: dict[str, Any] = {
            "@type": METADATA_TYPE,
            "state": self.state,
            "description": self.description,
            "type": self.type,
            "createTime": self.create_time,
            "updateTime": self.update_time,
            "attempt": 1,
        }
        if self.start_time:
            metadata["startTime"] = self.start_time
        if self.end_time:
            metadata["endTime"] = self.end_time
        metadata.update(self.extra or {})
        if self.state == SUCCEEDED:
            metadata["progress"] = 1.0
        out: dict[str, Any] = {"name": self.name, "metadata": metadata, "done": self.done}
        if self.done and self.error is not None:
            out["error"] = self.error
        elif self.done:
            out["response"] = self.response or {"@type": EMPTY_TYPE}
        return out


def _new_id() -> str:
    """24 upper-case characters, like Earth Engine's task ids."""
    return secrets.token_hex(12).upper()


_GRPC_CODES = {
    "CANCELLED": 1,
    "INVALID_ARGUMENT": 3,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
}


def _error(status: str, message: str) -> dict[str, Any]:
    """A `google.rpc.Status`: the numeric gRPC code and a message."""
    return {"code": _GRPC_CODES.get(status, 13), "message": message}


class OperationStore:
    """Operations in one SQLite file; safe from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SqliteFile(path, SCHEMA)
        columns = {r[1] for r in self._connection().execute("PRAGMA table_info(operations)")}
        if "extra" not in columns:  # a file made before exports existed
            self._connection().execute(_EXTRA_MIGRATION)

    def _connection(self) -> sqlite3.Connection:
        return self._db.connection()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.tx()

    def close(self) -> None:
        self._db.close()

    @staticmethod
    def _row(row: tuple[Any, ...]) -> Operation:
        values = list(row)
        values[11] = json.loads(values[11]) if values[11] else None
        values[12] = json.loads(values[12]) if values[12] else None
        values[13] = json.loads(values[13]) if values[13] else None
        return Operation(*values)

    def create(
        self,
        project: str,
        type: str,
        description: str,
        principal: str,
        request_id: str | None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[Operation, bool]:
        """A new PENDING operation, or the one already made for `request_id` (and False)."""
        now = now_iso()
        with self._tx() as db:
            if request_id:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM operations WHERE project = ? AND request_id = ?",
                    (project, request_id),
                ).fetchone()
                if row is not None:
                    return self._row(row), False
            op = Operation(
                _new_id(), project, type, description, PENDING, request_id or None, principal,
                now, now, extra=extra,
            )  # fmt: skip
            db.execute(
                "INSERT INTO operations (id, project, type, description, state, request_id,"
                " principal, create_time, update_time, extra)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    op.id, project, type, description, PENDING, op.request_id, principal, now,
                    now, json.dumps(extra) if extra else None,
                ),
            )  # fmt: skip
        return op, True

    def find_request(self, project: str, request_id: str) -> Operation | None:
        """The operation a request with this `requestId` made, if any."""
        row = (
            self._connection()
            .execute(
                f"SELECT {_COLUMNS} FROM operations WHERE project = ? AND request_id = ?",
                (project, request_id),
            )
            .fetchone()
        )
        return self._row(row) if row else None

    def get(self, project: str, op_id: str) -> Operation | None:
        row = (
            self._connection()
            .execute(
                f"SELECT {_COLUMNS} FROM operations WHERE project = ? AND id = ?", (project, op_id)
            )
            .fetchone()
        )
        return self._queued(self._row(row)) if row else None

    def _queued(self, op: Operation) -> Operation:
        """A PENDING operation with its place in its runner's queue (`queuePosition`, 1 = next):
        the operations of any project still PENDING, of its kind (exports, or the others),
        that were created before it."""
        if op.state != PENDING:
            return op
        kind = "type LIKE 'EXPORT%'" if op.type.startswith("EXPORT") else "type NOT LIKE 'EXPORT%'"
        ahead = (
            self._connection()
            .execute(
                f"SELECT COUNT(*) FROM operations WHERE state = ? AND {kind} AND (create_time < ?"
                " OR (create_time = ? AND id < ?))",
                (PENDING, op.create_time, op.create_time, op.id),
            )
            .fetchone()[0]
        )
        return replace(op, extra={**(op.extra or {}), "queuePosition": int(ahead) + 1})

    def require(self, project: str, op_id: str) -> Operation:
        op = self.get(project, op_id)
        if op is None:
            raise NotFoundError(f"Operation 'projects/{project}/operations/{op_id}' not found.")
        return op

    def list(self, project: str, offset: int, limit: int) -> list[Operation]:
        """Newest first."""
        rows = (
            self._connection()
            .execute(
                f"SELECT {_COLUMNS} FROM operations WHERE project = ?"
                " ORDER BY create_time DESC, id DESC LIMIT ? OFFSET ?",
                (project, limit, offset),
            )
            .fetchall()
        )
        return [self._queued(self._row(r)) for r in rows]

    def update_metadata(self, op_id: str, **fields: Any) -> None:
        """Merge `fields` into the operation's extra metadata (progress, stages, ...)."""
        with self._tx() as db:
            row = db.execute("SELECT extra FROM operations WHERE id = ?", (op_id,)).fetchone()
            if row is None:
                return
            extra = json.loads(row[0]) if row[0] else {}
            extra.update(fields)
            self._set(db, op_id, extra=extra)

    def _set(self, db: sqlite3.Connection, op_id: str, **fields: Any) -> None:
        fields["update_time"] = now_iso()
        for key in ("error", "response", "extra"):
            if key in fields and fields[key] is not None:
                fields[key] = json.dumps(fields[key])
        sql = ", ".join(f"{k} = ?" for k in fields)
        db.execute(f"UPDATE operations SET {sql} WHERE id = ?", (*fields.values(), op_id))

    def state(self, op_id: str) -> str | None:
        row = (
            self._connection()
            .execute("SELECT state FROM operations WHERE id = ?", (op_id,))
            .fetchone()
        )
        return str(row[0]) if row else None

    def start(self, op_id: str) -> bool:
        """PENDING -> RUNNING; False when it was cancelled before it started."""
        with self._tx() as db:
            row = db.execute("SELECT state FROM operations WHERE id = ?", (op_id,)).fetchone()
            if row is None or row[0] != PENDING:
                return False
            self._set(db, op_id, state=RUNNING, start_time=now_iso())
            return True

    def finish(
        self,
        op_id: str,
        state: str,
        error: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
    ) -> None:
        with self._tx() as db:
            self._set(db, op_id, state=state, end_time=now_iso(), error=error, response=response)

    def cancel(self, project: str, op_id: str) -> Operation:
        """PENDING -> CANCELLED at once; RUNNING -> CANCELLING; finished ones stay as they are."""
        with self._tx() as db:
            row = db.execute(
                "SELECT state FROM operations WHERE project = ? AND id = ?", (project, op_id)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"Operation 'projects/{project}/operations/{op_id}' not found.")
            if row[0] == PENDING:
                self._set(
                    db,
                    op_id,
                    state=CANCELLED,
                    end_time=now_iso(),
                    error=_error("CANCELLED", "Cancelled by the user."),
                )
            elif row[0] == RUNNING:
                self._set(db, op_id, state=CANCELLING)
        return self.require(project, op_id)

    def delete(self, project: str, op_id: str) -> None:
        with self._tx() as db:
            gone = db.execute(
                "DELETE FROM operations WHERE project = ? AND id = ?", (project, op_id)
            ).rowcount
        if not gone:
            raise NotFoundError(f"Operation 'projects/{project}/operations/{op_id}' not found.")

    def unfinished(self) -> tuple[Operation, ...]:
        """Operations PENDING, RUNNING or CANCELLING (at start: left so by a previous process)."""
        rows = (
            self._connection()
            .execute(
                f"SELECT {_COLUMNS} FROM operations WHERE state IN (?, ?, ?)",
                (PENDING, RUNNING, CANCELLING),
            )
            .fetchall()
        )
        return tuple(self._row(r) for r in rows)

    def requeue(self, op_id: str) -> bool:
        """A RUNNING or PENDING operation of a previous process back to PENDING, its next
        attempt (it resumes); False if it was in another state."""
        with self._tx() as db:
            row = db.execute(
                "SELECT state, extra FROM operations WHERE id = ?", (op_id,)
            ).fetchone()
            if row is None or row[0] not in (PENDING, RUNNING):
                return False
            extra = json.loads(row[1]) if row[1] else {}
            extra["attempt"] = int(extra.get("attempt", 1)) + 1
            self._set(db, op_id, state=PENDING, extra=extra)
            return True

    def fail_unfinished(self, keep: Collection[str] = ()) -> int:
        """Mark operations left PENDING, RUNNING or CANCELLING by a previous process FAILED
        (except those in `keep`, being resumed)."""
        with self._tx() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM operations WHERE state IN (?, ?, ?)",
                    (PENDING, RUNNING, CANCELLING),
                ).fetchall()
                if r[0] not in keep
            ]
            for op_id in ids:
                self._set(
                    db,
                    op_id,
                    state=FAILED,
                    end_time=now_iso(),
                    error=_error(
                        "ABORTED",
                        "The server stopped before the operation finished; nothing was written."
                        " Run it again.",
                    ),
                )
        return len(ids)


@dataclass(frozen=True)
class Job:
    """What a running operation's work may ask: whether it should stop."""

    store: OperationStore
    op_id: str

    def check(self) -> None:
        """Raise Cancelled if a cancel was requested; call before writing anything."""
        if self.store.state(self.op_id) in (CANCELLING, CANCELLED):
            raise Cancelled()

    def update(self, **metadata: Any) -> None:
        """Record progress (`progress`, `stages`, ...) in the operation's metadata."""
        self.store.update_metadata(self.op_id, **metadata)


Work = Callable[[Job], dict[str, Any] | None]


class OperationRunner:
    """A few daemon worker threads running submitted work in order of submission.

    Daemon threads: stopping the server does not wait for an import, whose catalog write is one
    transaction (so it either happened or not), and the next start marks it FAILED.
    """

    def __init__(self, store: OperationStore, workers: int = 2) -> None:
        self.store = store
        self._queue: queue.Queue[tuple[str, Work]] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._loop, name=f"openee-operations-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, op: Operation, work: Work) -> None:
        self._queue.put((op.id, work))

    def _loop(self) -> None:
        while True:
            op_id, work = self._queue.get()
            try:
                self._run(op_id, work)
            except Exception:  # a broken store must not kill the worker
                log.exception("operation %s: bookkeeping failed", op_id)

    def _run(self, op_id: str, work: Work) -> None:
        if not self.store.start(op_id):
            return  # cancelled while pending
        job = Job(self.store, op_id)
        try:
            response = work(job)
        except Cancelled:
            self.store.finish(op_id, CANCELLED, error=_error("CANCELLED", "Cancelled by the user."))
        except OpeneeError as exc:
            self.store.finish(op_id, FAILED, error=_error(exc.rpc_status, exc.message))
        except Exception:
            log.exception("operation %s failed", op_id)
            self.store.finish(
                op_id, FAILED, error=_error("INTERNAL", "An internal error has occurred.")
            )
        else:
            self.store.finish(op_id, SUCCEEDED, response=response)


def wait(store: OperationStore, project: str, op_id: str, timeout_s: float) -> Operation:
    """The operation once done, or as it is after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    op = store.require(project, op_id)
    while not op.done and time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        op = store.require(project, op_id)
    return op
