"""What a pixels request asks for, as typed objects.

The HTTP layer builds them from the request JSON, checked once (api/requests.py); the services
below it (computePixels, getPixels, thumbnails, map tiles, video frames, map exports) take them
and never read the wire form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from affine import Affine

from openee.encode.formats import Format, format_for
from openee.encode.visualize import Visualization
from openee.raster.grid import PixelGrid
from openee.values.geometry import Geometry

DEFAULT_FILE_FORMAT = "AUTO_JPEG_PNG"


@dataclass(frozen=True)
class GridRequest:
    """A request's grid as given: a part left out is taken from the image's own grid."""

    crs: str | None = None
    transform: Affine | None = None
    dimensions: tuple[int, int] | None = None  # (width, height)

    @classmethod
    def of(cls, grid: PixelGrid) -> GridRequest:
        """A grid given in full."""
        return cls(grid.crs, grid.transform, (grid.width, grid.height))


@dataclass(frozen=True)
class PixelsRequest:
    """Which bands of an evaluated image to compute, on which grid, encoded how.

    `grid` None means the image's own grid (or, with `region`, the pixels of that grid covering
    the region's bounds); `file_format` is a known format name in upper case.
    """

    file_format: str = DEFAULT_FILE_FORMAT
    band_ids: tuple[str, ...] = ()
    visualization: Visualization = field(default_factory=Visualization)
    grid: GridRequest | None = None
    region: Geometry | None = None

    @property
    def format(self) -> Format:
        return format_for(self.file_format)
