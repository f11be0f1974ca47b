"""Shared inputs of the computePixels benchmark: the files, the grids, the expression, COGs."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio
import rasterio.shutil
from affine import Affine

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_CATALOG_DIR = (
    REPO_ROOT / "src" / "openee" / "demo" / "data" / "sentinel2" / "l2a_33TWL_33TWM_2023-08_120m"
)
COLLECTION_ID = "COPERNICUS/S2_SR_HARMONIZED"
TILE = "33TWL"
WARMUP_TILE = "33TWM"  # bench_http.WARMUP_LON/LAT lie in it
LON, LAT = 15.7, 45.55  # inside 33TWL only: filterBounds keeps its 5 images
AUGUST = ("2023-08-01", "2023-09-01")
METRES_PER_DEGREE = 111319.49
BANDS = ("B4", "B3", "B2")  # Earth Engine names, in output order
BAND_FILES = {"B4": "B04.tif", "B3": "B03.tif", "B2": "B02.tif"}
STAC_ASSETS = {"B4": "red", "B3": "green", "B2": "blue"}
NODATA = 0


@dataclass(frozen=True)
class Grid:
    """An output grid: CRS, affine (GDAL order a..f as affine.Affine) and size."""

    crs: str
    transform: Affine
    width: int
    height: int

    @classmethod
    def centered(cls, size: int, metres: float, lon: float = LON, lat: float = LAT) -> Grid:
        """`size` x `size` pixels of `metres` (expressed in degrees) centred on (lon, lat)."""
        res = metres / METRES_PER_DEGREE
        west = lon - res * size / 2
        north = lat + res * size / 2
        return cls("EPSG:4326", Affine(res, 0.0, west, 0.0, -res, north), size, size)

    def shifted(self, pixels: float) -> Grid:
        """The same grid moved by `pixels` (a fraction, so no output pixel centre or sample map
        is shared) right and down: a new position over the same files."""
        t = self.transform
        moved = Affine(t.a, t.b, t.c + pixels * t.a, t.d, t.e, t.f + pixels * t.e)
        return Grid(self.crs, moved, self.width, self.height)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        west, north = t.c, t.f
        east, south = t * (self.width, self.height)
        return west, south, east, north

    def to_wire(self) -> dict[str, Any]:
        t = self.transform
        return {
            "crsCode": self.crs,
            "affineTransform": {
                "scaleX": t.a,
                "shearX": t.b,
                "translateX": t.c,
                "shearY": t.d,
                "scaleY": t.e,
                "translateY": t.f,
            },
            "dimensions": {"width": self.width, "height": self.height},
        }


def item_dirs(catalog_dir: Path, tile: str = TILE) -> list[Path]:
    """The item folders of a tile (33TWL: 5 images of August 2023), by date."""
    dirs = sorted(
        (catalog_dir / "sentinel-2-l2a").glob(f"S2*_{tile}_*"), key=lambda p: p.name.split("_")[2]
    )
    return [d for d in dirs if d.is_dir()]


def band_paths(catalog_dir: Path, tile: str = TILE) -> dict[str, list[Path]]:
    """Per band, the 5 files of a tile (33TWL: the measured one) in date order."""
    dirs = item_dirs(catalog_dir, tile)
    return {band: [d / name for d in dirs] for band, name in BAND_FILES.items()}


def expression(lon: float = LON, lat: float = LAT) -> dict[str, Any]:
    """The Expression the stock client sends for

    ee.ImageCollection(COLLECTION_ID).filterBounds(ee.Geometry.Point([lon, lat]))
      .filterDate(*AUGUST).median()

    (`bandIds` of the request selects B4/B3/B2), written out by hand.
    """

    def call(name: str, **arguments: Any) -> dict[str, Any]:
        return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}

    def const(value: Any) -> dict[str, Any]:
        return {"constantValue": value}

    loaded = call("ImageCollection.load", id=const(COLLECTION_ID))
    bounds = call(
        "Filter.intersects",
        leftField=const(".all"),
        rightValue=call(
            "Feature", geometry=call("GeometryConstructors.Point", coordinates=const([lon, lat]))
        ),
    )
    dates = call(
        "Filter.dateRangeContains",
        leftValue=call("DateRange", start=const(AUGUST[0]), end=const(AUGUST[1])),
        rightField=const("system:time_start"),
    )
    filtered = call(
        "Collection.filter",
        collection=call("Collection.filter", collection=loaded, filter=bounds),
        filter=dates,
    )
    return {"result": "0", "values": {"0": call("reduce.median", collection=filtered)}}


def request_body(grid: Grid, with_expression: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"fileFormat": "NPY", "bandIds": list(BANDS), "grid": grid.to_wire()}
    if with_expression:
        body["expression"] = expression()
    return body


COG_OPTIONS = {
    "driver": "COG",
    "COMPRESS": "DEFLATE",
    "BLOCKSIZE": "256",
    "OVERVIEWS": "AUTO",
    "RESAMPLING": "NEAREST",
    "NUM_THREADS": "ALL_CPUS",
}


def make_cog_catalog(target: Path) -> Path:
    """A copy of the demo catalog under `target` whose 15 benchmark files (and the 15 of the
    warm-up tile) are COGs.

    Same names as the JPEG2000 originals (GDAL detects the format by content), so STAC items and
    openee's ingest work unchanged. Returns the copy's catalog directory.
    """
    copy = target / DEMO_CATALOG_DIR.name
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(DEMO_CATALOG_DIR, copy, copy_function=shutil.copyfile)
    # The warm-up tile too, so that the warm-up request opens files of the same format (and
    # loads the same GDAL driver) as the measured one.
    for paths in [*band_paths(copy).values(), *band_paths(copy, WARMUP_TILE).values()]:
        for path in paths:
            original = DEMO_CATALOG_DIR / path.relative_to(copy)
            path.unlink()
            sidecar = path.with_name(path.name + ".aux.xml")
            if sidecar.exists():
                sidecar.unlink()  # the COG carries CRS, transform and nodata itself
            with rasterio.Env(GDAL_PAM_ENABLED="YES"):
                rasterio.shutil.copy(str(original), str(path), **COG_OPTIONS)
            with rasterio.open(path) as src:
                assert src.driver == "GTiff" and src.nodata == NODATA, (
                    path,
                    src.driver,
                    src.nodata,
                )
    return copy


def describe_files(catalog_dir: Path) -> str:
    path = band_paths(catalog_dir)["B4"][0]
    with rasterio.open(path) as src:
        tags = {**src.tags(1, ns="IMAGE_STRUCTURE"), **src.tags(ns="IMAGE_STRUCTURE")}
        return (
            f"{src.driver} {src.width}x{src.height} {src.dtypes[0]} {src.crs} "
            f"res {src.res[0]:g} m, blocks {src.block_shapes[0]}, overviews {src.overviews(1)}, "
            f"compression {tags.get('COMPRESSION', '?')}, nodata {src.nodata:g}"
        )


def dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
