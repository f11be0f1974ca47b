"""Files in object storage: `s3://bucket/key.tif` as the catalog stores it, `/vsis3/bucket/key.tif`
as GDAL reads it, and the GDAL options every read of such a file runs under (docs/decisions/0042).

Credentials and the endpoint come from the process's environment (or GDAL's config), as GDAL
reads them: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
`AWS_S3_ENDPOINT`, `AWS_HTTPS`, `AWS_VIRTUAL_HOSTING`, ... — never from a request. An endpoint
given the way the AWS SDKs take it (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`) is translated
into GDAL's spelling when GDAL's own is not set, so one setting serves GDAL and s3fs alike.

The options are set per read (`rasterio.Env`), never process-wide: the timeouts bound how long
a dead or slow store can hold a request, and a COG is read by range requests of the blocks a
read needs, with no directory listing and no probing for sidecar files.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

S3_SCHEME = "s3://"
VSI_S3 = "/vsis3/"

# Bounded: a store that does not answer fails the read in seconds, not at the request deadline.
NETWORK_ENV = {
    # No listing of the "directory", and no probing for .aux.xml/.ovr/.msk sidecars: each of
    # those is a request to the store (a COG holds its overviews and masks inside).
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff",
    "GDAL_PAM_ENABLED": "NO",
    "GDAL_HTTP_CONNECTTIMEOUT": "5",
    "GDAL_HTTP_TIMEOUT": "20",
    "GDAL_HTTP_MAX_RETRY": "2",
    "GDAL_HTTP_RETRY_DELAY": "0.5",
    # Adjacent block ranges are fetched in one request.
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
    # The IFDs of a COG are at its head: one request reads them all.
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
}


def is_remote(path: str) -> bool:
    """Whether `path` names a file in object storage (either spelling)."""
    return path.startswith((S3_SCHEME, VSI_S3))


def gdal_path(uri: str) -> str:
    """The name GDAL opens `uri` by: `/vsis3/bucket/key` for `s3://bucket/key`; others as given."""
    if uri.startswith(S3_SCHEME):
        return VSI_S3 + uri[len(S3_SCHEME) :]
    return uri


def stored_uri(path: str) -> str:
    """The URI the catalog keeps for a file GDAL opens as `path`: `s3://bucket/key` for
    `/vsis3/bucket/key`; others as given."""
    if path.startswith(VSI_S3):
        return S3_SCHEME + path[len(VSI_S3) :]
    return path


def split_s3(uri: str) -> tuple[str, str]:
    """`(bucket, key)` of `s3://bucket/key`."""
    bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
    return bucket, key


def endpoint_env() -> dict[str, str]:
    """GDAL's endpoint options from the SDKs' `AWS_ENDPOINT_URL(_S3)`, unless GDAL's own
    `AWS_S3_ENDPOINT` is set (then nothing: GDAL reads the environment itself)."""
    if os.environ.get("AWS_S3_ENDPOINT"):
        return {}
    url = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        return {}
    parts = urlsplit(url)
    options = {"AWS_S3_ENDPOINT": parts.netloc + parts.path.rstrip("/")}
    if parts.scheme == "http":
        options["AWS_HTTPS"] = "NO"
    return options


def network_env(path: str) -> dict[str, str]:
    """The GDAL options a read of `path` runs under: the network ones for a file in object
    storage, none for a local file."""
    if not is_remote(path):
        return {}
    return {**NETWORK_ENV, **endpoint_env()}
