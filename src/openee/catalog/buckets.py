"""Listing a prefix of an S3 bucket for `openee ingest s3://bucket/prefix/` (docs/decisions/0042).

s3fs (the `buckets` extra, which export buckets use too) lists; GDAL reads (raster/remote.py).
Both take the credentials and the endpoint from the environment; the endpoint may be given as
the AWS SDKs take it (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`) or as GDAL does
(`AWS_S3_ENDPOINT` with `AWS_HTTPS`), so that one setting serves both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from openee.errors import FailedPreconditionError, InvalidArgumentError
from openee.raster.remote import S3_SCHEME, gdal_path, split_s3

# Raster files an ingest of a bucket prefix registers (COGs); anything else is left alone.
RASTER_KEYS = (".tif", ".tiff")
MAX_KEYS = 100_000


def endpoint_url() -> str | None:
    """The store's endpoint from the environment, in either spelling; None: AWS itself."""
    url = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not url and os.environ.get("AWS_S3_ENDPOINT"):
        scheme = "http" if os.environ.get("AWS_HTTPS", "YES").upper() == "NO" else "https"
        url = f"{scheme}://{os.environ['AWS_S3_ENDPOINT']}"
    return url or None


def _filesystem() -> Any:
    try:
        import s3fs
    except ImportError:
        raise FailedPreconditionError(
            "Listing s3:// prefixes needs s3fs: pip install 'openee[buckets]'."
        ) from None
    # Bounded like GDAL's reads: a dead store is an error in seconds, not a hang. No instance
    # cache: a listing is done once, and must see the bucket as it is now.
    return s3fs.S3FileSystem(
        endpoint_url=endpoint_url(),
        skip_instance_cache=True,
        use_listings_cache=False,
        config_kwargs={"connect_timeout": 5, "read_timeout": 20, "retries": {"max_attempts": 2}},
    )


def list_rasters(prefix: str) -> list[Path]:
    """The COGs under `s3://bucket/prefix`, as the paths GDAL opens them by (`/vsis3/...`), in
    key order. Raises InvalidArgumentError when the bucket or prefix cannot be listed."""
    if not prefix.startswith(S3_SCHEME):
        raise InvalidArgumentError(f"'{prefix}' is not an s3:// prefix.")
    bucket, key_prefix = split_s3(prefix)
    fs = _filesystem()
    try:
        found = fs.find(f"{bucket}/{key_prefix}")
    except Exception as exc:  # s3fs raises OSError subclasses and botocore's own errors
        detail = " ".join(str(exc).split())[:200]
        raise InvalidArgumentError(
            f"Cannot list '{prefix}': {detail or type(exc).__name__}"
        ) from None
    keys = sorted(str(path) for path in found if str(path).lower().endswith(RASTER_KEYS))
    if len(keys) > MAX_KEYS:
        raise InvalidArgumentError(f"'{prefix}' holds more than {MAX_KEYS} rasters.")
    return [Path(gdal_path(f"{S3_SCHEME}{key}")) for key in keys]
