"""The chunk function runs unchanged as Dask tasks on a real dask.distributed cluster."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from affine import Affine
from distributed import Client, LocalCluster

from openee.catalog.profiles import SENTINEL2_L2A
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.stac_ingest import ingest_stac
from openee.demo import S2_L2A_CATALOG
from openee.engine.chunks import compute_chunk, materialize
from openee.engine.executors import ALLOCATOR_PLUGIN, make_executor
from openee.raster.grid import PixelGrid
from openee.raster.sources import FileBand, ReducedBand

GRID = PixelGrid("EPSG:4326", Affine(0.002, 0, 15.6, 0, -0.002, 45.7), 300, 200)


@pytest.fixture(scope="module")
def median_band(tmp_path_factory: pytest.TempPathFactory) -> ReducedBand:
    catalog = SqliteCatalog(tmp_path_factory.mktemp("dask") / "catalog.sqlite")
    ingest_stac(catalog, S2_L2A_CATALOG, "COPERNICUS/S2_SR_HARMONIZED", SENTINEL2_L2A)
    from openee.catalog.store import ImageQuery

    records = catalog.query_images(
        ImageQuery("projects/earthengine-public/assets/COPERNICUS/S2_SR_HARMONIZED")
    )
    files = tuple(
        FileBand(b.path, b.index, b.dtype, b.nodata)
        for r in records
        if "33TWL" in r.name
        for b in r.bands
        if b.id == "B4"
    )
    assert len(files) == 5
    return ReducedBand("median", files)


def _start_cluster() -> LocalCluster:
    # Worker processes, not threads: the chunk's inputs really cross a process boundary. The
    # dashboard on any free port: None means the default 8787, which another cluster may hold.
    kwargs = {"n_workers": 1, "threads_per_worker": 2, "processes": True, "dashboard_address": ":0"}
    try:
        return LocalCluster(**kwargs)
    except RuntimeError:
        # On a loaded 2-core machine the worker process occasionally misses its start-up
        # deadline ("Cluster closed without starting up"); one more attempt is enough.
        return LocalCluster(**kwargs)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with _start_cluster() as cluster, Client(cluster) as c:
        yield c


def test_chunk_inputs_pickle_with_the_standard_library(median_band: ReducedBand) -> None:
    restored = pickle.loads(pickle.dumps((median_band, GRID)))
    assert restored == (median_band, GRID)


def test_dask_and_threads_give_the_same_pixels(median_band: ReducedBand, client: Client) -> None:
    with ThreadPoolExecutor(2) as pool:
        local = materialize([median_band], GRID, pool, chunk_size=128)
    remote = materialize([median_band], GRID, client, chunk_size=128)
    assert local[0].valid.any()
    np.testing.assert_array_equal(remote[0].valid, local[0].valid)
    np.testing.assert_array_equal(remote[0].data, local[0].data)
    # and a single chunk on the cluster equals the same chunk computed here
    single = client.submit(compute_chunk, (median_band,), GRID).result()
    np.testing.assert_array_equal(single[0].data, local[0].data)


def test_the_servers_dask_client_sets_the_workers_allocator(client: Client) -> None:
    """make_executor (what `openee serve` uses with OPENEE_DASK_SCHEDULER) installs the
    allocator setting on the cluster's workers."""
    scheduler = client.scheduler.address
    assert not any(
        ALLOCATOR_PLUGIN in plugins
        for plugins in client.run(lambda dask_worker: list(dask_worker.plugins)).values()
    )
    executor = make_executor(2, scheduler)
    try:
        installed = client.run(lambda dask_worker: list(dask_worker.plugins))
        assert installed and all(ALLOCATOR_PLUGIN in plugins for plugins in installed.values())
        single = executor.heavy.submit(compute_chunk, (), GRID).result()
        assert single == []
    finally:
        executor.close()
