"""Listing a prefix of an S3 bucket for `openee ingest s3://bucket/prefix/` (docs/decisions/0042).

boto3 (the `s3` extra) lists; GDAL reads (raster/remote.py). Both take the credentials and the
endpoint from the environment; `AWS_S3_ENDPOINT` (GDAL's spelling) is understood here too, so
that one setting serves both.
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


def _client() -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise FailedPreconditionError(
            "Listing s3:// prefixes needs boto3: pip install 'openee[s3]'."
        ) from None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint and os.environ.get("AWS_S3_ENDPOINT"):
        scheme = "http" if os.environ.get("AWS_HTTPS", "YES").upper() == "NO" else "https"
        endpoint = f"{scheme}://{os.environ['AWS_S3_ENDPOINT']}"
    # Bounded like GDAL's reads: a dead store is an error in seconds, not a hang.
    config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2})
    return boto3.client("s3", endpoint_url=endpoint or None, config=config)


def list_rasters(prefix: str) -> list[Path]:
    """The COGs under `s3://bucket/prefix`, as the paths GDAL opens them by (`/vsis3/...`), in
    key order. Raises InvalidArgumentError when the bucket or prefix cannot be listed."""
    if not prefix.startswith(S3_SCHEME):
        raise InvalidArgumentError(f"'{prefix}' is not an s3:// prefix.")
    bucket, key_prefix = split_s3(prefix)
    client = _client()  # first: it explains a missing boto3
    from botocore.exceptions import BotoCoreError, ClientError

    keys: list[str] = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix)
        for page in pages:
            keys.extend(
                item["Key"]
                for item in page.get("Contents", [])
                if item["Key"].lower().endswith(RASTER_KEYS)
            )
            if len(keys) > MAX_KEYS:
                raise InvalidArgumentError(f"'{prefix}' holds more than {MAX_KEYS} rasters.")
    except (BotoCoreError, ClientError) as exc:
        raise InvalidArgumentError(f"Cannot list '{prefix}': {exc}") from None
    return [Path(gdal_path(f"{S3_SCHEME}{bucket}/{key}")) for key in sorted(keys)]
