"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from openee import __version__
from openee.algorithms import default_registry
from openee.api import ratelimit
from openee.api.admission import AdmissionMiddleware, FairShares
from openee.api.errors import install_error_handlers
from openee.api.middleware import RequestMiddleware
from openee.api.public_url import ForwardedMiddleware
from openee.api.routes import (
    algorithms,
    animations,
    assets,
    compute,
    discovery,
    drive,
    exports,
    features,
    iam,
    maps,
    operations,
    thumbnails,
    token,
    web,
)
from openee.api.routes.operations import MOSAIC_DIR
from openee.api.state import AppState
from openee.auth import TokenService
from openee.auth.capabilities import CapabilityStore
from openee.bootstrap import State, bootstrap
from openee.catalog.ingest import COG_DIR
from openee.catalog.orphans import sweep_temporaries
from openee.catalog.roots import Roots
from openee.catalog.store import CatalogStore
from openee.engine.executors import Executors, make_executor
from openee.engine.memory import MemoryLedger
from openee.raster.gdal import confine_sidecars_to
from openee.raster.remote_cache import record_blocks, use_disk_tier
from openee.services.destinations import clear_staging, recover
from openee.services.operations import LeaseKeeper, OperationRunner
from openee.services.result_cache import DiskTier, ResultCache
from openee.settings import Settings


@dataclass
class _Running:
    """What create_app started and opened, stopped and closed by the app's shutdown: no thread
    of a stopped app renews leases or runs operations against a database that is gone."""

    keeper: LeaseKeeper
    runners: tuple[OperationRunner, ...]
    executor: Executors
    state: State
    catalog: CatalogStore
    closed: bool = False

    def close(self) -> None:
        if self.closed:  # each TestClient around one app runs its shutdown
            return
        self.closed = True
        self.keeper.stop()  # first: no more take-overs handing work to the runners
        for runner in self.runners:
            runner.stop()
        self.executor.close()
        self.state.close()
        self.catalog.close()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        yield
    finally:
        try:
            # First, while every thread that read them is still there: uvicorn re-raises
            # SIGTERM after this, so no atexit handler would run.
            record_blocks()
        finally:
            app.state.running.close()


def create_app(settings: Settings) -> FastAPI:
    """Build the app: bootstrap the data dir, wire the state, routes and error handlers."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ready = bootstrap(settings)
    operation_store, audit = ready.state.operations, ready.state.audit
    roots = Roots.for_data_dir(
        settings.data_dir, settings.allowed_roots, settings.allowed_url_prefixes
    )
    for made_here in (MOSAIC_DIR, COG_DIR):  # what killed imports and ingests left
        sweep_temporaries(settings.data_dir / made_here, pids_are_local=not ready.state.shared)
    confine_sidecars_to(roots.roots)
    use_disk_tier(settings.remote_cache_dir, settings.remote_cache_bytes)
    runners = (
        OperationRunner(operation_store, settings.import_workers),
        OperationRunner(operation_store, settings.export_workers),
    )
    state = AppState(
        settings=settings,
        catalog=ready.catalog,
        auth=ready.auth,
        tokens=TokenService(
            ready.auth,
            settings.token_url,
            settings.token_ttl_s,
            limiter=ready.state.limiter,
            audit=audit,
        ),
        audit=audit,
        registry=default_registry(),
        executor=make_executor(
            settings.chunk_workers, settings.dask_scheduler, settings.dask_threshold
        ),
        roots=roots,
        operations=operation_store,
        runner=runners[0],
        export_runner=runners[1],
        capabilities=CapabilityStore(
            ready.auth, ready.capability_secret, settings.capability_ttl_s
        ),
        tiles=ResultCache(
            settings.tile_cache_bytes,
            settings.tile_cache_ttl_s,
            disk=None
            if settings.tile_cache_dir is None
            else DiskTier(
                settings.tile_cache_dir, settings.tile_cache_disk_bytes, settings.tile_cache_ttl_s
            ),
        ),
    )
    # Operations a previous process left unfinished are taken over: exports resume from their
    # finished windows, imports run again, what cannot is marked FAILED. Alone on its data dir,
    # a server takes them all at once; sharing a state database, it takes those whose lease ran
    # out, now and then every third of the lease (ADR 0046). What no unfinished export holds in
    # staging goes.
    recover(settings.data_dir)  # publishes a killed server cut short are undone first
    exports.take_over(state, operation_store.take_over(everything=not ready.state.shared))
    clear_staging(settings.data_dir, keep={op.id for op in operation_store.unfinished()})
    keeper = LeaseKeeper(operation_store, lambda taken: exports.take_over(state, taken))
    app = FastAPI(
        title="openee",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan,
    )
    app.state.openee = state
    app.state.running = _Running(keeper, runners, state.executor, ready.state, ready.catalog)
    install_error_handlers(app)
    ratelimit.install(app)
    for router in (
        discovery.router,
        token.router,
        algorithms.router,
        compute.router,
        features.router,  # before assets: both route under /{version}/projects/...
        thumbnails.router,  # before assets: both route under /{version}/projects/...
        animations.router,  # before assets: both route under /{version}/projects/...
        maps.router,  # before assets: both route under /{version}/projects/...
        iam.router,  # before assets: both route under /{version}/projects/...
        operations.router,  # before assets: both route under /{version}/projects/...
        exports.router,  # before assets: both route under /{version}/projects/...
        drive.router,  # Drive exports' download links
        assets.router,
        web.router,  # the map page (/map) and its static files
    ):
        app.include_router(router)
    shares = FairShares(
        settings.compute_slots, settings.project_concurrency, settings.admission_wait_s
    )
    app.add_middleware(AdmissionMiddleware, shares=shares)
    ledger = MemoryLedger(settings.limits.process_memory_budget_bytes, settings.admission_wait_s)
    app.state.memory_ledger = ledger  # what the requests running now have reserved
    app.add_middleware(  # outermost: logs and times every request, the 429s of admission too
        RequestMiddleware,
        max_body_bytes=settings.limits.max_body_bytes,
        deadline_s=settings.limits.deadline_s,
        memory_ledger=ledger,
    )
    app.add_middleware(  # outside even that: the public scheme, host and prefix of a request
        ForwardedMiddleware,
        root_path=settings.root_path,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return app
