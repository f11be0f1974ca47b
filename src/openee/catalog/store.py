"""The catalog store interface. SQLite is the embedded implementation (`sqlite.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from openee.catalog.model import AssetRecord


@dataclass(frozen=True)
class ImageQuery:
    """What a store can answer itself: children of `parent` in a time range and a lon/lat box.

    `start` is inclusive and `end` exclusive (milliseconds), as in filterDate.
    """

    parent: str
    start: int | None = None
    end: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # (west, south, east, north)


class CatalogStore(Protocol):
    def put(self, record: AssetRecord) -> None: ...

    def put_many(self, records: list[AssetRecord]) -> None: ...

    def get(self, name: str) -> AssetRecord | None: ...

    def children(self, parent: str, offset: int, limit: int) -> list[AssetRecord]: ...

    def query_images(self, query: ImageQuery) -> list[AssetRecord]: ...
