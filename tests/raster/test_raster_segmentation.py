"""Segmentation and edge recipes read in small chunks against the grid read whole (ADR 0032):
k-means cells, SNIC tiles and Canny edges do not depend on the request window or the chunking."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from affine import Affine

from openee.algorithms.image_neighborhood import SeedGridBand
from openee.engine.chunks import materialize
from openee.raster import superpixels
from openee.raster.edges import CannyBand
from openee.raster.grid import PixelGrid
from openee.raster.kmeans_cells import KMeansBand
from openee.raster.sources import FileBand
from openee.raster.superpixels import SnicBand, snic

DEMO = Path(__file__).resolve().parents[2] / "src/openee/demo/data/sentinel2"
B04 = FileBand(str(next(DEMO.rglob("S2A_33TWL_20230815_0_L2A/B04.tif"))), 1, "uint16", 0.0)
B03 = FileBand(str(next(DEMO.rglob("S2A_33TWL_20230815_0_L2A/B03.tif"))), 1, "uint16", 0.0)
GRID = PixelGrid("EPSG:32633", Affine(120.0, 0, 498_000.0, 0, -120.0, 5_050_000.0), 64, 48)


def chunked(source):
    with ThreadPoolExecutor(2) as pool:
        return materialize([source], GRID, pool, chunk_size=16)[0]


def test_kmeans_and_canny_do_not_depend_on_chunks() -> None:
    for source in (
        KMeansBand((B04, B03), 4, 50, 0, 24, False, True),
        KMeansBand((B04,), 3, 50, 4, 20, False, False),
        CannyBand(B04, 20.0, 1.0),
    ):
        whole = source.read(GRID)
        parts = chunked(source)
        assert whole.valid.any()
        np.testing.assert_array_equal(parts.valid, whole.valid)
        np.testing.assert_array_equal(parts.data, whole.data)


# With 32-pixel tiles (256 in service; smaller here to keep the test fast), this grid crosses
# tile borders at column 20 and row 16.
TILED = PixelGrid("EPSG:32633", Affine(120.0, 0, 519_840.0, 0, -120.0, 5_040_000.0), 48, 40)


def test_snic_depends_on_the_tile_only_not_on_the_window_or_chunks(monkeypatch) -> None:
    monkeypatch.setattr(superpixels, "TILE", 32)
    source = SnicBand((B04,), SeedGridBand(6, False), -1, 6, 1.0, True, 8)
    whole = source.read(TILED)
    assert whole.valid.all()
    with ThreadPoolExecutor(2) as pool:
        parts = materialize([source], TILED, pool, chunk_size=16)[0]
    np.testing.assert_array_equal(parts.valid, whole.valid)
    np.testing.assert_array_equal(parts.data, whole.data)
    # Another window over the same pixels reads the same clusters there.
    shifted = source.read(TILED.subgrid(5, 7, 20, 30))
    np.testing.assert_array_equal(shifted.data, whole.data[5:25, 7:37])
    # A cluster crossing a tile border keeps its seed's id on both sides.
    assert set(whole.data[:, 19].tolist()) & set(whole.data[:, 20].tolist())
    assert set(whole.data[15].tolist()) & set(whole.data[16].tolist())


def test_snic_grows_clusters_from_touching_seeds_and_skips_masked_pixels() -> None:
    values = np.zeros((1, 6, 8))
    values[0, :, 4:] = 10.0
    valid = np.ones((6, 8), dtype=bool)
    valid[:, 2] = False  # a masked column splits the left part
    seeds = np.zeros((6, 8))
    seeds[0, 0] = seeds[0, 1] = 1  # touching: one cluster
    seeds[5, 7] = 1
    seeds[3, 3] = 1
    seg = snic(values, valid, seeds, 0.0, 5, True)
    assert seg.means.shape == (3, 1)
    labels = seg.labels
    assert (labels[~valid] == -1).all()
    # Left of the masked column only the corner cluster can reach; with compactness 0 the
    # value-10 cluster takes the value-10 pixels and the middle seed the value-0 ones.
    assert len(set(labels[:, :2].ravel())) == 1
    assert set(labels[:, 4:].ravel()) == {labels[5, 7]}
    assert set(labels[:, 3].ravel()) == {labels[3, 3]}
    np.testing.assert_allclose(seg.means[labels[5, 7]], [10.0])
