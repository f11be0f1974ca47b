"""Persistence of service accounts, their public keys and issued access tokens: a SQLite file
in the data dir by default, or the shared PostgreSQL state database (`openee.statedb`).

Only public keys are stored; private keys are handed to the caller once and never persisted.
Access tokens are stored as SHA-256 hashes, so a copy of the database does not leak usable
tokens. Every method runs its own short transaction, which makes an `AuthStore` safe to share
between the threads of a web server's threadpool (and, on PostgreSQL, between replicas).

The same database holds the tables of `capabilities` (thumbnail, download and map ids, hashed),
`apikeys` (API keys, hashed) and `iam` (role bindings), which reach it through `connect()`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from openee.errors import AlreadyExistsError, NotFoundError
from openee.statedb import Conn, IntegrityError, Migration, SqliteState, StateDB

_TABLES = (
    """CREATE TABLE IF NOT EXISTS service_accounts (
        email        TEXT PRIMARY KEY,
        project      TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        disabled     INTEGER NOT NULL DEFAULT 0,
        created      {real} NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS service_account_keys (
        kid        TEXT PRIMARY KEY,
        email      TEXT NOT NULL REFERENCES service_accounts(email) ON DELETE CASCADE,
        public_pem TEXT NOT NULL,
        revoked    INTEGER NOT NULL DEFAULT 0,
        created    {real} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS service_account_keys_email ON service_account_keys(email)",
    """CREATE TABLE IF NOT EXISTS access_tokens (
        token_hash TEXT PRIMARY KEY,
        email      TEXT NOT NULL,
        scopes     TEXT NOT NULL DEFAULT '',
        project    TEXT NOT NULL,
        expires_at {real} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS access_tokens_expires_at ON access_tokens(expires_at)",
    "CREATE INDEX IF NOT EXISTS access_tokens_email ON access_tokens(email)",
    """CREATE TABLE IF NOT EXISTS seen_assertions (
        iss        TEXT NOT NULL,
        jti        TEXT NOT NULL,
        expires_at {real} NOT NULL,
        PRIMARY KEY (iss, jti)
    )""",
    "CREATE INDEX IF NOT EXISTS seen_assertions_expires_at ON seen_assertions(expires_at)",
    """CREATE TABLE IF NOT EXISTS capabilities (
        id_hash    TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        project    TEXT NOT NULL,
        creator    TEXT NOT NULL,
        scopes     TEXT NOT NULL DEFAULT '',
        request    TEXT NOT NULL,
        created    {real} NOT NULL,
        expires_at {real} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS capabilities_expires_at ON capabilities(expires_at)",
    """CREATE TABLE IF NOT EXISTS api_keys (
        key_id       TEXT PRIMARY KEY,
        key_hash     TEXT NOT NULL UNIQUE,
        project      TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        revoked      INTEGER NOT NULL DEFAULT 0,
        created      {real} NOT NULL
    )""",
)
_IAM_TABLES = (
    """CREATE TABLE IF NOT EXISTS iam_bindings (
        resource TEXT NOT NULL,
        role     TEXT NOT NULL,
        member   TEXT NOT NULL,
        PRIMARY KEY (resource, role, member)
    )""",
    "CREATE INDEX IF NOT EXISTS iam_bindings_member ON iam_bindings(member)",
)


def _first_schema(conn: Conn) -> None:
    """Version 1: the tables, also over a store made before versions were recorded (whose
    missing pieces are added: IAM, then the key that minted each token)."""
    had_iam = bool(conn.columns("iam_bindings"))
    conn.run(_TABLES)
    conn.run(_IAM_TABLES)
    if not had_iam:
        # Stores created before IAM existed: accounts keep owning their own project.
        conn.executemany(
            "INSERT INTO iam_bindings (resource, role, member) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [
                (project_root(project), HOME_PROJECT_ROLE, account_member(email))
                for email, project in conn.execute(
                    "SELECT email, project FROM service_accounts"
                ).fetchall()
            ],
        )
    if "kid" not in conn.columns("access_tokens"):
        conn.run(["ALTER TABLE access_tokens ADD COLUMN kid TEXT NOT NULL DEFAULT ''"])
    conn.run(["CREATE INDEX IF NOT EXISTS access_tokens_kid ON access_tokens(kid)"])


# The auth component's schema versions, oldest first (statedb.migrate); append, never edit.
MIGRATIONS: tuple[Migration, ...] = (
    _first_schema,
    # Facts every server of one state database must agree on (the capability secret's
    # fingerprint), one row each.
    ("CREATE TABLE IF NOT EXISTS server_facts (name TEXT PRIMARY KEY, value TEXT NOT NULL)",),
)

# The role every service account gets on its own project's root folder when it is created.
HOME_PROJECT_ROLE = "roles/owner"


def project_root(project: str) -> str:
    """Returns the asset name of a project's root folder, where project-wide roles are bound."""
    return f"projects/{project}/assets"


def account_member(email: str) -> str:
    """Returns the IAM member string of a service account."""
    return f"serviceAccount:{email}"


def hash_token(raw_token: str) -> str:
    """Returns the hex SHA-256 digest under which an access token is stored.

    Args:
        raw_token: The opaque access token as handed to the client.

    Returns:
        The lowercase hex digest of the UTF-8 encoded token.
    """
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ServiceAccount:
    """A registered service account."""

    email: str
    project: str
    display_name: str
    disabled: bool
    created: float


@dataclass(frozen=True)
class KeyRecord:
    """The public half of a service-account key."""

    kid: str
    email: str
    public_pem: str
    revoked: bool
    created: float


@dataclass(frozen=True)
class TokenRecord:
    """What an issued access token grants."""

    email: str
    project: str
    scopes: tuple[str, ...]
    expires_at: float
    kid: str = ""


class AuthStore:
    """Service accounts, public keys and hashed access tokens in the state database."""

    def __init__(self, target: Path | StateDB) -> None:
        """Opens (and if needed creates or upgrades) the store.

        Args:
            target: The SQLite file (parent directories are created if missing), or the
                shared state database.
        """
        self.db = target if isinstance(target, StateDB) else SqliteState(Path(target))
        self.path = Path(target) if not isinstance(target, StateDB) else None
        self.db.migrate("auth", MIGRATIONS)

    def connect(self, write: bool = True) -> AbstractContextManager[Conn]:
        """A connection inside a transaction that commits on success.

        For the modules that keep their own tables in this database (capabilities, API keys,
        IAM bindings).
        """
        return self.db.tx(write)

    def _connect(self, write: bool = True) -> AbstractContextManager[Conn]:
        return self.db.tx(write)

    def close(self) -> None:
        self.db.close()

    # Service accounts.

    def add_account(
        self, email: str, project: str, display_name: str = "", *, now: float | None = None
    ) -> ServiceAccount:
        """Registers a service account, bound to the owner role of its own project.

        Args:
            email: The account's e-mail address, its identity.
            project: The project the account belongs to.
            display_name: A human-readable name.
            now: Creation time as a Unix timestamp; defaults to the current time.

        Returns:
            The new account.

        Raises:
            AlreadyExistsError: An account with this e-mail already exists.
        """
        created = time.time() if now is None else now
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT INTO service_accounts (email, project, display_name, disabled, created)"
                    " VALUES (?, ?, ?, 0, ?)",
                    (email, project, display_name, created),
                )
                conn.execute(
                    "INSERT INTO iam_bindings (resource, role, member) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (project_root(project), HOME_PROJECT_ROLE, account_member(email)),
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(f"Service account '{email}' already exists.") from exc
        return ServiceAccount(email, project, display_name, False, created)

    def get_account(self, email: str) -> ServiceAccount | None:
        """Returns the account with this e-mail, or None if there is none."""
        with self._connect(write=False) as conn:
            row = conn.execute(
                "SELECT email, project, display_name, disabled, created"
                " FROM service_accounts WHERE email = ?",
                (email,),
            ).fetchone()
        if row is None:
            return None
        return ServiceAccount(row[0], row[1], row[2], bool(row[3]), row[4])

    def list_accounts(self, project: str | None = None) -> list[ServiceAccount]:
        """Returns all accounts, or those of one project, ordered by e-mail."""
        query = "SELECT email, project, display_name, disabled, created FROM service_accounts"
        params: tuple[str, ...] = ()
        if project is not None:
            query += " WHERE project = ?"
            params = (project,)
        with self._connect(write=False) as conn:
            rows = conn.execute(query + " ORDER BY email", params).fetchall()
        return [ServiceAccount(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def set_account_disabled(self, email: str, disabled: bool) -> None:
        """Disables or re-enables an account.

        Disabling also revokes every access token issued to the account, so re-enabling it
        does not bring old tokens back.

        Raises:
            NotFoundError: There is no such account.
        """
        with self._connect() as conn:
            cur = conn.execute(
                "UPDATE service_accounts SET disabled = ? WHERE email = ?", (int(disabled), email)
            )
            if disabled:
                conn.execute("DELETE FROM access_tokens WHERE email = ?", (email,))
        if cur.rowcount == 0:
            raise NotFoundError(f"Service account '{email}' not found.")

    def delete_account(self, email: str) -> None:
        """Deletes an account with its keys, access tokens and role bindings.

        Raises:
            NotFoundError: There is no such account.
        """
        with self._connect() as conn:
            conn.execute("DELETE FROM access_tokens WHERE email = ?", (email,))
            conn.execute("DELETE FROM service_account_keys WHERE email = ?", (email,))
            conn.execute("DELETE FROM iam_bindings WHERE member = ?", (account_member(email),))
            conn.execute("DELETE FROM capabilities WHERE creator = ?", (email,))
            cur = conn.execute("DELETE FROM service_accounts WHERE email = ?", (email,))
        if cur.rowcount == 0:
            raise NotFoundError(f"Service account '{email}' not found.")

    # Keys.

    def add_key(
        self, email: str, kid: str, public_pem: str, *, now: float | None = None
    ) -> KeyRecord:
        """Registers the public key of a service-account key pair.

        Args:
            email: The owning account, which must exist.
            kid: The key id (`private_key_id` in the JSON key, `kid` in JWT headers).
            public_pem: The PEM encoded public key. Never pass a private key.
            now: Creation time as a Unix timestamp; defaults to the current time.

        Returns:
            The new key record.

        Raises:
            NotFoundError: The account does not exist.
            AlreadyExistsError: The kid is already taken.
        """
        if "PRIVATE KEY" in public_pem:
            raise ValueError("add_key() takes a public key; refusing to store a private key.")
        if self.get_account(email) is None:
            raise NotFoundError(f"Service account '{email}' not found.")
        created = time.time() if now is None else now
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT INTO service_account_keys (kid, email, public_pem, revoked, created)"
                    " VALUES (?, ?, ?, 0, ?)",
                    (kid, email, public_pem, created),
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(f"Key '{kid}' already exists.") from exc
        return KeyRecord(kid, email, public_pem, False, created)

    def get_key(self, kid: str) -> KeyRecord | None:
        """Returns the key with this id (revoked or not), or None if there is none."""
        with self._connect(write=False) as conn:
            row = conn.execute(
                "SELECT kid, email, public_pem, revoked, created"
                " FROM service_account_keys WHERE kid = ?",
                (kid,),
            ).fetchone()
        return None if row is None else KeyRecord(row[0], row[1], row[2], bool(row[3]), row[4])

    def list_keys(self, email: str) -> list[KeyRecord]:
        """Returns all keys (revoked or not) of an account, oldest first."""
        with self._connect(write=False) as conn:
            rows = conn.execute(
                "SELECT kid, email, public_pem, revoked, created"
                " FROM service_account_keys WHERE email = ? ORDER BY created, kid",
                (email,),
            ).fetchall()
        return [KeyRecord(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def list_all_keys(self) -> list[KeyRecord]:
        """Returns the keys of every account, ordered by account then age."""
        with self._connect(write=False) as conn:
            rows = conn.execute(
                "SELECT kid, email, public_pem, revoked, created"
                " FROM service_account_keys ORDER BY email, created, kid"
            ).fetchall()
        return [KeyRecord(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def revoke_key(self, kid: str) -> bool:
        """Marks a key revoked so it can no longer mint tokens, and revokes the access tokens
        it minted.

        Returns:
            True if the key existed.
        """
        with self._connect() as conn:
            cur = conn.execute("UPDATE service_account_keys SET revoked = 1 WHERE kid = ?", (kid,))
            if cur.rowcount > 0:
                conn.execute("DELETE FROM access_tokens WHERE kid = ?", (kid,))
        return cur.rowcount > 0

    # Access tokens.

    def store_token(
        self,
        raw_token: str,
        email: str,
        scopes: Iterable[str],
        project: str,
        expires_at: float,
        kid: str = "",
    ) -> None:
        """Records an issued access token under its hash.

        Args:
            raw_token: The opaque token handed to the client; only its hash is written.
            email: The account the token acts as.
            scopes: The granted OAuth scopes.
            project: The account's project.
            expires_at: Expiry as a Unix timestamp.
            kid: The key whose assertion minted the token; revoking the key revokes the token.
        """
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO access_tokens (token_hash, email, scopes, project, expires_at, kid)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (hash_token(raw_token), email, " ".join(scopes), project, expires_at, kid),
            )

    def lookup_token(self, raw_token: str, *, now: float | None = None) -> TokenRecord | None:
        """Finds a live access token.

        Args:
            raw_token: The opaque token presented by a client.
            now: The current Unix time; defaults to the current time.

        Returns:
            The token's record, or None if it is unknown, revoked or expired.
        """
        current = time.time() if now is None else now
        with self._connect(write=False) as conn:
            row = conn.execute(
                "SELECT email, scopes, project, expires_at, kid FROM access_tokens"
                " WHERE token_hash = ?",
                (hash_token(raw_token),),
            ).fetchone()
        if row is None or row[3] <= current:
            return None
        return TokenRecord(
            email=row[0],
            project=row[2],
            scopes=tuple(row[1].split()),
            expires_at=row[3],
            kid=row[4],
        )

    def revoke_token(self, raw_token: str) -> bool:
        """Deletes an access token.

        Returns:
            True if the token existed.
        """
        with self._connect() as conn:
            cur = conn.execute(
                "DELETE FROM access_tokens WHERE token_hash = ?", (hash_token(raw_token),)
            )
        return cur.rowcount > 0

    def purge_expired_tokens(self, *, now: float | None = None) -> int:
        """Deletes expired access tokens.

        Returns:
            How many tokens were deleted.
        """
        current = time.time() if now is None else now
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM access_tokens WHERE expires_at <= ?", (current,))
        return cur.rowcount

    def count_tokens(self) -> int:
        """Returns how many access tokens are stored, expired or not."""
        with self._connect(write=False) as conn:
            row = conn.execute("SELECT COUNT(*) FROM access_tokens").fetchone()
        return int(row[0])

    # Assertion ids (jti) seen by the token endpoint.

    def remember_assertion(
        self, iss: str, jti: str, expires_at: float, *, now: float | None = None
    ) -> bool:
        """Records that an assertion id was used, unless it is already on record.

        The check and the insert are one statement, so two concurrent requests carrying the
        same assertion cannot both succeed. Ids whose assertion has expired are forgotten.

        Args:
            iss: The assertion's issuer; ids are unique per issuer (RFC 7519 section 4.1.7).
            jti: The assertion id.
            expires_at: Until when the assertion would be accepted, as a Unix timestamp.
            now: The current Unix time; defaults to the current time.

        Returns:
            True if the id was new, False if it was seen before and is still live.
        """
        current = time.time() if now is None else now
        with self._connect() as conn:
            conn.execute("DELETE FROM seen_assertions WHERE expires_at <= ?", (current,))
            cur = conn.execute(
                "INSERT INTO seen_assertions (iss, jti, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (iss, jti, expires_at),
            )
        return bool(cur.rowcount == 1)
