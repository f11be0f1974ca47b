"""Projections: a CRS plus an affine transform from pixel to CRS coordinates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS
from pyproj.exceptions import CRSError

from openee.errors import InvalidArgumentError

# Meters per degree at the equator on the WGS84 ellipsoid: Earth Engine's scale for degrees.
METERS_PER_DEGREE = 6378137.0 * 2 * math.pi / 360

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

# Codes Earth Engine accepts that PROJ does not know, as the EPSG code of the same CRS.
# SR-ORG:6627 is "the Google Maps Mercator projection" (Earth Engine's Export.video docs), the
# spherical Mercator of EPSG:3857; geemap's layer editor and the Code Editor compute their
# stretches in it (ADR 0035).
CRS_ALIASES = {"SR-ORG:6627": "EPSG:3857"}


def canonical_crs(code: str) -> str:
    """The code PROJ knows for a CRS code: an alias replaced, anything else unchanged."""
    return CRS_ALIASES.get(code.strip().upper(), code)


@lru_cache(maxsize=256)
def parse_crs(code: str) -> CRS:
    """A CRS from an 'EPSG:n' code (or an alias of one) or WKT; bad input is the caller's
    mistake, not ours."""
    try:
        return CRS.from_user_input(canonical_crs(code))
    except CRSError:
        raise InvalidArgumentError(f"Invalid CRS: '{code[:200]}'.") from None


def crs_label(crs: CRS) -> str:
    """'EPSG:n' when the CRS has an EPSG code, else its WKT."""
    epsg = crs.to_epsg(min_confidence=90)
    return f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()


@dataclass(frozen=True)
class Projection:
    """Earth Engine's Projection: `transform` is [xScale, xShear, xOffset, yShear, yScale, yOffset]."""

    crs: str
    transform: tuple[float, float, float, float, float, float] = IDENTITY

    @classmethod
    def of(cls, crs: str, transform: list[float] | tuple[float, ...] | None = None) -> Projection:
        crs = canonical_crs(crs)
        parse_crs(crs)
        if transform is None:
            return cls(crs)
        if len(transform) != 6:
            raise InvalidArgumentError("A projection transform must have 6 elements.")
        t = tuple(float(v) for v in transform)
        return cls(crs, (t[0], t[1], t[2], t[3], t[4], t[5]))

    def units_per_meter(self) -> float:
        crs = parse_crs(self.crs)
        if crs.is_geographic:
            return 1.0 / METERS_PER_DEGREE
        factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        return 1.0 / factor

    def nominal_scale(self) -> float:
        """Meters per pixel along x at the point of true scale."""
        a, b = self.transform[0], self.transform[3]
        return math.hypot(a, b) / self.units_per_meter()

    def at_scale(self, meters: float) -> Projection:
        """The same CRS and orientation with pixels `meters` wide; signs are kept."""
        factor = meters * self.units_per_meter() / math.hypot(self.transform[0], self.transform[3])
        a, b, c, d, e, f = self.transform
        return Projection(self.crs, (a * factor, b * factor, c, d * factor, e * factor, f))

    def info(self) -> dict[str, object]:
        info: dict[str, object] = {"type": "Projection", "crs": self.crs}
        info["transform"] = list(self.transform)
        return info
