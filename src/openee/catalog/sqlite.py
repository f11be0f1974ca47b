"""SQLite catalog store: the embedded default. Footprints have an R*Tree index, times a B-tree.

WAL mode lets a server read while `openee ingest` writes the same file; writers take the lock at
the start of a transaction (BEGIN IMMEDIATE), so a batch is all or nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from openee.catalog.model import AssetRecord, BandRecord, FeatureRecord
from openee.catalog.names import parent_of
from openee.catalog.rows import (
    band_from_row,
    descendant_range,
    geometry_bbox,
    loads_json,
    mask_to_row,
    moved_name,
    moved_properties,
    now_iso,
)
from openee.catalog.sql import Condition, SqlWrites, children_sql, image_query_sql, property_sql
from openee.catalog.store import BBox, ImageQuery, PropertyTerm, Scalar
from openee.dbfile import SqliteFile
from openee.errors import AlreadyExistsError, AssetNotFoundError, FailedPreconditionError
from openee.statedb import Conn, Migration, SqliteState


def _first_schema(conn: Conn) -> None:
    """Version 1: the schema catalogs had before versions (`CREATE ... IF NOT EXISTS`), with the
    columns added since a catalog file was first made: `bands.mask` (maskBands), `assets.sources`
    and the `asset_files` index, filled from the bands already stored. So a catalog file made
    before versions upgrades in place."""
    conn.run(
        [
            "CREATE TABLE IF NOT EXISTS assets ("
            " rowid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, parent TEXT NOT NULL,"
            " type TEXT NOT NULL, properties TEXT NOT NULL, start_time INTEGER, end_time INTEGER,"
            " footprint TEXT, update_time TEXT NOT NULL, sources TEXT)",
            "CREATE INDEX IF NOT EXISTS assets_parent_time ON assets(parent, start_time)",
            "CREATE INDEX IF NOT EXISTS assets_parent_name ON assets(parent, name)",
            "CREATE TABLE IF NOT EXISTS bands ("
            " asset_rowid INTEGER NOT NULL REFERENCES assets(rowid) ON DELETE CASCADE,"
            " position INTEGER NOT NULL, id TEXT NOT NULL, path TEXT NOT NULL,"
            " band_index INTEGER NOT NULL, dtype TEXT NOT NULL, crs TEXT NOT NULL,"
            " transform TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,"
            " nodata REAL, mask TEXT, PRIMARY KEY (asset_rowid, position))",
            # Every file behind an asset (bands, masks, sources), to find the assets using a file.
            "CREATE TABLE IF NOT EXISTS asset_files ("
            " asset_rowid INTEGER NOT NULL REFERENCES assets(rowid) ON DELETE CASCADE,"
            " path TEXT NOT NULL, PRIMARY KEY (asset_rowid, path))",
            "CREATE INDEX IF NOT EXISTS asset_files_path ON asset_files(path)",
            "CREATE VIRTUAL TABLE IF NOT EXISTS footprints"
            " USING rtree(id, west, east, south, north)",
            "CREATE TABLE IF NOT EXISTS features ("
            " asset_rowid INTEGER NOT NULL REFERENCES assets(rowid) ON DELETE CASCADE,"
            " position INTEGER NOT NULL, fid TEXT, geometry TEXT, properties TEXT NOT NULL,"
            " west REAL, south REAL, east REAL, north REAL, PRIMARY KEY (asset_rowid, position))",
        ]
    )
    if "mask" not in conn.columns("bands"):
        conn.run(["ALTER TABLE bands ADD COLUMN mask TEXT"])
    if "sources" not in conn.columns("assets"):
        conn.run(
            [
                "ALTER TABLE assets ADD COLUMN sources TEXT",
                "INSERT OR IGNORE INTO asset_files SELECT asset_rowid, path FROM bands",
                "INSERT OR IGNORE INTO asset_files SELECT asset_rowid,"
                " json_extract(mask, '$.path') FROM bands WHERE mask IS NOT NULL",
            ]
        )


# The catalog's schema versions, oldest first (statedb.migrate, component "catalog"); append,
# never edit.
MIGRATIONS: tuple[Migration, ...] = (
    _first_schema,
    # The import operation that wrote an asset (ADR 0057).
    ("ALTER TABLE assets ADD COLUMN operation TEXT",),
)

_COLUMNS = (
    "rowid, name, type, properties, start_time, end_time, footprint, update_time, sources,"
    " operation"
)


class SqliteCatalog(SqlWrites):
    """A catalog in one SQLite file; safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # The schema is created or upgraded first, by the one mechanism every store uses.
        schema = SqliteState(path)
        try:
            self.schema_version = schema.migrate("catalog", MIGRATIONS)
        finally:
            schema.close()
        self._db = SqliteFile(path, "", ("foreign_keys=ON",))

    def _connection(self) -> sqlite3.Connection:
        return self._db.connection()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.tx()

    def close(self) -> None:
        self._db.close()

    # -- writes -------------------------------------------------------------------------------

    def _asset_id(self, db: sqlite3.Connection, name: str) -> int | None:
        found = db.execute("SELECT rowid FROM assets WHERE name = ?", (name,)).fetchone()
        return None if found is None else int(found[0])

    def _put(self, db: sqlite3.Connection, record: AssetRecord) -> int:
        rowid: int = db.execute(
            "INSERT INTO assets (name, parent, type, properties, start_time, end_time, footprint,"
            " update_time, sources, operation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET parent = excluded.parent, type = excluded.type,"
            " properties = excluded.properties, start_time = excluded.start_time,"
            " end_time = excluded.end_time, footprint = excluded.footprint,"
            " update_time = excluded.update_time, sources = excluded.sources,"
            " operation = excluded.operation RETURNING rowid",
            (
                record.name,
                record.parent,
                record.type,
                json.dumps(record.properties),
                record.start_time,
                record.end_time,
                json.dumps(record.footprint) if record.footprint else None,
                record.update_time or now_iso(),
                json.dumps(list(record.sources)) if record.sources else None,
                record.operation,
            ),
        ).fetchone()[0]
        db.execute("DELETE FROM bands WHERE asset_rowid = ?", (rowid,))
        db.execute("DELETE FROM asset_files WHERE asset_rowid = ?", (rowid,))
        db.executemany(
            "INSERT INTO asset_files VALUES (?, ?)", [(rowid, path) for path in record.files]
        )
        db.execute("DELETE FROM footprints WHERE id = ?", (rowid,))
        db.executemany(
            "INSERT INTO bands (asset_rowid, position, id, path, band_index, dtype, crs,"
            " transform, width, height, nodata, mask) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
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
                    json.dumps(mask_to_row(band.mask)) if band.mask else None,
                )
                for position, band in enumerate(record.bands)
            ],
        )
        bbox = geometry_bbox(record.footprint)
        if bbox is not None:
            west, south, east, north = bbox
            db.execute(
                "INSERT INTO footprints VALUES (?, ?, ?, ?, ?)", (rowid, west, east, south, north)
            )
        return rowid

    def _put_features(
        self, db: sqlite3.Connection, rowid: int, features: Sequence[FeatureRecord]
    ) -> None:
        db.execute("DELETE FROM features WHERE asset_rowid = ?", (rowid,))
        rows = []
        for position, feature in enumerate(features):
            bbox = geometry_bbox(feature.geometry) or (None, None, None, None)
            rows.append(
                (
                    rowid,
                    position,
                    feature.id,
                    json.dumps(feature.geometry) if feature.geometry else None,
                    json.dumps(feature.properties),
                    *bbox,
                )
            )
        db.executemany("INSERT INTO features VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def delete(self, name: str, recursive: bool = False) -> int:
        lo, hi = descendant_range(name)
        with self._tx() as db:
            if db.execute("SELECT 1 FROM assets WHERE name = ?", (name,)).fetchone() is None:
                raise AssetNotFoundError(name)
            below = db.execute(
                "SELECT rowid FROM assets WHERE name >= ? AND name < ?", (lo, hi)
            ).fetchall()
            if below and not recursive:
                raise FailedPreconditionError(
                    f"Asset '{name}' has {len(below)} descendants; delete them first or delete"
                    " recursively."
                )
            rowids = [r[0] for r in below]
            rowids.append(
                db.execute("SELECT rowid FROM assets WHERE name = ?", (name,)).fetchone()[0]
            )
            db.executemany("DELETE FROM footprints WHERE id = ?", [(r,) for r in rowids])
            db.executemany("DELETE FROM assets WHERE rowid = ?", [(r,) for r in rowids])
            return len(rowids)

    def move(self, source: str, destination: str, replace: bool = False) -> int:
        lo, hi = descendant_range(source)
        with self._tx() as db:
            rows = db.execute(
                "SELECT rowid, name, properties FROM assets WHERE name = ?"
                " OR (name >= ? AND name < ?)",
                (source, lo, hi),
            ).fetchall()
            if not any(name == source for _, name, _ in rows):
                raise AssetNotFoundError(source)
            existing = db.execute("SELECT rowid FROM assets WHERE name = ?", (destination,))
            found = existing.fetchone()
            if found is not None:
                if not replace:
                    raise AlreadyExistsError(f"Asset '{destination}' already exists.")
                dlo, dhi = descendant_range(destination)
                if db.execute(
                    "SELECT 1 FROM assets WHERE name >= ? AND name < ? LIMIT 1", (dlo, dhi)
                ).fetchone():
                    raise FailedPreconditionError(
                        f"Asset '{destination}' holds assets; it cannot be replaced."
                    )
                db.execute("DELETE FROM footprints WHERE id = ?", (found[0],))
                db.execute("DELETE FROM assets WHERE rowid = ?", (found[0],))
            stamp = now_iso()
            for rowid, name, properties in rows:
                new = moved_name(name, source, destination)
                props = moved_properties(loads_json(properties), new)
                db.execute(
                    "UPDATE assets SET name = ?, parent = ?, update_time = ?,"
                    " properties = coalesce(?, properties) WHERE rowid = ?",
                    (
                        new,
                        parent_of(new),
                        stamp,
                        None if props is None else json.dumps(props),
                        rowid,
                    ),
                )
            return len(rows)

    # -- reads --------------------------------------------------------------------------------

    def get(self, name: str) -> AssetRecord | None:
        db = self._connection()
        row = db.execute(f"SELECT {_COLUMNS} FROM assets WHERE name = ?", (name,)).fetchone()
        return self._records(db, [row])[0] if row else None

    def children(
        self, parent: str, offset: int = 0, limit: int = 1000, *, after: str | None = None
    ) -> list[AssetRecord]:
        db = self._connection()
        sql, args = children_sql(
            f"SELECT {_COLUMNS} FROM assets", parent, offset, limit, after, "?"
        )
        return self._records(db, db.execute(sql, args).fetchall())

    def query_images(self, query: ImageQuery) -> list[AssetRecord]:
        """Images under `query.parent` that match the query, oldest first (then by name)."""
        db = self._connection()
        sql, args = image_query_sql(
            f"SELECT {_COLUMNS} FROM assets a", query, "?", "a.", _bbox_sql, _properties_sql
        )
        rows = db.execute(sql, args).fetchall()
        return self._records(db, rows)

    def features(
        self, name: str, offset: int = 0, limit: int | None = None, bbox: BBox | None = None
    ) -> list[FeatureRecord]:
        db = self._connection()
        sql = (
            "SELECT f.fid, f.geometry, f.properties FROM features f"
            " JOIN assets a ON a.rowid = f.asset_rowid WHERE a.name = ?"
        )
        args: list[Any] = [name]
        if bbox is not None:
            west, south, east, north = bbox
            sql += " AND f.west <= ? AND f.east >= ? AND f.south <= ? AND f.north >= ?"
            args.extend([east, west, north, south])
        sql += " ORDER BY f.position LIMIT ? OFFSET ?"
        args.extend([-1 if limit is None else limit, offset])
        return [
            FeatureRecord(
                geometry=loads_json(geometry, numbers_are_coordinates=True) if geometry else None,
                properties=loads_json(properties),
                id=fid,
            )
            for fid, geometry, properties in db.execute(sql, args).fetchall()
        ]

    def count_features(self, name: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT count(*) FROM features f JOIN assets a ON a.rowid = f.asset_rowid"
                " WHERE a.name = ?",
                (name,),
            )
            .fetchone()
        )
        return int(row[0])

    def assets_using(self, path: str) -> list[str]:
        rows = (
            self._connection()
            .execute(
                "SELECT a.name FROM asset_files f JOIN assets a ON a.rowid = f.asset_rowid"
                " WHERE f.path = ? ORDER BY a.name",
                (path,),
            )
            .fetchall()
        )
        return [row[0] for row in rows]

    def _records(self, db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[AssetRecord]:
        """Records of asset rows, their bands read with one query per 500 rows."""
        bands: dict[int, list[BandRecord]] = {row[0]: [] for row in rows}
        rowids = list(bands)
        for i in range(0, len(rowids), 500):
            chunk = rowids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            for b in db.execute(
                "SELECT asset_rowid, id, path, band_index, dtype, crs, transform, width, height,"
                f" nodata, mask FROM bands WHERE asset_rowid IN ({marks})"
                " ORDER BY asset_rowid, position",
                chunk,
            ):
                bands[b[0]].append(
                    band_from_row(
                        {
                            "id": b[1],
                            "path": b[2],
                            "index": b[3],
                            "dtype": b[4],
                            "crs": b[5],
                            "transform": loads_json(b[6], numbers_are_coordinates=True),
                            "width": b[7],
                            "height": b[8],
                            "nodata": b[9],
                            "mask": loads_json(b[10]) if b[10] else None,
                        }
                    )
                )
        return [
            AssetRecord(
                name=name,
                type=type_,
                properties=loads_json(properties),
                start_time=start,
                end_time=end,
                footprint=(
                    loads_json(footprint, numbers_are_coordinates=True) if footprint else None
                ),
                bands=tuple(bands[rowid]),
                update_time=update_time,
                sources=tuple(loads_json(sources)) if sources else (),
                operation=operation,
            )
            for (
                rowid, name, type_, properties, start, end, footprint, update_time, sources,
                operation,
            ) in rows
        ]  # fmt: skip


_NUMERIC_TYPES = "('integer', 'real', 'true', 'false')"


def _bbox_sql(bbox: BBox) -> Condition:
    west, south, east, north = bbox
    return (
        "a.rowid IN (SELECT id FROM footprints WHERE west <= ? AND east >= ?"
        " AND south <= ? AND north >= ?)",
        [east, west, north, south],
    )


def _properties_sql(terms: tuple[PropertyTerm, ...]) -> Condition:
    # Properties that SQLite's JSON functions cannot read (NaN, written by Python's json) would
    # raise; such rows stay candidates and the caller's exact test decides.
    parts = [property_sql(term, _comparison) for term in terms]
    return (
        "CASE WHEN json_valid(a.properties) THEN ("
        + " AND ".join(text for text, _ in parts)
        + ") ELSE 1 END",
        [a for _, args in parts for a in args],
    )


def _comparison(name: str, op: str, value: Scalar) -> tuple[str, list[Any]]:
    # json_extract gives JSON true/false as 1/0, as Python compares booleans with numbers.
    path = f'$."{name}"'
    types = "('text')" if isinstance(value, str) else _NUMERIC_TYPES
    if isinstance(value, bool):
        value = int(value)
    return (
        f"(coalesce(json_type(a.properties, ?), '') IN {types}"
        f" AND json_extract(a.properties, ?) {op} ?)",
        [path, path, value],
    )
