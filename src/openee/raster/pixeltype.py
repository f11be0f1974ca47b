"""Earth Engine's PixelType for numpy dtypes."""

from __future__ import annotations

import numpy as np


def pixel_type_info(dtype: np.dtype) -> dict[str, object]:
    """The `data_type` of a band in Image.getInfo()."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
        return {"type": "PixelType", "precision": "int", "min": int(info.min), "max": int(info.max)}
    precision = "float" if dtype.itemsize <= 4 else "double"
    return {"type": "PixelType", "precision": precision}


def asset_data_type(dtype: np.dtype) -> dict[str, object]:
    """The `dataType` of a band in an EarthEngineAsset (the REST asset resource)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
        return {"precision": "INT", "range": {"min": int(info.min), "max": int(info.max)}}
    return {"precision": "FLOAT" if dtype.itemsize <= 4 else "DOUBLE"}
