"""`openee ingest`: one transaction, idempotent re-runs, COGs, a summary; runs beside a reader."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import rasterio

from openee.catalog.ingest import ingest
from openee.catalog.names import name_from_id
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import ImageQuery
from openee.demo import S2_L2A_CATALOG
from openee.errors import InvalidArgumentError

DATA = Path(__file__).resolve().parents[1] / "data"
L57 = DATA / "landsat" / "l5l7_timeseries_035032_2008-2013"
L8 = DATA / "landsat" / "lc08_c2l2_001062_20201031_600m"
L1C = DATA / "sentinel2" / "l1c_T33UUU_20170216" / "IMG_DATA"
THEIA = DATA / "sentinel2" / "l3a_bouconne_2018_10m" / "2018_3A_Theia_Bouconne.tif"
COLL = name_from_id("LANDSAT/L57_SR")


def snapshot(store: SqliteCatalog) -> list[object]:
    return [(r.name, r.properties, r.bands, r.update_time) for r in store.children(COLL, 0, 1000)]


def openee(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openee", "ingest", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    store = SqliteCatalog(tmp_path / "c.sqlite")
    first = ingest(store, [L57], "LANDSAT/L57_SR")
    before = snapshot(store)
    again = ingest(store, [L57], "LANDSAT/L57_SR")
    assert (first.written, again.written, again.unchanged) == (106, 0, 106)
    assert snapshot(store) == before  # not even update times changed


def test_a_bad_file_is_reported_and_the_rest_ingested_then_rerun_completes(
    tmp_path: Path,
) -> None:
    sources = tmp_path / "src"
    shutil.copytree(L57, sources)
    store = SqliteCatalog(tmp_path / "c.sqlite")
    scenes = sorted(sources.iterdir())
    for scene in scenes[50:]:
        shutil.move(scene, tmp_path / scene.name)  # first run: half the scenes
    ingest(store, [sources], "LANDSAT/L57_SR")
    for scene in scenes[50:]:
        shutil.move(tmp_path / scene.name, scene)
    broken = next(scenes[-1].glob("*_b4.tif"))
    good = broken.read_bytes()
    broken.write_bytes(b"not a tiff")
    report = ingest(store, [sources], "LANDSAT/L57_SR")
    # The broken scene is reported on one line; the 54 others of the second half are written.
    assert len(report.failed) == 1 and "cannot read" in report.failed[0][1]
    assert "\n" not in report.failed[0][1]
    assert len(store.query_images(ImageQuery(COLL))) == 104
    broken.write_bytes(good)
    report = ingest(store, [sources], "LANDSAT/L57_SR")
    # The 104 images of the earlier runs and the collection are unchanged; the repaired one
    # is written.
    assert (report.images, report.unchanged, report.written, report.failed) == (105, 105, 1, [])
    assert len(store.query_images(ImageQuery(COLL))) == 105


def test_interrupted_ingest_leaves_catalog_unchanged(tmp_path: Path) -> None:
    store = SqliteCatalog(tmp_path / "c.sqlite")

    def interrupt(done: int, total: int, label: str) -> None:
        if done == 60:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(store, [L57], "LANDSAT/L57_SR", progress=interrupt)
    assert store.get(COLL) is None
    assert ingest(store, [L57], "LANDSAT/L57_SR").images == 105


def test_sources_are_not_modified(tmp_path: Path) -> None:
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in L8.iterdir()}
    ingest(SqliteCatalog(tmp_path / "c.sqlite"), [L8], "L8", cog_dir=tmp_path / "cog")
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in L8.iterdir()} == before


def test_rasters_and_vectors_do_not_mix(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="separately"):
        ingest(SqliteCatalog(tmp_path / "c.sqlite"), [L8, DATA / "vector"], "mixed")


def test_stac_catalog_ingests_with_its_profile(tmp_path: Path) -> None:
    store = SqliteCatalog(tmp_path / "c.sqlite")
    report = ingest(store, [S2_L2A_CATALOG], "S2")
    images = store.query_images(ImageQuery(name_from_id("S2")))
    assert report.images == len(images) == len(list(S2_L2A_CATALOG.parent.glob("*/*/*.json")))
    assert [b.id for b in images[0].bands] == ["B2", "B3", "B4", "B8", "SCL"]


def test_command_with_cog_beside_a_reader(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    SqliteCatalog(data_dir / "catalog.sqlite").close()
    # A server's open read transaction on the same catalog (WAL lets the writer through).
    reader = sqlite3.connect(data_dir / "catalog.sqlite")
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM assets").fetchone()
    dates = "2018-04-29,2018-05-13,2018-07-08,2018-08-15,2018-09-15,2018-10-15,2018-11-15"
    args = [str(THEIA), "--asset-id", "THEIA/L3A", "--data-dir", str(data_dir), "--cog"]
    done = openee(*args, "--dates", dates)
    reader.rollback()
    reader.close()
    assert done.returncode == 0, done.stderr
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.startswith("7 images in projects/earthengine-public/assets/THEIA/L3A")
    assert "8 written" in summary and "1 COGs made" in summary
    store = SqliteCatalog(data_dir / "catalog.sqlite")
    images = store.query_images(ImageQuery(name_from_id("THEIA/L3A")))
    paths = {b.path for r in images for b in r.bands}
    (cog,) = paths
    assert Path(cog).is_relative_to((data_dir / "cog").resolve())
    with rasterio.open(cog) as src, rasterio.open(THEIA) as orig:
        assert src.profile["tiled"] and src.compression.name == "deflate"
        assert src.count == 70 and (src.read(38) == orig.read(38)).all()
    rerun = openee(*args, "--dates", dates)
    assert rerun.returncode == 0, rerun.stderr
    assert "0 written, 8 unchanged" in rerun.stderr


def test_cogs_have_overviews_and_keep_each_band_grid(tmp_path: Path) -> None:
    sources = tmp_path / "granule"
    sources.mkdir()
    for band in ("B01", "B02"):  # 60 m and 10 m
        shutil.copy(L1C / f"T33UUU_20170216T102101_{band}.jp2", sources)
    store = SqliteCatalog(tmp_path / "c.sqlite")
    report = ingest(store, [sources], "S2", cog_dir=tmp_path / "cog")
    assert report.converted == 2
    (image,) = store.query_images(ImageQuery(name_from_id("S2")))
    b1, b2 = image.bands
    assert (b1.id, b1.width, b2.id, b2.width) == ("B1", 256, "B2", 1536)
    with rasterio.open(b2.path) as src:
        assert src.driver == "GTiff" and src.profile["tiled"] and src.overviews(1) == [2, 4]
        with rasterio.open(sources / "T33UUU_20170216T102101_B02.jp2") as jp2:
            assert (src.read(1) == jp2.read(1)).all()
    assert ingest(store, [sources], "S2", cog_dir=tmp_path / "cog").converted == 0


def test_command_reports_errors_cleanly(tmp_path: Path) -> None:
    done = openee(str(THEIA), "--asset-id", "T", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("openee ingest: ") and "Traceback" not in done.stderr
