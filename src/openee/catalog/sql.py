"""What the SQLite and PostgreSQL stores share: the writes of a batch of records, and the
conditions of a listing and of an image query (paging order, time range, keyset), written once
with each engine's parameter mark so that both page and filter alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from openee.catalog.model import AssetRecord, FeatureRecord
from openee.catalog.store import BBox, ImageQuery, PropertyTerm, Scalar
from openee.errors import AssetNotFoundError

# One SQL condition and its parameters.
Condition = tuple[str, list[Any]]


class SqlWrites:
    """`put` and `put_many` over a store's own row writes."""

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _put(self, db: Any, record: AssetRecord) -> int:
        """Insert or replace one asset row; its row id."""
        raise NotImplementedError

    def _asset_id(self, db: Any, name: str) -> int | None:
        raise NotImplementedError

    def _put_features(self, db: Any, asset_id: int, features: Sequence[FeatureRecord]) -> None:
        raise NotImplementedError

    def put(self, record: AssetRecord) -> None:
        self.put_many([record])

    def put_many(
        self,
        records: Sequence[AssetRecord],
        features: Mapping[str, Sequence[FeatureRecord]] | None = None,
    ) -> None:
        """Insert or replace records, all or nothing."""
        with self._tx() as db:
            ids = {record.name: self._put(db, record) for record in records}
            for name, rows in (features or {}).items():
                asset_id = ids.get(name)
                if asset_id is None:
                    asset_id = self._asset_id(db, name)
                    if asset_id is None:
                        raise AssetNotFoundError(name)
                self._put_features(db, asset_id, rows)


def children_sql(
    select: str, parent: str, offset: int, limit: int, after: str | None, mark: str
) -> Condition:
    """`select` (up to its FROM clause) for the children of `parent`,
    by name, from after `after` or `offset`."""
    sql = f"{select} WHERE parent = {mark}"
    args: list[Any] = [parent]
    if after is not None:
        sql += f" AND name > {mark}"
        args.append(after)
    sql += f" ORDER BY name LIMIT {mark} OFFSET {mark}"
    args.extend([limit, offset])
    return sql, args


def image_query_sql(
    select: str,
    query: ImageQuery,
    mark: str,
    column: str,
    bbox: Callable[[BBox], Condition],
    properties: Callable[[tuple[PropertyTerm, ...]], Condition],
) -> Condition:
    """`select` with the conditions of `query`, oldest first (then by name); `column` prefixes
    the asset table's column names, `bbox` and `properties` give the engine's own conditions."""
    sql = f"{select} WHERE {column}parent = {mark} AND {column}type = 'IMAGE'"
    args: list[Any] = [query.parent]
    if query.start is not None:
        sql += f" AND {column}start_time >= {mark}"
        args.append(query.start)
    if query.end is not None:
        sql += f" AND {column}start_time < {mark}"
        args.append(query.end)
    for condition in (
        bbox(query.bbox) if query.bbox is not None else None,
        properties(query.properties) if query.properties else None,
    ):
        if condition is not None:
            sql += f" AND {condition[0]}"
            args.extend(condition[1])
    if query.after is not None:
        start, name = query.after
        if start is None:
            sql += (
                f" AND (({column}start_time IS NULL AND {column}name > {mark})"
                f" OR {column}start_time IS NOT NULL)"
            )
            args.append(name)
        else:
            sql += (
                f" AND ({column}start_time > {mark}"
                f" OR ({column}start_time = {mark} AND {column}name > {mark}))"
            )
            args.extend([start, start, name])
    sql += f" ORDER BY {column}start_time NULLS FIRST, {column}name"
    if query.limit is not None:
        sql += f" LIMIT {mark}"
        args.append(query.limit)
    return sql, args


def property_sql(
    term: PropertyTerm, comparison: Callable[[str, str, Scalar], Condition]
) -> Condition:
    """One property term as an SQL condition that is never NULL (see `PropertyTerm`), from the
    engine's `comparison(name, op, value)`."""
    if term.op == "in":
        assert isinstance(term.value, tuple)
        parts = [comparison(term.name, "=", v) for v in term.value]
        return "(" + " OR ".join(t for t, _ in parts) + ")", [a for _, args in parts for a in args]
    assert not isinstance(term.value, tuple)
    if term.op == "!=":
        text, args = comparison(term.name, "=", term.value)
        return f"NOT {text}", args
    return comparison(term.name, term.op, term.value)
