"""The catalog's records: what is stored about an asset and its bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openee.catalog.names import id_from_name, parent_of

IMAGE = "IMAGE"
IMAGE_COLLECTION = "IMAGE_COLLECTION"
FOLDER = "FOLDER"
TABLE = "TABLE"
# A trained classifier (Export.classifier.toAsset): its document is the one file in `sources`.
CLASSIFIER = "CLASSIFIER"


@dataclass(frozen=True)
class BandMask:
    """A mask band in a file (an ImageManifest's `maskBands`): 0 masks the pixel."""

    path: str
    index: int  # 1-based band index in `path`
    dtype: str


@dataclass(frozen=True)
class BandRecord:
    """One band of a stored image: the file it lives in and its native grid."""

    id: str
    path: str
    index: int  # 1-based band index in `path`
    dtype: str
    crs: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int
    nodata: float | None
    mask: BandMask | None = None  # on the band's own grid


@dataclass(frozen=True)
class FeatureRecord:
    """One feature of a TABLE asset: a GeoJSON geometry in EPSG:4326 and its properties."""

    geometry: dict[str, Any] | None
    properties: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    def geojson(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "Feature",
            "geometry": self.geometry,
            "properties": self.properties,
        }
        if self.id is not None:
            out["id"] = self.id
        return out


@dataclass(frozen=True)
class AssetRecord:
    name: str
    type: str
    properties: dict[str, Any] = field(default_factory=dict)
    start_time: int | None = None  # ms since epoch
    end_time: int | None = None
    footprint: dict[str, Any] | None = None  # GeoJSON in EPSG:4326
    bands: tuple[BandRecord, ...] = ()
    update_time: str | None = None
    # Files the asset was made from and does not read (a table's vector file, the parts of a
    # mosaicked tileset): they stay the asset's files for access checks (`catalog/access.py`).
    sources: tuple[str, ...] = ()
    # The import operation that wrote the asset, if one did: a server that takes the operation
    # over after its first server died recognizes the write as done (ADR 0057). Never shown.
    operation: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        """Every file behind the asset: its bands', their masks' and its sources, once each."""
        paths = [p for b in self.bands for p in (b.path, b.mask.path if b.mask else None) if p]
        return tuple(dict.fromkeys([*paths, *self.sources]))

    @property
    def id(self) -> str:
        return id_from_name(self.name)

    @property
    def parent(self) -> str:
        return parent_of(self.name)

    @property
    def index(self) -> str:
        """`system:index`: the last path segment."""
        return self.name.rsplit("/", 1)[1]
