"""Table sources beyond what OGR reads directly: CSV files and zipped Shapefiles, as
`table:import` takes them (Earth Engine's TableManifest).

CSV is read with Python's csv module rather than GDAL's CSV driver, so that geometry columns
and column types follow the manifest's options (xColumn/yColumn, primaryGeometryColumn, crs,
csvDelimiter, dateFormat) and nothing else. With `dateFormat` (a Joda-Time pattern, as Earth
Engine takes it), every column whose non-empty cells all parse with the pattern holds dates, kept
as Earth Engine keeps timestamps: milliseconds since the epoch (UTC unless the pattern has a
zone).
"""

from __future__ import annotations

import csv
import json
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
import shapely.wkt
from pyproj import CRS, Transformer

from openee.catalog.model import FeatureRecord
from openee.catalog.rows import plain_json
from openee.catalog.vectors import read_features
from openee.errors import InvalidArgumentError
from openee.values.joda import parse_datetime, tokenize

# The largest zip whose content is read (uncompressed), against zip bombs.
MAX_UNZIPPED_BYTES = 2 << 30
# Column names that hold a geometry when the manifest names none (`.geo` is what Earth Engine's
# CSV export writes: GeoJSON), and longitude/latitude pairs.
GEOJSON_COLUMN = ".geo"
LON_LAT_COLUMNS = (("longitude", "latitude"), ("lon", "lat"))


@dataclass(frozen=True)
class CsvOptions:
    """TableManifest source options for a CSV file."""

    x_column: str | None = None
    y_column: str | None = None
    geometry_column: str | None = None  # primaryGeometryColumn: WKT or GeoJSON text
    crs: str | None = None  # of the coordinates; EPSG:4326 when None
    delimiter: str = ","
    date_format: str | None = None  # a Joda-Time pattern


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_date_format(pattern: str) -> None:
    """Whether `pattern` is a Joda-Time pattern with date fields, each once."""
    letters = [t.letter for t in tokenize(pattern) if t.letter]
    if not letters:
        raise InvalidArgumentError(f"'dateFormat' '{pattern[:100]}' has no date fields.")
    repeated = sorted({x for x in letters if letters.count(x) > 1})
    if repeated:
        raise InvalidArgumentError(
            f"'dateFormat' '{pattern[:100]}' repeats the field '{repeated[0]}'."
        )


def _date_column(cells: list[str], pattern: str) -> Callable[[str], object] | None:
    """Milliseconds since the epoch of each cell, if every non-empty cell is a date."""

    def millis(text: str) -> int:
        return (parse_datetime(pattern, text, UTC) - _EPOCH) // timedelta(milliseconds=1)

    values = [c for c in cells if c != ""]
    if not values:
        return None
    try:
        for value in values:
            millis(value)
    except InvalidArgumentError:
        return None
    return millis


def _typed(values: list[str]) -> Callable[[str], object]:
    """How a column's cells become JSON values: integers, else floats, else text."""
    cells = [v for v in values if v != ""]
    for kind in (int, float):
        try:
            parsed = [kind(v) for v in cells]
        except ValueError:
            continue
        if kind is float and not all(math.isfinite(v) for v in parsed):
            continue
        return kind
    return str


def _geometry_of_text(text: str, row: int, column: str) -> Any:
    try:
        if text.lstrip().startswith("{"):
            return shapely.geometry.shape(json.loads(text))
        return shapely.wkt.loads(text)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError):
        raise InvalidArgumentError(
            f"Row {row}: column '{column}' is not a WKT or GeoJSON geometry."
        ) from None


def _point(row: dict[str, str], x: str, y: str, number: int) -> Any:
    try:
        return shapely.Point(float(row[x]), float(row[y]))
    except (ValueError, TypeError):
        raise InvalidArgumentError(
            f"Row {number}: '{row.get(x)}', '{row.get(y)}' in columns '{x}', '{y}' are not"
            " coordinates."
        ) from None


def _default_geometry_columns(header: list[str]) -> tuple[str | None, tuple[str, str] | None]:
    if GEOJSON_COLUMN in header:
        return GEOJSON_COLUMN, None
    lower = {h.lower(): h for h in header}
    for lon, lat in LON_LAT_COLUMNS:
        if lon in lower and lat in lower:
            return None, (lower[lon], lower[lat])
    return None, None


def read_csv_features(path: Path, options: CsvOptions) -> list[FeatureRecord]:
    """The rows of a CSV file as features, geometries in EPSG:4326."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f, delimiter=options.delimiter)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidArgumentError(f"{path.name}: cannot read as CSV ({exc}).") from None
    if not header:
        raise InvalidArgumentError(f"{path.name}: the CSV file has no header row.")
    geometry_column, xy = options.geometry_column, None
    if options.x_column or options.y_column:
        if not (options.x_column and options.y_column):
            raise InvalidArgumentError("'xColumn' and 'yColumn' go together.")
        xy = (options.x_column, options.y_column)
    elif geometry_column is None:
        geometry_column, xy = _default_geometry_columns(header)
    used = [c for c in (geometry_column, *(xy or ())) if c]
    for column in used:
        if column not in header:
            raise InvalidArgumentError(
                f"{path.name}: no column '{column}' (columns: {', '.join(header)[:300]})."
            )
    shapes = []
    for number, row in enumerate(rows, start=2):  # the header is row 1
        if xy:
            shapes.append(_point(row, xy[0], xy[1], number))
        elif geometry_column and row.get(geometry_column):
            shapes.append(_geometry_of_text(row[geometry_column], number, geometry_column))
        else:
            shapes.append(None)
    shapes = _to_wgs84(shapes, options.crs)
    columns = [c for c in header if c not in used]
    kinds = {c: _typed([row.get(c) or "" for row in rows]) for c in columns}
    if options.date_format:
        for c in columns:
            dates = _date_column([row.get(c) or "" for row in rows], options.date_format)
            if dates is not None:
                kinds[c] = dates
    features = []
    for i, (row, shape) in enumerate(zip(rows, shapes, strict=True)):
        properties = {c: (None if (row.get(c) or "") == "" else kinds[c](row[c])) for c in columns}
        geometry = plain_json(dict(shapely.geometry.mapping(shape))) if shape else None
        features.append(FeatureRecord(geometry=geometry, properties=properties, id=str(i)))
    return features


def _to_wgs84(shapes: list[Any], crs: str | None) -> list[Any]:
    if not crs:
        return shapes
    try:
        source = CRS.from_user_input(crs)
    except Exception:  # pyproj's CRSError
        raise InvalidArgumentError(f"'crs': '{crs[:100]}' is not a coordinate system.") from None
    if source.equals(CRS.from_epsg(4326)):
        return shapes
    to_wgs84 = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    present = [i for i, s in enumerate(shapes) if s is not None]
    moved = shapely.transform(
        np.array([shapes[i] for i in present], dtype=object),
        lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])),
    )
    out = list(shapes)
    for i, shape in zip(present, moved, strict=True):
        out[i] = shape
    return out


def read_zipped_shapefile(path: Path) -> list[FeatureRecord]:
    """The features of the one Shapefile inside a zip archive (read in place, not extracted)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise InvalidArgumentError(f"{path.name}: not a readable zip archive ({exc}).") from None
    if sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
        raise InvalidArgumentError(
            f"{path.name}: the archive unpacks to more than {MAX_UNZIPPED_BYTES >> 30} GiB."
        )
    shapefiles = [e.filename for e in entries if e.filename.lower().endswith(".shp")]
    if len(shapefiles) != 1:
        raise InvalidArgumentError(
            f"{path.name}: a zipped table must hold exactly one .shp file, not {len(shapefiles)}."
        )
    # The member must be a Shapefile by content: OGR would open it with whichever driver
    # recognises it (a VRT named x.shp). Its .dbf/.shx/.prj are read by the Shapefile driver.
    with zipfile.ZipFile(path) as archive, archive.open(shapefiles[0]) as member:
        head = member.read(64)
    # GDAL reads the member (and its .dbf/.shx/.prj beside it) from inside the archive.
    return read_features(f"/vsizip/{path.resolve()}/{shapefiles[0]}", label=path.name, head=head)
