"""The REST form of an asset (Earth Engine's `EarthEngineAsset`)."""

from __future__ import annotations

from typing import Any

from openee.catalog.model import AssetRecord
from openee.raster.grid import affine_to_wire
from openee.raster.pixeltype import asset_data_type
from openee.values.date import Date


def asset_resource(record: AssetRecord, feature_count: int | None = None) -> dict[str, Any]:
    """The EarthEngineAsset JSON of a record; `feature_count` (a TABLE's) is `featureCount`."""
    out: dict[str, Any] = {
        "type": record.type,
        "name": record.name,
        "id": record.id,
        "updateTime": record.update_time,
    }
    if record.properties:
        out["properties"] = {
            k: v for k, v in record.properties.items() if not k.startswith("system:")
        }
    if record.start_time is not None:
        out["startTime"] = Date(record.start_time).iso()
    if record.end_time is not None:
        out["endTime"] = Date(record.end_time).iso()
    if record.footprint is not None:
        out["geometry"] = record.footprint
    if feature_count is not None:
        out["featureCount"] = str(feature_count)  # int64 travels as a string
    if record.bands:
        out["bands"] = [
            {
                "id": b.id,
                "dataType": asset_data_type(b.dtype),  # type: ignore[arg-type]
                "grid": {
                    "crsCode": b.crs,
                    "affineTransform": affine_to_wire(b.transform),
                    "dimensions": {"width": b.width, "height": b.height},
                },
                "pyramidingPolicy": "MEAN",
            }
            for b in record.bands
        ]
    return out
