"""SQLite catalog store: the embedded default. Footprints have an R*Tree index, times a B-tree."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely.geometry

from openee.catalog.model import AssetRecord, BandRecord
from openee.catalog.store import ImageQuery

SCHEMA = """
CREATE TABLE IF NOT EXISTS assets (
    rowid INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    parent TEXT NOT NULL,
    type TEXT NOT NULL,
    properties TEXT NOT NULL,
    start_time INTEGER,
    end_time INTEGER,
    footprint TEXT,
    update_time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assets_parent_time ON assets(parent, start_time);
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
    PRIMARY KEY (asset_rowid, position)
);
CREATE VIRTUAL TABLE IF NOT EXISTS footprints USING rtree(id, west, east, south, north);
"""


class SqliteCatalog:
    """A catalog in one SQLite file; safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # executescript commits on its own, so it runs outside _tx.
        self._connection().executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- writes -------------------------------------------------------------------------------

    def put(self, record: AssetRecord) -> None:
        self.put_many([record])

    def put_many(self, records: list[AssetRecord]) -> None:
        """Insert or replace records, all or nothing."""
        with self._tx() as db:
            for record in records:
                self._put(db, record)

    def _put(self, db: sqlite3.Connection, record: AssetRecord) -> None:
        row = db.execute("SELECT rowid FROM assets WHERE name = ?", (record.name,)).fetchone()
        if row is not None:
            db.execute("DELETE FROM footprints WHERE id = ?", (row[0],))
            db.execute("DELETE FROM assets WHERE rowid = ?", (row[0],))
        update_time = record.update_time or datetime.now(UTC).isoformat().replace("+00:00", "Z")
        cur = db.execute(
            "INSERT INTO assets (name, parent, type, properties, start_time, end_time, footprint,"
            " update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.name,
                record.parent,
                record.type,
                json.dumps(record.properties),
                record.start_time,
                record.end_time,
                json.dumps(record.footprint) if record.footprint else None,
                update_time,
            ),
        )
        rowid = cur.lastrowid
        for position, band in enumerate(record.bands):
            db.execute(
                "INSERT INTO bands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rowid,
                    position,
                    band.id,
                    band.path,
                    band.index,
                    band.dtype,
                    band.crs,
                    json.dumps(list(band.transform)),
                    band.width,
                    band.height,
                    band.nodata,
                ),
            )
        if record.footprint:
            west, south, east, north = _bbox(record.footprint)
            db.execute(
                "INSERT INTO footprints VALUES (?, ?, ?, ?, ?)", (rowid, west, east, south, north)
            )

    # -- reads --------------------------------------------------------------------------------

    def get(self, name: str) -> AssetRecord | None:
        db = self._connection()
        row = db.execute(f"SELECT {_COLUMNS} FROM assets WHERE name = ?", (name,)).fetchone()
        return self._record(db, row) if row else None

    def children(self, parent: str, offset: int, limit: int) -> list[AssetRecord]:
        db = self._connection()
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM assets WHERE parent = ? ORDER BY name LIMIT ? OFFSET ?",
            (parent, limit, offset),
        ).fetchall()
        return [self._record(db, row) for row in rows]

    def query_images(self, query: ImageQuery) -> list[AssetRecord]:
        """Images under `query.parent` in the time range and box, oldest first."""
        db = self._connection()
        sql = f"SELECT {_COLUMNS} FROM assets a WHERE a.parent = ? AND a.type = 'IMAGE'"
        args: list[Any] = [query.parent]
        if query.start is not None:
            sql += " AND a.start_time >= ?"
            args.append(query.start)
        if query.end is not None:
            sql += " AND a.start_time < ?"
            args.append(query.end)
        if query.bbox is not None:
            west, south, east, north = query.bbox
            sql += (
                " AND a.rowid IN (SELECT id FROM footprints WHERE west <= ? AND east >= ?"
                " AND south <= ? AND north >= ?)"
            )
            args.extend([east, west, north, south])
        sql += " ORDER BY a.start_time, a.name"
        rows = db.execute(sql, args).fetchall()
        return [self._record(db, row) for row in rows]

    def _record(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> AssetRecord:
        rowid, name, type_, properties, start, end, footprint, update_time = row
        bands = tuple(
            BandRecord(
                id=b[0],
                path=b[1],
                index=b[2],
                dtype=b[3],
                crs=b[4],
                transform=tuple(json.loads(b[5])),
                width=b[6],
                height=b[7],
                nodata=b[8],
            )
            for b in db.execute(
                "SELECT id, path, band_index, dtype, crs, transform, width, height, nodata"
                " FROM bands WHERE asset_rowid = ? ORDER BY position",
                (rowid,),
            )
        )
        return AssetRecord(
            name=name,
            type=type_,
            properties=json.loads(properties),
            start_time=start,
            end_time=end,
            footprint=json.loads(footprint) if footprint else None,
            bands=bands,
            update_time=update_time,
        )


_COLUMNS = "rowid, name, type, properties, start_time, end_time, footprint, update_time"


def _bbox(geojson: dict[str, Any]) -> tuple[float, float, float, float]:
    return tuple(shapely.geometry.shape(geojson).bounds)
