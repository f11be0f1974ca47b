"""Tilesets of several sources (`catalog/mosaics.py` through `manifests.py`): tiles cut here with
rasterio from a real Landsat 8 band are merged back into one COG, compared with the original
file; sources that cannot be mosaicked are refused; a cancel leaves no file behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
import shapely.geometry
from rasterio.windows import Window

from openee.catalog import mosaics
from openee.catalog.manifests import build_image, inspect_mosaics, plan_image
from openee.catalog.mosaics import MosaicWriter
from openee.catalog.roots import Roots
from openee.errors import InvalidArgumentError
from openee.services.operations import Cancelled

DATA = Path(__file__).resolve().parents[1] / "data"
B4 = DATA / "landsat" / "lc08_c2l2_001062_20201031_600m" / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"  # fmt: skip
NAME = "projects/p/assets/mosaic"
# (col, row, width, height) of tiles of the 379 x 386 band: two on top, one below.
TILES = {"nw": (0, 0, 190, 200), "ne": (190, 0, 189, 200), "s": (0, 200, 379, 186)}


def window_transform(window: Window, t: Any) -> rasterio.Affine:
    return rasterio.Affine(t.a, 0, t.c + window.col_off * t.a, 0, t.e, t.f + window.row_off * t.e)


def cut(source: Path, target: Path, window: Window, **changes: Any) -> Path:
    """A window of `source` as a GeoTIFF of its own (profile entries overridden by `changes`)."""
    with rasterio.open(source) as src:
        data = src.read(window=window)
        profile = src.profile | {
            "width": window.width,
            "height": window.height,
            "transform": window_transform(window, src.transform),
        }
    profile.update(changes)
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(data.astype(profile["dtype"]))
    return target


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    for key, (col, row, w, h) in TILES.items():
        cut(B4, folder / f"{key}.tif", Window(col, row, w, h))
    return folder


@pytest.fixture
def roots(root: Path) -> Roots:
    return Roots.of([root])


def manifest(*uris: str, **extra: Any) -> dict[str, Any]:
    return {"tilesets": [{"id": "t", "sources": [{"uris": [u]} for u in uris]}], **extra}


def original() -> tuple[np.ndarray, Any]:
    with rasterio.open(B4) as src:
        return src.read(1), src


def test_mosaic_equals_the_original_band(roots: Roots, tmp_path: Path) -> None:
    writer = MosaicWriter(tmp_path / "mosaics", "OP1")
    record = build_image(plan_image(NAME, manifest("s.tif", "ne.tif", "nw.tif"), roots), writer)
    band = record.bands[0]
    assert band.path == str(tmp_path / "mosaics" / "p" / "mosaic" / "OP1_tileset0.tif")
    assert writer.made == [Path(band.path)]
    with rasterio.open(B4) as src:
        want, transform, nodata = src.read(1), src.transform, src.nodata
    with rasterio.open(band.path) as got:
        np.testing.assert_array_equal(got.read(1), want)
        assert got.transform.almost_equals(transform)
        assert got.nodata == nodata == band.nodata
        assert got.profile["tiled"] and got.compression.name == "deflate"
        # A COG (overviews come with images larger than a 512-pixel block).
        assert got.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert (band.width, band.height, band.dtype) == (want.shape[1], want.shape[0], "uint16")
    # The footprint is the union of the tiles: here the whole band.
    footprint = shapely.geometry.shape(record.footprint)
    whole = shapely.geometry.shape(
        build_image(plan_image(NAME, {"tilesets": [{"sources": [{"uris": [str(B4)]}]}]},
                               Roots.of([B4.parent]))).footprint
    )  # fmt: skip
    assert footprint.symmetric_difference(whole).area < 1e-6 * whole.area
    # Nothing but the mosaic is left in its folder (no partial or merge files).
    assert sorted(p.name for p in Path(band.path).parent.iterdir()) == ["OP1_tileset0.tif"]


def test_first_source_wins_where_sources_overlap(roots: Roots, root: Path, tmp_path: Path) -> None:
    # A tile over the seam with every value changed, listed after the true tiles and before.
    with rasterio.open(B4) as src:
        data = src.read(1, window=Window(150, 150, 100, 100))
    cut(B4, root / "over.tif", Window(150, 150, 100, 100))
    with rasterio.open(root / "over.tif", "r+") as dst:
        dst.write(np.where(data == 0, 0, data + 1).astype("uint16"), 1)
    want, _ = original()
    for order, expect_over in ((("nw.tif", "ne.tif", "s.tif", "over.tif"), False),
                               (("over.tif", "nw.tif", "ne.tif", "s.tif"), True)):  # fmt: skip
        writer = MosaicWriter(tmp_path / "m", f"OP{int(expect_over)}")
        band = build_image(plan_image(NAME, manifest(*order), roots), writer).bands[0]
        with rasterio.open(band.path) as got:
            window = got.read(1, window=Window(150, 150, 100, 100))
        expected = np.where(data == 0, 0, data + 1) if expect_over else data
        np.testing.assert_array_equal(window, expected)
        full = want.copy()
        full[150:250, 150:250] = expected
        with rasterio.open(band.path) as got:
            np.testing.assert_array_equal(got.read(1), full)


def test_gap_is_nodata_and_outside_the_footprint(roots: Roots, tmp_path: Path) -> None:
    writer = MosaicWriter(tmp_path / "m", "OP")
    record = build_image(plan_image(NAME, manifest("nw.tif", "s.tif"), roots), writer)
    want, _ = original()
    with rasterio.open(record.bands[0].path) as got:
        data = got.read(1)
    assert data.shape == want.shape
    assert (data[:200, 190:] == 0).all()  # the missing north-east tile: nodata (0)
    np.testing.assert_array_equal(data[:200, :190], want[:200, :190])
    np.testing.assert_array_equal(data[200:], want[200:])
    footprint = shapely.geometry.shape(record.footprint)
    with rasterio.open(B4) as src:
        from pyproj import Transformer

        to_wgs84 = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        ne_centre = to_wgs84.transform(*src.xy(100, 285))
        nw_centre = to_wgs84.transform(*src.xy(100, 95))
    assert not footprint.contains(shapely.Point(ne_centre))
    assert footprint.contains(shapely.Point(nw_centre))


def test_manifest_missing_data_fills_gaps_of_files_without_nodata(
    roots: Roots, root: Path, tmp_path: Path
) -> None:
    for key in ("nw", "s"):
        col, row, w, h = TILES[key]
        cut(B4, root / f"{key}_raw.tif", Window(col, row, w, h), nodata=None)
    plan = plan_image(NAME, manifest("nw_raw.tif", "s_raw.tif"), roots)
    with pytest.raises(InvalidArgumentError, match="gaps"):
        inspect_mosaics(plan)
    plan = plan_image(NAME, manifest("nw_raw.tif", "s_raw.tif",
                                     missingData={"values": [65535]}), roots)  # fmt: skip
    band = build_image(plan, MosaicWriter(tmp_path / "m", "OP")).bands[0]
    assert band.nodata == 65535
    want, _ = original()
    with rasterio.open(band.path) as got:
        data = got.read(1)
    assert (data[:200, 190:] == 65535).all()
    np.testing.assert_array_equal(data[200:], want[200:])  # zeros in the file stay values


def test_mosaicked_mask_band(roots: Roots, root: Path, tmp_path: Path) -> None:
    """A mask tileset of two sources covering the north half: the south is masked (0)."""
    for key in ("nw", "ne"):
        col, row, w, h = TILES[key]
        cut(B4, root / f"m_{key}.tif", Window(col, row, w, h), dtype="uint8", nodata=None)
    plan = plan_image(NAME, {
        "tilesets": [{"id": "d", "sources": [{"uris": [f"{k}.tif"]} for k in TILES]},
                     {"id": "m", "sources": [{"uris": ["m_nw.tif"]}, {"uris": ["m_ne.tif"]}]}],
        "maskBands": [{"tilesetId": "m"}],
    }, roots)  # fmt: skip
    record = build_image(plan, MosaicWriter(tmp_path / "m", "OP"))
    assert [b.id for b in record.bands] == ["b1"]
    mask = record.bands[0].mask
    assert mask is not None and mask.path.endswith("OP_tileset1.tif")
    with rasterio.open(mask.path) as got:
        assert got.height == 200  # the mask's own grid: the two north tiles


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"crs": "EPSG:32621"}, "share one CRS"),
        ({"scale": 2.0}, "one pixel size"),
        ({"shift": 0.5}, "not on the pixel grid"),
        ({"dtype": "int32"}, "same bands"),
        ({"nodata": 7}, "different nodata"),
    ],
)
def test_sources_that_cannot_be_mosaicked(
    roots: Roots, root: Path, changes: dict[str, Any], message: str
) -> None:
    col, row, w, h = TILES["ne"]
    with rasterio.open(B4) as src:
        t = window_transform(Window(col, row, w, h), src.transform)
    scale, shift = changes.pop("scale", 1.0), changes.pop("shift", 0.0)
    changes["transform"] = rasterio.Affine(t.a * scale, 0, t.c + shift * t.a, 0, t.e * scale, t.f)
    cut(B4, root / "odd.tif", Window(col, row, w, h), **changes)
    plan = plan_image(NAME, manifest("nw.tif", "odd.tif", "s.tif"), roots)
    with pytest.raises(InvalidArgumentError, match=message):
        inspect_mosaics(plan)
    if message == "different nodata":  # the manifest's missingData settles it
        given = plan_image(NAME, manifest("nw.tif", "odd.tif", "s.tif",
                                          missingData={"values": [0]}), roots)  # fmt: skip
        assert set(inspect_mosaics(given).mosaics) == {"t"}


def test_plan_refusals(roots: Roots) -> None:
    with pytest.raises(InvalidArgumentError, match="same file twice"):
        plan_image(NAME, manifest("nw.tif", "nw.tif"), roots)
    with pytest.raises(InvalidArgumentError, match="at least one source"):
        plan_image(NAME, {"tilesets": [{"sources": []}]}, roots)
    with pytest.raises(InvalidArgumentError, match="outside"):
        plan_image(NAME, manifest("nw.tif", "/etc/passwd.tif"), roots)
    with pytest.raises(InvalidArgumentError, match=r"'\.\.'"):
        plan_image(NAME, manifest("nw.tif", "../root/ne.tif"), roots)
    # assets.create registers files: it does not mosaic.
    with pytest.raises(InvalidArgumentError, match="image:import only"):
        build_image(plan_image(NAME, manifest("nw.tif", "ne.tif"), roots))


def test_cancel_or_failure_leaves_no_file(roots: Roots, tmp_path: Path) -> None:
    calls = []

    def cancel_second_check() -> None:
        calls.append(1)
        if len(calls) == 2:  # after the merge, before the COG is written
            raise Cancelled()

    writer = MosaicWriter(tmp_path / "m", "OP", cancel_second_check)
    with pytest.raises(Cancelled):
        build_image(plan_image(NAME, manifest("nw.tif", "ne.tif", "s.tif"), roots), writer)
    assert [p for p in (tmp_path / "m").rglob("*") if p.is_file()] == []
    # A finished mosaic is removed by discard() (the import then failed or was cancelled).
    writer = MosaicWriter(tmp_path / "m", "OP2")
    build_image(plan_image(NAME, manifest("nw.tif", "ne.tif", "s.tif"), roots), writer)
    assert len(writer.made) == 1 and writer.made[0].exists()
    made = writer.made[0]
    writer.discard()
    assert not made.exists()


def test_merge_in_chunks_is_seamless(
    roots: Roots, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large mosaics are merged chunk by chunk: chunks of 100 x 100 pixels here."""
    monkeypatch.setattr(mosaics, "MERGE_MEMORY_MB", 0.02)  # 10,000 uint16 pixels a chunk
    band = build_image(
        plan_image(NAME, manifest("nw.tif", "ne.tif", "s.tif"), roots),
        MosaicWriter(tmp_path / "m", "OP"),
    ).bands[0]
    want, _ = original()
    with rasterio.open(band.path) as got:
        np.testing.assert_array_equal(got.read(1), want)


def test_multiband_sources_keep_their_bands(roots: Roots, root: Path, tmp_path: Path) -> None:
    """Tiles of a two-band stack (SR_B4, SR_B5): each band of the mosaic is its original."""
    b5 = B4.with_name(B4.name.replace("SR_B4", "SR_B5"))
    with rasterio.open(B4) as s4, rasterio.open(b5) as s5:
        stack = np.stack([s4.read(1), s5.read(1)])
        profile = s4.profile | {"count": 2}
    with rasterio.open(root / "stack.tif", "w", **profile) as dst:
        dst.write(stack)
    uris = []
    for key, (col, row, w, h) in TILES.items():
        uris.append(cut(root / "stack.tif", root / f"stack_{key}.tif", Window(col, row, w, h)).name)
    plan = plan_image(NAME, {
        "tilesets": [{"id": "s", "sources": [{"uris": [u]} for u in uris]}],
        "bands": [{"id": "nir", "tilesetId": "s", "tilesetBandIndex": 1},
                  {"id": "red", "tilesetId": "s", "tilesetBandIndex": 0}],
    }, roots)  # fmt: skip
    record = build_image(plan, MosaicWriter(tmp_path / "m", "OP"))
    assert [(b.id, b.index) for b in record.bands] == [("nir", 2), ("red", 1)]
    assert record.bands[0].path == record.bands[1].path  # one mosaic for the tileset
    with rasterio.open(record.bands[0].path) as got:
        np.testing.assert_array_equal(got.read(), stack)


def test_uri_prefix(roots: Roots, root: Path) -> None:
    """`uriPrefix` goes before every URI, and the result is what the roots check."""
    sub = root / "sub"
    sub.mkdir()
    for key in TILES:
        (sub / f"{key}.tif").write_bytes((root / f"{key}.tif").read_bytes())
    plan = plan_image(NAME, manifest(*(f"{k}.tif" for k in TILES), uriPrefix="sub/"), roots)
    assert plan.files == [sub / f"{k}.tif" for k in TILES]
    with pytest.raises(InvalidArgumentError, match=r"'\.\.'"):
        plan_image(NAME, manifest("nw.tif", uriPrefix="sub/../../"), roots)
    with pytest.raises(InvalidArgumentError, match="must be a string"):
        plan_image(NAME, manifest("nw.tif", uriPrefix=["sub/"]), roots)
