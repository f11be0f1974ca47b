"""Everything a request handler needs, built once by create_app."""

from __future__ import annotations

from dataclasses import dataclass, field

from openee.algorithms.registry import Registry
from openee.auth import AuditLog, AuthStore, TokenService
from openee.auth.capabilities import CapabilityStore
from openee.catalog.roots import Roots
from openee.catalog.store import CatalogStore
from openee.engine.executors import Executors
from openee.services.operations import OperationRunner, OperationStore
from openee.services.result_cache import ResultCache, ShortMemo
from openee.settings import Settings


@dataclass(frozen=True)
class AppState:
    settings: Settings
    catalog: CatalogStore
    auth: AuthStore
    tokens: TokenService
    # Token grants and refusals, admin and IAM changes, and every write through the API.
    audit: AuditLog
    registry: Registry
    # The chunk executors: threads, and the Dask cluster for heavy grids and exports.
    executor: Executors
    # Where asset files may come from (the data dir, the demo data, OPENEE_ALLOWED_ROOTS).
    roots: Roots
    # Long-running operations (imports) and the threads that run them.
    operations: OperationStore
    runner: OperationRunner
    # Thumbnail, download and map ids (content-addressed with the server's secret).
    capabilities: CapabilityStore
    # Encoded map tiles (bounded, short-lived), shared by every viewer of a map.
    tiles: ResultCache = field(default_factory=lambda: ResultCache(0, 0.0))
    # The threads that run exports (their own, so that a long export never holds up imports);
    # None: exports share `runner`.
    export_runner: OperationRunner | None = None
    # The evaluated expressions of map ids, reused for a few seconds by a burst of tiles.
    tile_images: ShortMemo = field(default_factory=lambda: ShortMemo(256, 5.0))
