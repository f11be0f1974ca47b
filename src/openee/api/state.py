"""Everything a request handler needs, built once by create_app."""

from __future__ import annotations

from dataclasses import dataclass

from openee.algorithms.registry import Registry
from openee.auth import AuthStore, TokenService
from openee.catalog.sqlite import SqliteCatalog
from openee.compute.executors import ChunkExecutor
from openee.settings import Settings


@dataclass(frozen=True)
class AppState:
    settings: Settings
    catalog: SqliteCatalog
    auth: AuthStore
    tokens: TokenService
    registry: Registry
    executor: ChunkExecutor
