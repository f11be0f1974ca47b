"""Table exports: an evaluated FeatureCollection written as CSV, GeoJSON, KML, KMZ, a Shapefile
(its .shp, .shx, .dbf, .prj and .cpg files, as Earth Engine writes them), TFRecord or GeoParquet
(beyond Earth Engine), honouring `selectors`. The encoders are those of table downloads
(`encode/tables.py`); GeoParquet is written with pyarrow; TFRecord (`encode/tfrecord.py`) is one
GZIP-compressed `<prefix>.tfrecord.gz` holding a `tf.train.Example` per feature, as Earth
Engine's TFRecord guide states.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import shapely
import shapely.geometry

from openee.encode.tables import (
    FORMATS,
    GEO,
    INDEX,
    Features,
    TableFormat,
    property_names,
)
from openee.encode.tfrecord import TABLE_FORMAT as TF_RECORD_TABLE
from openee.encode.tfrecord import table_records
from openee.errors import FailedPreconditionError
from openee.services.features import all_geojson

GEOPARQUET = "GEO_PARQUET"
EXTENSIONS = {
    "CSV": ".csv",
    "GEO_JSON": ".geojson",
    "KML": ".kml",
    "KMZ": ".kmz",
    GEOPARQUET: ".parquet",
}


def write_table_files(
    collection: object, file_format: str, selectors: list[str] | None, staging: Path, name: str
) -> list[tuple[Path, str]]:
    """The staged files of a table export: (path, suffix after the prefix)."""
    features = all_geojson(collection)
    staging.mkdir(parents=True, exist_ok=True)
    if file_format == GEOPARQUET:
        path = staging / "table.parquet"
        _write_geoparquet(features, selectors, path)
        return [(path, ".parquet")]
    if file_format == TF_RECORD_TABLE:
        # Without selectors: the properties (a geometry is no list of numbers; select '.geo'
        # to get its GeoJSON text).
        columns = selectors if selectors is not None else property_names(features)
        path = staging / "table.tfrecord.gz"
        with gzip.GzipFile(path, "wb", mtime=0) as gz:
            gz.write(table_records(features, columns))
        return [(path, ".tfrecord.gz")]
    fmt: TableFormat = FORMATS[file_format]
    content = fmt.encode(features, selectors, name)
    if file_format == "SHP":
        # A Shapefile is several files; the download's zip holds them, an export writes each.
        out = []
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.namelist():
                suffix = Path(member).suffix.lower()
                path = staging / f"table{suffix}"
                path.write_bytes(archive.read(member))
                out.append((path, suffix))
        return out
    path = staging / f"table{EXTENSIONS[file_format]}"
    path.write_bytes(content)
    return [(path, EXTENSIONS[file_format])]


def _write_geoparquet(features: Features, selectors: list[str] | None, path: Path) -> None:
    """GeoParquet 1.1: WKB geometries in `geometry`, longitude/latitude (the default CRS)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow comes with the project's dependencies
        raise FailedPreconditionError(
            "GeoParquet exports need pyarrow (pip install pyarrow)."
        ) from None
    columns = [
        c
        for c in (selectors if selectors is not None else [INDEX, *property_names(features)])
        if c != GEO
    ]
    data: dict[str, Any] = {}
    for c in columns:
        values = [
            f.get("id") if c == INDEX else (f.get("properties") or {}).get(c) for f in features
        ]
        try:
            data[c] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: as text, like CSV cells
            data[c] = pa.array([None if v is None else json.dumps(v) for v in values])
    shapes = [
        shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None for f in features
    ]
    data["geometry"] = pa.array(
        [None if s is None else shapely.to_wkb(s) for s in shapes], type=pa.binary()
    )
    kinds = sorted({s.geom_type for s in shapes if s is not None})
    bbox = shapely.total_bounds([s for s in shapes if s is not None]) if kinds else None
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": kinds,
                **({"bbox": [float(v) for v in bbox]} if bbox is not None else {}),
            }
        },
    }
    table = pa.table(data).replace_schema_metadata({"geo": json.dumps(geo)})
    pq.write_table(table, path)
