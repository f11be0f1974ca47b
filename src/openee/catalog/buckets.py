"""Listing a bucket prefix for `openee ingest s3://bucket/prefix/` or `gs://bucket/prefix/`
(docs/decisions/0042, 0056).

fsspec lists (s3fs, gcsfs: the `buckets` extra, which export buckets use too; configured from the
environment by raster/stores.py); GDAL reads (raster/remote.py). Both take the credentials and
the endpoint from the environment, never from a request.
"""

from __future__ import annotations

from pathlib import Path

from openee.errors import InvalidArgumentError
from openee.raster.remote import gdal_path, split_uri, store_of
from openee.raster.stores import filesystem

# Raster files an ingest of a bucket prefix registers (COGs); anything else is left alone.
RASTER_KEYS = (".tif", ".tiff")
MAX_KEYS = 100_000


def list_rasters(prefix: str) -> list[Path]:
    """The COGs under `s3://bucket/prefix` or `gs://bucket/prefix`, as the paths GDAL opens them
    by (`/vsis3/...`, `/vsigs/...`), in key order. Raises InvalidArgumentError when the bucket
    or prefix cannot be listed."""
    store = store_of(prefix)
    if store is None or not prefix.startswith(store.scheme):
        raise InvalidArgumentError(f"'{prefix}' is not an object storage prefix.")
    bucket, key_prefix = split_uri(prefix)
    # No instance or listing cache: a listing is done once, and must see the bucket as it is now.
    fs = filesystem(store, skip_instance_cache=True, use_listings_cache=False)
    try:
        found = fs.find(f"{bucket}/{key_prefix}")
    except Exception as exc:  # fsspec raises OSError subclasses, botocore and gcsfs their own
        detail = " ".join(str(exc).split())[:200]
        raise InvalidArgumentError(
            f"Cannot list '{prefix}': {detail or type(exc).__name__}"
        ) from None
    keys = sorted(str(path) for path in found if str(path).lower().endswith(RASTER_KEYS))
    if len(keys) > MAX_KEYS:
        raise InvalidArgumentError(f"'{prefix}' holds more than {MAX_KEYS} rasters.")
    return [Path(gdal_path(f"{store.scheme}{key}")) for key in keys]
