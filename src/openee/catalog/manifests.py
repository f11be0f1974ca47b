"""Earth Engine manifests as catalog records: `image:import` (ImageManifest), `table:import`
(TableManifest) and COG-backed images made by `assets.create`.

Each request is handled in two steps. `plan_*` validates the manifest and confines every URI to
the roots (`roots.Roots.check`, which opens nothing); a violation is an InvalidArgumentError
(HTTP 400) before anything else happens. `build_*` then reads the files: rasters only through the
GeoTIFF and JPEG2000 drivers (so a file that is really a VRT cannot point GDAL elsewhere),
vectors only when they do not look like XML (an OGR VRT). Files a driver may read beside the
primary one (`x.tif.aux.xml`, `x.tif.ovr`, `x.dbf`, ...) are checked against the roots too.

Supported: tilesets of one source, or of several that openee mosaics into one COG when the
import runs (`mosaics.py`; `inspect_mosaics` reads their headers before the operation starts, so
sources that cannot be merged are a 400); bands chosen with `tilesetId` and `tilesetBandIndex`
(or `b1..bN` for every band of every tileset, as Earth Engine names them); `maskBands` (the last
band of a tileset masks the bands named, or all; a tileset used only as a mask gives no bands of
its own); `missingData.values[0]` as nodata; `startTime`, `endTime`, `properties`; `uriPrefix`
(put before every URI of the manifest; the result is what the roots check).
Tables: one vector file (GeoJSON, GeoPackage, Shapefile, GeoParquet, FlatGeobuf), a zip holding
one Shapefile, or a CSV file (`xColumn`/`yColumn`, `primaryGeometryColumn`, `crs`,
`csvDelimiter`, `dateFormat`; see `table_files.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openee.catalog.access import FileAccess
from openee.catalog.ingest import RasterInfo, raster_info, wgs84_footprint
from openee.catalog.model import IMAGE, TABLE, AssetRecord, BandMask, BandRecord, FeatureRecord
from openee.catalog.mosaics import (
    MAX_SOURCES,
    RASTER_DRIVERS,
    Box,
    MosaicGrid,
    MosaicWriter,
    check_fill,
    inspect_sources,
    open_raster,
    same_value,
)
from openee.catalog.roots import Roots
from openee.catalog.table_files import (
    CsvOptions,
    check_date_format,
    read_csv_features,
    read_zipped_shapefile,
)
from openee.catalog.vectors import VECTOR_SUFFIXES, read_features
from openee.errors import InvalidArgumentError
from openee.raster.remote import gdal_path, is_remote, stored_uri
from openee.values.date import Date

TABLE_SUFFIXES = (*VECTOR_SUFFIXES, ".json", ".csv", ".zip")
# TableManifest source options that only a CSV file takes.
_CSV_OPTIONS = ("xColumn", "yColumn", "primaryGeometryColumn", "crs", "csvDelimiter", "dateFormat")
MAX_TILESETS = 100
MAX_BANDS = 1024


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"'{what}' must be an object.")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidArgumentError(f"'{what}' must be a list.")
    return value


def parse_time(value: Any, what: str) -> int | None:
    """A Timestamp as JSON carries it (RFC 3339), or `{seconds, nanos}`, or milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        try:
            seconds = int(value.get("seconds", 0))
            nanos = int(value.get("nanos", 0))
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"'{what}' is not a valid timestamp.") from None
        return seconds * 1000 + nanos // 1_000_000
    try:
        return Date.parse(value).millis
    except InvalidArgumentError:
        raise InvalidArgumentError(f"'{what}' is not a valid timestamp: {value!r}.") from None


def _properties(value: Any) -> dict[str, Any]:
    props = _dict(value, "properties")
    for key in props:
        if not isinstance(key, str) or not key or key.startswith("system:"):
            raise InvalidArgumentError(f"Property name '{key}' is not allowed.")
    return dict(props)


def _nodata(value: Any, what: str) -> float | None:
    values = _list(_dict(value, what).get("values"), f"{what}.values")
    if not values:
        return None
    if len(values) > 1:
        raise InvalidArgumentError(f"'{what}': only one missing-data value is supported.")
    if not isinstance(values[0], int | float) or isinstance(values[0], bool):
        raise InvalidArgumentError(f"'{what}.values' must hold a number.")
    return float(values[0])


def _check_siblings(roots: Roots, path: Path) -> None:
    """Files a driver may open beside `path` (`x.tif.aux.xml`, `x.tif.ovr`, `x.ovr`, `x.dbf`,
    `x.prj`: any name starting with the stem and a dot) must be inside the roots too, so that no
    symlinked sidecar leads out."""
    stem = path.stem
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        if entry.name != path.name and entry.name.startswith(f"{stem}."):
            roots.check(str(path.parent / entry.name))


def _uri_prefix(manifest: dict[str, Any]) -> str:
    """A manifest's `uriPrefix`, put before every URI it names (the result is confined)."""
    prefix = manifest.get("uriPrefix") or ""
    if not isinstance(prefix, str):
        raise InvalidArgumentError("'uriPrefix' must be a string.")
    return prefix


def _confine(
    roots: Roots,
    uris: list[Any],
    what: str,
    suffixes: tuple[str, ...],
    prefix: str = "",
    access: FileAccess | None = None,
    remote: bool = False,
) -> Path:
    """The primary file of a source: every URI (after `prefix`) checked (and, with `access`,
    readable by the caller: `catalog/access.py`), the first with a known suffix kept.

    With `remote`, allow-listed `s3://` and `gs://` URIs are taken too, as the path GDAL opens
    them by (`/vsis3/bucket/key`, `/vsigs/...`; `stored_uri` gives the catalog's form back)."""
    if not uris:
        raise InvalidArgumentError(f"'{what}.uris' must name at least one file.")
    checked = []
    for uri in uris:
        if not isinstance(uri, str):
            raise InvalidArgumentError(f"'{what}.uris' must be strings.")
        checked.append(access.check(prefix + uri) if access else roots.check(prefix + uri))
    for path in checked:
        if "://" in path and not (remote and is_remote(path)):
            raise InvalidArgumentError(
                f"'{path[:200]}': only local files and allow-listed s3:// or gs:// COGs can be"
                " imported"
                " (other URLs can be read, not imported)."
            )
    checked = [gdal_path(path) for path in checked]
    for path in checked:
        if not is_remote(path):
            _check_siblings(roots, Path(path))
    primary = next((Path(p) for p in checked if Path(p).suffix.lower() in suffixes), None)
    if primary is None:
        raise InvalidArgumentError(
            f"'{what}.uris' has no file of a supported type ({', '.join(suffixes)})."
        )
    return primary


# -- images ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BandSpec:
    id: str
    tileset: str
    index: int  # tilesetBandIndex, 0-based
    nodata: float | None


@dataclass(frozen=True)
class ImagePlan:
    name: str
    tilesets: dict[str, tuple[Path, ...]]  # the primary file of each source
    bands: tuple[BandSpec, ...] | None  # None: every band of every tileset, named b1..bN
    nodata: float | None
    properties: dict[str, Any]
    start: int | None
    end: int | None
    # maskBands: (tileset id, ids of the bands it masks; empty: every band)
    masks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Tilesets of several sources, once `inspect_mosaics` has read their headers.
    mosaics: dict[str, MosaicGrid] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [path for paths in self.tilesets.values() for path in paths]


def _mask_bands(
    value: Any, tilesets: dict[str, tuple[Path, ...]]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """An ImageManifest's `maskBands`: each names a tileset (whose last band is the mask, 0
    masking a pixel) and the bands it applies to (all when `bandIds` is empty)."""
    out = []
    for i, raw in enumerate(_list(value, "maskBands")):
        mask = _dict(raw, f"maskBands[{i}]")
        tid = mask.get("tilesetId", "") or ""
        if tid not in tilesets:
            raise InvalidArgumentError(f"'maskBands[{i}]' names no tileset of the manifest.")
        band_ids = _list(mask.get("bandIds"), f"maskBands[{i}].bandIds")
        if not all(isinstance(b, str) and b for b in band_ids):
            raise InvalidArgumentError(f"'maskBands[{i}].bandIds' must be band ids.")
        out.append((tid, tuple(band_ids)))
    return tuple(out)


def plan_image(
    name: str, manifest: dict[str, Any], roots: Roots, access: FileAccess | None = None
) -> ImagePlan:
    """Validate an ImageManifest for the image `name`; confine its files (and with `access`,
    refuse those the caller may not read, as missing ones). Opens nothing."""
    tilesets: dict[str, tuple[Path, ...]] = {}
    prefix = _uri_prefix(manifest)
    raw_tilesets = _list(manifest.get("tilesets"), "tilesets")
    if not raw_tilesets:
        raise InvalidArgumentError("The manifest needs 'tilesets' with at least one source.")
    if len(raw_tilesets) > MAX_TILESETS:
        raise InvalidArgumentError(f"At most {MAX_TILESETS} tilesets are supported.")
    for i, raw in enumerate(raw_tilesets):
        tileset = _dict(raw, f"tilesets[{i}]")
        tid = tileset.get("id", "") or ""
        if not isinstance(tid, str):
            raise InvalidArgumentError(f"'tilesets[{i}].id' must be a string.")
        if tid in tilesets:
            raise InvalidArgumentError(f"Two tilesets have the id '{tid}'.")
        sources = _list(tileset.get("sources"), f"tilesets[{i}].sources")
        if not sources:
            raise InvalidArgumentError(f"'tilesets[{i}]' needs at least one source.")
        if len(sources) > MAX_SOURCES:
            raise InvalidArgumentError(f"'tilesets[{i}]': at most {MAX_SOURCES} sources.")
        paths = []
        for j, raw_source in enumerate(sources):
            source = _dict(raw_source, f"tilesets[{i}].sources[{j}]")
            paths.append(
                _confine(
                    roots,
                    _list(source.get("uris"), f"tilesets[{i}].sources[{j}].uris"),
                    f"tilesets[{i}].sources[{j}]",
                    tuple(RASTER_DRIVERS),
                    prefix,
                    access,
                    remote=True,
                )
            )
        if len(paths) > 1 and any(is_remote(str(p)) for p in paths):
            raise InvalidArgumentError(
                f"'tilesets[{i}]': a tileset of several sources must be local files (a file in"
                " object storage is imported as a tileset of its own)."
            )
        if len(set(paths)) != len(paths):
            raise InvalidArgumentError(f"'tilesets[{i}]' names the same file twice.")
        tilesets[tid] = tuple(paths)
    masks = _mask_bands(manifest.get("maskBands"), tilesets)
    bands: tuple[BandSpec, ...] | None = None
    raw_bands = _list(manifest.get("bands"), "bands")
    if len(raw_bands) > MAX_BANDS:
        raise InvalidArgumentError(f"At most {MAX_BANDS} bands are supported.")
    if raw_bands:
        specs, seen, counters = [], set(), dict.fromkeys(tilesets, 0)
        for i, raw in enumerate(raw_bands):
            band = _dict(raw, f"bands[{i}]")
            bid = band.get("id")
            if not isinstance(bid, str) or not bid:
                raise InvalidArgumentError(f"'bands[{i}].id' must be a non-empty string.")
            if bid in seen:
                raise InvalidArgumentError(f"Two bands have the id '{bid}'.")
            seen.add(bid)
            tid = band.get("tilesetId", "") or ""
            if tid not in tilesets:
                if tid == "" and len(tilesets) == 1:
                    tid = next(iter(tilesets))
                else:
                    raise InvalidArgumentError(f"'bands[{i}]' names no tileset of the manifest.")
            index = band.get("tilesetBandIndex", counters[tid])
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise InvalidArgumentError(f"'bands[{i}].tilesetBandIndex' must be an index >= 0.")
            counters[tid] = index + 1
            specs.append(
                BandSpec(
                    bid, tid, index, _nodata(band.get("missingData"), f"bands[{i}].missingData")
                )
            )
        bands = tuple(specs)
    start = parse_time(manifest.get("startTime"), "startTime")
    end = parse_time(manifest.get("endTime"), "endTime")
    if start is not None and end is not None and end < start:
        raise InvalidArgumentError("'endTime' is before 'startTime'.")
    if bands is not None:
        ids = {b.id for b in bands}
        for tid, band_ids in masks:
            unknown = [b for b in band_ids if b not in ids]
            if unknown:
                raise InvalidArgumentError(
                    f"'maskBands' (tileset '{tid}') names bands the image does not have:"
                    f" {', '.join(unknown)}."
                )
    return ImagePlan(
        name=name,
        tilesets=tilesets,
        bands=bands,
        masks=masks,
        nodata=_nodata(manifest.get("missingData"), "missingData"),
        properties=_properties(manifest.get("properties")),
        start=start,
        end=end,
    )


def _tileset_label(plan: ImagePlan, tid: str) -> str:
    return f"tilesets[{list(plan.tilesets).index(tid)}]"


def _mask_only(plan: ImagePlan, tid: str) -> bool:
    """Whether the tileset serves only as a mask band (maskBands) and gives no bands."""
    if tid not in {t for t, _ in plan.masks}:
        return False
    return plan.bands is None or all(s.tileset != tid for s in plan.bands)


def _tileset_nodata(plan: ImagePlan, tid: str, file_nodata: float | None) -> float | None:
    """The missing-data value of a mosaicked tileset's bands (band `missingData`, else the
    image's, else the files'): the value its gaps are filled with. Its bands must agree."""
    if plan.bands is None:
        wanted = [plan.nodata]
    else:
        wanted = [s.nodata if s.nodata is not None else plan.nodata
                  for s in plan.bands if s.tileset == tid]  # fmt: skip
    values = [file_nodata if v is None else v for v in wanted] or [file_nodata]
    if any(not same_value(v, values[0]) for v in values):
        raise InvalidArgumentError(
            f"'{_tileset_label(plan, tid)}': the bands of a tileset of several sources must"
            " share one missing-data value."
        )
    return values[0]


def inspect_mosaics(plan: ImagePlan) -> ImagePlan:
    """Read the headers of tilesets of several sources and check they can be mosaicked
    (InvalidArgumentError otherwise). Reads no pixels."""
    grids = dict(plan.mosaics)
    for tid, paths in plan.tilesets.items():
        if len(paths) > 1 and tid not in grids:
            label = _tileset_label(plan, tid)
            mask_only = _mask_only(plan, tid)
            # The files' nodata matters unless the manifest gives the value (or it is a mask).
            given = mask_only or _tileset_nodata(plan, tid, None) is not None
            grid = inspect_sources(label, paths, own_nodata=not given)
            if not mask_only:
                check_fill(label, grid, _tileset_nodata(plan, tid, grid.nodata))
            grids[tid] = grid
    return replace(plan, mosaics=grids)


def _tileset_files(
    plan: ImagePlan, mosaics: MosaicWriter | None
) -> tuple[ImagePlan, dict[str, Path]]:
    """The file of each tileset: its one source, or the mosaic of its sources (written now);
    and the plan with its mosaics inspected."""
    if any(len(paths) > 1 for paths in plan.tilesets.values()):
        if mosaics is None:
            raise InvalidArgumentError(
                "A tileset of several sources is mosaicked by image:import only; an asset"
                " created directly names one file per tileset."
            )
        plan = inspect_mosaics(plan)
    files = {}
    for i, (tid, paths) in enumerate(plan.tilesets.items()):
        if len(paths) == 1:
            files[tid] = paths[0]
            continue
        assert mosaics is not None
        grid = plan.mosaics[tid]
        mask_only = _mask_only(plan, tid)
        nodata = None if mask_only else _tileset_nodata(plan, tid, grid.nodata)
        files[tid] = mosaics.write(paths, mosaics.target(plan.name, i), nodata, mask_only)
    return plan, files


def build_image(plan: ImagePlan, mosaics: MosaicWriter | None = None) -> AssetRecord:
    """Read the planned files and make the IMAGE record. Tilesets of several sources are
    merged into COGs by `mosaics` (see `mosaics.py`)."""
    plan, files = _tileset_files(plan, mosaics)
    rasters = {tid: raster_info(path, open_raster) for tid, path in files.items()}
    specs = plan.bands
    if specs is None:
        # Every band of every tileset that is not only a mask.
        mask_only = {tid for tid, _ in plan.masks}
        specs = tuple(
            BandSpec(f"b{n}", tid, index, None)
            for n, (tid, index) in enumerate(
                (
                    (tid, i)
                    for tid, r in rasters.items()
                    if tid not in mask_only
                    for i in range(len(r.dtypes))
                ),
                start=1,
            )
        )
    band_masks: dict[str, BandMask] = {}
    for tid, band_ids in plan.masks:
        raster = rasters[tid]
        mask = BandMask(stored_uri(str(files[tid])), len(raster.dtypes), raster.dtypes[-1])
        for band_id in band_ids or [s.id for s in specs]:
            if band_id in band_masks:
                raise InvalidArgumentError(f"Band '{band_id}' is masked by two maskBands.")
            band_masks[band_id] = mask
    bands = []
    for spec in specs:
        raster = rasters[spec.tileset]
        if spec.index >= len(raster.dtypes):
            raise InvalidArgumentError(
                f"Band '{spec.id}': {files[spec.tileset].name} has no band index"
                f" {spec.index} (it has {len(raster.dtypes)} bands)."
            )
        nodata = spec.nodata if spec.nodata is not None else plan.nodata
        bands.append(
            BandRecord(
                id=spec.id,
                path=stored_uri(str(files[spec.tileset])),
                index=spec.index + 1,
                dtype=raster.dtypes[spec.index],
                crs=raster.crs,
                transform=raster.transform,
                width=raster.width,
                height=raster.height,
                nodata=nodata if nodata is not None else raster.nodata,
                mask=band_masks.get(spec.id),
            )
        )
    if not bands:
        raise InvalidArgumentError("The image has no bands.")
    first = bands[0]
    # The footprint: the union of the sources (a mosaic's gaps are not in it).
    boxes = [
        box
        for s, b in zip(specs, bands, strict=True)
        if b.crs == first.crs
        for box in _source_boxes(plan, s.tileset, rasters[s.tileset])
    ]
    footprint = wgs84_footprint(first.crs, boxes)
    index = plan.name.rsplit("/", 1)[1]
    props: dict[str, Any] = dict(plan.properties)
    if plan.start is not None:
        props["system:time_start"] = plan.start
    if plan.end is not None:
        props["system:time_end"] = plan.end
    props["system:index"] = index
    props["system:footprint"] = footprint
    return AssetRecord(
        name=plan.name,
        type=IMAGE,
        properties=props,
        start_time=plan.start,
        end_time=plan.end,
        footprint=footprint,
        bands=tuple(bands),
        # The parts of a mosaic stay the image's files (access checks, `catalog/access.py`).
        sources=tuple(
            stored_uri(str(p)) for p in plan.files if stored_uri(str(p)) not in _paths(bands)
        ),
    )


def _paths(bands: list[BandRecord]) -> set[str]:
    return {p for b in bands for p in (b.path, b.mask.path if b.mask else None) if p}


def _source_boxes(plan: ImagePlan, tid: str, raster: RasterInfo) -> list[Box]:
    grid = plan.mosaics.get(tid)
    return [raster.bounds] if grid is None else list(grid.boxes)


def image_manifest_of_asset(asset: dict[str, Any]) -> dict[str, Any]:
    """The ImageManifest of an `assets.create` body for a COG-backed IMAGE: the file is in
    `cloudStorageLocation.uris` (the client renames `gcs_location`; both spellings and
    `gcsLocation` are taken), or in `tilesets[].sources[].uris` as in a manifest."""
    location = None
    for key in ("cloudStorageLocation", "cloud_storage_location", "gcsLocation", "gcs_location"):
        if key in asset:
            location = _dict(asset[key], key)
            break
    manifest: dict[str, Any] = {
        "properties": asset.get("properties"),
        "startTime": asset.get("startTime", asset.get("start_time")),
        "endTime": asset.get("endTime", asset.get("end_time")),
        "bands": [
            {"id": b.get("id")} if isinstance(b, dict) else b
            for b in _list(asset.get("bands"), "bands")
        ],
        "missingData": asset.get("missingData"),
    }
    if location is not None:
        uris = _list(location.get("uris"), "cloudStorageLocation.uris")
        if len(uris) != 1:
            raise InvalidArgumentError("'cloudStorageLocation.uris' must name exactly one file.")
        manifest["tilesets"] = [{"sources": [{"uris": uris}]}]
    elif "tilesets" in asset:
        manifest["tilesets"] = asset["tilesets"]
    else:
        raise InvalidArgumentError(
            "An IMAGE asset needs its file: 'cloudStorageLocation': {'uris': [path]}, or"
            " 'tilesets'. Use image:import to ingest files."
        )
    return manifest


# -- tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TablePlan:
    name: str
    path: Path
    properties: dict[str, Any]
    start: int | None
    end: int | None
    csv: CsvOptions = field(default_factory=CsvOptions)

    @property
    def files(self) -> list[Path]:
        return [self.path]


def plan_table(
    name: str, manifest: dict[str, Any], roots: Roots, access: FileAccess | None = None
) -> TablePlan:
    """Validate a TableManifest for the table `name`; confine its file (and with `access`,
    refuse one the caller may not read, as a missing one). Opens nothing."""
    sources = _list(manifest.get("sources"), "sources")
    if len(sources) != 1:
        raise InvalidArgumentError("The table manifest needs exactly one source.")
    source = _dict(sources[0], "sources[0]")
    path = _confine(
        roots,
        _list(source.get("uris"), "sources[0].uris"),
        "sources[0]",
        TABLE_SUFFIXES,
        _uri_prefix(manifest),
        access,
    )
    given = [key for key in _CSV_OPTIONS if source.get(key) not in (None, "")]
    if given and path.suffix.lower() != ".csv":
        raise InvalidArgumentError(
            f"'sources[0].{given[0]}' applies to CSV files only, not {path.suffix or path.name}."
        )
    options = {key: source.get(key) or None for key in _CSV_OPTIONS}
    for key, value in options.items():
        if value is not None and not isinstance(value, str):
            raise InvalidArgumentError(f"'sources[0].{key}' must be a string.")
    delimiter = options["csvDelimiter"] or ","
    if len(delimiter) != 1:
        raise InvalidArgumentError("'sources[0].csvDelimiter' must be one character.")
    if options["dateFormat"] is not None:
        check_date_format(options["dateFormat"])
    return TablePlan(
        name=name,
        path=path,
        properties=_properties(manifest.get("properties")),
        start=parse_time(manifest.get("startTime"), "startTime"),
        end=parse_time(manifest.get("endTime"), "endTime"),
        csv=CsvOptions(
            x_column=options["xColumn"],
            y_column=options["yColumn"],
            geometry_column=options["primaryGeometryColumn"],
            crs=options["crs"],
            delimiter=delimiter,
            date_format=options["dateFormat"],
        ),
    )


def build_table(plan: TablePlan) -> tuple[AssetRecord, list[FeatureRecord]]:
    """Read the planned vector file and make the TABLE record and its features."""
    try:
        with open(plan.path, "rb") as f:
            head = f.read(256).lstrip()
    except OSError as exc:
        raise InvalidArgumentError(f"{plan.path.name}: cannot read ({exc.strerror}).") from None
    if head.startswith(b"<"):
        raise InvalidArgumentError(
            f"{plan.path.name}: XML vector formats (OGR VRT, GML, KML) are not imported."
        )
    suffix = plan.path.suffix.lower()
    if suffix == ".csv":
        features = read_csv_features(plan.path, plan.csv)
    elif suffix == ".zip":
        features = read_zipped_shapefile(plan.path)
    else:
        features = read_features(plan.path)
    props: dict[str, Any] = {**plan.properties}
    if plan.start is not None:
        props["system:time_start"] = plan.start
    if plan.end is not None:
        props["system:time_end"] = plan.end
    record = AssetRecord(
        name=plan.name,
        type=TABLE,
        properties=props,
        start_time=plan.start,
        end_time=plan.end,
        # The file stays the table's (access checks, `catalog/access.py`).
        sources=(str(plan.path),),
    )
    return record, features
