"""Features and feature collections (tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openee.values.geometry import Geometry
from openee.values.info import to_info


@dataclass(frozen=True)
class Feature:
    geometry: Geometry | None
    properties: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

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
    features: tuple[Any, ...]  # Feature, or any element type for computed collections
    id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> object:
        return self.properties.get(name)

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"type": "FeatureCollection", "columns": {}}
        if self.id is not None:
            info["id"] = self.id
        if self.properties:
            info["properties"] = {k: to_info(v) for k, v in self.properties.items()}
        info["features"] = [to_info(f) for f in self.features]
        return info
