"""PostgreSQL catalog store, for deployments where several servers share one catalog.

No PostGIS: a footprint's bounding box is a `box` column with a GiST index (`&&` is the
overlap test, edges included), times are B-tree indexed milliseconds, bands a JSONB array.
Names use the "C" collation so that paging order is bytewise, the same as SQLite's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb, set_json_loads

from openee.catalog.model import AssetRecord, FeatureRecord
from openee.catalog.names import parent_of
from openee.catalog.rows import (
    band_from_row,
    band_to_row,
    descendant_range,
    geometry_bbox,
    loads_json,
    moved_name,
    moved_properties,
    now_iso,
)
from openee.catalog.sql import Condition, SqlWrites, children_sql, image_query_sql, property_sql
from openee.catalog.store import BBox, ImageQuery, PropertyTerm, Scalar
from openee.dbfile import PerThread
from openee.errors import AlreadyExistsError, AssetNotFoundError, FailedPreconditionError
from openee.statedb import Migration, PostgresState

# The catalog's schema versions, oldest first (statedb.migrate, component "catalog"); append,
# never edit. Version 1 is the schema catalogs had before versions (`IF NOT EXISTS`, the
# columns added since and `files` filled from the bands), so such a catalog upgrades in place.
MIGRATIONS: tuple[Migration, ...] = (
    (
        "CREATE TABLE IF NOT EXISTS openee_assets ("
        ' id BIGSERIAL PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE,'
        ' parent TEXT COLLATE "C" NOT NULL, type TEXT NOT NULL, properties JSONB NOT NULL,'
        " start_time BIGINT, end_time BIGINT, footprint JSONB, bbox BOX, bands JSONB NOT NULL,"
        " update_time TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS openee_assets_parent_name ON openee_assets (parent, name)",
        "CREATE INDEX IF NOT EXISTS openee_assets_parent_time"
        " ON openee_assets (parent, start_time)",
        "CREATE INDEX IF NOT EXISTS openee_assets_bbox ON openee_assets USING gist (bbox)",
        "CREATE TABLE IF NOT EXISTS openee_features ("
        " asset_id BIGINT NOT NULL REFERENCES openee_assets (id) ON DELETE CASCADE,"
        " position INTEGER NOT NULL, fid TEXT, geometry JSONB, properties JSONB NOT NULL,"
        " bbox BOX, PRIMARY KEY (asset_id, position))",
        # An asset's sources, and every file behind it (bands, masks, sources) to find the
        # assets using a file.
        "ALTER TABLE openee_assets ADD COLUMN IF NOT EXISTS sources JSONB",
        "ALTER TABLE openee_assets ADD COLUMN IF NOT EXISTS files TEXT[]",
        "CREATE INDEX IF NOT EXISTS openee_assets_files ON openee_assets USING gin (files)",
        "UPDATE openee_assets SET files = ARRAY("
        " SELECT DISTINCT p FROM jsonb_array_elements(bands) AS b,"
        " LATERAL (VALUES (b ->> 'path'), (b -> 'mask' ->> 'path')) AS v(p)"
        " WHERE p IS NOT NULL) WHERE files IS NULL",
    ),
    # The import operation that wrote an asset (ADR 0057).
    ("ALTER TABLE openee_assets ADD COLUMN operation TEXT",),
)

_COLUMNS = (
    "name, type, properties, start_time, end_time, footprint, bands, update_time, sources,"
    " operation"
)


def _box(bbox: BBox | None) -> str | None:
    """A bounding box in PostgreSQL's `box` input syntax."""
    if bbox is None:
        return None
    west, south, east, north = bbox
    return f"(({west!r},{south!r}),({east!r},{north!r}))"


class PostgresCatalog(SqlWrites):
    """A catalog in a PostgreSQL database; one connection per thread."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        # The schema is created or upgraded first, by the one mechanism every store uses
        # (under a lock: replicas that start at once apply each version once).
        schema = PostgresState(dsn, pool_size=1)
        try:
            self.schema_version = schema.migrate("catalog", MIGRATIONS)
        finally:
            schema.close()
        self._connections = PerThread(self._connect, lambda db: db.closed)

    def _connect(self) -> psycopg.Connection[Any]:
        db = psycopg.connect(self.dsn, autocommit=True)
        set_json_loads(loads_json, db)
        return db

    def _connection(self) -> psycopg.Connection[Any]:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        db = self._connection()
        with db.transaction():
            yield db

    # -- writes -------------------------------------------------------------------------------

    def _asset_id(self, db: psycopg.Connection[Any], name: str) -> int | None:
        found = db.execute("SELECT id FROM openee_assets WHERE name = %s", (name,)).fetchone()
        return None if found is None else int(found[0])

    def _put(self, db: psycopg.Connection[Any], record: AssetRecord) -> int:
        row = db.execute(
            "INSERT INTO openee_assets (name, parent, type, properties, start_time, end_time,"
            " footprint, bbox, bands, update_time, sources, files, operation)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::box, %s, %s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET parent = excluded.parent, type = excluded.type,"
            " properties = excluded.properties, start_time = excluded.start_time,"
            " end_time = excluded.end_time, footprint = excluded.footprint, bbox = excluded.bbox,"
            " bands = excluded.bands, update_time = excluded.update_time,"
            " sources = excluded.sources, files = excluded.files,"
            " operation = excluded.operation RETURNING id",
            (
                record.name,
                record.parent,
                record.type,
                Jsonb(record.properties),
                record.start_time,
                record.end_time,
                Jsonb(record.footprint) if record.footprint else None,
                _box(geometry_bbox(record.footprint)),
                Jsonb([band_to_row(b) for b in record.bands]),
                record.update_time or now_iso(),
                Jsonb(list(record.sources)) if record.sources else None,
                list(record.files),
                record.operation,
            ),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _put_features(
        self, db: psycopg.Connection[Any], asset_id: int, features: Sequence[FeatureRecord]
    ) -> None:
        db.execute("DELETE FROM openee_features WHERE asset_id = %s", (asset_id,))
        with db.cursor() as cur:
            cur.executemany(
                "INSERT INTO openee_features VALUES (%s, %s, %s, %s, %s, %s::box)",
                [
                    (
                        asset_id,
                        position,
                        feature.id,
                        Jsonb(feature.geometry) if feature.geometry else None,
                        Jsonb(feature.properties),
                        _box(geometry_bbox(feature.geometry)),
                    )
                    for position, feature in enumerate(features)
                ],
            )

    def delete(self, name: str, recursive: bool = False) -> int:
        lo, hi = descendant_range(name)
        with self._tx() as db:
            found = db.execute(
                "SELECT id FROM openee_assets WHERE name = %s FOR UPDATE", (name,)
            ).fetchone()
            if found is None:
                raise AssetNotFoundError(name)
            below = db.execute(
                "SELECT count(*) FROM openee_assets WHERE name >= %s AND name < %s", (lo, hi)
            ).fetchone()
            count = int(below[0]) if below else 0
            if count and not recursive:
                raise FailedPreconditionError(
                    f"Asset '{name}' has {count} descendants; delete them first or delete"
                    " recursively."
                )
            db.execute(
                "DELETE FROM openee_assets WHERE name = %s OR (name >= %s AND name < %s)",
                (name, lo, hi),
            )
            return count + 1

    def move(self, source: str, destination: str, replace: bool = False) -> int:
        lo, hi = descendant_range(source)
        with self._tx() as db:
            rows = db.execute(
                "SELECT id, name, properties FROM openee_assets WHERE name = %s"
                " OR (name >= %s AND name < %s) FOR UPDATE",
                (source, lo, hi),
            ).fetchall()
            if not any(name == source for _, name, _ in rows):
                raise AssetNotFoundError(source)
            found = db.execute(
                "SELECT id FROM openee_assets WHERE name = %s FOR UPDATE", (destination,)
            ).fetchone()
            if found is not None:
                if not replace:
                    raise AlreadyExistsError(f"Asset '{destination}' already exists.")
                dlo, dhi = descendant_range(destination)
                if db.execute(
                    "SELECT 1 FROM openee_assets WHERE name >= %s AND name < %s LIMIT 1",
                    (dlo, dhi),
                ).fetchone():
                    raise FailedPreconditionError(
                        f"Asset '{destination}' holds assets; it cannot be replaced."
                    )
                db.execute("DELETE FROM openee_assets WHERE id = %s", (found[0],))
            stamp = now_iso()
            for asset_id, name, properties in rows:
                new = moved_name(name, source, destination)
                props = moved_properties(properties, new)
                db.execute(
                    "UPDATE openee_assets SET name = %s, parent = %s, update_time = %s,"
                    " properties = coalesce(%s, properties) WHERE id = %s",
                    (new, parent_of(new), stamp, None if props is None else Jsonb(props), asset_id),
                )
            return len(rows)

    # -- reads --------------------------------------------------------------------------------

    def get(self, name: str) -> AssetRecord | None:
        row = (
            self._connection()
            .execute(f"SELECT {_COLUMNS} FROM openee_assets WHERE name = %s", (name,))
            .fetchone()
        )
        return _record(row) if row else None

    def children(
        self, parent: str, offset: int = 0, limit: int = 1000, *, after: str | None = None
    ) -> list[AssetRecord]:
        sql, args = children_sql(
            f"SELECT {_COLUMNS} FROM openee_assets", parent, offset, limit, after, "%s"
        )
        return [_record(row) for row in self._connection().execute(sql, args).fetchall()]

    def query_images(self, query: ImageQuery) -> list[AssetRecord]:
        """Images under `query.parent` that match the query, oldest first (then by name)."""
        sql, args = image_query_sql(
            f"SELECT {_COLUMNS} FROM openee_assets",
            query,
            "%s",
            "",
            lambda bbox: ("bbox && %s::box", [_box(bbox)]),
            _properties_sql,
        )
        return [_record(row) for row in self._connection().execute(sql, args).fetchall()]

    def features(
        self, name: str, offset: int = 0, limit: int | None = None, bbox: BBox | None = None
    ) -> list[FeatureRecord]:
        sql = (
            "SELECT f.fid, f.geometry, f.properties FROM openee_features f"
            " JOIN openee_assets a ON a.id = f.asset_id WHERE a.name = %s"
        )
        args: list[Any] = [name]
        if bbox is not None:
            sql += " AND f.bbox && %s::box"
            args.append(_box(bbox))
        sql += " ORDER BY f.position LIMIT %s OFFSET %s"
        args.extend([limit, offset])
        return [
            FeatureRecord(geometry=geometry, properties=properties, id=fid)
            for fid, geometry, properties in self._connection().execute(sql, args).fetchall()
        ]

    def count_features(self, name: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT count(*) FROM openee_features f JOIN openee_assets a ON a.id = f.asset_id"
                " WHERE a.name = %s",
                (name,),
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def assets_using(self, path: str) -> list[str]:
        rows = (
            self._connection()
            .execute(
                "SELECT name FROM openee_assets WHERE files @> ARRAY[%s]::text[] ORDER BY name",
                (path,),
            )
            .fetchall()
        )
        return [row[0] for row in rows]


def _properties_sql(terms: tuple[PropertyTerm, ...]) -> Condition:
    parts = [property_sql(term, _comparison) for term in terms]
    return " AND ".join(text for text, _ in parts), [a for _, args in parts for a in args]


def _comparison(name: str, op: str, value: Scalar) -> tuple[str, list[Any]]:
    # jsonb orders values of different types among themselves; Python does not compare them
    # (except booleans with numbers), so each type is compared on its own.
    if isinstance(value, str):
        return (
            f"coalesce(jsonb_typeof(properties -> %s) = 'string'"
            f' AND (properties ->> %s) COLLATE "C" {op} %s, false)',
            [name, name, value],
        )
    number = int(value) if isinstance(value, bool) else value
    return (
        f"(CASE jsonb_typeof(properties -> %s)"
        f" WHEN 'number' THEN (properties -> %s)::numeric {op} %s::numeric"
        f" WHEN 'boolean' THEN (properties -> %s)::boolean::int {op} %s::numeric"
        " ELSE false END)",
        [name, name, number, name, number],
    )


def _record(row: tuple[Any, ...]) -> AssetRecord:
    name, type_, properties, start, end, footprint, bands, update_time, sources, operation = row
    return AssetRecord(
        name=name,
        type=type_,
        properties=properties,
        start_time=start,
        end_time=end,
        footprint=footprint,
        bands=tuple(band_from_row(b) for b in bands),
        update_time=update_time,
        sources=tuple(sources or ()),
        operation=operation,
    )
