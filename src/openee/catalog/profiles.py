"""Product profiles: how a product's files and metadata map to Earth Engine's names.

A STAC `Profile` says which STAC asset becomes which Earth Engine band, and which STAC property
becomes which Earth Engine property; unmapped STAC properties are kept under their own names.
A `Layout` recognizes products among files on disk (Landsat, Sentinel-2 granules, band stacks)
by their names. `docs/decisions/0005-catalog-stores-ingest-tables.md` lists the band names chosen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from openee.catalog.landsat_mtl import mtl_time, read_mtl
from openee.errors import InvalidArgumentError
from openee.raster.gdal import open_checked
from openee.values.date import Date

PropertyRule = Callable[[dict[str, Any]], object]


@dataclass(frozen=True)
class Profile:
    name: str
    bands: dict[str, str]  # STAC asset key -> Earth Engine band name, in band order
    properties: dict[str, PropertyRule] = field(default_factory=dict)

    def map_properties(self, stac: dict[str, Any]) -> dict[str, object]:
        mapped: dict[str, object] = {}
        for ee_name, rule in self.properties.items():
            try:
                value = rule(stac)
            except (KeyError, TypeError, ValueError):
                continue
            if value is not None:
                mapped[ee_name] = value
        for key, value in stac.items():
            if key not in mapped and isinstance(value, str | int | float | bool):
                mapped.setdefault(key, value)
        return mapped


def _key(name: str) -> PropertyRule:
    return lambda p: p[name]


def _mgrs(p: dict[str, Any]) -> str:
    return f"{p['mgrs:utm_zone']}{p['mgrs:latitude_band']}{p['mgrs:grid_square']}"


def _spacecraft(p: dict[str, Any]) -> str:
    return (
        str(p["platform"]).replace("sentinel", "Sentinel").upper().replace("SENTINEL", "Sentinel")
    )


def _product_id(p: dict[str, Any]) -> str:
    return str(p["s2:product_uri"]).removesuffix(".SAFE")


def _orbit(p: dict[str, Any]) -> int | None:
    match = re.search(r"_R(\d{3})_", str(p["s2:product_uri"]))
    return int(match.group(1)) if match else None


def _millis(name: str) -> PropertyRule:
    return lambda p: Date.parse(p[name]).millis


_S2_PERCENTAGES = {
    "CLOUD_SHADOW_PERCENTAGE": "s2:cloud_shadow_percentage",
    "DARK_FEATURES_PERCENTAGE": "s2:dark_features_percentage",
    "DEGRADED_MSI_DATA_PERCENTAGE": "s2:degraded_msi_data_percentage",
    "HIGH_PROBA_CLOUDS_PERCENTAGE": "s2:high_proba_clouds_percentage",
    "MEDIUM_PROBA_CLOUDS_PERCENTAGE": "s2:medium_proba_clouds_percentage",
    "NODATA_PIXEL_PERCENTAGE": "s2:nodata_pixel_percentage",
    "NOT_VEGETATED_PERCENTAGE": "s2:not_vegetated_percentage",
    "SATURATED_DEFECTIVE_PIXEL_PERCENTAGE": "s2:saturated_defective_pixel_percentage",
    "SNOW_ICE_PERCENTAGE": "s2:snow_ice_percentage",
    "THIN_CIRRUS_PERCENTAGE": "s2:thin_cirrus_percentage",
    "UNCLASSIFIED_PERCENTAGE": "s2:unclassified_percentage",
    "VEGETATION_PERCENTAGE": "s2:vegetation_percentage",
    "WATER_PERCENTAGE": "s2:water_percentage",
}

SENTINEL2_L2A = Profile(
    name="sentinel-2-l2a",
    bands={"blue": "B2", "green": "B3", "red": "B4", "nir": "B8", "scl": "SCL"},
    properties={
        "CLOUDY_PIXEL_PERCENTAGE": _key("eo:cloud_cover"),
        "CLOUD_COVERAGE_ASSESSMENT": _key("eo:cloud_cover"),
        "MGRS_TILE": _mgrs,
        "SPACECRAFT_NAME": _spacecraft,
        "PRODUCT_ID": _product_id,
        "SENSING_ORBIT_NUMBER": _orbit,
        "PROCESSING_BASELINE": _key("s2:processing_baseline"),
        "DATATAKE_IDENTIFIER": _key("s2:datatake_id"),
        "DATATAKE_TYPE": _key("s2:datatake_type"),
        "DATASTRIP_ID": _key("s2:datastrip_id"),
        "GRANULE_ID": _key("s2:granule_id"),
        "GENERATION_TIME": _millis("s2:generation_time"),
        "MEAN_SOLAR_AZIMUTH_ANGLE": _key("view:sun_azimuth"),
        "MEAN_SOLAR_ZENITH_ANGLE": lambda p: 90.0 - float(p["view:sun_elevation"]),
        "REFLECTANCE_CONVERSION_CORRECTION": _key("s2:reflectance_conversion_factor"),
        **{ee: _key(stac) for ee, stac in _S2_PERCENTAGES.items()},
    },
)


# -- product layouts of files on disk ---------------------------------------------------------
#
# A layout claims the files of the products it recognizes and says what each scene is: its
# Earth Engine `system:index`, time, bands (file and band index) and properties. The ingest
# engine (`ingest.py`) turns scenes into records; layouts only parse names and metadata files.


@dataclass(frozen=True)
class BandSource:
    """One Earth Engine band: band `index` (1-based) of the raster file at `path`."""

    name: str
    path: Path
    index: int = 1


@dataclass(frozen=True)
class Scene:
    """One image to be: its index, time (ms since the epoch), bands and properties."""

    index: str
    time_start: int | None
    bands: tuple[BandSource, ...]
    properties: dict[str, object] = field(default_factory=dict)
    footprint: dict[str, Any] | None = (
        None  # GeoJSON in EPSG:4326; computed from the bands when None
    )


class Layout(Protocol):
    @property
    def name(self) -> str: ...

    def claim(self, files: Sequence[Path]) -> tuple[list[Scene], list[Path]]:
        """Scenes made of some of `files`, and the files left unclaimed."""
        ...


RASTER_SUFFIXES = (".tif", ".tiff", ".jp2")


def _is_raster(path: Path) -> bool:
    return path.suffix.lower() in RASTER_SUFFIXES


def _day_of_year(year: str, doy: str) -> int:
    start = datetime(int(year), 1, 1, tzinfo=UTC) + timedelta(days=int(doy) - 1)
    return round(start.timestamp() * 1000)


# Landsat scene ids before Collection 1 product ids: L[sensor][mission]PPPRRRYYYYDDDGSIVV.
_LANDSAT_SCENE = re.compile(
    r"^(?P<id>L(?P<sensor>[CTEMO])(?P<mission>[4578])(?P<path>\d{3})(?P<row>\d{3})"
    r"(?P<year>\d{4})(?P<doy>\d{3})(?P<station>[A-Z]{3})(?P<version>\d{2}))_(?P<suffix>\w+)$"
)
_LANDSAT_SENSORS = {"T": "TM", "E": "ETM", "M": "MSS", "C": "OLI_TIRS", "O": "OLI"}


def _landsat_band(suffix: str) -> str:
    """File band suffixes to band names: b3/B3 -> B3, bqa -> BQA; others (fmask) keep theirs."""
    match = re.fullmatch(r"[bB](\d+)", suffix)
    if match:
        return f"B{int(match.group(1))}"
    return "BQA" if suffix.lower() == "bqa" else suffix


def band_order(name: str) -> tuple[int, str]:
    """Sort key of band names in natural order: B2 < B8 < B8A < B10, others after, by name."""
    match = re.search(r"B(\d+)(A?)$", name)
    if match:
        return (int(match.group(1)) * 2 + (1 if match.group(2) else 0), name)
    return (1000, name)


def _group(
    files: Sequence[Path], pattern: re.Pattern[str]
) -> tuple[dict[str, list[Path]], list[Path]]:
    groups: dict[str, list[Path]] = {}
    rest: list[Path] = []
    for path in files:
        match = pattern.match(path.stem)
        if match:
            groups.setdefault(match.group("id"), []).append(path)
        else:
            rest.append(path)
    return groups, rest


@dataclass(frozen=True)
class LandsatSceneLayout:
    """Landsat scenes named by scene id: `LT50350322008110PAC01_b3.tif`, `..._fmask.tif`,
    `LT52240631988227CUB02_B1.TIF` + `_MTL.txt` (the L5/L7 surface-reflectance series, L1T).

    Band names: `b3`/`B3` -> `B3` (Earth Engine's Collection 1 names), `BQA`, and other suffixes
    as they are (`fmask`). Time: MTL's DATE_ACQUIRED + SCENE_CENTER_TIME if there is an MTL,
    else the id's year and day of year at 00:00 UTC.
    """

    name: str = "landsat-scene"

    def claim(self, files: Sequence[Path]) -> tuple[list[Scene], list[Path]]:
        groups, rest = _group(files, _LANDSAT_SCENE)
        scenes = []
        for scene_id, paths in sorted(groups.items()):
            head = _LANDSAT_SCENE.match(paths[0].stem)
            assert head is not None
            props: dict[str, object] = {
                "LANDSAT_SCENE_ID": scene_id,
                "SPACECRAFT_ID": f"LANDSAT_{head['mission']}",
                "SENSOR_ID": _LANDSAT_SENSORS[head["sensor"]],
                "WRS_PATH": int(head["path"]),
                "WRS_ROW": int(head["row"]),
                "STATION_ID": head["station"],
            }
            time = _day_of_year(head["year"], head["doy"])
            bands = []
            for path in paths:
                match = _LANDSAT_SCENE.match(path.stem)
                assert match is not None
                if match["suffix"].upper() == "MTL" and path.suffix.lower() in (".txt", ".json"):
                    mtl = read_mtl(path)
                    props.update(mtl)
                    time = mtl_time(mtl) or time
                elif _is_raster(path):
                    bands.append(BandSource(_landsat_band(match["suffix"]), path))
            if bands:
                bands.sort(key=lambda b: band_order(b.name))
                scenes.append(Scene(scene_id, time, tuple(bands), props))
        return scenes, rest


# Collection 1/2 product ids: LXSS_LLLL_PPPRRR_YYYYMMDD_yyyymmdd_CC_TX.
_PRODUCT_ID = (
    r"(?P<id>(?P<short>L(?P<sensor>[CTEMO])(?P<mission>0[4-9])_(?P<level>L\w{3})_(?P<path>\d{3})"
    r"(?P<row>\d{3})_(?P<date>\d{8}))_\d{8}_(?P<coll>\d{2})_(?P<tier>T1|T2|RT))"
)
_LANDSAT_PRODUCT = re.compile(rf"^{_PRODUCT_ID}_(?P<suffix>\w+)$")
_LANDSAT_PRODUCT_FOLDER = re.compile(rf"^{_PRODUCT_ID}$")
# Renamed files: the product id without its processing date, collection and tier.
_LANDSAT_SHORT = re.compile(r"^(?P<short>L[CTEMO]0[4-9]_L\w{3}_\d{6}_\d{8})_(?P<suffix>\w+)$")


def _product_file(path: Path) -> tuple[str, str] | None:
    """(product id, file suffix) of a Landsat product file: by its name, or, for a short
    name (`LC08_L1TP_013032_20180131_B4.TIF`), by its folder named with the full product id."""
    match = _LANDSAT_PRODUCT.match(path.stem)
    if match:
        return match["id"], match["suffix"]
    folder = _LANDSAT_PRODUCT_FOLDER.match(path.parent.name)
    short = _LANDSAT_SHORT.match(path.stem)
    if folder and short and short["short"] == folder["short"]:
        return folder["id"], short["suffix"]
    return None


# Earth Engine's band order in the Collection 2 Landsat collections: Level-1 (B1..B11 or
# B6_VCID_1/2, BQA, QA_PIXEL, QA_RADSAT, angles) and Level-2 (SR_B1.., ST_B6 or ST_B10, ...,
# QA_PIXEL, QA_RADSAT); unknown bands go last.
_C2_ORDER = [
    *(f"B{i}" for i in range(1, 7)),
    "B6_VCID_1",
    "B6_VCID_2",
    *(f"B{i}" for i in range(7, 12)),
    "BQA",
    *(f"SR_B{i}" for i in range(1, 8)),
    "SR_QA_AEROSOL",
    "SR_ATMOS_OPACITY",
    "SR_CLOUD_QA",
    "ST_B6",
    "ST_B10",
    "ST_ATRAN",
    "ST_CDIST",
    "ST_DRAD",
    "ST_EMIS",
    "ST_EMSD",
    "ST_QA",
    "ST_TRAD",
    "ST_URAD",
    "QA_PIXEL",
    "QA_RADSAT",
    "SAA",
    "SZA",
    "VAA",
    "VZA",
]


def _c2_order(name: str) -> tuple[int, int, str]:
    if name in _C2_ORDER:
        return (0, _C2_ORDER.index(name), name)
    order, _ = band_order(name)
    return (1, order, name)


@dataclass(frozen=True)
class LandsatProductLayout:
    """Landsat Collection 1/2 products: `LC08_L2SP_001062_20201031_20201106_02_T2_SR_B1.TIF`,
    `..._QA_PIXEL.TIF`, `..._MTL.json` / `_MTL.txt`.

    Band names are the file suffixes, which are Earth Engine's names for Collection 2 (SR_B1..SR_B7,
    ST_B10, QA_PIXEL, QA_RADSAT, ...) and Level-1 (B1..B11, BQA). system:index is the product id;
    properties come from the MTL (the JSON one when both exist; `landsat_mtl.read_mtl`). Files
    renamed to a short name (`LC08_L1TP_013032_20180131_B4.TIF`, `..._MTL.txt`) belong to the
    product their folder is named after (`LC08_L1TP_013032_20180131_20180207_01_T1/`).
    """

    name: str = "landsat-product"

    def claim(self, files: Sequence[Path]) -> tuple[list[Scene], list[Path]]:
        groups: dict[str, list[tuple[Path, str]]] = {}
        rest: list[Path] = []
        for path in files:
            found = _product_file(path)
            if found:
                groups.setdefault(found[0], []).append((path, found[1].upper()))
            else:
                rest.append(path)
        scenes = []
        for product_id, members in sorted(groups.items()):
            head = _LANDSAT_PRODUCT_FOLDER.match(product_id)
            assert head is not None
            props: dict[str, object] = {
                "LANDSAT_PRODUCT_ID": product_id,
                "SPACECRAFT_ID": f"LANDSAT_{int(head['mission'])}",
                "WRS_PATH": int(head["path"]),
                "WRS_ROW": int(head["row"]),
                "COLLECTION_NUMBER": int(head["coll"]),
                "COLLECTION_CATEGORY": head["tier"],
            }
            time = Date.parse(f"{head['date'][:4]}-{head['date'][4:6]}-{head['date'][6:]}").millis
            mtls = sorted(
                (p for p, suffix in members if suffix == "MTL" and p.suffix.lower() != ".xml"),
                key=lambda p: p.suffix.lower() != ".json",
            )
            if mtls:
                mtl = read_mtl(mtls[0])
                props.update(mtl)
                time = mtl_time(mtl) or time
            bands = [BandSource(suffix, path) for path, suffix in members if _is_raster(path)]
            if bands:
                bands.sort(key=lambda b: _c2_order(b.name))
                scenes.append(Scene(product_id, time, tuple(bands), props))
        return scenes, rest


# Sentinel-2 granule band files: T33UUU_20170216T102101_B01.jp2 (L1C), ..._B02_10m.jp2 (L2A).
_S2_BAND_FILE = re.compile(
    r"^(?P<id>(?P<tile>T\d{2}[A-Z]{3})_(?P<time>\d{8}T\d{6}))_(?P<band>B\d{2}|B8A|SCL|AOT|WVP)"
    r"(?:_(?P<res>\d{2})m)?$"
)


@dataclass(frozen=True)
class Sentinel2GranuleLayout:
    """Sentinel-2 granule band files (`IMG_DATA/T33UUU_20170216T102101_B01.jp2`): all bands of a
    tile and sensing time make one image, each band on its own 10, 20 or 60 m grid.

    Band names as in Earth Engine's COPERNICUS/S2: B01 -> B1, ..., B8A, ..., B12. When a band
    comes at several resolutions (L2A `_10m/_20m/_60m`), the finest is kept.
    """

    name: str = "sentinel-2-granule"

    def claim(self, files: Sequence[Path]) -> tuple[list[Scene], list[Path]]:
        groups: dict[str, dict[str, tuple[int, Path]]] = {}
        rest: list[Path] = []
        for path in files:
            match = _S2_BAND_FILE.match(path.stem)
            if not match or not _is_raster(path):
                rest.append(path)
                continue
            band = match["band"]
            name = f"B{int(band[1:])}" if band[1:].isdigit() else band
            res = int(match["res"] or 0)
            bands = groups.setdefault(match["id"], {})
            if name not in bands or res < bands[name][0]:
                bands[name] = (res, path)
        scenes = []
        for scene_id, bands in sorted(groups.items()):
            tile, stamp = scene_id.split("_")
            iso = (
                f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:]}Z"
            )
            sources = sorted(
                (BandSource(name, path) for name, (_, path) in bands.items()),
                key=lambda b: band_order(b.name),
            )
            props: dict[str, object] = {"MGRS_TILE": tile[1:], "SENSING_TIME": iso}
            scenes.append(Scene(f"{stamp}_{tile}", Date.parse(iso).millis, tuple(sources), props))
        return scenes, rest


THEIA_L3A_BANDS = ("B2", "B3", "B4", "B8", "B5", "B6", "B7", "B8A", "B11", "B12")


@dataclass(frozen=True)
class BandStackLayout:
    """One multi-band file holding several dates, date-major: band (1-based) = n·d + k + 1 for
    date d and band k of `bands`. Each date becomes one image with bands in Earth Engine order.

    The file has no dates in it, so they are given (`openee ingest --dates`). `theia_l3a()` is the
    Theia Level-3A stack (10 bands x 7 dates, e.g. `2018_3A_Theia_Bouconne.tif`).
    """

    name: str
    pattern: re.Pattern[str]
    bands: tuple[str, ...]
    dates: tuple[str, ...] = ()

    def claim(self, files: Sequence[Path]) -> tuple[list[Scene], list[Path]]:
        scenes: list[Scene] = []
        rest: list[Path] = []
        for path in files:
            if not (_is_raster(path) and self.pattern.search(path.name)):
                rest.append(path)
                continue
            with open_checked(path) as src:
                count = src.count
            expected = len(self.bands) * len(self.dates)
            if not self.dates or count != expected:
                raise InvalidArgumentError(
                    f"{path.name}: a {self.name} stack of {count} bands needs"
                    f" {count // len(self.bands)} dates (--dates), got {len(self.dates)}."
                )
            for d, date in enumerate(self.dates):
                when = Date.parse(date)
                sources = [
                    BandSource(name, path, len(self.bands) * d + k + 1)
                    for k, name in enumerate(self.bands)
                ]
                sources.sort(key=lambda b: band_order(b.name))
                index = when.iso()[:10].replace("-", "")
                scenes.append(
                    Scene(
                        f"{index}_{path.stem}", when.millis, tuple(sources), {"SOURCE": path.name}
                    )
                )
        return scenes, rest


def theia_l3a(dates: Sequence[str] = ()) -> BandStackLayout:
    return BandStackLayout(
        name="theia-l3a-stack",
        pattern=re.compile(r"3A.*Theia|Theia.*L3A|SENTINEL2X.*L3A", re.IGNORECASE),
        bands=THEIA_L3A_BANDS,
        dates=tuple(dates),
    )


@dataclass(frozen=True)
class SingleFileLayout:
    """Any other raster file: one image per file, bands b1..bN as Earth Engine names uploads."""

    name: str = "file"

    def claim(self, files: Sequence[Path]) -> tuple[list[Scene], list[Path]]:
        scenes, rest = [], []
        for path in files:
            if not _is_raster(path):
                rest.append(path)
                continue
            with open_checked(path) as src:
                count = src.count
            index = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
            bands = tuple(BandSource(f"b{i}", path, i) for i in range(1, count + 1))
            scenes.append(Scene(index, None, bands, {}))
        return scenes, rest


def product_layouts(dates: Sequence[str] = ()) -> list[Layout]:
    """The product layouts recognized out of the box, most specific first. Raster files none of
    them claims are images of their own (`SingleFileLayout`)."""
    return [
        LandsatProductLayout(),
        LandsatSceneLayout(),
        Sentinel2GranuleLayout(),
        theia_l3a(dates),
    ]
