"""The catalog's schema is versioned by the same mechanism as the state's (`statedb.migrate`,
component "catalog" in `openee_schema`): a catalog created before versions existed (the DDL of
main at 9121d67, frozen below) upgrades in place with its data intact and its version recorded,
a second upgrade runs nothing, and a catalog newer than the code is refused by name."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from openee.catalog import postgres as pg_catalog
from openee.catalog import sqlite as sqlite_catalog
from openee.catalog.model import IMAGE, TABLE, AssetRecord, BandMask, BandRecord, FeatureRecord
from openee.catalog.store import open_store
from openee.cli import main as openee_cli
from openee.statedb import Conn, SchemaTooNewError

# The catalog DDL of openee before the catalog schema had versions (main at 9121d67).
UNVERSIONED_SQLITE = """
CREATE TABLE IF NOT EXISTS assets (
    rowid INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    parent TEXT NOT NULL,
    type TEXT NOT NULL,
    properties TEXT NOT NULL,
    start_time INTEGER,
    end_time INTEGER,
    footprint TEXT,
    update_time TEXT NOT NULL,
    sources TEXT
);
CREATE INDEX IF NOT EXISTS assets_parent_time ON assets(parent, start_time);
CREATE INDEX IF NOT EXISTS assets_parent_name ON assets(parent, name);
CREATE TABLE IF NOT EXISTS bands (
    asset_rowid INTEGER NOT NULL REFERENCES assets(rowid) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    id TEXT NOT NULL,
    path TEXT NOT NULL,
    band_index INTEGER NOT NULL,
    dtype TEXT NOT NULL,
    crs TEXT NOT NULL,
    transform TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    nodata REAL,
    mask TEXT,
    PRIMARY KEY (asset_rowid, position)
);
CREATE TABLE IF NOT EXISTS asset_files (
    asset_rowid INTEGER NOT NULL REFERENCES assets(rowid) ON DELETE CASCADE,
    path TEXT NOT NULL,
    PRIMARY KEY (asset_rowid, path)
);
CREATE INDEX IF NOT EXISTS asset_files_path ON asset_files(path);
CREATE VIRTUAL TABLE IF NOT EXISTS footprints USING rtree(id, west, east, south, north);
CREATE TABLE IF NOT EXISTS features (
    asset_rowid INTEGER NOT NULL REFERENCES assets(rowid) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    fid TEXT,
    geometry TEXT,
    properties TEXT NOT NULL,
    west REAL, south REAL, east REAL, north REAL,
    PRIMARY KEY (asset_rowid, position)
);
"""

UNVERSIONED_POSTGRES = """
CREATE TABLE IF NOT EXISTS openee_assets (
    id BIGSERIAL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    parent TEXT COLLATE "C" NOT NULL,
    type TEXT NOT NULL,
    properties JSONB NOT NULL,
    start_time BIGINT,
    end_time BIGINT,
    footprint JSONB,
    bbox BOX,
    bands JSONB NOT NULL,
    update_time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS openee_assets_parent_name ON openee_assets (parent, name);
CREATE INDEX IF NOT EXISTS openee_assets_parent_time ON openee_assets (parent, start_time);
CREATE INDEX IF NOT EXISTS openee_assets_bbox ON openee_assets USING gist (bbox);
CREATE TABLE IF NOT EXISTS openee_features (
    asset_id BIGINT NOT NULL REFERENCES openee_assets (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    fid TEXT,
    geometry JSONB,
    properties JSONB NOT NULL,
    bbox BOX,
    PRIMARY KEY (asset_id, position)
);
ALTER TABLE openee_assets ADD COLUMN IF NOT EXISTS sources JSONB;
ALTER TABLE openee_assets ADD COLUMN IF NOT EXISTS files TEXT[];
CREATE INDEX IF NOT EXISTS openee_assets_files ON openee_assets USING gin (files);
"""

ROOT = "projects/p/assets"
FOOTPRINT = {"type": "Polygon", "coordinates": [[[5, 45], [6, 45], [6, 46], [5, 46], [5, 45]]]}
# What the old catalog holds, written below with the old schema's own SQL.
IMAGE_RECORD = AssetRecord(
    name=f"{ROOT}/old-image",
    type=IMAGE,
    properties={"cloud": 12.5, "system:index": "old-image"},
    start_time=1_600_000_000_000,
    end_time=1_600_000_000_000,
    footprint=FOOTPRINT,
    bands=(
        BandRecord(
            id="B1",
            path="/data/old.tif",
            index=1,
            dtype="uint16",
            crs="EPSG:32631",
            transform=(10.0, 0.0, 600000.0, 0.0, -10.0, 5000000.0),
            width=64,
            height=32,
            nodata=0.0,
            mask=BandMask("/data/old-mask.tif", 1, "uint8"),
        ),
    ),
    update_time="2026-01-02T03:04:05Z",
)
TABLE_RECORD = AssetRecord(
    name=f"{ROOT}/old-table",
    type=TABLE,
    update_time="2026-01-02T03:04:06Z",
    sources=("/data/old.csv",),
)
POINT = {"type": "Point", "coordinates": [5.5, 45.5]}
FEATURE = FeatureRecord(geometry=POINT, properties={"n": 1}, id="0")


def _band_json() -> dict[str, Any]:
    return {
        "id": "B1",
        "path": "/data/old.tif",
        "index": 1,
        "dtype": "uint16",
        "crs": "EPSG:32631",
        "transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5000000.0],
        "width": 64,
        "height": 32,
        "nodata": 0.0,
        "mask": {"path": "/data/old-mask.tif", "index": 1, "dtype": "uint8"},
    }


def _old_sqlite(path: Path) -> str:
    with sqlite3.connect(path) as db:
        db.executescript(UNVERSIONED_SQLITE)
        image = IMAGE_RECORD
        db.execute(
            "INSERT INTO assets VALUES (1, ?, ?, 'IMAGE', ?, ?, ?, ?, ?, NULL)",
            (
                image.name,
                ROOT,
                json.dumps(image.properties),
                image.start_time,
                image.end_time,
                json.dumps(FOOTPRINT),
                image.update_time,
            ),
        )
        band = _band_json()
        db.execute(
            "INSERT INTO bands VALUES (1, 0, 'B1', ?, 1, 'uint16', 'EPSG:32631', ?, 64, 32, 0, ?)",
            (band["path"], json.dumps(band["transform"]), json.dumps(band["mask"])),
        )
        db.executemany(
            "INSERT INTO asset_files VALUES (?, ?)",
            [(1, "/data/old.tif"), (1, "/data/old-mask.tif"), (2, "/data/old.csv")],
        )
        db.execute("INSERT INTO footprints VALUES (1, 5, 6, 45, 46)")
        db.execute(
            "INSERT INTO assets VALUES (2, ?, ?, 'TABLE', '{}', NULL, NULL, NULL, ?, ?)",
            (TABLE_RECORD.name, ROOT, TABLE_RECORD.update_time, '["/data/old.csv"]'),
        )
        db.execute(
            "INSERT INTO features VALUES (2, 0, '0', ?, '{\"n\": 1}', 5.5, 45.5, 5.5, 45.5)",
            (json.dumps(POINT),),
        )
    return str(path)


def _old_postgres(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(UNVERSIONED_POSTGRES)
        image = IMAGE_RECORD
        db.execute(
            "INSERT INTO openee_assets (id, name, parent, type, properties, start_time, end_time,"
            " footprint, bbox, bands, update_time, sources, files) VALUES (1, %s, %s, 'IMAGE',"
            " %s, %s, %s, %s, '((5,45),(6,46))', %s, %s, NULL, %s)",
            (
                image.name,
                ROOT,
                json.dumps(image.properties),
                image.start_time,
                image.end_time,
                json.dumps(FOOTPRINT),
                json.dumps([_band_json()]),
                image.update_time,
                ["/data/old.tif", "/data/old-mask.tif"],
            ),
        )
        db.execute(
            "INSERT INTO openee_assets (id, name, parent, type, properties, bands, update_time,"
            " sources, files) VALUES (2, %s, %s, 'TABLE', '{}', '[]', %s, %s, %s)",
            (TABLE_RECORD.name, ROOT, TABLE_RECORD.update_time, '["/data/old.csv"]',
             ["/data/old.csv"]),
        )  # fmt: skip
        db.execute(
            "INSERT INTO openee_features VALUES (2, 0, '0', %s, '{\"n\": 1}',"
            " '((5.5,45.5),(5.5,45.5))')",
            (json.dumps(POINT),),
        )
    return dsn


def _recorded_version(target: str) -> int:
    if target.endswith(".sqlite"):
        with sqlite3.connect(target) as db:
            row = db.execute("SELECT version FROM openee_schema WHERE component = 'catalog'")
            return int(row.fetchone()[0])
    with psycopg.connect(target, autocommit=True) as pg:
        found = pg.execute("SELECT version FROM openee_schema WHERE component = 'catalog'")
        return int(found.fetchone()[0])  # type: ignore[index]


def _set_version(target: str, version: int) -> None:
    sql = f"UPDATE openee_schema SET version = {int(version)} WHERE component = 'catalog'"
    if target.endswith(".sqlite"):
        with sqlite3.connect(target) as db:
            db.execute(sql)
        return
    with psycopg.connect(target, autocommit=True) as pg:
        pg.execute(sql)


@pytest.fixture(params=["sqlite", "postgres"])
def old_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A catalog made and filled by an openee from before catalog versions."""
    if request.param == "sqlite":
        yield _old_sqlite(tmp_path / "catalog.sqlite")
    else:
        yield _old_postgres(request.getfixturevalue("pg_schema_dsn"))


def _migrations(target: str) -> tuple[Any, ...]:
    return (sqlite_catalog if target.endswith(".sqlite") else pg_catalog).MIGRATIONS


def _spy_on_migrations(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> list[int]:  # the versions that ran
    module = sqlite_catalog if target.endswith(".sqlite") else pg_catalog
    ran: list[int] = []

    def spy(version: int, migration: Any) -> Callable[[Conn], None]:
        def run(conn: Conn) -> None:
            ran.append(version)
            if callable(migration):
                migration(conn)
            else:
                conn.run(migration)

        return run

    spied = tuple(spy(i + 1, m) for i, m in enumerate(module.MIGRATIONS))
    monkeypatch.setattr(module, "MIGRATIONS", spied)
    return ran


def test_a_catalog_from_before_versions_upgrades_in_place(
    old_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    latest = len(_migrations(old_catalog))
    ran = _spy_on_migrations(old_catalog, monkeypatch)
    store = open_store(old_catalog)
    try:
        assert ran == list(range(1, latest + 1))
        assert store.schema_version == latest
        assert _recorded_version(old_catalog) == latest
        assert store.get(IMAGE_RECORD.name) == IMAGE_RECORD
        assert store.get(TABLE_RECORD.name) == TABLE_RECORD
        assert store.features(TABLE_RECORD.name) == [FEATURE]
        assert store.assets_using("/data/old-mask.tif") == [IMAGE_RECORD.name]
        assert [r.name for r in store.children(ROOT)] == [IMAGE_RECORD.name, TABLE_RECORD.name]
    finally:
        store.close()
    # A second upgrade runs nothing and changes nothing.
    again = open_store(old_catalog)
    try:
        assert ran == list(range(1, latest + 1))
        assert again.schema_version == latest == _recorded_version(old_catalog)
        assert again.get(IMAGE_RECORD.name) == IMAGE_RECORD
    finally:
        again.close()


def test_db_upgrade_upgrades_the_catalog_once(
    old_catalog: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("OPENEE_STATE", raising=False)
    monkeypatch.setenv("OPENEE_CATALOG", old_catalog)
    latest = len(_migrations(old_catalog))
    ran = _spy_on_migrations(old_catalog, monkeypatch)
    data = str(tmp_path / "data")
    assert openee_cli(["db", "upgrade", "--data-dir", data]) == 0
    assert f"  catalog: version {latest}\n" in capsys.readouterr().out
    assert openee_cli(["db", "upgrade", "--data-dir", data]) == 0
    assert f"  catalog: version {latest}\n" in capsys.readouterr().out
    assert ran == list(range(1, latest + 1))  # the second upgrade was a no-op
    store = open_store(old_catalog)
    try:
        assert store.get(IMAGE_RECORD.name) == IMAGE_RECORD
    finally:
        store.close()


def test_a_catalog_newer_than_the_code_refuses_to_start(
    old_catalog: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    open_store(old_catalog).close()
    latest = len(_migrations(old_catalog))
    _set_version(old_catalog, latest + 1)
    message = (
        rf"The catalog schema in .* is version {latest + 1}, newer than this openee knows"
        rf" \({latest}\): upgrade openee\."
    )
    with pytest.raises(SchemaTooNewError, match=message):
        open_store(old_catalog)
    monkeypatch.delenv("OPENEE_STATE", raising=False)
    monkeypatch.setenv("OPENEE_CATALOG", old_catalog)
    data = str(tmp_path / "data")
    for command in (["db", "upgrade"], ["serve", "--port", "0"]):
        assert openee_cli([*command, "--data-dir", data]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"openee {command[0]}: The catalog schema in ")
        assert f"newer than this openee knows ({latest}): upgrade openee." in err
    _set_version(old_catalog, latest)  # nothing was changed by the refused starts
    store = open_store(old_catalog)
    try:
        assert store.get(IMAGE_RECORD.name) == IMAGE_RECORD
    finally:
        store.close()


def test_a_sqlite_catalog_from_before_masks_and_file_index_gains_them(tmp_path: Path) -> None:
    """Version 1 also holds the column upgrades of older catalog files: `bands.mask`, and
    `assets.sources` with the `asset_files` index filled from the bands already stored."""
    path = tmp_path / "older.sqlite"
    start = UNVERSIONED_SQLITE.index("CREATE TABLE IF NOT EXISTS asset_files")
    end = UNVERSIONED_SQLITE.index("CREATE VIRTUAL TABLE")
    older = (UNVERSIONED_SQLITE[:start] + UNVERSIONED_SQLITE[end:]).replace(
        ",\n    sources TEXT\n", "\n"
    )
    older = older.replace("    mask TEXT,\n", "")
    assert "sources" not in older and "asset_files" not in older and "mask" not in older
    with sqlite3.connect(path) as db:
        db.executescript(older)
        db.execute(
            "INSERT INTO assets VALUES (1, ?, ?, 'IMAGE', '{}', NULL, NULL, NULL, 'x')",
            (f"{ROOT}/older", ROOT),
        )
        db.execute(
            "INSERT INTO bands VALUES (1, 0, 'B1', '/data/older.tif', 1, 'uint8', 'EPSG:4326',"
            " '[1, 0, 0, 0, -1, 0]', 1, 1, NULL)"
        )
    store = open_store(str(path))
    try:
        assert store.assets_using("/data/older.tif") == [f"{ROOT}/older"]
        got = store.get(f"{ROOT}/older")
        assert got is not None and got.bands[0].mask is None and got.sources == ()
    finally:
        store.close()


def test_a_postgres_catalog_from_before_the_file_index_gains_it(pg_schema_dsn: str) -> None:
    """Rows written before `files` existed (NULL there) get it from their bands and masks."""
    _old_postgres(pg_schema_dsn)
    with psycopg.connect(pg_schema_dsn, autocommit=True) as db:
        db.execute("UPDATE openee_assets SET files = NULL")
    store = open_store(pg_schema_dsn)
    try:
        assert store.assets_using("/data/old.tif") == [IMAGE_RECORD.name]
        assert store.assets_using("/data/old-mask.tif") == [IMAGE_RECORD.name]
    finally:
        store.close()
