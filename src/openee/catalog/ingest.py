"""Ingest files into the catalog: rasters by product layout, STAC catalogs, vector tables.

`ingest()` reads every source first, then writes all records in one transaction, so a failed
or killed run leaves the catalog as it was and a re-run completes it. Records equal to what the
catalog holds are not rewritten (re-runs are idempotent and cheap). Sources are only read; with
`cog_dir`, rasters are copied into tiled DEFLATE COGs with overviews there and the copies are
registered instead.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import rasterio
import rasterio.errors
import rasterio.shutil
import shapely
import shapely.geometry
import shapely.ops
from pyproj import CRS, Transformer
from rasterio.session import DummySession

from openee.catalog.buckets import list_rasters
from openee.catalog.model import (
    FOLDER,
    IMAGE,
    IMAGE_COLLECTION,
    TABLE,
    AssetRecord,
    BandRecord,
    FeatureRecord,
)
from openee.catalog.mosaics import copy_as_cog
from openee.catalog.names import name_from_id
from openee.catalog.profiles import (
    RASTER_SUFFIXES,
    SENTINEL2_L2A,
    BandSource,
    Layout,
    Profile,
    Scene,
    SingleFileLayout,
    product_layouts,
)
from openee.catalog.roots import Roots, check_url_prefix
from openee.catalog.rows import plain_json
from openee.catalog.stac_ingest import ConfinedStacIO, item_record
from openee.catalog.store import CatalogStore, missing_folders
from openee.catalog.templates import TemplateLayout, compile_template
from openee.catalog.vectors import VECTOR_SUFFIXES, read_features
from openee.errors import InvalidArgumentError, OpeneeError
from openee.raster.gdal import open_checked
from openee.raster.remote import SCHEMES, gdal_path, is_remote, network_env, stored_uri

Progress = Callable[[int, int, str], None]
STAC_TYPES = ("Catalog", "Collection", "Feature")
# Files that go with another file and are read through it (GDAL sidecars, Shapefile parts).
COG_DIR = "cog"  # under the data dir: the COGs `openee ingest --cog` makes
SIDECARS = (".aux.xml", ".ovr", ".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


@dataclass(frozen=True)
class Recognised:
    """One image an ingest found: the layout that recognised it, its index and band names."""

    layout: str
    index: str
    bands: tuple[str, ...]


@dataclass
class IngestReport:
    """What one run did."""

    asset_name: str
    images: int = 0
    tables: int = 0
    features: int = 0
    written: int = 0  # records new or changed
    unchanged: int = 0
    converted: int = 0  # COGs written this run
    ignored: list[Path] = field(default_factory=list)
    recognised: list[Recognised] = field(default_factory=list)
    # (file or image, one-line reason) of each source that could not be ingested
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, what: Path | str, exc: BaseException) -> None:
        self.failed.append((str(what), one_line(exc)))

    def recognition(self, examples: int = 3) -> list[str]:
        """What the run recognised, a line per layout and band set, so that a wrong grouping
        (an image per band file, a band missing) shows at once."""
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for item in self.recognised:
            groups.setdefault((item.layout, item.bands), []).append(item.index)
        lines = []
        for (layout, bands), indexes in groups.items():
            shown = ", ".join(indexes[:examples])
            if len(indexes) > examples:
                shown += f" and {len(indexes) - examples} more"
            images = f"{len(indexes)} image{'s' if len(indexes) > 1 else ''}"
            count = f"{len(bands)} band{'s' if len(bands) != 1 else ''}"
            lines.append(f"{layout}: {images} of {count} ({' '.join(bands)}): {shown}")
        return lines

    def summary(self) -> str:
        what = []
        if self.images:
            what.append(f"{self.images} images")
        if self.tables:
            what.append(f"{self.tables} tables ({self.features} features)")
        text = (
            f"{' and '.join(what) or 'nothing'} in {self.asset_name}:"
            f" {self.written} written, {self.unchanged} unchanged"
        )
        if self.converted:
            text += f", {self.converted} COGs made"
        if self.ignored:
            text += f", {len(self.ignored)} files ignored"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return f"{text} ({self.seconds:.1f} s)"


def one_line(exc: BaseException) -> str:
    """An error as one line: an OpeneeError's message, else the exception's type and text."""
    text = exc.message if isinstance(exc, OpeneeError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:300] or type(exc).__name__


def _is_bucket(source: Path | str) -> bool:
    """A bucket prefix (`s3://bucket/prefix/`, `gs://...`), not a local source."""
    return isinstance(source, str) and source.startswith(SCHEMES)


def default_roots(sources: Sequence[Path | str]) -> Roots:
    """Without an operator's roots, files and hrefs must stay in the sources' directories, and
    the files of an `s3://` or `gs://` source under that prefix."""
    prefixes = [str(s) for s in sources if _is_bucket(s)]
    local = [Path(s) for s in sources if not _is_bucket(s)]
    dirs = [p if p.is_dir() else p.parent for p in local]
    try:
        if dirs:
            return Roots.of(dirs, prefixes)
        for prefix in prefixes:
            check_url_prefix(prefix)
    except ValueError as exc:
        raise InvalidArgumentError(str(exc)) from None
    return Roots((), tuple(prefixes))


def collect_files(sources: Sequence[Path | str]) -> list[Path]:
    """Every file under the sources (directories recursively), absolute (links not resolved:
    `Roots.check` does that), in name order; the COGs under an `s3://bucket/prefix/` (or
    `gs://`) source, as GDAL opens them (`/vsis3/...`, `/vsigs/...`)."""
    files: list[Path] = []
    for source in sources:
        if _is_bucket(source):
            files.extend(list_rasters(str(source)))
            continue
        source = Path(source)
        if not source.exists():
            raise InvalidArgumentError(f"Source '{source}' does not exist.")
        if source.is_dir():
            files.extend(sorted(p.absolute() for p in source.rglob("*") if p.is_file()))
        else:
            files.append(source.absolute())
    return list(dict.fromkeys(files))


def _is_stac(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "stac_version" in doc and doc.get("type") in STAC_TYPES


@dataclass(frozen=True)
class RasterInfo:
    """What the catalog records of a raster file's header."""

    crs: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int
    dtypes: tuple[str, ...]
    nodata: float | None
    bounds: tuple[float, float, float, float]


def raster_info(path: Path, open_raster: Callable[[Path], Any] = open_checked) -> RasterInfo:
    """The header of a raster file (local or in object storage) opened by `open_raster`, whose
    errors pass through; an InvalidArgumentError if it has no coordinate system."""
    with open_raster(path) as src:
        if src.crs is None:
            raise InvalidArgumentError(f"{path.name}: the raster has no coordinate system.")
        t = src.transform
        left, bottom, right, top = src.bounds
        return RasterInfo(
            crs=src.crs.to_string(),
            transform=(t.a, t.b, t.c, t.d, t.e, t.f),
            width=src.width,
            height=src.height,
            dtypes=tuple(src.dtypes),
            nodata=src.nodata,
            bounds=(left, bottom, right, top),
        )


def _file_info(path: Path) -> RasterInfo:
    try:
        return raster_info(path)
    except rasterio.errors.RasterioError as exc:
        raise InvalidArgumentError(f"{path}: cannot read the raster ({exc}).") from None


def wgs84_footprint(
    crs: str, bounds: Sequence[tuple[float, float, float, float]]
) -> dict[str, Any]:
    """The union of boxes in `crs` as a GeoJSON polygon in EPSG:4326 (edges densified)."""
    boxes = shapely.ops.unary_union([shapely.geometry.box(*b) for b in bounds])
    dense = shapely.segmentize(boxes, max_segment_length=max(boxes.length / 40, 1e-9))
    to_wgs84 = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
    shape = shapely.transform(
        dense, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
    polygon = shape if shape.geom_type == "Polygon" else shape.convex_hull
    return dict(plain_json(shapely.geometry.mapping(polygon)))


class _Cogs:
    """Tiled DEFLATE COGs with overviews under `root`, made once per source file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made = 0
        self._done: dict[Path, Path] = {}

    def __call__(self, source: Path, asset_name: str) -> Path:
        if source in self._done:
            return self._done[source]
        relative = asset_name.split("/assets/", 1)[-1]
        target = self.root / relative / f"{source.stem}.tif"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            try:
                copy_as_cog(source, partial)
                os.replace(partial, target)  # a killed run never leaves a half COG in place
            finally:
                partial.unlink(missing_ok=True)
            self.made += 1
        self._done[source] = target
        return target


class _Builder:
    def __init__(self, cogs: _Cogs | None) -> None:
        self.cogs = cogs
        self._info: dict[Path, RasterInfo] = {}

    def info(self, path: Path) -> RasterInfo:
        if path not in self._info:
            self._info[path] = _file_info(path)
        return self._info[path]

    def band(self, source: BandSource, asset_name: str) -> BandRecord:
        path = self.cogs(source.path, asset_name) if self.cogs else source.path
        info = self.info(path)
        if not 1 <= source.index <= len(info.dtypes):
            raise InvalidArgumentError(f"{path.name} has no band {source.index}.")
        return BandRecord(
            id=source.name,
            path=stored_uri(str(path)),
            index=source.index,
            dtype=info.dtypes[source.index - 1],
            crs=info.crs,
            transform=info.transform,
            width=info.width,
            height=info.height,
            nodata=info.nodata,
        )

    def image(self, collection: str, scene: Scene) -> AssetRecord:
        name = f"{collection}/{scene.index}"
        bands = tuple(self.band(b, name) for b in scene.bands)
        footprint = scene.footprint
        if footprint is None:
            first = self.info(Path(gdal_path(bands[0].path)))
            boxes = [self.info(Path(gdal_path(b.path))).bounds for b in bands if b.crs == first.crs]
            footprint = wgs84_footprint(first.crs, boxes)
        props: dict[str, Any] = dict(scene.properties)
        if scene.time_start is not None:
            props["system:time_start"] = scene.time_start
            props["system:time_end"] = scene.time_start
        props["system:index"] = scene.index
        props["system:footprint"] = footprint
        return AssetRecord(
            name=name,
            type=IMAGE,
            properties=props,
            start_time=scene.time_start,
            end_time=scene.time_start,
            footprint=footprint,
            bands=bands,
        )

    def cog_record(self, record: AssetRecord) -> AssetRecord:
        """A record built elsewhere (STAC) with its band files swapped for COGs."""
        if not self.cogs:
            return record
        bands = tuple(
            replace(b, path=str(self.cogs(Path(b.path), record.name))) for b in record.bands
        )
        return replace(record, bands=bands)


def _stac_profile(item: pystac.Item) -> Profile:
    if "s2:product_uri" in item.properties and "L2A" in str(item.properties["s2:product_uri"]):
        return SENTINEL2_L2A
    keys = [
        key
        for key, asset in item.assets.items()
        if (asset.media_type or "").startswith(("image/tiff", "image/jp2"))
        or "data" in (asset.roles or [])
    ]
    return Profile(name="stac", bands={k: k for k in keys})


def _stac_items(root: Any, path: Path, report: IngestReport) -> list[pystac.Item]:
    """The items under a STAC document; a link that cannot be followed (outside the roots,
    broken) is reported and the others are followed."""
    items, stack = [], [root]
    while stack:
        node = stack.pop()
        if isinstance(node, pystac.Item):
            items.append(node)
            continue
        if not isinstance(node, pystac.Catalog):
            continue
        for link in [*node.get_links("child"), *node.get_links("item")]:
            try:
                stack.append(link.resolve_stac_object(root=node.get_root()).target)
            except Exception as exc:
                report.fail(f"{path.name}#{link.href}", exc)
    return sorted(items, key=lambda item: item.id)


def _stac_records(
    path: Path, collection: str, builder: _Builder, roots: Roots, report: IngestReport
) -> list[AssetRecord]:
    root = pystac.read_file(str(path), stac_io=ConfinedStacIO(roots))
    records = []
    for item in _stac_items(root, path, report):
        try:
            record = item_record(item, collection, _stac_profile(item), roots)
            records.append(builder.cog_record(record))
        except Exception as exc:  # one bad item does not stop the others
            report.fail(f"{path.name}#{item.id}", exc)
    return records


def ingest(
    store: CatalogStore,
    sources: Sequence[Path | str],
    asset_id: str,
    *,
    cog_dir: Path | None = None,
    dates: Sequence[str] = (),
    template: str | None = None,
    progress: Progress | None = None,
    roots: Roots | None = None,
) -> IngestReport:
    """Ingest `sources` under `asset_id`.

    Rasters (product layouts of `profiles.layouts()`, STAC catalogs/collections/items) become
    images of the IMAGE_COLLECTION `asset_id`. Vector files become TABLE assets: `asset_id`
    itself for one vector file, `asset_id/<file stem>` for several. `dates` are the dates of a
    multi-date band stack (Theia L3A). `template` describes other layouts by file name
    (`templates.py`); the files it matches are read with it before the product layouts.
    A source `s3://bucket/prefix/` or `gs://bucket/prefix/` (a string) stands for the COGs under
    it; the caller checks it against the allow-list. The catalog keeps their `s3://`/`gs://` URIs.

    Every file and STAC href must be inside `roots` (default: the sources' directories), and
    is opened with pinned drivers (ADR 0033). A source that cannot be ingested is reported in
    `failed` with a one-line reason; the others are ingested.
    """
    # Files in object storage are read under the bounded network options of raster/remote.py.
    remote = next((str(s) for s in sources if _is_bucket(s)), "")
    # GDAL reads the store's credentials itself: no rasterio session (raster/gdal.py: gdal_env).
    env = network_env(remote)
    with rasterio.Env(session=DummySession(), **env):
        return _ingest(store, sources, asset_id, cog_dir, dates, template, progress, roots=roots)


def _ingest(
    store: CatalogStore,
    sources: Sequence[Path | str],
    asset_id: str,
    cog_dir: Path | None,
    dates: Sequence[str],
    template: str | None,
    progress: Progress | None,
    roots: Roots | None,
) -> IngestReport:
    started = time.monotonic()
    layouts: list[Layout] = [TemplateLayout(compile_template(template))] if template else []
    name = name_from_id(asset_id)
    report = IngestReport(asset_name=name)
    roots = roots or default_roots(sources)
    files = []
    for path in collect_files(sources):
        try:
            if is_remote(str(path)):  # listed under an allow-listed prefix: checked as stored
                roots.check(stored_uri(str(path)))
                files.append(path)
            else:
                files.append(Path(roots.check(str(path))))
        except InvalidArgumentError as exc:
            report.fail(path, exc)
    files = list(dict.fromkeys(files))
    builder = _Builder(_Cogs(cog_dir) if cog_dir else None)
    vectors = [p for p in files if p.suffix.lower() in VECTOR_SUFFIXES]
    rest = [p for p in files if p not in vectors]
    scenes: list[Scene] = []
    layout_of: dict[str, str] = {}
    for layout in [*layouts, *product_layouts(dates)]:
        claimed, rest = layout.claim(rest)
        scenes.extend(claimed)
        layout_of.update((scene.index, layout.name) for scene in claimed)
    # Product layouts claimed their metadata files (e.g. Landsat's `_SR_stac.json`); STAC
    # documents left are catalogs of their own, whose files belong to their items.
    stac = [p for p in rest if _is_stac(p)]
    stac = [p for p in stac if not any(q.parent in p.parents for q in stac if q != p)]
    rest = [p for p in rest if not any(s.parent in p.parents for s in stac)]
    single = []
    for path in rest:
        if path.suffix.lower() in RASTER_SUFFIXES:
            try:
                builder.info(path)  # pinned drivers, sizes, georeferencing
            except Exception as exc:
                report.fail(path, exc)
                continue
        single.append(path)
    claimed, rest = SingleFileLayout().claim(single)
    scenes.extend(claimed)
    report.recognised = [
        Recognised(
            layout_of.get(s.index, SingleFileLayout.name), s.index, tuple(b.name for b in s.bands)
        )
        for s in scenes
    ]
    report.ignored = [p for p in rest if not p.name.lower().endswith(SIDECARS)]
    if (scenes or stac) and vectors:
        raise InvalidArgumentError(
            "Rasters and vector files go to different assets: ingest them separately."
        )

    records: list[AssetRecord] = []
    features: dict[str, list[FeatureRecord]] = {}
    if scenes or stac:
        total = len(scenes) + len(stac)
        for i, scene in enumerate(scenes):
            try:
                records.append(builder.image(name, scene))
            except Exception as exc:  # one bad scene does not stop the others
                paths = {b.path for b in scene.bands}
                report.fail(paths.pop() if len(paths) == 1 else scene.index, exc)
            if progress:
                progress(i + 1, total, scene.index)
        for j, path in enumerate(stac):
            try:
                items = _stac_records(path, name, builder, roots, report)
            except Exception as exc:
                report.fail(path, exc)
            else:
                records.extend(items)
                report.recognised.extend(
                    Recognised("stac", r.index, tuple(b.id for b in r.bands)) for r in items
                )
            if progress:
                progress(len(scenes) + j + 1, total, path.name)
        seen: set[str] = set()
        for record in records:
            if record.name in seen:
                raise InvalidArgumentError(f"Two sources make the same image '{record.index}'.")
            seen.add(record.name)
        if not records:
            report.seconds = time.monotonic() - started
            return report
        times = [r.start_time for r in records if r.start_time is not None]
        records.insert(
            0,
            AssetRecord(
                name=name,
                type=IMAGE_COLLECTION,
                start_time=min(times) if times else None,
                end_time=max(times) if times else None,
            ),
        )
        report.images = len(records) - 1
    elif vectors:
        if len(vectors) > 1:
            records.append(AssetRecord(name=name, type=FOLDER))
        for i, path in enumerate(vectors):
            table = name if len(vectors) == 1 else f"{name}/{path.stem}"
            try:
                rows = read_features(path)
            except Exception as exc:
                report.fail(path, exc)
                continue
            records.append(AssetRecord(name=table, type=TABLE, properties={"source": path.name}))
            features[table] = rows
            report.features += len(rows)
            if progress:
                progress(i + 1, len(vectors), path.name)
        report.tables = len(features)
        if not features:
            report.seconds = time.monotonic() - started
            return report
    elif report.failed:
        report.seconds = time.monotonic() - started
        return report
    else:
        raise InvalidArgumentError("No raster, STAC or vector source found.")

    changed = [r for r in records if not _same(store, r, features.get(r.name))]
    report.unchanged = len(records) - len(changed)
    report.written = len(changed)
    if changed:
        store.put_many(
            [*missing_folders(name, store), *changed],
            {n: rows for n, rows in features.items() if any(r.name == n for r in changed)},
        )
    report.converted = builder.cogs.made if builder.cogs else 0
    report.seconds = time.monotonic() - started
    return report


def _same(store: CatalogStore, record: AssetRecord, features: list[FeatureRecord] | None) -> bool:
    old = store.get(record.name)
    if old is None or replace(old, update_time=None) != record:
        return False
    return features is None or store.features(record.name) == features
