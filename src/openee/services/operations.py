"""Long-running operations (Earth Engine's `Operation`): imports run in background threads and
their state lives in a small SQLite file of their own (`<data dir>/operations.sqlite`), or in
the shared PostgreSQL state database, where every replica sees every operation.

States follow Earth Engine: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED, with
CANCELLING while a running operation is asked to stop. A job checks for cancellation before it
writes (imports write the catalog once, in one transaction), so a cancelled import changes
nothing.

Every unfinished operation is leased by the process that queued or runs it (`owner`,
`lease_until`, a time of the database's clock, never of a process's), which renews its leases
every third of the lease (`LeaseKeeper`). An operation whose lease ran out was cut short by a
stop or a crash: another process (or the next start) takes it over: exports resume, imports run
again from their kept request, and what cannot resume is marked FAILED (its catalog write never
happened or was rolled back). A process that finds its lease taken stops the work unwritten.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openee.catalog.rows import now_iso
from openee.errors import NotFoundError, OpeneeError
from openee.statedb import Conn, IntegrityError, Migration, SqliteState, StateDB

log = logging.getLogger("openee.operations")

METADATA_TYPE = "type.googleapis.com/google.earthengine.v1.OperationMetadata"
EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
PENDING, RUNNING, CANCELLING = "PENDING", "RUNNING", "CANCELLING"
SUCCEEDED, FAILED, CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"
DONE_STATES = (SUCCEEDED, FAILED, CANCELLED)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS operations (
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
    )""",
    "CREATE INDEX IF NOT EXISTS operations_project_created"
    " ON operations (project, create_time, id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS operations_request"
    " ON operations (project, request_id) WHERE request_id IS NOT NULL",
)


def _first_schema(conn: Conn) -> None:
    """Version 1: the table, also over a file made before versions were recorded (and before
    exports, which added `extra`: metadata beyond the state machine, such as priority,
    progress, stages, destinationUris, kept as one JSON object and merged into `metadata`)."""
    conn.run(_SCHEMA)
    if "extra" not in conn.columns("operations"):
        conn.run(["ALTER TABLE operations ADD COLUMN extra TEXT"])


# The operations component's schema versions (statedb.migrate); append, never edit.
MIGRATIONS: tuple[Migration, ...] = (
    _first_schema,
    # Leases: the process that runs (or queued) an operation, and until when it holds it
    # unless it renews the lease (ADR 0046).
    (
        "ALTER TABLE operations ADD COLUMN owner TEXT",
        "ALTER TABLE operations ADD COLUMN lease_until {real}",
        "CREATE INDEX IF NOT EXISTS operations_lease ON operations (state, lease_until)",
    ),
    # What started the operation, for whoever resumes it (imports: the manifest and caller);
    # never part of the REST resource.
    ("ALTER TABLE operations ADD COLUMN request TEXT",),
)

_COLUMNS = (
    "id, project, type, description, state, request_id, principal, create_time, update_time,"
    " start_time, end_time, error, response, extra"
)
_UNFINISHED = (PENDING, RUNNING, CANCELLING)
DEFAULT_LEASE_S = 30.0
# How long a shutdown waits for running operations to reach their next check (a check comes
# between an export's windows, and before an import writes).
STOP_WAIT_S = 10.0
# What an operation taken over from a stopped server says when it cannot resume.
STOPPED_MESSAGE = (
    "The server stopped before the operation finished; nothing was written. Run it again."
)


def owner_id() -> str:
    """This process, as an operation's owner: host, process id and a random part (a restarted
    process is another owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Cancelled(Exception):
    """Raised by `Job.check()` when the operation was asked to stop."""


class LeaseLost(Exception):
    """Raised by `Job.check()` when another process took the operation over (this one missed
    renewing its lease): the work stops without writing, and the other process decides."""


class Stopping(LeaseLost):
    """Raised by `Job.check()` when this server is shutting down: the work stops without
    writing, as if the lease were lost, and whoever takes the operation over next decides
    (the next start, or another replica once the lease runs out)."""


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


def rpc_error(status: str, message: str) -> dict[str, Any]:
    """A `google.rpc.Status`: the numeric gRPC code and a message."""
    return {"code": _GRPC_CODES.get(status, 13), "message": message}


class OperationStore:
    """Operations in the state database; safe from several threads (and, on PostgreSQL, from
    several processes)."""

    def __init__(
        self,
        target: Path | StateDB,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        owner: str | None = None,
    ) -> None:
        """Opens (and if needed creates or upgrades) the store.

        Args:
            target: The SQLite file, or the shared state database.
            lease_s: Seconds a lease lasts unless renewed (`heartbeat`).
            owner: This process's owner id; by default a fresh `owner_id()`.

        Leases are times of the database's clock (`Conn.now`), never of this process's: a
        replica whose clock runs ahead does not see live leases as expired (ADR 0057).
        """
        self.db = target if isinstance(target, StateDB) else SqliteState(Path(target))
        self.path = None if isinstance(target, StateDB) else Path(target)
        self.lease_s = lease_s
        self.owner = owner or owner_id()
        self.db.migrate("operations", MIGRATIONS)

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def _row(row: tuple[Any, ...]) -> Operation:
        values = list(row)
        values[11] = json.loads(values[11]) if values[11] else None
        values[12] = json.loads(values[12]) if values[12] else None
        values[13] = json.loads(values[13]) if values[13] else None
        return Operation(*values)

    @staticmethod
    def _lease(db: Conn) -> str:
        """SQL for the end of a lease taken now (one `?`: the lease's length)."""
        return f"{db.now} + ?"

    def create(
        self,
        project: str,
        type: str,
        description: str,
        principal: str,
        request_id: str | None,
        extra: dict[str, Any] | None = None,
        request: dict[str, Any] | None = None,
    ) -> tuple[Operation, bool]:
        """A new PENDING operation leased by this process, or the one already made for
        `request_id` (and False). `request` is kept for `request_of` (never shown)."""
        now = now_iso()
        if request_id and (seen := self.find_request(project, request_id)):
            return seen, False
        op = Operation(
            _new_id(), project, type, description, PENDING, request_id or None, principal,
            now, now, extra=extra,
        )  # fmt: skip
        try:
            with self.db.tx() as db:
                db.execute(
                    "INSERT INTO operations (id, project, type, description, state, request_id,"
                    " principal, create_time, update_time, extra, owner, lease_until, request)"
                    f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {self._lease(db)}, ?)",
                    (
                        op.id, project, type, description, PENDING, op.request_id, principal,
                        now, now, json.dumps(extra) if extra else None, self.owner,
                        self.lease_s, json.dumps(request) if request else None,
                    ),
                )  # fmt: skip
        except IntegrityError:
            # The same requestId, made at the same moment by another thread or replica.
            seen = self.find_request(project, request_id) if request_id else None
            if seen is None:
                raise
            return seen, False
        return op, True

    def find_request(self, project: str, request_id: str) -> Operation | None:
        """The operation a request with this `requestId` made, if any."""
        with self.db.tx(write=False) as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE project = ? AND request_id = ?",
                (project, request_id),
            ).fetchone()
        return self._row(row) if row else None

    def get(self, project: str, op_id: str) -> Operation | None:
        with self.db.tx(write=False) as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE project = ? AND id = ?", (project, op_id)
            ).fetchone()
            return self._queued(db, self._row(row)) if row else None

    def _queued(self, db: Conn, op: Operation) -> Operation:
        """A PENDING operation with its place in its runner's queue (`queuePosition`, 1 = next):
        the operations of any project still PENDING, of its kind (exports, or the others),
        that were created before it."""
        if op.state != PENDING:
            return op
        kind = "type LIKE 'EXPORT%'" if op.type.startswith("EXPORT") else "type NOT LIKE 'EXPORT%'"
        ahead = db.execute(
            f"SELECT COUNT(*) FROM operations WHERE state = ? AND {kind} AND (create_time < ?"
            " OR (create_time = ? AND id < ?))",
            (PENDING, op.create_time, op.create_time, op.id),
        ).fetchone()[0]
        return replace(op, extra={**(op.extra or {}), "queuePosition": int(ahead) + 1})

    def require(self, project: str, op_id: str) -> Operation:
        op = self.get(project, op_id)
        if op is None:
            raise NotFoundError(f"Operation 'projects/{project}/operations/{op_id}' not found.")
        return op

    def list(self, project: str, offset: int, limit: int) -> list[Operation]:
        """Newest first."""
        with self.db.tx(write=False) as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE project = ?"
                " ORDER BY create_time DESC, id DESC LIMIT ? OFFSET ?",
                (project, limit, offset),
            ).fetchall()
            return [self._queued(db, self._row(r)) for r in rows]

    def update_metadata(self, op_id: str, **fields: Any) -> None:
        """Merge `fields` into the operation's extra metadata (progress, stages, ...)."""
        with self.db.tx() as db:
            db.lock(f"operation:{op_id}")
            row = db.execute("SELECT extra FROM operations WHERE id = ?", (op_id,)).fetchone()
            if row is None:
                return
            extra = json.loads(row[0]) if row[0] else {}
            extra.update(fields)
            self._set(db, op_id, extra=extra)

    def _set(
        self,
        db: Conn,
        op_id: str,
        where: tuple[str, tuple[Any, ...]] = ("", ()),
        **fields: Any,
    ) -> int:
        """Updates columns of one operation, if `where` (more SQL and its parameters) holds;
        returns the rows changed."""
        fields["update_time"] = now_iso()
        for key in ("error", "response", "extra"):
            if key in fields and fields[key] is not None:
                fields[key] = json.dumps(fields[key])
        sql = ", ".join(f"{k} = ?" for k in fields)
        cur = db.execute(
            f"UPDATE operations SET {sql} WHERE id = ?{where[0]}",
            (*fields.values(), op_id, *where[1]),
        )
        return int(cur.rowcount)

    def state(self, op_id: str) -> str | None:
        with self.db.tx(write=False) as db:
            row = db.execute("SELECT state FROM operations WHERE id = ?", (op_id,)).fetchone()
        return str(row[0]) if row else None

    def request_of(self, op_id: str) -> dict[str, Any] | None:
        """The request an operation was created with (`create(request=...)`), if kept."""
        with self.db.tx(write=False) as db:
            row = db.execute("SELECT request FROM operations WHERE id = ?", (op_id,)).fetchone()
        value = json.loads(row[0]) if row and row[0] else None
        return value if isinstance(value, dict) else None

    def holder(self, op_id: str) -> tuple[str | None, str | None]:
        """An operation's state and the process that holds its lease."""
        with self.db.tx(write=False) as db:
            row = db.execute(
                "SELECT state, owner FROM operations WHERE id = ?", (op_id,)
            ).fetchone()
        return (str(row[0]), row[1]) if row else (None, None)

    def start(self, op_id: str) -> bool:
        """PENDING -> RUNNING, leased by this process; False when it was cancelled before it
        started (or another process took it over)."""
        with self.db.tx() as db:
            changed = self._set(
                db,
                op_id,
                (" AND state = ? AND owner = ?", (PENDING, self.owner)),
                state=RUNNING,
                start_time=now_iso(),
            )
            if changed:
                db.execute(
                    f"UPDATE operations SET lease_until = {self._lease(db)} WHERE id = ?",
                    (self.lease_s, op_id),
                )
        return changed == 1

    def finish(
        self,
        op_id: str,
        state: str,
        error: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
    ) -> bool:
        """The operation's end, written only while this process holds it; False if another
        process took it over meanwhile (it then decides how the operation ends)."""
        with self.db.tx() as db:
            changed = self._set(
                db,
                op_id,
                (" AND owner = ?", (self.owner,)),
                state=state,
                end_time=now_iso(),
                error=error,
                response=response,
            )
        return changed == 1

    def cancel(self, project: str, op_id: str) -> Operation:
        """PENDING -> CANCELLED at once; RUNNING -> CANCELLING; finished ones stay as they are."""
        with self.db.tx() as db:
            db.lock(f"operation:{op_id}")
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
                    error=rpc_error("CANCELLED", "Cancelled by the user."),
                )
            elif row[0] == RUNNING:
                self._set(db, op_id, state=CANCELLING)
        return self.require(project, op_id)

    def delete(self, project: str, op_id: str) -> None:
        with self.db.tx() as db:
            gone = db.execute(
                "DELETE FROM operations WHERE project = ? AND id = ?", (project, op_id)
            ).rowcount
        if not gone:
            raise NotFoundError(f"Operation 'projects/{project}/operations/{op_id}' not found.")

    def unfinished(self) -> tuple[Operation, ...]:
        """Operations PENDING, RUNNING or CANCELLING."""
        with self.db.tx(write=False) as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE state IN (?, ?, ?)", _UNFINISHED
            ).fetchall()
        return tuple(self._row(r) for r in rows)

    # -- leases ---------------------------------------------------------------------------------

    def heartbeat(self) -> int:
        """Renews the leases of this process's unfinished operations; returns how many."""
        with self.db.tx() as db:
            cur = db.execute(
                f"UPDATE operations SET lease_until = {self._lease(db)}"
                " WHERE owner = ? AND state IN (?, ?, ?)",
                (self.lease_s, self.owner, *_UNFINISHED),
            )
        return int(cur.rowcount)

    def take_over(self, *, everything: bool = False) -> tuple[Operation, ...]:
        """Takes the lease of unfinished operations whose lease ran out (with `everything`:
        of all unfinished operations of other processes, for a server that alone uses its
        data dir, at its start). Each is taken by one process only, even when several try.

        Returns:
            The operations taken, as they were; the caller resumes or fails them.
        """
        taken = []
        with self.db.tx() as db:
            expired = "" if everything else f" AND (lease_until IS NULL OR lease_until < {db.now})"
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE state IN (?, ?, ?)"
                " AND (owner IS NULL OR owner <> ?)" + expired,
                (*_UNFINISHED, self.owner),
            ).fetchall()
            for row in rows:
                op = self._row(row)
                claimed = db.execute(
                    f"UPDATE operations SET owner = ?, lease_until = {self._lease(db)}"
                    " WHERE id = ? AND state IN (?, ?, ?) AND (owner IS NULL OR owner <> ?)"
                    + expired,
                    (self.owner, self.lease_s, op.id, *_UNFINISHED, self.owner),
                ).rowcount
                if claimed == 1:
                    taken.append(op)
        return tuple(taken)

    def requeue(self, op_id: str) -> bool:
        """An operation this process took over back to PENDING, its next attempt (it resumes);
        False if it was in another state or is held by another process."""
        with self.db.tx() as db:
            db.lock(f"operation:{op_id}")
            row = db.execute(
                "SELECT state, extra FROM operations WHERE id = ? AND owner = ?",
                (op_id, self.owner),
            ).fetchone()
            if row is None or row[0] not in (PENDING, RUNNING):
                return False
            extra = json.loads(row[1]) if row[1] else {}
            extra["attempt"] = int(extra.get("attempt", 1)) + 1
            self._set(db, op_id, state=PENDING, extra=extra)
            return True

    def abandon(self, ops: Collection[Operation]) -> int:
        """Ends operations taken over that do not resume: CANCELLING ones CANCELLED, the others
        FAILED (`STOPPED_MESSAGE`). Returns how many."""
        ended = 0
        with self.db.tx() as db:
            for op in ops:
                cancelled = op.state == CANCELLING
                ended += self._set(
                    db,
                    op.id,
                    (" AND owner = ? AND state IN (?, ?, ?)", (self.owner, *_UNFINISHED)),
                    state=CANCELLED if cancelled else FAILED,
                    end_time=now_iso(),
                    error=rpc_error("CANCELLED", "Cancelled by the user.")
                    if cancelled
                    else rpc_error("ABORTED", STOPPED_MESSAGE),
                )
        return ended


@dataclass(frozen=True)
class Job:
    """What a running operation's work may ask: whether it should stop."""

    store: OperationStore
    op_id: str
    stopping: threading.Event | None = None  # set when the server shuts down

    def check(self) -> None:
        """Raise Cancelled if a cancel was requested, LeaseLost if another process took the
        operation over, Stopping if this server is shutting down; call before writing
        anything."""
        if self.stopping is not None and self.stopping.is_set():
            raise Stopping()
        state, owner = self.store.holder(self.op_id)
        if owner != self.store.owner:
            raise LeaseLost()
        if state in (CANCELLING, CANCELLED):
            raise Cancelled()

    def update(self, **metadata: Any) -> None:
        """Record progress (`progress`, `stages`, ...) in the operation's metadata."""
        self.store.update_metadata(self.op_id, **metadata)


Work = Callable[[Job], dict[str, Any] | None]


class OperationRunner:
    """A few daemon worker threads running submitted work in order of submission.

    `stop` (the server's shutdown) ends them: a running operation stops at its next check
    unwritten (an import's catalog write is one transaction, so it either happened or not), what
    waits stays queued in the store; whoever takes them over once their lease ran out (the next
    start, or another replica) resumes them, runs them again or marks them FAILED. Daemon
    threads: a process that exits without `stop` does not wait for them either.
    """

    def __init__(self, store: OperationStore, workers: int = 2) -> None:
        self.store = store
        self._queue: queue.Queue[tuple[str, Work] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"openee-operations-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, op: Operation, work: Work) -> None:
        self._queue.put((op.id, work))

    def stop(self, wait_s: float = STOP_WAIT_S) -> None:
        """Ends the worker threads, waiting up to `wait_s` for running work to reach its next
        check; what is queued is left to whoever takes it over."""
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)  # wakes an idle worker
        deadline = time.monotonic() + wait_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s: still running its operation at shutdown", thread.name)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            item = self._queue.get()
            if item is None or self._stopping.is_set():
                return
            op_id, work = item
            try:
                self._run(op_id, work)
            except Exception:  # a broken store must not kill the worker
                log.exception("operation %s: bookkeeping failed", op_id)

    def _run(self, op_id: str, work: Work) -> None:
        if not self.store.start(op_id):
            return  # cancelled while pending
        job = Job(self.store, op_id, self._stopping)
        try:
            response = work(job)
        except Cancelled:
            self.store.finish(
                op_id, CANCELLED, error=rpc_error("CANCELLED", "Cancelled by the user.")
            )
        except Stopping:
            log.info("operation %s: stopped by the shutdown; left to the next holder", op_id)
        except LeaseLost:
            log.warning("operation %s: taken over by another process; stopped", op_id)
        except OpeneeError as exc:
            self.store.finish(op_id, FAILED, error=rpc_error(exc.rpc_status, exc.message))
        except Exception:
            log.exception("operation %s failed", op_id)
            self.store.finish(
                op_id, FAILED, error=rpc_error("INTERNAL", "An internal error has occurred.")
            )
        else:
            self.store.finish(op_id, SUCCEEDED, response=response)


class LeaseKeeper:
    """A daemon thread that renews this process's leases every third of the lease, and takes
    over the operations whose lease ran out (their process stopped), handing them to
    `on_taken` (which resumes or abandons each)."""

    def __init__(
        self, store: OperationStore, on_taken: Callable[[tuple[Operation, ...]], object]
    ) -> None:
        self.store = store
        self._on_taken = on_taken
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="openee-leases", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.store.lease_s / 3):
            try:
                self.store.heartbeat()
                taken = self.store.take_over()
                if taken:
                    log.info("took over %d operations whose lease ran out", len(taken))
                    self._on_taken(taken)
            except Exception:  # an unreachable database must not end the renewals for good
                log.exception("operation leases: renewal failed")

    def stop(self) -> None:
        """Ends the renewals (a renewal under way finishes first)."""
        self._stop.set()
        self._thread.join()


def wait(store: OperationStore, project: str, op_id: str, timeout_s: float) -> Operation:
    """The operation once done, or as it is after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    op = store.require(project, op_id)
    while not op.done and time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        op = store.require(project, op_id)
    return op
