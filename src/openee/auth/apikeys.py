"""API keys: `?key=` on map tiles and thumbnails (and, read-only, on API calls), as Earth Engine's.

A key belongs to a project. `openee api-keys create` prints it once; only its SHA-256 hash is
stored, next to a short public id (`key_id`) for listing and revoking. A key is 32 random bytes:
`AIza` (like Google's) + the key id + 43 base64url characters.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from openee.auth.store import AuthStore, hash_token
from openee.errors import InvalidArgumentError, NotFoundError
from openee.statedb import IntegrityError

# Google's message for a bad `key=`; the stock client shows it as is.
INVALID_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
KEY_PREFIX = "AIza"
_KEY_ID_BYTES = 4
_SECRET_BYTES = 32
_KEY_PATTERN = re.compile(r"AIza[0-9a-f]{8}[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class ApiKey:
    """A stored API key, without its secret."""

    key_id: str
    project: str
    display_name: str
    revoked: bool
    created: float


class ApiKeyStore:
    """API keys of projects, stored hashed in the auth database."""

    def __init__(self, store: AuthStore) -> None:
        self.store = store

    def create(
        self, project: str, display_name: str = "", *, now: float | None = None
    ) -> tuple[ApiKey, str]:
        """Creates a key for a project.

        Returns:
            The key's record and the raw key, which is not stored and cannot be shown again.
        """
        created = time.time() if now is None else now
        for _ in range(5):
            key_id = secrets.token_hex(_KEY_ID_BYTES)
            raw = KEY_PREFIX + key_id + secrets.token_urlsafe(_SECRET_BYTES)
            try:
                with self.store.connect() as conn:
                    conn.execute(
                        "INSERT INTO api_keys"
                        " (key_id, key_hash, project, display_name, revoked, created)"
                        " VALUES (?, ?, ?, ?, 0, ?)",
                        (key_id, hash_token(raw), project, display_name, created),
                    )
            except IntegrityError:
                continue  # a key id collision (1 in 4 billion): draw again
            return ApiKey(key_id, project, display_name, False, created), raw
        raise RuntimeError("could not draw a fresh API key id")

    def list(self, project: str | None = None) -> list[ApiKey]:
        """Returns every key (or a project's), revoked ones included, oldest first."""
        query = "SELECT key_id, project, display_name, revoked, created FROM api_keys"
        params: tuple[str, ...] = ()
        if project is not None:
            query += " WHERE project = ?"
            params = (project,)
        with self.store.connect(write=False) as conn:
            rows = conn.execute(query + " ORDER BY created, key_id", params).fetchall()
        return [ApiKey(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revokes a key by its id.

        Raises:
            NotFoundError: There is no such key.
        """
        with self.store.connect() as conn:
            cur = conn.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,))
            row = conn.execute(
                "SELECT key_id, project, display_name, revoked, created FROM api_keys"
                " WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        if cur.rowcount == 0 or row is None:
            raise NotFoundError(f"API key '{key_id}' not found.")
        return ApiKey(row[0], row[1], row[2], bool(row[3]), row[4])

    def get(self, key_id: str) -> ApiKey | None:
        """Returns the key with this public id (revoked or not), or None."""
        with self.store.connect(write=False) as conn:
            row = conn.execute(
                "SELECT key_id, project, display_name, revoked, created FROM api_keys"
                " WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        return None if row is None else ApiKey(row[0], row[1], row[2], bool(row[3]), row[4])

    def lookup(self, raw: str) -> ApiKey | None:
        """Returns the live (not revoked) key for a raw key, or None."""
        if not _KEY_PATTERN.fullmatch(raw):
            return None
        with self.store.connect(write=False) as conn:
            row = conn.execute(
                "SELECT key_id, project, display_name, revoked, created FROM api_keys"
                " WHERE key_hash = ?",
                (hash_token(raw),),
            ).fetchone()
        if row is None or row[3]:
            return None
        return ApiKey(row[0], row[1], row[2], bool(row[3]), row[4])

    def check(self, raw: str) -> ApiKey:
        """Returns the live key for a raw key.

        Raises:
            InvalidArgumentError: The key is malformed, unknown or revoked (400, as Google).
        """
        key = self.lookup(raw)
        if key is None:
            raise InvalidArgumentError(INVALID_KEY_MESSAGE)
        return key
