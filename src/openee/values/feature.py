"""Features and feature collections (tables)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openee.values.geometry import Geometry
from openee.values.info import to_info


@dataclass(frozen=True)
class Feature:
    geometry: Geometry | None
    properties: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    def __post_init__(self) -> None:
        # A feature's id is its 'system:index': setting that property (in the constructor, with
        # set or setMulti) sets the id (ee_feature.py: Feature(None, {'system:index': 'abc123'})
        # has id 'abc123').
        index = self.properties.get("system:index")
        if isinstance(index, str):
            rest = {k: v for k, v in self.properties.items() if k != "system:index"}
            object.__setattr__(self, "properties", rest)
            object.__setattr__(self, "id", index)

    def get(self, name: str) -> object:
        if name == "system:index" and name not in self.properties:
            return self.id
        return self.properties.get(name)

    def footprint(self) -> Geometry | None:
        return self.geometry

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "type": "Feature",
            "geometry": self.geometry.info() if self.geometry else None,
        }
        if self.id is not None:
            info["id"] = self.id
        info["properties"] = {k: to_info(v) for k, v in self.properties.items()}
        return info


@dataclass(frozen=True)
class FeatureCollection:
    """`columns` is a table's schema (name -> Earth Engine type name), kept by the algorithms
    that only select features (filter, limit) so that `table.limit(0)` still describes the
    table; a computed collection has none and its columns come from its features."""

    features: tuple[Any, ...]  # Feature, or any element type for computed collections
    id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] | None = None

    def get(self, name: str) -> object:
        return self.properties.get(name)

    def info(self) -> dict[str, Any]:
        columns = self.columns if self.columns is not None else columns_of(self.features)
        info: dict[str, Any] = {"type": "FeatureCollection", "columns": columns}
        if self.id is not None:
            info["id"] = self.id
        if self.properties:
            info["properties"] = {k: to_info(v) for k, v in self.properties.items()}
        info["features"] = [to_info(f) for f in self.features]
        return info


# -- columns -------------------------------------------------------------------------------------

INDEX = "system:index"


def _type_name(value: object, integer: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return integer
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list | tuple):
        kinds = {_type_name(v, integer) for v in value}
        return f"List<{kinds.pop()}>" if len(kinds) == 1 and None not in kinds else "List<Object>"
    if isinstance(value, dict):
        return "Dictionary"
    return "Object"


def columns_of(features: Iterable[Any], integer: str = "Integer") -> dict[str, str]:
    """Earth Engine's `columns` of a collection: each property's type name over all features
    (integers and floats together are 'Float', other mixes 'Object'), and 'system:index' as a
    String. `integer` names whole numbers: 'Integer' for computed values, 'Long' for a table's
    integer columns (ADR 0024)."""
    kinds: dict[str, set[str]] = {}
    for feature in features:
        if not isinstance(feature, Feature):
            continue
        kinds.setdefault(INDEX, set()).add("String")
        for name, value in feature.properties.items():
            seen = kinds.setdefault(name, set())
            kind = _type_name(value, integer)
            if kind is not None:
                seen.add(kind)
    out = {}
    for name in sorted(kinds):
        seen = kinds[name]
        if len(seen) == 1:
            out[name] = seen.pop()
        elif seen == {integer, "Float"}:
            out[name] = "Float"
        else:
            out[name] = "Object"
    return out
