"""The TiTiler side of bench/tiles.py: a small TiTiler app serving the benchmark's two layers.

Run by bench/tiles.py as `uvicorn titiler_app:app` on loopback, configured through environment
variables (set by bench/tiles.py):

  BENCH_MEDIAN_ITEMS  the item folders of the median, separated by os.pathsep; each holds
                      B04.tif, B03.tif and B02.tif (COGs)
  BENCH_WARMUP_ITEMS  the same for the warm-up tile (`items=warmup`)
  BENCH_COLORMAP      the palette layer's 256-entry colormap, JSON {index: [r, g, b, a]}

Routes:
  /cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=...&rescale=0,3000&colormap_name=bench
      titiler.core's TilerFactory, unchanged: the single band with the palette;
  /median/{z}/{x}/{y}.png?rescale=0,3000
      rio-tiler's mosaic_reader with MedianMethod over the items, each read as B04/B03/B02
      (the way titiler.mosaic's factory reads a mosaic, minus the MosaicJSON lookup: the
      items are fixed here).
"""

from __future__ import annotations

import json
import os
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import Response
from rio_tiler.colormap import cmap
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from rio_tiler.mosaic import mosaic_reader
from rio_tiler.mosaic.methods import MedianMethod
from titiler.core.dependencies import create_colormap_dependency
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import TilerFactory

BANDS = ("B04.tif", "B03.tif", "B02.tif")
ITEMS = {
    name: [p for p in os.environ.get(var, "").split(os.pathsep) if p]
    for name, var in (("measured", "BENCH_MEDIAN_ITEMS"), ("warmup", "BENCH_WARMUP_ITEMS"))
}
COLORMAP = {int(k): tuple(v) for k, v in json.loads(os.environ.get("BENCH_COLORMAP", "{}")).items()}

app = FastAPI(title="titiler (bench/tiles.py)")
colormaps = cmap.register({"bench": COLORMAP}) if COLORMAP else cmap
cog = TilerFactory(router_prefix="/cog", colormap_dependency=create_colormap_dependency(colormaps))
app.include_router(cog.router, prefix="/cog")
add_exception_handlers(app, DEFAULT_STATUS_CODES)


def _item_tile(item: str, x: int, y: int, z: int) -> ImageData:
    """The three bands of one item on tile (x, y, z), stacked in B4/B3/B2 order."""
    parts = []
    for band in BANDS:
        with Reader(os.path.join(item, band)) as src:
            parts.append(src.tile(x, y, z, tilesize=256))
    return ImageData.create_from_list(parts)


@app.get("/median/{z}/{x}/{y}.png")
def median(
    z: int,
    x: int,
    y: int,
    rescale: Annotated[str, Query()] = "0,3000",
    items: Annotated[str, Query()] = "measured",
) -> Response:
    img, _ = mosaic_reader(ITEMS[items], _item_tile, x, y, z, pixel_selection=MedianMethod())
    low, high = (float(v) for v in rescale.split(","))
    img.rescale(((low, high),))
    return Response(img.render(img_format="PNG"), media_type="image/png")
