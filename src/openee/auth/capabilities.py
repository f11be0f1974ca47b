"""Capabilities: the ids of thumbnails, downloads and map tiles.

`POST {parent}/thumbnails` and `POST {parent}/maps` store the request (its expression, format,
bands, visualization and grid) under an id and return it in the resource name. The URL built
from that name is then fetched WITHOUT authentication: the id is the credential. So an id is
unguessable, expires (24 h by default), and is only ever a lookup key for the one request it was
created for: nothing in the URL but the id selects what is computed.

An id is content-addressed (ADR 0037): an HMAC-SHA256, keyed with a server secret, of the kind,
project, creator, scopes and the request's canonical JSON, cut to 160 bits. The same layer asked
for again by the same principal gets the same id (so browsers and the tile caches reuse its tiles,
and a link made from the layer keeps working across restarts), which also renews its expiry;
without the secret an id cannot be derived from a request. The secret is a file in the data
dir's `keys/` (or `OPENEE_CAPABILITY_SECRET_FILE`), not in the database, and ids are stored as
SHA-256 hashes, so a copy of the database alone holds no usable URL. Servers sharing one state
database must share the secret too (a map id made by one resolves on another): the database
keeps the secret's fingerprint, and a server with another secret refuses to start (ADR 0046).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from openee.auth.store import AuthStore, hash_token

Kind = Literal["thumbnail", "map", "table", "video", "filmstrip"]

# Bytes of a capability id: 160 bits of HMAC, written as 40 hex digits.
CAPABILITY_BYTES = 20
# Bytes of the server secret that keys the HMAC.
SECRET_BYTES = 32
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


def load_or_create_secret(path: Path) -> bytes:
    """The server secret that keys capability ids, made (random, mode 0600) on first use.

    Several server processes on one data dir race safely: the file is created exclusively and
    whoever loses reads the winner's. Losing the file changes every id, so every URL made
    before stops working (as rotating it on purpose would).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the winner may not have written it yet
            text = path.read_text(encoding="ascii").strip()
            if text:
                return bytes.fromhex(text)
            time.sleep(0.01)
        raise ValueError(f"The capability secret {path} is empty.") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            secret = secrets.token_bytes(SECRET_BYTES)
            fh.write(secret.hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise
    return secret


def check_shared_secret(store: AuthStore, secret: bytes, path: Path) -> None:
    """Records the secret's fingerprint in a shared state database, or checks it against the
    one recorded by the first server.

    Raises:
        ValueError: Another server of this database uses another secret.
    """
    fingerprint = hmac.new(secret, b"openee capability secret", hashlib.sha256).hexdigest()[:32]
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO server_facts (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
            ("capability_secret_fingerprint", fingerprint),
        )
        (recorded,) = conn.execute(
            "SELECT value FROM server_facts WHERE name = ?", ("capability_secret_fingerprint",)
        ).fetchone()
    if recorded != fingerprint:
        raise ValueError(
            f"The capability secret {path} is not the one the other servers of this state"
            " database use, so map and thumbnail ids made by one would not resolve on another:"
            " give every server the same file (OPENEE_CAPABILITY_SECRET_FILE)."
        )


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class CapabilityStore:
    """Creates and resolves capability ids, in the auth database."""

    def __init__(
        self,
        store: AuthStore,
        secret: bytes,
        ttl_seconds: int = DEFAULT_CAPABILITY_TTL_S,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Creates the store.

        Args:
            store: The auth database, which holds the `capabilities` table.
            secret: The server secret that keys ids (`load_or_create_secret`).
            ttl_seconds: How long a new id stays valid.
            clock: Returns the current Unix time; replaceable in tests.
        """
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be positive.")
        if len(secret) < 16:
            raise ValueError("The capability secret must hold at least 16 bytes.")
        self.store = store
        self._secret = secret
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
        """Stores a request and returns its id (never stored in clear).

        The id is the same for the same arguments (content-addressed); asking again renews it
        for another `ttl_seconds`.

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
        request_json = canonical_json(request)
        message = canonical_json([kind, project, creator, sorted(scopes)]) + "\n" + request_json
        digest = hmac.new(self._secret, message.encode("ascii"), hashlib.sha256).digest()
        raw = digest[:CAPABILITY_BYTES].hex()
        now = self._clock()
        with self.store.connect() as conn:
            conn.execute("DELETE FROM capabilities WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO capabilities"
                " (id_hash, kind, project, creator, scopes, request, created, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id_hash) DO UPDATE SET"
                " expires_at = excluded.expires_at",
                (
                    hash_token(raw),
                    kind,
                    project,
                    creator,
                    " ".join(scopes),
                    request_json,
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
        with self.store.connect(write=False) as conn:
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
