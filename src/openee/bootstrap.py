"""First start: create the catalog and the state stores, ingest the bundled demo imagery, write a
service-account key.

Every step is idempotent, so a restart reuses what is there. The state (accounts, tokens, IAM,
capabilities, operations, audit trail, failed-authentication counts) lives in the data dir's
SQLite files, or in the shared PostgreSQL database (ADR 0046) when one is configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from openee.auth import AuditLog, AuthStore, create_service_account_key, write_key_file
from openee.auth.audit import StoredAuditLog
from openee.auth.capabilities import check_shared_secret, load_or_create_secret
from openee.auth.ratelimit import FailureLimiter, StoredFailureLimiter
from openee.catalog.names import name_from_id
from openee.catalog.profiles import SENTINEL2_L2A
from openee.catalog.stac_ingest import ingest_stac
from openee.catalog.store import CatalogStore, open_store
from openee.demo import S2_COLLECTION_ID, S2_L2A_CATALOG
from openee.services.operations import OperationStore
from openee.settings import Settings
from openee.statedb import PostgresState, StateDB

log = logging.getLogger("openee.bootstrap")


@dataclass(frozen=True)
class State:
    """The server's state stores, on one database."""

    db: StateDB | None  # the shared PostgreSQL database; None: the data dir's SQLite files
    auth: AuthStore
    operations: OperationStore
    audit: AuditLog
    limiter: FailureLimiter

    @property
    def shared(self) -> bool:
        return self.db is not None

    def close(self) -> None:
        self.operations.close()
        self.auth.close()
        if self.db is not None:
            self.db.close()


def open_state(settings: Settings) -> State:
    """Opens the state stores, creating or upgrading their schemas (`openee db upgrade`)."""
    dsn = settings.state_dsn
    if dsn is None:
        return State(
            None,
            AuthStore(settings.auth_path),
            OperationStore(settings.operations_path, lease_s=settings.operation_lease_s),
            AuditLog(settings.audit_path),
            FailureLimiter(settings.auth_max_failures),
        )
    db = PostgresState(dsn)
    return State(
        db,
        AuthStore(db),
        OperationStore(db, lease_s=settings.operation_lease_s),
        StoredAuditLog(db),
        StoredFailureLimiter(db, settings.auth_max_failures),
    )


@dataclass(frozen=True)
class Bootstrapped:
    catalog: CatalogStore
    state: State
    capability_secret: bytes
    default_key_path: Path
    created_key: bool

    @property
    def auth(self) -> AuthStore:
        return self.state.auth


def bootstrap(settings: Settings) -> Bootstrapped:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = open_store(settings.catalog_target)
    if catalog.get(name_from_id(S2_COLLECTION_ID)) is None:
        count = ingest_stac(catalog, S2_L2A_CATALOG, S2_COLLECTION_ID, SENTINEL2_L2A)
        log.info("ingested the demo collection %s (%d images)", S2_COLLECTION_ID, count)
    state = open_state(settings)
    secret = load_or_create_secret(settings.capability_secret_path)
    if state.shared:
        check_shared_secret(state.auth, secret, settings.capability_secret_path)
    key_path = settings.keys_dir / "default.json"
    created = False
    if not key_path.exists():
        key = create_service_account_key(state.auth, settings.default_project, settings.token_url)
        write_key_file(key, key_path)
        created = True
    return Bootstrapped(catalog, state, secret, key_path, created)
