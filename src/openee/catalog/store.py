"""The catalog store interface, implemented by `sqlite.py` (embedded) and `postgres.py` (shared).

Both run the same contract suite (`tests/catalog/test_catalog_store_contract.py`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from openee.catalog.model import FOLDER, AssetRecord, FeatureRecord
from openee.catalog.names import parent_of
from openee.settings import is_postgres_dsn

if TYPE_CHECKING:
    from openee.catalog.postgres import PostgresCatalog
    from openee.catalog.sqlite import SqliteCatalog

BBox = tuple[float, float, float, float]  # (west, south, east, north), degrees
Scalar = str | int | float | bool
# The position of an image in `query_images` order: (start_time, name).
ImageKey = tuple[int | None, str]

PROPERTY_OPS = ("=", "!=", "<", "<=", ">", ">=", "in")


@dataclass(frozen=True)
class PropertyTerm:
    """`properties[name] <op> value`, compared as Python compares the values:

    * a number (booleans count as 0 and 1) matches numbers and booleans, compared numerically;
    * a string matches strings, compared by code point;
    * `!=` is the negation of `=`, so it also matches a missing or null property;
    * `in` (a tuple of scalars) matches when `=` matches one of them.

    Build terms with `PropertyTerm.of`, which refuses what a store cannot express.
    """

    name: str
    op: str
    value: Scalar | tuple[Scalar, ...]

    def __post_init__(self) -> None:
        if self.op not in PROPERTY_OPS:  # stores write `op` into their SQL
            raise ValueError(f"unknown property comparison {self.op!r}")

    @staticmethod
    def of(name: str, op: str, value: object) -> PropertyTerm | None:
        """A term, or None when it cannot be pushed into a store: `system:` properties (they
        derive from columns), names with a double quote, values that are not finite scalars."""
        if op not in PROPERTY_OPS or name.startswith("system:") or '"' in name or not name:
            return None
        if op == "in":
            if not isinstance(value, list | tuple) or not value:
                return None
            if not all(_pushable(v) for v in value):
                return None
            return PropertyTerm(name, op, tuple(value))
        if not _pushable(value):
            return None
        return PropertyTerm(name, op, value)  # type: ignore[arg-type]


def _pushable(value: object) -> bool:
    if isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63  # what SQLite binds as an INTEGER
    return isinstance(value, float) and math.isfinite(value)


@dataclass(frozen=True)
class ImageQuery:
    """What a store can answer itself: children of `parent` in a time range, a lon/lat box and
    with property comparisons, in the order (start_time, name), nulls first.

    `start` is inclusive and `end` exclusive (milliseconds), as in filterDate. An image matches
    `bbox` when its footprint's bounding box intersects it (edges included); callers apply the
    exact geometry test afterwards. `properties` are ANDed. `after` pages by key: only images
    after that (start_time, name) position; `limit` caps how many come back.
    """

    parent: str
    start: int | None = None
    end: int | None = None
    bbox: BBox | None = None
    properties: tuple[PropertyTerm, ...] = ()
    after: ImageKey | None = None
    limit: int | None = None


class CatalogStore(Protocol):
    def put(self, record: AssetRecord) -> None:
        """Insert or replace one record (see `put_many`)."""
        ...

    def put_many(
        self,
        records: Sequence[AssetRecord],
        features: Mapping[str, Sequence[FeatureRecord]] | None = None,
    ) -> None:
        """Insert or replace records, all or nothing, in one transaction.

        A replaced record keeps its TABLE features unless `features` names it: `features` maps
        a TABLE asset name to its complete new list of features.
        """
        ...

    def get(self, name: str) -> AssetRecord | None: ...

    def children(
        self, parent: str, offset: int = 0, limit: int = 1000, *, after: str | None = None
    ) -> list[AssetRecord]:
        """Direct children of `parent` ordered by name (bytewise); `after` pages by key."""
        ...

    def query_images(self, query: ImageQuery) -> list[AssetRecord]:
        """Images under `query.parent` that match the query, oldest first (then by name)."""
        ...

    def delete(self, name: str, recursive: bool = False) -> int:
        """Delete an asset (and its descendants when `recursive`); returns how many went.

        Raises AssetNotFoundError when it does not exist and FailedPreconditionError when it has
        children and `recursive` is false.
        """
        ...

    def move(self, source: str, destination: str, replace: bool = False) -> int:
        """Rename `source` and its descendants to below `destination` in one transaction
        (bands, footprints and features go with them; `system:index` follows the new name);
        returns how many moved.

        Raises AssetNotFoundError when `source` does not exist, AlreadyExistsError when
        `destination` does and not `replace`, FailedPreconditionError when the asset to replace
        has descendants. The caller checks that `destination` is not inside `source`.
        """
        ...

    def features(
        self, name: str, offset: int = 0, limit: int | None = None, bbox: BBox | None = None
    ) -> list[FeatureRecord]:
        """Features of a TABLE asset in their stored order, optionally those whose geometry's
        bounding box intersects `bbox`."""
        ...

    def count_features(self, name: str) -> int: ...

    def assets_using(self, path: str) -> list[str]:
        """Names of the assets whose files (`AssetRecord.files`) include `path`, by name."""
        ...

    def close(self) -> None: ...


def missing_folders(name: str, store: CatalogStore) -> list[AssetRecord]:
    """Folder records for every missing ancestor of `name` below the `projects/p/assets` root."""
    folders = []
    parent = parent_of(name)
    while not parent.endswith("/assets") and store.get(parent) is None:
        folders.append(AssetRecord(name=parent, type=FOLDER))
        parent = parent_of(parent)
    return folders


def open_store(target: str | Path) -> CatalogStore:
    """A store from a PostgreSQL connection string (`postgresql://...` or `host=... dbname=...`)
    or a SQLite file path; its schema is created or upgraded first (`statedb.migrate`)."""
    return _open(target)


def upgrade_store(target: str | Path) -> int:
    """Creates or upgrades the catalog schema at `target` (`openee db upgrade`); returns its
    version."""
    store = _open(target)
    store.close()
    return store.schema_version


def _open(target: str | Path) -> SqliteCatalog | PostgresCatalog:
    text = str(target)
    if isinstance(target, str) and is_postgres_dsn(text):
        from openee.catalog.postgres import PostgresCatalog

        return PostgresCatalog(text)
    from openee.catalog.sqlite import SqliteCatalog

    return SqliteCatalog(Path(text))
