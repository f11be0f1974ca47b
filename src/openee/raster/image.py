"""The lazy Image: named bands, each a recipe with its own projection, plus properties.

Nothing is read until an output grid asks for pixels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import shapely.geometry

from openee.errors import BandNotFoundError, InvalidArgumentError
from openee.raster.pixeltype import pixel_type_info
from openee.raster.sources import BandSource, ConstantBand
from openee.values.date import Date
from openee.values.filter import Filter
from openee.values.geometry import Geometry
from openee.values.info import to_info
from openee.values.projection import IDENTITY, Projection

# The footprint of an image without bounds, as Earth Engine's Image.geometry() gives it.
UNBOUNDED = Geometry(shapely.geometry.box(-180.0, -90.0, 180.0, 90.0), geodesic=False)

# A composite's default projection: WGS84 with 1-degree pixels.
DEFAULT_PROJECTION = Projection("EPSG:4326", IDENTITY)


@dataclass(frozen=True)
class Band:
    """One band: its name, its pixel recipe, and its native grid when it has one."""

    name: str
    source: BandSource
    projection: Projection | None = None
    dimensions: tuple[int, int] | None = None  # (width, height) of the native grid

    def info(self) -> dict[str, Any]:
        proj = self.projection or DEFAULT_PROJECTION
        info: dict[str, Any] = {
            "id": self.name,
            "data_type": pixel_type_info(self.source.dtype, self.source.rank),
        }
        if self.dimensions is not None:
            info["dimensions"] = list(self.dimensions)
        info["crs"] = proj.crs
        info["crs_transform"] = list(proj.transform)
        return info


@dataclass(frozen=True)
class Image:
    """An Earth Engine image: bands and properties. `id` is the asset id, if loaded from one."""

    bands: tuple[Band, ...]
    properties: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    version: int | None = None
    footprint_geometry: Geometry | None = None

    # -- Filterable -------------------------------------------------------------------------

    def get(self, name: str) -> object:
        if name == "system:id":
            return self.id
        return self.properties.get(name)

    def footprint(self) -> Geometry:
        """The footprint, or the whole world for an unbounded image (a constant, say): Earth
        Engine gives such an image that geometry, so `filterBounds` keeps it."""
        return self.footprint_geometry or UNBOUNDED

    # -- bands --------------------------------------------------------------------------------

    @property
    def band_names(self) -> list[str]:
        return [b.name for b in self.bands]

    def band(self, name: str) -> Band:
        for b in self.bands:
            if b.name == name:
                return b
        raise BandNotFoundError(f"Pattern '{name}' did not match any bands.")

    def select(self, selectors: Sequence[object], new_names: Sequence[str] | None = None) -> Image:
        """Bands by name, RE2-style full-match regex, or index, in selector order."""
        chosen: list[Band] = []
        for sel in selectors:
            if isinstance(sel, bool) or not isinstance(sel, int | str):
                raise InvalidArgumentError(f"Invalid band selector: {sel!r}.")
            if isinstance(sel, int):
                if not 0 <= sel < len(self.bands):
                    raise BandNotFoundError(
                        f"Band index out of bounds: {sel} (the image has {len(self.bands)} bands)."
                    )
                chosen.append(self.bands[sel])
                continue
            try:
                pattern = re.compile(sel)
            except re.error:
                raise InvalidArgumentError(f"Invalid band pattern '{sel}'.") from None
            matched = [b for b in self.bands if pattern.fullmatch(b.name)]
            if not matched:
                raise BandNotFoundError(f"Pattern '{sel}' did not match any bands.")
            chosen.extend(matched)
        if new_names is not None:
            if len(new_names) != len(chosen):
                raise InvalidArgumentError(
                    f"Can't rename {len(chosen)} bands to {len(new_names)} names."
                )
            chosen = [replace(b, name=str(n)) for b, n in zip(chosen, new_names, strict=True)]
        return replace(self, bands=tuple(chosen))

    def rename(self, names: Sequence[str]) -> Image:
        if len(names) != len(self.bands):
            raise InvalidArgumentError(
                f"Can't rename an image with {len(self.bands)} bands to {len(names)} names."
            )
        return replace(
            self,
            bands=tuple(replace(b, name=str(n)) for b, n in zip(self.bands, names, strict=True)),
        )

    def add_bands(self, src: Image, names: Sequence[str] | None, overwrite: bool) -> Image:
        """This image's bands followed by `src`'s. Without `overwrite`, an added band whose name
        is taken is renamed with a suffix (B4 -> B4_1), as Earth Engine does."""
        incoming = src.select(list(names)) if names is not None else src
        if overwrite:
            replaced = {b.name for b in incoming.bands}
            kept = [b for b in self.bands if b.name not in replaced]
            return replace(self, bands=(*kept, *incoming.bands))
        taken = {b.name for b in self.bands}
        added = []
        for band in incoming.bands:
            name, n = band.name, 0
            while name in taken:
                n += 1
                name = f"{band.name}_{n}"
            taken.add(name)
            added.append(replace(band, name=name))
        return replace(self, bands=(*self.bands, *added))

    def map_bands(self, fn: Callable[[Band], Band]) -> Image:
        return replace(self, bands=tuple(fn(b) for b in self.bands))

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"type": "Image", "bands": [b.info() for b in self.bands]}
        if self.id is not None:
            info["id"] = self.id
        if self.version is not None:
            info["version"] = self.version
        props = {k: to_info(v) for k, v in self.properties.items()}
        if props:
            info["properties"] = props
        return info


def constant_image(values: Sequence[float]) -> Image:
    """Image.constant: one unmasked band per value, named 'constant' for one value and
    constant_0, constant_1, ... for several (ee-image-constant.js: `ee.Image.constant([-1.2, 4])`
    has bands "constant_0" and "constant_1")."""
    bands = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InvalidArgumentError(f"Image.constant: Invalid constant value {v!r}.")
        dtype = "int64" if isinstance(v, int) else "float64"
        if isinstance(v, int) and 0 <= v <= 255:
            dtype = "uint8"
        elif isinstance(v, int) and -(2**31) <= v < 2**31:
            dtype = "int32"
        name = "constant" if len(values) == 1 else f"constant_{i}"
        bands.append(Band(name, ConstantBand(float(v), dtype)))
    return Image(tuple(bands))


# Fetches the images of a stored collection, given filters the store may push down.
ImageFetcher = Callable[[tuple[Filter, ...]], list[Image]]


@dataclass(frozen=True)
class ImageCollection:
    """A collection of images: stored (resolved lazily, filters pushed down) or built in memory."""

    id: str | None = None
    fetch: ImageFetcher | None = None
    static: tuple[Image, ...] = ()
    filters: tuple[Filter, ...] = ()
    properties: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def images(self) -> list[Image]:
        if self.fetch is not None:
            return self.fetch(self.filters)
        return [img for img in self.static if all(f.matches(img) for f in self.filters)]

    def filtered(self, flt: Filter) -> ImageCollection:
        return replace(self, filters=(*self.filters, flt))

    def with_images(self, images: Sequence[Image]) -> ImageCollection:
        return ImageCollection(id=self.id, static=tuple(images), properties=self.properties)

    def get(self, name: str) -> object:
        if name == "system:id":
            return self.id
        return self.properties.get(name)

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"type": "ImageCollection", "bands": []}
        if self.id is not None:
            info["id"] = self.id
        props = {k: to_info(v) for k, v in self.properties.items()}
        if props:
            info["properties"] = props
        info["features"] = [img.info() for img in self.images]
        return info


def date_of(image: Image) -> Date | None:
    value = image.properties.get("system:time_start")
    return Date(int(value)) if isinstance(value, int | float) else None
