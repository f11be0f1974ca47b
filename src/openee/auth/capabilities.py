"""Capabilities: the ids of thumbnails, downloads and map tiles.

`POST {parent}/thumbnails` and `POST {parent}/maps` store the request (its expression, format,
bands, visualization and grid) under a fresh random id and return it in the resource name. The
URL built from that name is then fetched WITHOUT authentication: the id is the credential. So
an id is unguessable (160 random bits), expires (24 h by default), and is only ever a lookup
key for the one request it was created for: nothing in the URL but the id selects what is
computed. Ids are stored as SHA-256 hashes, so a copy of the database holds no usable URL.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from openee.auth.store import AuthStore, hash_token

Kind = Literal["thumbnail", "map", "table", "video", "filmstrip"]

# Random bytes in a capability id: 160 bits, written as 40 hex digits.
CAPABILITY_BYTES = 20
DEFAULT_CAPABILITY_TTL_S = 24 * 3600
# What a well-formed id looks like; anything else is refused without a lookup.
_ID_PATTERN = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Capability:
    """A stored thumbnail or map request and who created it."""

    kind: Kind
    project: str
    creator: str
    scopes: tuple[str, ...]
    request: dict[str, Any]
    created: float
    expires_at: float


class CapabilityStore:
    """Creates and resolves capability ids, in the auth database."""

    def __init__(
        self,
        store: AuthStore,
        ttl_seconds: int = DEFAULT_CAPABILITY_TTL_S,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Creates the store.

        Args:
            store: The auth database, which holds the `capabilities` table.
            ttl_seconds: How long a new id stays valid.
            clock: Returns the current Unix time; replaceable in tests.
        """
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be positive.")
        self.store = store
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def create(
        self,
        kind: Kind,
        project: str,
        creator: str,
        scopes: tuple[str, ...],
        request: dict[str, Any],
    ) -> str:
        """Stores a request and returns its new id (never stored in clear).

        Args:
            kind: `thumbnail` (also downloads), `map`, `table`, `video` or `filmstrip`; an id
                only resolves as its own kind.
            project: The project in the resource name; an id only resolves under it.
            creator: The e-mail of the principal that asked; fetches compute as this principal.
            scopes: The creator's scopes.
            request: The JSON-serializable request to replay on each fetch.

        Returns:
            The id, 40 lowercase hex digits.
        """
        raw = secrets.token_hex(CAPABILITY_BYTES)
        now = self._clock()
        with self.store.connect() as conn:
            conn.execute("DELETE FROM capabilities WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO capabilities"
                " (id_hash, kind, project, creator, scopes, request, created, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    hash_token(raw),
                    kind,
                    project,
                    creator,
                    " ".join(scopes),
                    json.dumps(request, separators=(",", ":")),
                    now,
                    now + self.ttl_seconds,
                ),
            )
        return raw

    def resolve(self, kind: Kind, project: str, raw_id: str) -> Capability | None:
        """Returns the live capability with this id, kind and project, or None.

        Unknown, malformed, expired, other-kind and other-project ids are all just None, so
        the caller answers them alike.
        """
        if not _ID_PATTERN.fullmatch(raw_id):
            return None
        with self.store.connect() as conn:
            row = conn.execute(
                "SELECT kind, project, creator, scopes, request, created, expires_at"
                " FROM capabilities WHERE id_hash = ?",
                (hash_token(raw_id),),
            ).fetchone()
        if row is None or row[0] != kind or row[1] != project or row[6] <= self._clock():
            return None
        return Capability(
            kind=row[0],
            project=row[1],
            creator=row[2],
            scopes=tuple(row[3].split()),
            request=json.loads(row[4]),
            created=row[5],
            expires_at=row[6],
        )

    def purge_expired(self) -> int:
        """Deletes expired capabilities; returns how many went."""
        with self.store.connect() as conn:
            cur = conn.execute("DELETE FROM capabilities WHERE expires_at <= ?", (self._clock(),))
        return cur.rowcount
