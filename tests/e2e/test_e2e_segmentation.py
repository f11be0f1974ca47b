"""Image segmentation through the stock client (ADR 0032): SNIC superpixels and k-means.

Cluster ids cannot be Earth Engine's, so the oracles check what the algorithms guarantee, on the
demo B4/B3 bands warped (GDAL nearest) onto the request grid with rasterio, using numpy and
scipy.ndimage: SNIC clusters are connected, hold one seed of the documented seed grid, and
their `<band>_mean` is the mean of their pixels; k-means labels are a fixed point of Lloyd's
iteration (every pixel is nearest to the mean of its own cluster), numbered by their means.
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from oracle import Grid, warp_band
from scipy import ndimage
from test_e2e_kernel import item

LON, LAT = 15.02, 45.6  # the west edge of 33TWL crosses the grid: masked pixels on one side
SCALE = 0.0015
SNIC_GRID = Grid.centered("EPSG:4326", LON, LAT, SCALE, 40, 30)
# Top-left on the CRS pixel lattice at multiples of 16 (15.0 / 0.0015 = 10000 = 625 * 16;
# 45.6 / 0.0015 = 30400 = 1900 * 16): k-means cells of 16 pixels fall exactly on the grid.
CELL_GRID = Grid("EPSG:4326", Affine(SCALE, 0.0, 15.0, 0.0, -SCALE, 45.6), 48, 32)


def band(name: str, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    values = warp_band(item().band_path(name), grid).astype(np.float64)
    return values, values != 0


def pixels(ee, image, grid: Grid) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def lattice(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the grid's pixels counted from the CRS origin."""
    t = grid.transform
    rows = np.arange(grid.height)[:, None] + round(t.f / t.e)
    cols = np.arange(grid.width)[None, :] + round(t.c / t.a)
    return np.broadcast_to(rows, (grid.height, grid.width)), np.broadcast_to(
        cols, (grid.height, grid.width)
    )


def at_edge(where: np.ndarray) -> bool:
    return bool(where[0].any() or where[-1].any() or where[:, 0].any() or where[:, -1].any())


def test_snic_clusters_are_connected_seeded_and_carry_their_means(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select(["B4", "B3"])
    snic = ee.Algorithms.Image.Segmentation.SNIC(img, 5, 0.5, 8)
    assert snic.bandNames().getInfo() == ["clusters", "B4_mean", "B3_mean", "seeds"]
    arr = pixels(ee, snic.addBands(snic.select("clusters").mask().rename("m")), SNIC_GRID)
    b4, ok4 = band("B4", SNIC_GRID)
    b3, ok3 = band("B3", SNIC_GRID)
    member = arr["m"] == 1
    # Every unmasked input pixel joins a cluster; masked ones stay masked.
    np.testing.assert_array_equal(member, ok4 & ok3)
    assert (~member).any() and member.sum() > 600

    # The generated seeds are Earth Engine's seedGrid(5): every 5th row and column.
    rows, cols = lattice(SNIC_GRID)
    # The window lies in one 256-pixel SNIC tile: clusters inside it were grown whole.
    assert np.unique(rows // 256).size == np.unique(cols // 256).size == 1
    np.testing.assert_array_equal(arr["seeds"], ((rows % 5 == 0) & (cols % 5 == 0)))

    ids = arr["clusters"]
    interior = 0
    for cid in np.unique(ids[member]):
        where = member & (ids == cid)
        # Connected (8-connectivity), as SNIC grows a cluster only through neighbours: in
        # pieces only where it leaves the window (joined outside it), each piece at the edge.
        pieces, parts = ndimage.label(where, structure=np.ones((3, 3)))
        if parts > 1:
            assert all(at_edge(pieces == p) for p in range(1, parts + 1)), cid
        if at_edge(where):
            continue  # may extend beyond the window: its mean includes unseen pixels
        interior += 1
        # Wholly inside: one seed of the grid, and the means are those of its own pixels.
        assert int(arr["seeds"][where].sum()) == 1
        np.testing.assert_allclose(arr["B4_mean"][where], b4[where].mean(), rtol=1e-9)
        np.testing.assert_allclose(arr["B3_mean"][where], b3[where].mean(), rtol=1e-9)
    assert interior > 10


def test_snic_with_seeds_image_has_no_seeds_band_and_one_cluster_per_seed(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    seeds = ee.Algorithms.Image.Segmentation.seedGrid(8)
    snic = ee.Algorithms.Image.Segmentation.SNIC(
        image=img, compactness=0, connectivity=4, neighborhoodSize=16, seeds=seeds
    )
    assert snic.bandNames().getInfo() == ["clusters", "B4_mean"]
    arr = pixels(ee, snic.addBands(snic.select("clusters").mask().rename("m")), SNIC_GRID)
    _, ok = band("B4", SNIC_GRID)
    member = arr["m"] == 1
    np.testing.assert_array_equal(member, ok)
    rows, cols = lattice(SNIC_GRID)
    seed = (rows % 8 == 0) & (cols % 8 == 0) & ok
    ids = arr["clusters"]
    # Each seed inside the window lies in its own cluster.
    assert len(set(ids[seed].tolist())) == int(seed.sum())
    for cid in np.unique(ids[member]):
        where = member & (ids == cid)
        pieces, parts = ndimage.label(where)  # 4-connectivity
        assert parts == 1 or all(at_edge(pieces == p) for p in range(1, parts + 1))


def test_kmeans_labels_are_a_lloyd_fixed_point_per_cell(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select(["B4", "B3"])
    seg = ee.Algorithms.Image.Segmentation.KMeans(
        img, numClusters=3, numIterations=200, gridSize=16, uniqueLabels=False
    )
    assert seg.bandNames().getInfo() == ["clusters"]
    unique = ee.Algorithms.Image.Segmentation.KMeans(img, 3, 200, 0, 16)
    arr = pixels(
        ee,
        seg.addBands(seg.mask().rename("m")).addBands(unique.rename("u")),
        CELL_GRID,
    )
    b4, ok4 = band("B4", CELL_GRID)
    b3, ok3 = band("B3", CELL_GRID)
    ok = ok4 & ok3
    np.testing.assert_array_equal(arr["m"] == 1, ok)
    x = np.stack([b4, b3], axis=-1)
    checked = 0
    seen_unique: list[set[int]] = []
    for top in range(0, CELL_GRID.height, 16):
        for left in range(0, CELL_GRID.width, 16):
            cell = (slice(top, top + 16), slice(left, left + 16))
            valid = ok[cell]
            if valid.sum() < 10:
                continue
            labels = arr["clusters"][cell][valid]
            samples = x[cell][valid]
            present = np.unique(labels)
            assert set(present.tolist()) <= {0, 1, 2}
            means = np.stack([samples[labels == k].mean(axis=0) for k in present])
            # Numbered by their centres: ascending B4 (then B3).
            assert np.all(np.diff(means[:, 0]) >= 0)
            # Every pixel is at least as near to its own cluster's mean as to any other.
            d = ((samples[:, None, :] - means[None, :, :]) ** 2).sum(axis=-1)
            own = d[np.arange(len(labels)), np.searchsorted(present, labels)]
            assert np.all(own <= d.min(axis=1) + 1e-6)
            # uniqueLabels: the same partition, with labels of their own per cell.
            u = arr["u"][cell][valid]
            assert len(set(zip(u.tolist(), labels.tolist(), strict=True))) == len(present)
            seen_unique.append(set(u.tolist()))
            checked += 1
    assert checked >= 3
    for i, a in enumerate(seen_unique):
        for b in seen_unique[i + 1 :]:
            assert not a & b


BAD = [
    ("SNIC connectivity", lambda ee: ee.Algorithms.Image.Segmentation.SNIC(ee.Image(1), 5, 1, 6),
     "connectivity must be 4 or 8"),
    ("SNIC size", lambda ee: ee.Algorithms.Image.Segmentation.SNIC(ee.Image(1), 0),
     "size must be at least 1"),
    ("KMeans exclusive", lambda ee: ee.Algorithms.Image.Segmentation.KMeans(
        ee.Image(1), 4, 10, 8, 32), "gridSize and neighborhoodSize are exclusive"),
    ("Canny sigma", lambda ee: ee.Algorithms.CannyEdgeDetector(ee.Image(1), 1, -1),
     "sigma must be between 0 and 100"),
    ("PixelType precision", lambda ee: ee.PixelType("complex"), "Invalid precision 'complex'"),
    ("PixelType range", lambda ee: ee.PixelType("int", 5, 1), "minValue 5 is above maxValue 1"),
    ("XMeans cutoff", lambda ee: ee.Clusterer.wekaXMeans(cutoffFactor=0.5),
     "cutoffFactor is not supported"),
]  # fmt: skip


@pytest.mark.parametrize("make,message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_arguments_get_clear_errors(ee_api, make, message: str) -> None:
    with pytest.raises(ee_api.EEException, match=message) as caught:
        make(ee_api).getInfo()
    assert "internal error" not in str(caught.value).lower()


def test_object_based_pipeline_snic_then_reduce_connected_components(ee_api) -> None:
    """The tutorials' object-based chain: SNIC, then per-object statistics of another band with
    reduceConnectedComponents over the 'clusters' band; oracle: scipy.ndimage per cluster."""
    ee = ee_api
    img = ee.Image(item().image_id).select(["B4", "B8"])
    snic = ee.Algorithms.Image.Segmentation.SNIC(img.select("B4"), 6, 1)
    clusters = snic.select("clusters")
    stats = (
        img.select("B8")
        .addBands(clusters)
        .reduceConnectedComponents(ee.Reducer.stdDev(), "clusters", 64)
    )
    arr = pixels(ee, clusters.addBands(clusters.mask().rename("m")).addBands(stats), SNIC_GRID)
    b8, _ = band("B8", SNIC_GRID)
    ids = arr["clusters"]
    member = arr["m"] == 1
    checked = 0
    for cid in np.unique(ids[member]):
        where = member & (ids == cid)
        if at_edge(where):
            continue
        want = float(ndimage.standard_deviation(b8, where.astype(int), 1))
        np.testing.assert_allclose(arr["B8"][where], want, rtol=1e-9)
        checked += 1
    assert checked > 10
