"""Earth Engine's PixelType for numpy dtypes."""

from __future__ import annotations

import numpy as np


def pixel_type_info(dtype: np.dtype, dimensions: int = 0) -> dict[str, object]:
    """The `data_type` of a band in Image.getInfo(); array bands add their `dimensions`."""
    dtype = np.dtype(dtype)
    info: dict[str, object]
    if dtype.kind in "iub":
        limits = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
        info = {"type": "PixelType", "precision": "int", "min": int(limits.min)}
        info["max"] = int(limits.max)
    else:
        info = {"type": "PixelType", "precision": "float" if dtype.itemsize <= 4 else "double"}
    if dimensions:
        info["dimensions"] = dimensions
    return info


def asset_data_type(dtype: np.dtype) -> dict[str, object]:
    """The `dataType` of a band in an EarthEngineAsset (the REST asset resource)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
        return {"precision": "INT", "range": {"min": int(info.min), "max": int(info.max)}}
    return {"precision": "FLOAT" if dtype.itemsize <= 4 else "DOUBLE"}
