"""The audit trail of writes through the REST API: who, what, which asset(s), which project,
from which address, when, and how it ended.

A route that writes wraps its work in `WriteAudit.entry(...)`, which appends one line to the
audit log (`openee.auth.AuditLog`) when the work ends, whether it succeeded or was refused
(scope, role, bad input, conflict): refusals are what an administrator looks for. Entries hold
identifiers only (asset and operation names, e-mails, addresses, field names), never request
bodies, tokens or keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from openee.api.deps import client_address, get_state, require_principal
from openee.auth import AuditLog, Principal
from openee.errors import OpeneeError
from openee.services.operations import Cancelled, LeaseLost, Stopping

OK = "OK"
# A name from a request is logged as given until it is parsed; this much of it.
_MAX_RAW_NAME = 300
_CAPABILITY_ID = re.compile(
    r"^(projects/[^/]+/(?:thumbnails|videoThumbnails|filmstripThumbnails|maps|tables)/)[^/:]+"
)


def project_of(name: str) -> str | None:
    """The project of `projects/{p}/...`, or None for anything else."""
    parts = name.split("/", 2)
    return parts[1] if len(parts) >= 2 and parts[0] == "projects" and parts[1] else None


def raw_name(text: str | None) -> str | None:
    """A name as the request gave it, clipped, for entries written before it is parsed.

    A write aimed at a thumbnail, map or table URL names a capability id, which is a
    credential: it is replaced by `{id}`.
    """
    return None if text is None else _CAPABILITY_ID.sub(r"\1{id}", text[:_MAX_RAW_NAME])


def _outcome(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, OpeneeError):
        return {"outcome": exc.rpc_status, "code": exc.http_status}
    if isinstance(exc, Cancelled):
        return {"outcome": "CANCELLED"}
    if isinstance(exc, Stopping):  # this server shut down; the next holder decides
        return {"outcome": "STOPPED"}
    if isinstance(exc, LeaseLost):  # another server took the operation over (ADR 0046)
        return {"outcome": "TAKEN_OVER"}
    if isinstance(exc, HTTPException):
        return {"outcome": "ERROR", "code": exc.status_code}
    return {"outcome": "INTERNAL", "code": 500}


@dataclass(frozen=True)
class WriteAudit:
    """Records the writes of one request's caller."""

    log: AuditLog
    principal: Principal
    client: str | None

    @contextmanager
    def entry(self, event: str, *, project: str | None, **fields: Any) -> Iterator[dict[str, Any]]:
        """Records `event` when the block ends, with its outcome.

        Args:
            event: What is written, e.g. `asset.create`.
            project: The project written in, as far as the request says before it is parsed.
            **fields: The asset name(s) and other identifiers.

        Yields:
            The entry's fields. The block may add to them or correct them, e.g. set the
            canonical `asset` name and its `project` once parsed, or a count of assets removed.
        """
        entry: dict[str, Any] = {"principal": self.principal.email, "project": project}
        entry.update(fields)
        entry["client"] = self.client
        try:
            yield entry
        except BaseException as exc:
            entry.update(_outcome(exc))
            self.log.record(event, **entry)
            raise
        entry["outcome"] = OK
        self.log.record(event, **entry)


def written(entry: dict[str, Any], name: str, field: str = "asset") -> None:
    """Names the (canonical) asset an entry writes, and takes its project from it."""
    entry[field] = raw_name(name)
    entry["project"] = project_of(name) or entry.get("project")


def write_audit(
    request: Request, principal: Annotated[Principal, Depends(require_principal)]
) -> WriteAudit:
    """The audit trail of this request's caller (a route dependency)."""
    return WriteAudit(get_state(request).audit, principal, client_address(request))


Audit = Annotated[WriteAudit, Depends(write_audit)]
